package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
)

// TestExitCodes holds the rows of the README's exit-code table for
// replay (130, interrupted: TestInterruptExits130).
func TestExitCodes(t *testing.T) {
	dir := newCorpus(t, loggen.Config{Seed: 6, Mailboxes: 8, Duration: 6 * time.Hour})
	engine := filepath.Join(dir, loggen.EngineFile)
	empty := filepath.Join(t.TempDir(), "golden.jsonl")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))

	truncated := filepath.Join(t.TempDir(), "engine.log.gz")
	truncatedGzip(t, engine, truncated, 2)

	for _, tt := range []struct {
		name string
		args []string
		code int
	}{
		{"success", []string{"--quiet", "--out", filepath.Join(t.TempDir(), "events.jsonl"), dir}, exitOK},
		{"bad usage: no input", nil, exitUsage},
		{"bad usage: an unreadable path", []string{"/nonexistent/logs"}, exitUsage},
		{"the output cannot be written", []string{"--quiet", "--out", "/dev/full", dir}, exitFail},
		{"--diff finds a difference", []string{"--quiet", "--diff", empty, dir}, exitDiff},
		{"partial: an input cannot be read to its end", []string{"--quiet", "--out", filepath.Join(t.TempDir(), "events.jsonl"), truncated}, exitPartial},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			require.Equal(t, tt.code, run(context.Background(), tt.args, nil, &out, &errOut), errOut.String())
		})
	}
}
