package main

import (
	"bytes"
	"context"
	"net"
	"testing"

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
