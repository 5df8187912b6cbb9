package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
)

// forceTerminal makes every writer count as a terminal for the test, and
// has every update drawn.
func forceTerminal(t *testing.T) {
	t.Helper()
	old, oldThrottle := isTerminal, progressThrottle
	isTerminal = func(io.Writer) bool { return true }
	progressThrottle = 0
	t.Cleanup(func() { isTerminal, progressThrottle = old, oldThrottle })
}

// TestProgressNotOnNonTerminal: stderr redirected to a file (as in a
// cron job or CI log) gets the summary and not one byte of a bar.
func TestProgressNotOnNonTerminal(t *testing.T) {
	dir := newCorpus(t, loggen.Config{Seed: 9, Mailboxes: 20, Duration: 12 * time.Hour})
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr.txt"))
	require.NoError(t, err)
	defer f.Close()
	var stdout bytes.Buffer
	code := run(context.Background(), []string{dir}, nil, &stdout, f)
	require.Equal(t, exitOK, code)
	b, err := os.ReadFile(f.Name())
	require.NoError(t, err)
	got := string(b)
	require.True(t, strings.HasPrefix(got, "replay: summary ("), "stderr starts with something else: %q", got[:min(len(got), 80)])
	require.NotContains(t, got, "\r")
	require.NotContains(t, got, "lines/s")
	require.NotContains(t, got, "%")
}

// TestProgressBar: on a terminal the bar shows the bytes read of the
// total, the lines read and their rate, and the time left; it is cleared
// before the summary.
func TestProgressBar(t *testing.T) {
	dir := newCorpus(t, loggen.Config{Seed: 9, Mailboxes: 20, Duration: 12 * time.Hour})
	forceTerminal(t)
	code, _, stderr := runReplay(t, "", dir)
	require.Equal(t, exitOK, code)
	bar, summary, ok := strings.Cut(stderr, "replay: summary (")
	require.True(t, ok, "no summary: %q", stderr)
	require.NotContains(t, summary, "\r", "the bar must be done before the summary")
	// the first frame: after the first batch of 4096 entries
	require.Contains(t, bar, "\rreplay 4.1k lines, ")
	require.Contains(t, bar, " lines/s ")
	require.Regexp(t, `\d+% \|`, bar)
	require.Regexp(t, `\(\s*[0-9.]+ ?[kM]?B/[0-9.]+ [kM]?B`, bar, "bytes read of the total")
	require.Regexp(t, `\[\d+s:\d+s\]`, bar, "elapsed and remaining time")
	// a frame per batch of 4096 entries (and a blank one first)
	lines := 0
	for _, n := range []string{loggen.ExchangeFile, loggen.EngineFile, loggen.C4CCFile} {
		b, err := os.ReadFile(filepath.Join(dir, n))
		require.NoError(t, err)
		lines += strings.Count(string(b), "\n")
	}
	require.GreaterOrEqual(t, strings.Count(bar, "\rreplay "), lines/4096)
	// cleared: the last thing before the summary is a line of blanks
	require.Regexp(t, `\r +\r$`, bar)
}

// TestProgressUnknownSize: from stdin the total is unknown: a spinner with
// the lines read, no percentage and no time left.
func TestProgressUnknownSize(t *testing.T) {
	dir := newCorpus(t, loggen.Config{Seed: 9, Mailboxes: 20, Duration: 12 * time.Hour})
	b, err := os.ReadFile(filepath.Join(dir, loggen.EngineFile))
	require.NoError(t, err)
	forceTerminal(t)
	code, _, stderr := runReplay(t, string(b), "-")
	require.Equal(t, exitOK, code)
	bar, _, ok := strings.Cut(stderr, "replay: summary (")
	require.True(t, ok)
	require.Contains(t, bar, "replay 4.1k lines, ")
	require.NotContains(t, bar, "%")
	require.NotRegexp(t, `\[\d+s:\d+s\]`, bar)
}

// TestProgressQuiet: --quiet draws nothing, even on a terminal.
func TestProgressQuiet(t *testing.T) {
	dir := newCorpus(t, loggen.Config{Seed: 9, Mailboxes: 5, Duration: 6 * time.Hour})
	forceTerminal(t)
	code, _, stderr := runReplay(t, "", "--quiet", dir)
	require.Equal(t, exitOK, code)
	require.Empty(t, stderr)
}
