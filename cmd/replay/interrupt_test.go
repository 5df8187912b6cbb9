package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestInterruptExits130: a stop signal (here, the context's end) while
// replay reads is reported as an interruption with the conventional
// status 130, not as an output failure (exit 2 with "context canceled").
func TestInterruptExits130(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	go func() {
		// a stream that keeps coming, as from a tail -f
		for i := 0; ; i++ {
			line := fmt.Sprintf("ts=2026-11-24T10:%02d:%02d.000Z level=info component=sync-engine tenant=t-1 mailbox=m%d@x run=r%d event=run_started\n", i/60%60, i%60, i%50, i)
			if _, err := pw.Write([]byte(line)); err != nil {
				return
			}
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	var out, errOut bytes.Buffer
	code := run(ctx, []string{"-"}, pr, &out, &errOut)
	require.Equal(t, exitInterrupted, code, "%s", errOut.String())
	require.Contains(t, errOut.String(), "replay: interrupted")
	require.NotContains(t, errOut.String(), "context canceled")
}

// TestReportPathCheckedFirst: an unwritable --report is bad usage, found
// before the input is read (it was found only after the whole replay,
// exit 2), like an unwritable --out.
func TestReportPathCheckedFirst(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "engine.log")
	require.NoError(t, os.WriteFile(logs, []byte("ts=2026-11-24T10:00:00.000Z level=info component=sync-engine tenant=t-1 mailbox=m@x run=r1 event=run_started\n"), 0o644))
	missing := filepath.Join(dir, "no", "such", "dir", "out")
	for name, args := range map[string][]string{
		"--report in a missing directory": {"--report", missing},
		"--report a directory":            {"--report", dir},
		"--out in a missing directory":    {"--out", missing},
		"--dead-letter in a missing dir":  {"--dead-letter", missing},
		"--memprofile in a missing dir":   {"--memprofile", missing},
		"--peakprofile in a missing dir":  {"--peakprofile", missing},
	} {
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), append(append([]string{"--quiet"}, args...), logs), nil, &out, &errOut)
			require.Equal(t, exitUsage, code, "%s", errOut.String())
			require.Contains(t, errOut.String(), args[0])
			require.Empty(t, out.String(), "nothing replayed")
		})
	}
	ok := filepath.Join(dir, "report.html")
	var out, errOut bytes.Buffer
	require.Equal(t, exitOK, run(context.Background(), []string{"--quiet", "--report", ok, logs}, nil, &out, &errOut), "%s", errOut.String())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		require.NotContains(t, e.Name(), ".check-", "the writability probe is removed")
	}
}
