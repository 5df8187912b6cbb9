package health

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/detectors"
	"github.com/syncwatch/syncwatch/schemas"
)

// healthEntry is one entry fed to a Monitor: a record of producer p
// at t, or (dead) an unparseable line whose text carries t.
type healthEntry struct {
	p    schemas.Producer
	t    time.Time
	dead bool
}

var healthStart = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

// healthTraffic is three producers, each on its own source, logging every
// 2 s from 09:00 to 12:00 (150 entries a window); mod may drop an entry (false) or change it.
func healthTraffic(mod func(e *healthEntry) bool) []healthEntry {
	var out []healthEntry
	for t := healthStart; t.Before(healthStart.Add(3 * time.Hour)); t = t.Add(2 * time.Second) {
		for p := schemas.ProducerExchange; p <= schemas.ProducerC4CC; p++ {
			e := healthEntry{p: p, t: t.Add(time.Duration(p) * 300 * time.Millisecond)}
			if mod == nil || mod(&e) {
				out = append(out, e)
			}
		}
	}
	return out
}

func during(e *healthEntry, p schemas.Producer, from, to string) bool {
	at := func(s string) time.Time {
		t, err := time.Parse("15:04", s)
		if err != nil {
			panic(err)
		}
		return healthStart.Truncate(24 * time.Hour).Add(t.Sub(t.Truncate(24 * time.Hour)))
	}
	return e.p == p && !e.t.Before(at(from)) && e.t.Before(at(to))
}

// feed runs entries through m as the pipeline would: counted in order,
// windows closed as event time passes them (every advanceEvery entries;
// 0: only at the end).
func feed(m *Monitor, entries []healthEntry, advanceEvery int) []schemas.IncidentEvent {
	var out []schemas.IncidentEvent
	var latest time.Time
	for i, e := range entries {
		o := Observation{Source: "src-" + e.p.String()}
		o.Origin = fmt.Sprintf("%s:%d", o.Source, i+1)
		if e.dead {
			o.Producer = schemas.ProducerUnknown
			o.Message = `unrecognised format near "password=hunter2"`
			o.Raw = []byte("[" + e.t.Format(time.RFC3339Nano) + "] <I> worker :: item synced password=hunter2")
		} else {
			o.OK, o.Producer, o.Time, o.Message = true, e.p, e.t, "item synced"
		}
		m.Observe(&o)
		if e.t.After(latest) {
			latest = e.t
		}
		if advanceEvery > 0 && i%advanceEvery == 0 {
			out = m.Advance(latest.Add(-5*time.Second), out, nil)
		}
	}
	return m.Advance(latest, out, nil)
}

type wantEvent struct {
	typ, class string
	producer   schemas.Producer
	at         string // HH:MM:SS
}

func TestHealthMonitor(t *testing.T) {
	tests := []struct {
		scenario string
		mod      func(e *healthEntry) bool
		want     []wantEvent
	}{
		{scenario: "normal traffic raises nothing"},
		{
			scenario: "a steady share of dead letters under the threshold is no drift",
			mod: func(e *healthEntry) bool {
				e.dead = e.p == schemas.ProducerEngine && e.t.Second()%12 == 0 // 1 in 6
				return true
			},
		},
		{
			scenario: "format drift for an hour opens, then resolves",
			mod: func(e *healthEntry) bool {
				e.dead = during(e, schemas.ProducerExchange, "10:00", "11:00")
				return true
			},
			want: []wantEvent{
				{schemas.TypeOpened, ClassFormatDrift, schemas.ProducerExchange, "10:05:00"},
				{schemas.TypeResolved, ClassFormatDrift, schemas.ProducerExchange, "11:05:00"},
			},
		},
		{
			scenario: "a producer that is garbage from its start has no baseline: no drift",
			mod: func(e *healthEntry) bool {
				e.dead = e.p == schemas.ProducerC4CC && !e.t.Before(healthStart.Add(10*time.Second))
				return true
			},
		},
		{
			scenario: "a silent hour opens, then resolves on the next entry",
			mod: func(e *healthEntry) bool {
				return !during(e, schemas.ProducerEngine, "10:00", "11:00")
			},
			want: []wantEvent{
				{schemas.TypeOpened, ClassProducerSilent, schemas.ProducerEngine, "10:15:00"},
				{schemas.TypeResolved, ClassProducerSilent, schemas.ProducerEngine, "11:00:00"},
			},
		},
		{
			scenario: "a gap shorter than SilentAfter is no silence",
			mod: func(e *healthEntry) bool {
				return !during(e, schemas.ProducerEngine, "10:00", "10:12")
			},
		},
		{
			scenario: "everyone quiet at once is no producer's silence",
			mod: func(e *healthEntry) bool {
				return e.t.Before(healthStart.Add(time.Hour)) || !e.t.Before(healthStart.Add(2*time.Hour))
			},
		},
	}
	for _, test := range tests {
		t.Run(test.scenario, func(t *testing.T) {
			entries := healthTraffic(test.mod)
			var first []schemas.IncidentEvent
			for _, every := range []int{0, 1, 7, 500} {
				evs := feed(New(Config{}, "test"), entries, every)
				if every == 0 {
					first = evs
				} else {
					require.Equal(t, first, evs, "advancing every %d entries gives other events", every)
				}
			}
			got := make([]wantEvent, len(first))
			for i, ev := range first {
				require.NoError(t, schemas.ValidateEvent(ev), "event %d", i)
				require.Equal(t, schemas.KindPipeline, ev.Data.Kind)
				require.Equal(t, Tenant+"/"+ev.Data.Producer, ev.Subject)
				require.NotEmpty(t, ev.Data.Remediation)
				require.NotEmpty(t, ev.Data.Evidence)
				for _, e := range ev.Data.Evidence {
					require.NotContains(t, e.Message, "hunter2", "evidence must be redacted")
				}
				p, ok := schemas.ParseProducer(ev.Data.Producer)
				require.True(t, ok)
				got[i] = wantEvent{ev.Type, ev.Data.Class, p, ev.Time.UTC().Format("15:04:05")}
			}
			if len(test.want) == 0 {
				require.Empty(t, got)
				return
			}
			require.Equal(t, test.want, got)
			// one incident: opened and resolved share the id, seq 1 then 2
			require.Equal(t, first[0].Data.IncidentID, first[1].Data.IncidentID)
			require.Equal(t, first[0].Data.IncidentID+"-1", first[0].ID)
			require.Equal(t, first[0].Data.IncidentID+"-2", first[1].ID)
			require.Equal(t, schemas.StatusResolved, first[1].Data.Status)
		})
	}
}

func TestHealthMonitorDisabled(t *testing.T) {
	entries := healthTraffic(func(e *healthEntry) bool { return !during(e, schemas.ProducerEngine, "10:00", "11:00") })
	require.NotEmpty(t, feed(New(Config{}, "test"), entries, 0))
	require.Empty(t, feed(New(Config{Disabled: true}, "test"), entries, 0))
}

func TestSniffTime(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"2026-11-24 10:15:32,123 [4] INFO x", "2026-11-24T10:15:32.123Z", true},
		{`{"ts":"2026-11-24T10:15:32.5+02:00"}`, "2026-11-24T08:15:32.5Z", true},
		{"garbage 2026-11-24T10:15:32Z tail", "2026-11-24T10:15:32Z", true},
		{"\x00\x01 binary 2026-11", "", false},
	}
	for _, test := range tests {
		t.Run(test.in, func(t *testing.T) {
			got, ok := sniffTime([]byte(test.in))
			require.Equal(t, test.ok, ok)
			if ok {
				require.Equal(t, test.want, got.Format(time.RFC3339Nano))
			}
		})
	}
}

// TestHealthMonitorFirstEntryAhead: a live consumer may read a partition
// that is ahead first; until a window is closed, earlier entries are not
// late and count in their own windows.
func TestHealthMonitorFirstEntryAhead(t *testing.T) {
	entries := healthTraffic(func(e *healthEntry) bool { return !during(e, schemas.ProducerEngine, "09:05", "09:25") })
	ahead := append([]healthEntry{{p: schemas.ProducerC4CC, t: healthStart.Add(30 * time.Minute)}}, entries...)
	for _, in := range [][]healthEntry{entries, ahead} {
		evs := feed(New(Config{}, "test"), in, 0)
		require.Len(t, evs, 2)
		require.Equal(t, ClassProducerSilent, evs[0].Data.Class)
		require.Equal(t, "09:20:00", evs[0].Time.UTC().Format("15:04:05"))
		require.Equal(t, "09:25:00", evs[1].Time.UTC().Format("15:04:05"))
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string // substrings of the error, nil: valid
	}{
		{name: "zero value", cfg: Config{}},
		{name: "all set", cfg: Config{Window: time.Minute, DriftShare: 1, DriftMinEntries: 1, SilentAfter: time.Hour, MaxAhead: time.Hour}},
		{name: "negative durations", cfg: Config{Window: -1, SilentAfter: -time.Second, MaxAhead: -time.Hour},
			want: []string{"Window -1ns: must not be negative", "SilentAfter -1s", "MaxAhead -1h0m0s"}},
		{name: "share over 1", cfg: Config{DriftShare: 1.5}, want: []string{"DriftShare 1.5: must be a share between 0 and 1"}},
		{name: "negative share", cfg: Config{DriftShare: -0.1}, want: []string{"DriftShare -0.1"}},
		{name: "negative min entries", cfg: Config{DriftMinEntries: -5}, want: []string{"DriftMinEntries -5: must not be negative"}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			err := test.cfg.Validate()
			if test.want == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range test.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

// TestHealthMonitorCountsOpened: the pipeline incidents a monitor opens
// are counted among the engine's (syncwatch_incidents_opened_total), by
// kind and class; their resolutions are not.
func TestHealthMonitorCountsOpened(t *testing.T) {
	m := New(Config{}, "test")
	evs := feed(m, healthTraffic(func(e *healthEntry) bool {
		e.dead = during(e, schemas.ProducerExchange, "10:00", "11:00")
		return true
	}), 0)
	require.Len(t, evs, 2, "opened and resolved")
	st := m.WithOpened(detectors.Stats{Opened: map[string]int{"sync_error/exchange.auth.password": 3}})
	require.Equal(t, map[string]int{"sync_error/exchange.auth.password": 3, "pipeline/" + ClassFormatDrift: 1}, st.Opened)
	var none *Monitor
	require.Equal(t, map[string]int{"x/y": 1}, none.WithOpened(detectors.Stats{Opened: map[string]int{"x/y": 1}}).Opened)
}
