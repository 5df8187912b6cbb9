package cliusage

import (
	"bytes"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	newFS := func() (*flag.FlagSet, *bytes.Buffer, func()) {
		var out bytes.Buffer
		fs := flag.NewFlagSet("replay", flag.ContinueOnError)
		fs.Duration("since", 0, "a `TIME`")
		fs.Bool("quiet", false, "no summary")
		help := func() { out.WriteString("Usage: replay [flags]\n"); fs.PrintDefaults() }
		return fs, &out, help
	}

	fs, out, help := newFS()
	err := Parse(fs, []string{"--since", "yesterday"}, "replay", out, help)
	require.Error(t, err)
	require.Equal(t, 2, strings.Count(out.String(), "\n"), "the error and one line: %q", out.String())
	require.Contains(t, out.String(), `replay: invalid value "yesterday" for flag -since`)
	require.Contains(t, out.String(), "replay --help")

	fs, out, help = newFS()
	require.ErrorIs(t, Parse(fs, []string{"--help"}, "replay", out, help), flag.ErrHelp)
	require.Contains(t, out.String(), "Usage: replay")
	require.Contains(t, out.String(), "-quiet", "the flags, in full")

	fs, out, help = newFS()
	require.NoError(t, Parse(fs, []string{"--since", "1h", "--quiet"}, "replay", out, help))
	require.Empty(t, out.String())
	require.Equal(t, time.Hour, fs.Lookup("since").Value.(flag.Getter).Get())
}

// TestPrintDefaults: flags as the README writes them, --name, with their
// defaults.
func TestPrintDefaults(t *testing.T) {
	var out bytes.Buffer
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(&out)
	fs.Duration("reorder-window", 2*time.Second, "how far out of `order`")
	fs.String("source", "syncwatch/ingest", "the CloudEvents source")
	fs.Bool("quiet", false, "no summary")
	PrintDefaults(fs)
	require.Equal(t, "  --quiet\n    \tno summary\n"+
		"  --reorder-window order\n    \thow far out of order (default 2s)\n"+
		"  --source string\n    \tthe CloudEvents source (default \"syncwatch/ingest\")\n", out.String())
}
