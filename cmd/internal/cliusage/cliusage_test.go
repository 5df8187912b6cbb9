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
