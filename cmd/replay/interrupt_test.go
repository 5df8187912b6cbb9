package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
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
