package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
)

// TestTruncatedGzipIsPartial: one truncated .gz among good files. The
// good ones are replayed in full (events up to the corpus' end), the bad
// one is named with how far it got, the report is written, and the exit
// status says partial (4). Before, the whole replay stopped where the
// .gz broke, exit 2, no report.
func TestTruncatedGzipIsPartial(t *testing.T) {
	dir := newCorpus(t, loggen.Config{Seed: 5, Mailboxes: 20, Duration: 12 * time.Hour})
	engine := filepath.Join(dir, loggen.EngineFile)
	truncatedGzip(t, engine, engine+".gz", 3) // cut a third of the way
	require.NoError(t, os.Remove(engine))

	report := filepath.Join(t.TempDir(), "report.html")
	out := filepath.Join(t.TempDir(), "events.jsonl")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--quiet", "--out", out, "--report", report, dir}, nil, &stdout, &stderr)
	require.Equal(t, exitPartial, code, "%s", stderr.String())
	require.Contains(t, stderr.String(), "engine.log.gz could not be read to its end")
	require.Contains(t, stderr.String(), "unexpected EOF")
	require.Contains(t, stderr.String(), "entries")
	_, err := os.Stat(report)
	require.NoError(t, err, "the report is written")

	evs := decodeLines(t, readLines(t, out))
	require.NotEmpty(t, evs)
	last := evs[len(evs)-1].Time.Time
	for _, e := range evs {
		if e.Time.After(last) {
			last = e.Time.Time
		}
	}
	start, err := time.Parse(time.RFC3339, loggen.DefaultStart)
	require.NoError(t, err)
	require.True(t, last.After(start.Add(9*time.Hour)), "the good files are replayed to their end, not cut where the .gz broke (last event at %s)", last)
}

// truncatedGzip writes the file at from, gzipped and cut to 1/part of its
// compressed length, to to.
func truncatedGzip(t *testing.T, from, to string, part int) {
	t.Helper()
	raw, err := os.ReadFile(from)
	require.NoError(t, err)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, err = zw.Write(raw)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(to, gz.Bytes()[:gz.Len()/part], 0o644))
}
