package detectors

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/schemas"
)

// tiedRuns is one run per mailbox, every mailbox's lines at the same
// instants (as a million mailboxes logging at millisecond precision share
// them), fed in descending mailbox order: each run's timeout falls at the
// instant of the one queued before it, in reverse order. Every run syncs a
// record and fails one: its sync issue opens when it is decided.
func tiedRuns(n int) []schemas.LogRecord {
	var recs []schemas.LogRecord
	add := func(at time.Duration, p schemas.Producer, ev schemas.Event, sev schemas.Severity, rec, body string) {
		for i := n - 1; i >= 0; i-- {
			r := schemas.LogRecord{
				Time: t0.Add(at), Producer: p, Event: ev, Severity: sev, SeverityText: sev.String(),
				Tenant: "t-1", Mailbox: fmt.Sprintf("m%04d@x.com", i), RunID: fmt.Sprintf("run%d", i), RecordID: rec, Body: body,
				Origin: fmt.Sprintf("test:%d", len(recs)+1),
			}
			if ev == schemas.EventRunFinished {
				r.HasCounts, r.Synced, r.Failed = true, 1, 1
			}
			recs = append(recs, r)
		}
	}
	add(0, schemas.ProducerEngine, schemas.EventRunStarted, schemas.SeverityInfo, "", "")
	add(time.Second, schemas.ProducerExchange, schemas.EventRecordSynced, schemas.SeverityInfo, "M-1", "item M-1 synced")
	add(time.Second, schemas.ProducerEngine, schemas.EventRecordFailed, schemas.SeverityWarn, "A-1", "The item exceeds the maximum allowed size")
	add(2*time.Second, schemas.ProducerEngine, schemas.EventRunFinished, schemas.SeverityInfo, "", "")
	return recs
}

// TestEngineDecidesTiesInOrder: runs due at one instant are decided in
// mailbox order, whether their items wait in the heap or in the queue.
func TestEngineDecidesTiesInOrder(t *testing.T) {
	recs := tiedRuns(50)
	e, err := NewEngine(Config{})
	require.NoError(t, err)
	var out []schemas.IncidentEvent
	for i := range recs {
		out = e.Process(&recs[i], out)
	}
	out = e.Advance(t0.Add(time.Minute), out)
	require.Len(t, out, 50)
	var got []string
	for _, ev := range out {
		got = append(got, ev.Data.Mailbox)
	}
	require.True(t, sort.StringsAreSorted(got), "events in mailbox order: %v", got)

	// a run timing out: the same order from the queue alone
	recs = tiedRuns(50)
	var started []schemas.LogRecord
	for _, r := range recs {
		if r.Event == schemas.EventRunStarted || r.Event == schemas.EventRecordFailed || r.Event == schemas.EventRecordSynced {
			started = append(started, r)
		}
	}
	e, err = NewEngine(Config{})
	require.NoError(t, err)
	out = out[:0]
	for i := range started {
		out = e.Process(&started[i], out)
	}
	out = e.Advance(t0.Add(time.Hour), out)
	require.Len(t, out, 50)
	got = got[:0]
	for _, ev := range out {
		got = append(got, ev.Data.Mailbox)
	}
	require.True(t, sort.StringsAreSorted(got), "events in mailbox order: %v", got)
	require.Equal(t, 50, e.Stats().RunsTimedOut)
}

// TestEngineKeepsNoDecidedRun: once a run is decided, no queued item
// holds it (its timeout item would have kept it alive for the run
// timeout: with a million mailboxes, a million decided runs).
func TestEngineKeepsNoDecidedRun(t *testing.T) {
	recs := tiedRuns(200)
	e, err := NewEngine(Config{})
	require.NoError(t, err)
	var out []schemas.IncidentEvent
	for i := range recs {
		out = e.Process(&recs[i], out)
	}
	out = e.Advance(t0.Add(time.Minute), out)
	require.Len(t, out, 200)
	require.Equal(t, 200, e.Stats().RunsDecided)
	held := 0
	for _, it := range append(e.due[:len(e.due):len(e.due)], e.dueQ.items[e.dueQ.head:]...) {
		if it.r != nil && it.r.decided {
			held++
		}
	}
	require.Zero(t, held, "queued items holding decided runs")
	for _, it := range e.batch[:cap(e.batch)] {
		require.Nil(t, it.r, "Advance's scratch holds a run")
	}
}
