package detectors

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestEngineTimedOutRunDecidedAfterNewerSyncedRun: a run that dies after a
// total failure (no end line) is decided RunTimeout after its last line;
// a newer run that synced and was decided first has resolved the incident
// by then. The stale decision must not open the incident again: it would
// do so under the same id (same first sighting), so subscribers
// deduplicating on the event id would miss the second episode, and there
// is none (found by TestFaultGroupChurn: replay and ingest both sent two
// different events as inc-…-2).
func TestEngineTimedOutRunDecidedAfterNewerSyncedRun(t *testing.T) {
	s := &script{at: t0}
	s.start("r1").exchErr("r1", "Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found.")
	s.at = s.at.Add(-2 * time.Minute) // r2 runs 8 minutes later, ends before r1 times out
	s.ok("r2")
	s.start("r3").exchErr("r3", "Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found.").
		runFailed("r3", "Exchange connector failed") // a real new episode, after r1 timed out
	s.ok("r4")

	out, life := runScript(t, s)
	require.Equal(t, []string{
		"opened sync_error exchange.ews.not_found", "resolved sync_error exchange.ews.not_found",
		"opened sync_error exchange.ews.not_found", "resolved sync_error exchange.ews.not_found",
	}, life)
	ids := map[string]bool{}
	for _, ev := range out {
		require.False(t, ids[ev.ID], "event id %s sent twice", ev.ID)
		ids[ev.ID] = true
	}
	require.Equal(t, out[0].Data.IncidentID, out[1].Data.IncidentID)
	require.NotEqual(t, out[0].Data.IncidentID, out[2].Data.IncidentID, "the second episode is another incident")
	require.Contains(t, out[1].Data.Evidence[0].Message, "run r2 synced records")
}
