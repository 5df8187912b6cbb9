package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestHealthcheck(t *testing.T) {
	ok := httptest.NewServer(newMetrics().handler()) // the real /healthz
	t.Cleanup(ok.Close)
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	t.Cleanup(failing.Close)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	t.Cleanup(slow.Close)
	addr := func(s *httptest.Server) string { return s.Listener.Addr().String() }
	_, okPort, err := net.SplitHostPort(addr(ok))
	require.NoError(t, err)
	closed := func() string { // a port nobody listens on
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		a := ln.Addr().String()
		ln.Close()
		return a
	}()

	tests := []struct {
		scenario string
		args     []string
		env      map[string]string
		want     int
		stderr   string
	}{
		{scenario: "healthy", args: []string{"--addr", addr(ok)}, want: exitOK},
		{scenario: "address from the environment, unspecified host dialled on loopback",
			env: map[string]string{"SYNCWATCH_METRICS_ADDR": "0.0.0.0:" + okPort}, want: exitOK},
		{scenario: "flag wins over the environment",
			args: []string{"--addr", addr(ok)}, env: map[string]string{"SYNCWATCH_METRICS_ADDR": closed}, want: exitOK},
		{scenario: "non-200 answer", args: []string{"--addr", addr(failing)}, want: 1, stderr: "503"},
		{scenario: "nobody listening", args: []string{"--addr", closed}, want: 1, stderr: "connection refused"},
		{scenario: "timeout", args: []string{"--addr", addr(slow), "--timeout", "200ms"}, want: 1, stderr: "deadline exceeded"},
		{scenario: "metrics off", env: map[string]string{"SYNCWATCH_METRICS_ADDR": "off"}, want: 1, stderr: "off"},
		{scenario: "bad address", args: []string{"--addr", "nocolon"}, want: 1, stderr: "parsing --addr"},
	}
	for _, test := range tests {
		t.Run(test.scenario, func(t *testing.T) {
			getenv := func(k string) string { return test.env[k] }
			var stdout, stderr bytes.Buffer
			start := time.Now()
			code := runHealthcheck(context.Background(), test.args, getenv, &stdout, &stderr)
			require.Equal(t, test.want, code, "stderr: %s", stderr.String())
			require.Less(t, time.Since(start), 4*time.Second, "every check is bounded by --timeout")
			if test.want == exitOK {
				require.Equal(t, "healthy\n", stdout.String())
			} else {
				require.Contains(t, stderr.String(), test.stderr)
			}
		})
	}
}

// TestHealthcheckDispatch checks that `ingest healthcheck` reaches the
// subcommand rather than the consumer's flag parsing.
func TestHealthcheckDispatch(t *testing.T) {
	srv := httptest.NewServer(newMetrics().handler())
	t.Cleanup(srv.Close)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"healthcheck", "--addr", srv.Listener.Addr().String()}, &stdout, &stderr)
	require.Equal(t, exitOK, code, "stderr: %s", stderr.String())
	require.Equal(t, "healthy\n", stdout.String())
}
