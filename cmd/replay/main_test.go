package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/schemas"
)

// runReplay runs the command as a user would and returns its exit code,
// stdout and stderr.
func runReplay(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// newCorpus writes a generated corpus into a temporary directory.
func newCorpus(t *testing.T, cfg loggen.Config) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "corpus")
	_, err := loggen.WriteDir(dir, cfg)
	require.NoError(t, err)
	return dir
}

// corpusFiles are the log files of a corpus (not its truth or manifest).
func corpusFiles(dir string) []string {
	return []string{filepath.Join(dir, loggen.ExchangeFile), filepath.Join(dir, loggen.EngineFile), filepath.Join(dir, loggen.C4CCFile)}
}

// replayLines replays args (with --quiet --out) and returns the event
// lines written.
func replayLines(t *testing.T, args ...string) []string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "events.jsonl")
	code, _, stderr := runReplay(t, "", append([]string{"--quiet", "--out", out}, args...)...)
	require.Equal(t, exitOK, code, "replay %v: %s", args, stderr)
	return readLines(t, out)
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	require.NoError(t, sc.Err())
	return lines
}

func decodeLines(t *testing.T, lines []string) []schemas.IncidentEvent {
	t.Helper()
	evs := make([]schemas.IncidentEvent, len(lines))
	for i, l := range lines {
		ev, err := schemas.DecodeEvent([]byte(l))
		require.NoError(t, err, "line %d", i+1)
		evs[i] = ev
	}
	return evs
}

// stripOrigins re-encodes event lines without their evidence origins: the
// only part of an event that names where its entries were read.
func stripOrigins(t *testing.T, lines []string) []string {
	t.Helper()
	out := make([]string, len(lines))
	for i, ev := range decodeLines(t, lines) {
		for j := range ev.Data.Evidence {
			ev.Data.Evidence[j].Origin = ""
		}
		b, err := json.Marshal(ev)
		require.NoError(t, err)
		out[i] = string(b)
	}
	return out
}

var corpusStart = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC) // loggen's default

// TestUsageErrors: flags that cannot work together are refused with exit
// status 1 before anything is read, each problem named.
func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"paths and brokers", []string{"--brokers", "127.0.0.1:1", dir}, []string{"either paths or --brokers"}},
		{"no input", []string{"--kind", "sync_error"}, []string{"no input"}},
		{"bad kind and window", []string{"--kind", "sync_problem", "--since", "2026-11-25", "--until", "2026-11-24T00:00Z", dir},
			[]string{`--kind "sync_problem"`, "--until: must be after --since"}},
		{"bad time", []string{"--from", "yesterday", dir}, []string{`invalid value "yesterday" for flag -from`}},
		{"from after to", []string{"--from", "2026-11-25", "--to", "2026-11-24", dir}, []string{"--to: must be after --from"}},
		{"topics without brokers", []string{"--topics", "a,b", dir}, []string{"--topics: only with --brokers"}},
		{"golden missing", []string{"--diff", filepath.Join(dir, "nope.jsonl"), dir}, []string{"opening golden file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runReplay(t, "", tt.args...)
			require.Equal(t, exitUsage, code, stderr)
			require.Empty(t, stdout)
			for _, w := range tt.want {
				require.Contains(t, stderr, w)
			}
		})
	}
}

// TestTimeFlag: the short forms of RFC 3339 a user types are accepted.
func TestTimeFlag(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2026-11-20T00:00:00Z", time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)},
		{"2026-11-20T10:15:30.250+02:00", time.Date(2026, 11, 20, 8, 15, 30, 250e6, time.UTC)},
		{"2026-11-20T00:00Z", time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)},
		{"2026-11-20", time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var got time.Time
			require.NoError(t, timeFlag{&got}.Set(tt.in))
			require.True(t, tt.want.Equal(got), "got %s", got)
		})
	}
	var got time.Time
	require.Error(t, timeFlag{&got}.Set("20.11.2026"))
}
