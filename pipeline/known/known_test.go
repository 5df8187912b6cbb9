package known_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/detectors"
	"github.com/syncwatch/syncwatch/pipeline/known"
	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/pipeline/parse"
	"github.com/syncwatch/syncwatch/schemas"
)

var t0 = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)

func event(id string, seq int, typ string, at time.Duration) schemas.IncidentEvent {
	return schemas.NewIncidentEvent("test", typ, seq, t0.Add(at), schemas.IncidentData{
		IncidentID: id, Kind: schemas.KindSyncError, Class: "exchange.auth.password",
		Tenant: "t-1", Mailbox: "a@x", Evidence: []schemas.Evidence{{Message: "m"}},
	})
}

func ids(evs []schemas.IncidentEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.ID)
	}
	return out
}

// TestIncidentsTake: the latest event before t of each incident open at
// t, whatever order and how many times the events came; once per mailbox
// in a session (one engine).
func TestIncidentsTake(t *testing.T) {
	tests := []struct {
		name string
		at   time.Duration
		want []string
	}{
		{"before everything", 0, nil},
		{"open, one event", 90 * time.Minute, []string{"inc-a-1"}},
		{"open, updated", 150 * time.Minute, []string{"inc-a-2", "inc-b-1"}},
		{"a resolved, b open", 5 * time.Hour, []string{"inc-b-2"}},
		{"at an event's time: that event is the logs' to make again", 3 * time.Hour, []string{"inc-a-2", "inc-b-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := known.New(0)
			evs := []schemas.IncidentEvent{
				event("inc-b", 2, schemas.TypeUpdated, 4*time.Hour),
				event("inc-a", 1, schemas.TypeOpened, time.Hour),
				event("inc-a", 3, schemas.TypeResolved, 3*time.Hour),
				event("inc-a", 2, schemas.TypeUpdated, 2*time.Hour),
				event("inc-b", 1, schemas.TypeOpened, 2*time.Hour),
				event("inc-a", 2, schemas.TypeUpdated, 2*time.Hour), // a repeat
			}
			pipelineInc := event("inc-p", 1, schemas.TypeOpened, time.Hour)
			pipelineInc.Data.Kind = schemas.KindPipeline
			for _, e := range append(evs, pipelineInc) {
				k.Add(e)
			}
			require.Equal(t, 5, k.Events(), "the repeat and the pipeline incident are not kept")
			require.Equal(t, 1, k.Open())
			s := k.Session()
			got := s.Take("t-1", "a@x", t0.Add(tt.at))
			require.Equal(t, tt.want, ids(got))
			for _, e := range got {
				require.Empty(t, e.Data.Evidence, "evidence is not kept")
			}
			require.Empty(t, s.Take("t-1", "a@x", t0.Add(tt.at)), "once per mailbox and session")
			require.Equal(t, tt.want, ids(k.Session().Take("t-1", "a@x", t0.Add(tt.at))), "again in a new session")
		})
	}
}

// TestIncidentsHorizon: only the last event before the horizon is kept of
// an open incident, and nothing of one resolved before it.
func TestIncidentsHorizon(t *testing.T) {
	k := known.New(10 * time.Hour)
	for i := 1; i <= 30; i++ {
		k.Add(event("inc-a", i, schemas.TypeUpdated, time.Duration(i)*time.Hour))
	}
	k.Add(event("inc-b", 1, schemas.TypeOpened, time.Hour))
	k.Add(event("inc-b", 2, schemas.TypeResolved, 2*time.Hour))
	k.Compact()
	// inc-a: hours 20..30 are within 10h of the newest (30h), plus hour 19
	require.Equal(t, 12, k.Events())
	require.Equal(t, []string{"inc-a-19"}, ids(k.At("t-1", "a@x", t0.Add(20*time.Hour))))
}

// TestCarryOnAfterRestart is a restart in the engine's terms: the events a
// first engine published before the restart are all that is known; a
// second engine reads the logs again only from a restore window before
// the restart. Without known incidents, every incident that opened before
// the window opens again under a new id and the old ones are never
// resolved. With them, the incidents published across both engines have
// exactly the ids of one engine that saw every log, and resolve.
func TestCarryOnAfterRestart(t *testing.T) {
	var recs []schemas.LogRecord
	_, _, err := loggen.Generate(loggen.Config{Seed: 8, Mailboxes: 40, Start: t0, Duration: 72 * time.Hour}, func(e loggen.Entry) error {
		var r schemas.LogRecord
		if parse.Entry(e.Raw, &r) == nil {
			r.Origin = ""
			recs = append(recs, r)
		}
		return nil
	})
	require.NoError(t, err)
	slices.SortStableFunc(recs, func(a, b schemas.LogRecord) int { return a.Time.Compare(b.Time) })

	run := func(k detectors.KnownIncidents, recs []schemas.LogRecord, flush bool) []schemas.IncidentEvent {
		dets, err := detectors.Build(nil, detectors.Options{})
		require.NoError(t, err)
		eng, err := detectors.NewEngine(detectors.Config{Detectors: dets, Known: k})
		require.NoError(t, err)
		var out []schemas.IncidentEvent
		for i := range recs {
			out = eng.Process(&recs[i], out)
		}
		if flush {
			out = eng.Flush(out)
		}
		return out
	}
	byTime := func(t time.Time) int {
		i, _ := slices.BinarySearchFunc(recs, t, func(r schemas.LogRecord, t time.Time) int { return r.Time.Compare(t) })
		return i
	}
	whole := run(nil, recs, true)

	merge := func(evs ...[]schemas.IncidentEvent) map[string]string {
		m := map[string]string{}
		for _, list := range evs {
			for _, e := range list {
				e.Data.Evidence = nil
				b, err := json.Marshal(e)
				require.NoError(t, err)
				m[e.ID] = string(b)
			}
		}
		return m
	}
	want := merge(whole)

	// Restart in the middle of incidents that last over an hour, with a
	// restore window of 20 minutes: they opened before it.
	const window = 20 * time.Minute
	var restarts []time.Time
	for _, e := range whole {
		if e.Type == schemas.TypeResolved && e.Time.Sub(e.Data.FirstSeen.Time) > time.Hour && len(restarts) < 4 {
			restarts = append(restarts, e.Data.FirstSeen.Add(e.Time.Sub(e.Data.FirstSeen.Time)/2))
		}
	}
	require.Len(t, restarts, 4, "the corpus has incidents that last over an hour")
	for _, restart := range restarts {
		t.Run(restart.Format("Jan02T15:04"), func(t *testing.T) {
			before := run(nil, recs[:byTime(restart)], false)
			restored := recs[byTime(restart.Add(-window)):]

			forgot := merge(before, run(nil, restored, true))
			require.NotEqual(t, sortedKeys(want), sortedKeys(forgot), "without known incidents, ids differ (the test can fail)")

			k := known.New(0)
			for _, e := range before {
				k.Add(e)
			}
			got := merge(before, run(k.Session(), restored, true))
			require.Equal(t, sortedKeys(want), sortedKeys(got), "the same incident ids as one engine that saw every log")
			// What cannot be known: the entries of the run that straddles
			// the window's start, absorbed after its last event before it,
			// are missing from the incident's counts.
			counts := 0
			for id, w := range want {
				if got[id] == w {
					continue
				}
				counts++
				diff := dataDiff(t, w, got[id])
				require.Subset(t, []string{"occurrences", "affected_records"}, keys(diff), "%s differs in more than its counts: %v", id, diff)
				var e schemas.IncidentEvent
				require.NoError(t, json.Unmarshal([]byte(w), &e))
				require.True(t, e.Data.FirstSeen.Before(restart.Add(-window)), "%s opened in the window: its events are the logs' to make, exactly", id)
			}
			t.Logf("%d events, the same ids; %d differ in their counts", len(want), counts)
		})
	}
}

func keys(m map[string][2]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// dataDiff returns the data fields in which two events differ, with both values.
func dataDiff(t *testing.T, a, b string) map[string][2]string {
	var x, y struct{ Data map[string]any }
	require.NoError(t, json.Unmarshal([]byte(a), &x))
	require.NoError(t, json.Unmarshal([]byte(b), &y))
	out := map[string][2]string{}
	for k, v := range x.Data {
		va, _ := json.Marshal(v)
		vb, _ := json.Marshal(y.Data[k])
		if string(va) != string(vb) {
			out[k] = [2]string{string(va), string(vb)}
		}
	}
	return out
}
