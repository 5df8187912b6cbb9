package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestGroupTimeoutSettings: --session-timeout, --heartbeat-interval and
// --rebalance-timeout come from flags, the environment or the config
// file like every other setting, and are validated together.
func TestGroupTimeoutSettings(t *testing.T) {
	file := filepath.Join(t.TempDir(), "ingest.yaml")
	require.NoError(t, os.WriteFile(file, []byte("brokers: [h:9092]\nsession_timeout: 20s\nheartbeat_interval: 2s\nrebalance_timeout: 40s\n"), 0o644))
	tests := []struct {
		name          string
		args          []string
		env           map[string]string
		session, beat time.Duration
		rebalance     time.Duration
		wantErr       []string
	}{
		{name: "defaults", args: []string{"--brokers", "h:9092"}, session: 30 * time.Second, beat: 3 * time.Second, rebalance: 30 * time.Second},
		{name: "file", args: []string{"--config", file}, session: 20 * time.Second, beat: 2 * time.Second, rebalance: 40 * time.Second},
		{
			name: "environment over the file", args: []string{"--config", file},
			env:     map[string]string{"SYNCWATCH_SESSION_TIMEOUT": "10s", "SYNCWATCH_REBALANCE_TIMEOUT": "5s"},
			session: 10 * time.Second, beat: 2 * time.Second, rebalance: 5 * time.Second,
		},
		{
			name: "flags over the environment", args: []string{"--config", file, "--session-timeout", "1500ms", "--heartbeat-interval", "300ms", "--rebalance-timeout", "3s"},
			env:     map[string]string{"SYNCWATCH_SESSION_TIMEOUT": "10s"},
			session: 1500 * time.Millisecond, beat: 300 * time.Millisecond, rebalance: 3 * time.Second,
		},
		{
			name: "every problem at once", args: []string{"--brokers", "h:9092", "--session-timeout", "1s", "--heartbeat-interval", "2s", "--rebalance-timeout", "0s"},
			wantErr: []string{"heartbeat_interval: 2s must be shorter than session_timeout 1s", "rebalance_timeout: must be positive"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFlags(io.Discard)
			require.NoError(t, f.fs.Parse(tt.args))
			cfg, err := f.resolve(func(k string) string { return tt.env[k] })
			require.NoError(t, err)
			err = cfg.Validate(false)
			if len(tt.wantErr) > 0 {
				require.Error(t, err)
				for _, w := range tt.wantErr {
					require.ErrorContains(t, err, w)
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.session, cfg.SessionTimeout)
			require.Equal(t, tt.beat, cfg.HeartbeatInterval)
			require.Equal(t, tt.rebalance, cfg.RebalanceTimeout)
		})
	}
}
