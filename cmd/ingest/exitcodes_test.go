package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestExitCodes holds the rows of the README's exit-code table for
// ingest: 0 when it ran and stopped, 1 for bad usage or configuration, 2
// when the consumer failed (here: its metrics address is taken).
func TestExitCodes(t *testing.T) {
	t.Setenv("SYNCWATCH_BROKERS", "")
	t.Setenv("SYNCWATCH_CONFIG", "")
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	demo := []string{"--demo", "--demo-hours", "1", "--demo-mailboxes", "2", "--log-level", "error"}
	for _, tt := range []struct {
		name string
		args []string
		code int
	}{
		{"ran and stopped", append(append([]string(nil), demo...), "--metrics-addr", "off"), exitOK},
		{"help", []string{"--help"}, exitOK},
		{"bad usage", []string{"--no-such-flag"}, exitUsage},
		{"bad configuration", []string{"--brokers", "k:9092", "--metrics-addr", "127.0.0.1:99999"}, exitUsage},
		{"the consumer failed", append(append([]string(nil), demo...), "--metrics-addr", taken.Addr().String()), exitFailed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			require.Equal(t, tt.code, run(context.Background(), tt.args, &out, &errOut), errOut.String())
		})
	}
}

// TestDemoFollow: --demo --follow says how to stop, and its logs end now:
// the event-time lag it exports is minutes, not the week it was when the
// demo's logs had a fixed date.
func TestDemoFollow(t *testing.T) {
	addr := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer l.Close()
		return l.Addr().String()
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncWriter
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--demo", "--follow", "--demo-hours", "1", "--demo-mailboxes", "3", "--metrics-addr", addr, "--log-level", "error"}, &out, &errOut)
	}()
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "syncwatch_event_time_lag_seconds{") {
				f := strings.Fields(line)
				v, err := strconv.ParseFloat(f[len(f)-1], 64)
				return err == nil && v < 3600
			}
		}
		return false
	}, 30*time.Second, 100*time.Millisecond, "an event-time lag under an hour")
	cancel()
	require.Equal(t, exitOK, <-done, errOut.String())
	require.Contains(t, errOut.String(), "Ctrl-C stops")
}

// syncWriter is a buffer written by run's goroutines and read by the test.
type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
