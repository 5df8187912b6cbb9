package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
)

// TestStdinStreamsLaidEndToEnd: `cat engine.log exchange.log c4cc.jsonl |
// replay -` cannot be told apart into its streams (stdin is read once,
// as it comes); replay says loudly what happened and how to fix it, and
// the fix gives the files' events.
func TestStdinStreamsLaidEndToEnd(t *testing.T) {
	dir := newCorpus(t, loggen.Config{Seed: 7, Mailboxes: 10, Duration: 12 * time.Hour})
	var cat strings.Builder
	for _, f := range corpusFiles(dir) {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		cat.Write(b)
	}
	code, _, stderr := runReplay(t, cat.String(), "-")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stderr, "came after decisions they belonged to")
	require.Contains(t, stderr, "replay them as separate files, or set\n  --reorder-window")

	files := replayLines(t, dir)
	code, out, stderr := runReplay(t, cat.String(), "--quiet", "--reorder-window", "25h", "-")
	require.Equal(t, exitOK, code, stderr)
	require.Equal(t, stripOrigins(t, files), stripOrigins(t, strings.Split(strings.TrimSpace(out), "\n")), "the fix it names gives the files' events")
}

// TestSingleProducerNote: one producer's logs alone time every run out;
// the summary says why and what to do.
func TestSingleProducerNote(t *testing.T) {
	dir := newCorpus(t, loggen.Config{Seed: 7, Mailboxes: 10, Duration: 6 * time.Hour})
	code, _, stderr := runReplay(t, "", corpusFiles(dir)[0])
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stderr, "note: only ExchangeConnector's entries were read")
	require.Contains(t, stderr, "Replay the three producers' logs together")
	code, _, stderr = runReplay(t, "", dir)
	require.Equal(t, exitOK, code, stderr)
	require.NotContains(t, stderr, "note: only")
}
