package loggen

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTruthJSON(t *testing.T) {
	end := time.Date(2026, 11, 24, 5, 18, 57, 939e6, time.UTC)
	tests := []struct {
		name  string
		truth Truth
		line  string
	}{
		{
			name:  "resolved",
			truth: Truth{Tenant: "t-1042", Mailbox: "m.rossi5@adatum.com", Kind: "sync_error", Class: "exchange.auth.password", Start: time.Date(2026, 11, 24, 0, 24, 43, 760e6, time.UTC), End: &end},
			line:  `{"tenant": "t-1042", "mailbox": "m.rossi5@adatum.com", "kind": "sync_error", "class": "exchange.auth.password", "start": "2026-11-24T00:24:43.760Z", "end": "2026-11-24T05:18:57.939Z"}`,
		},
		{
			name:  "open",
			truth: Truth{Tenant: "t-1007", Mailbox: "a\"b@c.de", Kind: "sync_issue", Class: "record.unknown", Start: time.Date(2026, 11, 24, 23, 0, 0, 0, time.UTC)},
			line:  `{"tenant": "t-1007", "mailbox": "a\"b@c.de", "kind": "sync_issue", "class": "record.unknown", "start": "2026-11-24T23:00:00.000Z", "end": null}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, writeTruth(&b, []Truth{tt.truth}))
			require.Equal(t, tt.line+"\n", b.String())
			got, err := ReadTruth(strings.NewReader("\n" + b.String() + "\n"))
			require.NoError(t, err)
			require.Equal(t, []Truth{tt.truth}, got)
		})
	}
	t.Run("round trip of a corpus", func(t *testing.T) {
		truth, _, err := Generate(Config{Mailboxes: 12, Duration: 8 * time.Hour, IncidentRate: 0.3}, func(Entry) error { return nil })
		require.NoError(t, err)
		var b bytes.Buffer
		require.NoError(t, writeTruth(&b, truth))
		got, err := ReadTruth(&b)
		require.NoError(t, err)
		require.Equal(t, truth, got)
	})
	t.Run("bad line", func(t *testing.T) {
		_, err := ReadTruth(strings.NewReader("{\"tenant\": \"t-1\", \"start\": \"yesterday\"}\n"))
		require.ErrorContains(t, err, "truth line 1")
	})
}
