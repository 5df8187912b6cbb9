package view_test

import (
	"encoding/json"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/view"
	"github.com/syncwatch/syncwatch/schemas"
)

var t0 = time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)

// ev is the JSON of the seq-th event of an incident of mailbox m.
func ev(t testing.TB, id string, seq int, typ string, at time.Duration, kind, class, tenant, m string) []byte {
	t.Helper()
	e := schemas.NewIncidentEvent("syncwatch/ingest", typ, seq, t0.Add(at), schemas.IncidentData{
		IncidentID: id, Kind: kind, Class: class, Severity: schemas.SeverityCritical,
		Tenant: tenant, Mailbox: m, Producer: "ExchangeConnector",
		Title: "The password of the mailbox has expired", Remediation: "Update the password in the communication arrangement.",
		FirstSeen: schemas.Time{Time: t0.Add(at - time.Duration(seq-1)*time.Minute)}, LastSeen: schemas.Time{Time: t0.Add(at)}, Occurrences: seq,
		Evidence: []schemas.Evidence{{Producer: "ExchangeConnector", Time: schemas.Time{Time: t0.Add(at)}, Message: "The remote server returned an error: (401) Unauthorized.", Origin: "sync.exchange-connector/0/1"}},
	})
	b, err := json.Marshal(e)
	require.NoError(t, err)
	return b
}

func apply(t testing.TB, v *view.View, raw []byte) bool {
	t.Helper()
	ok, err := v.Apply(raw)
	require.NoError(t, err)
	return ok
}

func ids(p view.Page) []string {
	var out []string
	for _, inc := range p.Incidents {
		out = append(out, inc.IncidentID)
	}
	return out
}

// TestApplyLifecycle: the latest event is the incident's state; a
// repeat changes nothing; a resolution leaves the open set but stays in
// the view; events arriving out of order keep the latest as the state.
func TestApplyLifecycle(t *testing.T) {
	v := view.New(view.Config{})
	const a = "inc-00000000000a"
	require.True(t, apply(t, v, ev(t, a, 1, schemas.TypeOpened, 0, schemas.KindSyncError, "exchange.auth.password", "t-1", "a@x")))
	require.True(t, apply(t, v, ev(t, a, 2, schemas.TypeUpdated, time.Minute, schemas.KindSyncError, "exchange.auth.password", "t-1", "a@x")))
	require.False(t, apply(t, v, ev(t, a, 2, schemas.TypeUpdated, time.Minute, schemas.KindSyncError, "exchange.auth.password", "t-1", "a@x")), "a repeat")
	s := v.Stats()
	require.Equal(t, 1, s.Open)
	require.Equal(t, 2, s.Events)
	require.EqualValues(t, 1, s.Repeats)

	inc, evs, ok, err := v.Get(a)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, a+"-2", inc.LastEventID)
	require.Equal(t, 2, inc.Occurrences)
	require.Len(t, evs, 2)
	require.Equal(t, schemas.TypeOpened, decode(t, evs[0]).Type, "oldest first")

	require.True(t, apply(t, v, ev(t, a, 4, schemas.TypeResolved, 3*time.Minute, schemas.KindSyncError, "exchange.auth.password", "t-1", "a@x")))
	require.True(t, apply(t, v, ev(t, a, 3, schemas.TypeUpdated, 2*time.Minute, schemas.KindSyncError, "exchange.auth.password", "t-1", "a@x")), "a late event is history")
	inc, _, _, err = v.Get(a)
	require.NoError(t, err)
	require.Equal(t, schemas.StatusResolved, inc.Status, "the latest by sequence is the state")
	require.Equal(t, 4, inc.Events)
	s = v.Stats()
	require.Equal(t, 0, s.Open)
	require.Equal(t, 1, s.Resolved)

	_, err = v.Apply([]byte(`{"not":"an event"}`))
	require.ErrorIs(t, err, view.ErrNotEvent)
	_, err = v.Apply([]byte(`{"id":"inc-00000000000a-x","time":"2026-11-24T08:00:00Z","data":{"incident_id":"inc-00000000000a"}}`))
	require.ErrorIs(t, err, view.ErrNotEvent, "a sequence that is not a number")
	require.EqualValues(t, 2, v.Stats().Undecoded)
}

func decode(t testing.TB, raw []byte) schemas.IncidentEvent {
	t.Helper()
	var e schemas.IncidentEvent
	require.NoError(t, json.Unmarshal(raw, &e))
	return e
}

// TestSelectFilters: every filter, alone and together.
func TestSelectFilters(t *testing.T) {
	v := view.New(view.Config{})
	for i, x := range []struct {
		kind, class, tenant, mailbox string
		resolved                     bool
	}{
		{schemas.KindSyncError, "exchange.auth.password", "t-1", "anna@contoso.com", false},
		{schemas.KindSyncError, "exchange.auth.oauth_token", "t-1", "bob@contoso.com", false},
		{schemas.KindSyncIssue, "record.too_large", "t-1", "anna@contoso.com", false},
		{schemas.KindSyncIssue, "record.too_large", "t-2", "carl@fabrikam.com", true},
		{schemas.KindPipeline, "pipeline.format_drift", "-", "ExchangeConnector", false},
	} {
		id := fmt.Sprintf("inc-%012x", i+1)
		at := time.Duration(i) * time.Hour
		apply(t, v, ev(t, id, 1, schemas.TypeOpened, at, x.kind, x.class, x.tenant, x.mailbox))
		if x.resolved {
			apply(t, v, ev(t, id, 2, schemas.TypeResolved, at+time.Minute, x.kind, x.class, x.tenant, x.mailbox))
		}
	}
	tests := []struct {
		name string
		q    view.Query
		want []string
	}{
		{"default: open, first seen latest first", view.Query{}, []string{"inc-000000000005", "inc-000000000003", "inc-000000000002", "inc-000000000001"}},
		{"resolved", view.Query{State: view.StateResolved}, []string{"inc-000000000004"}},
		{"all", view.Query{State: view.StateAll}, []string{"inc-000000000005", "inc-000000000004", "inc-000000000003", "inc-000000000002", "inc-000000000001"}},
		{"kind", view.Query{Kind: schemas.KindSyncError}, []string{"inc-000000000002", "inc-000000000001"}},
		{"class exact", view.Query{State: view.StateAll, Class: "record.too_large"}, []string{"inc-000000000004", "inc-000000000003"}},
		{"class prefix", view.Query{Class: "exchange.auth.*"}, []string{"inc-000000000002", "inc-000000000001"}},
		{"class exact is not a prefix", view.Query{Class: "exchange.auth"}, nil},
		{"tenant", view.Query{State: view.StateAll, Tenant: "t-2"}, []string{"inc-000000000004"}},
		{"mailbox glob", view.Query{Mailbox: "*@contoso.com"}, []string{"inc-000000000003", "inc-000000000002", "inc-000000000001"}},
		{"mailbox exact", view.Query{Mailbox: "anna@contoso.com"}, []string{"inc-000000000003", "inc-000000000001"}},
		{"mailbox class of characters", view.Query{Mailbox: "[ab]*"}, []string{"inc-000000000003", "inc-000000000002", "inc-000000000001"}},
		{"since: changed at or after", view.Query{State: view.StateAll, Since: t0.Add(2 * time.Hour)}, []string{"inc-000000000005", "inc-000000000004", "inc-000000000003"}},
		{"together", view.Query{Kind: schemas.KindSyncError, Tenant: "t-1", Mailbox: "anna@*"}, []string{"inc-000000000001"}},
		{"nothing", view.Query{Tenant: "t-9"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := v.Select(tt.q)
			require.NoError(t, err)
			require.Equal(t, tt.want, ids(p))
			require.Equal(t, len(tt.want), p.Matched)
			require.True(t, p.Next.IsZero(), "one page")
		})
	}
	_, err := v.Select(view.Query{Mailbox: "[a"})
	require.Error(t, err, "a malformed glob")
}

// TestSelectPages: pages of every size cover the set exactly once, in
// order, and the last page has no next cursor; a cursor stays valid
// when incidents are added or leave meanwhile.
func TestSelectPages(t *testing.T) {
	v := view.New(view.Config{})
	var all []string
	for i := range 25 {
		id := fmt.Sprintf("inc-%012x", 100+i)
		// pairs opened at the same time: ties go by id
		apply(t, v, ev(t, id, 1, schemas.TypeOpened, time.Duration(i/2)*time.Minute, schemas.KindSyncError, "exchange.auth.password", "t-1", fmt.Sprintf("m%d@x", i)))
	}
	p, err := v.Select(view.Query{})
	require.NoError(t, err)
	all = ids(p)
	require.Len(t, all, 25)
	for _, limit := range []int{1, 2, 7, 24, 25, 26} {
		t.Run(fmt.Sprint("limit ", limit), func(t *testing.T) {
			var got []string
			q := view.Query{Limit: limit}
			pages := 0
			for {
				p, err := v.Select(q)
				require.NoError(t, err)
				require.LessOrEqual(t, len(p.Incidents), limit)
				require.Equal(t, 25, p.Matched)
				got = append(got, ids(p)...)
				pages++
				if p.Next.IsZero() {
					break
				}
				q.After = p.Next
			}
			require.Equal(t, all, got)
			require.Equal(t, (25+limit-1)/limit, pages, "no empty last page")
		})
	}
	// a cursor after the change of the set: the one it pointed at resolved
	p, err = v.Select(view.Query{Limit: 10})
	require.NoError(t, err)
	cur := p.Next
	last := p.Incidents[9]
	apply(t, v, ev(t, last.IncidentID, 2, schemas.TypeResolved, time.Hour, schemas.KindSyncError, "exchange.auth.password", "t-1", last.Mailbox))
	apply(t, v, ev(t, "inc-000000000fff", 1, schemas.TypeOpened, 2*time.Hour, schemas.KindSyncError, "exchange.auth.password", "t-1", "new@x"))
	p, err = v.Select(view.Query{Limit: 100, After: cur})
	require.NoError(t, err)
	require.Equal(t, all[10:], ids(p), "the next page goes on after the cursor's position, not its incident")
}

// TestKeepResolved: a resolved incident leaves once newer events are
// KeepResolved ahead; an open one stays however old.
func TestKeepResolved(t *testing.T) {
	v := view.New(view.Config{KeepResolved: time.Hour})
	apply(t, v, ev(t, "inc-000000000001", 1, schemas.TypeOpened, 0, schemas.KindSyncError, "c", "t-1", "a@x"))
	apply(t, v, ev(t, "inc-000000000001", 2, schemas.TypeResolved, time.Minute, schemas.KindSyncError, "c", "t-1", "a@x"))
	apply(t, v, ev(t, "inc-000000000002", 1, schemas.TypeOpened, 0, schemas.KindSyncError, "c", "t-1", "b@x"))
	// enough later events for a sweep
	for i := range 5000 {
		apply(t, v, ev(t, fmt.Sprintf("inc-%012x", 1000+i), 1, schemas.TypeOpened, 3*time.Hour, schemas.KindSyncIssue, "c", "t-2", fmt.Sprintf("m%d@x", i)))
	}
	_, _, ok, err := v.Get("inc-000000000001")
	require.NoError(t, err)
	require.False(t, ok, "resolved 3h before the newest event, kept 1h")
	_, _, ok, _ = v.Get("inc-000000000002")
	require.True(t, ok, "open")
	require.False(t, apply(t, v, ev(t, "inc-000000000003", 2, schemas.TypeResolved, 0, schemas.KindSyncError, "c", "t-1", "c@x")),
		"a resolution older than the retention, read late, does not come back")
}

// TestHistoryAndBudget: an incident keeps its first and latest events;
// over MaxBytes, resolved incidents go first, then the least recently
// changed open incidents keep only their latest event, and the budget
// holds.
func TestHistoryAndBudget(t *testing.T) {
	v := view.New(view.Config{History: 4})
	for seq := 1; seq <= 10; seq++ {
		apply(t, v, ev(t, "inc-000000000001", seq, schemas.TypeUpdated, time.Duration(seq)*time.Minute, schemas.KindSyncError, "c", "t-1", "a@x"))
	}
	inc, evs, _, err := v.Get("inc-000000000001")
	require.NoError(t, err)
	require.Equal(t, 10, inc.Events)
	require.Equal(t, 4, inc.History)
	var seqs []string
	for _, e := range evs {
		seqs = append(seqs, decode(t, e).ID)
	}
	require.Equal(t, []string{"inc-000000000001-1", "inc-000000000001-8", "inc-000000000001-9", "inc-000000000001-10"}, seqs)
	require.False(t, apply(t, v, ev(t, "inc-000000000001", 5, schemas.TypeUpdated, 5*time.Minute, schemas.KindSyncError, "c", "t-1", "a@x")),
		"an event the history dropped does not come back")

	one := int64(len(ev(t, "inc-000000000002", 1, schemas.TypeOpened, 0, schemas.KindSyncError, "c", "t-1", "m@x")))
	v = view.New(view.Config{History: 4, MaxBytes: 200 * one})
	for i := range 100 {
		id := fmt.Sprintf("inc-%012x", i+1)
		for seq := 1; seq <= 3; seq++ {
			typ := schemas.TypeUpdated
			if seq == 3 && i%2 == 1 {
				typ = schemas.TypeResolved
			}
			apply(t, v, ev(t, id, seq, typ, time.Duration(i)*time.Minute+time.Duration(seq)*time.Second, schemas.KindSyncError, "c", "t-1", fmt.Sprintf("m%d@x", i)))
		}
	}
	s := v.Stats()
	require.LessOrEqual(t, s.Bytes, 200*one+one*2)
	require.Equal(t, 50, s.Open, "open incidents never leave")
	require.Positive(t, s.Evicted)
	p, err := v.Select(view.Query{Limit: 1})
	require.NoError(t, err)
	require.Equal(t, 3, p.Incidents[0].History, "the most recently changed keep their history")
}

// TestSubscribe: subscribers get every applied event in order, not the
// repeats; one that falls behind is dropped, the others go on.
func TestSubscribe(t *testing.T) {
	v := view.New(view.Config{})
	fast := v.Subscribe(100)
	slow := v.Subscribe(2)
	for seq := 1; seq <= 5; seq++ {
		apply(t, v, ev(t, "inc-000000000001", seq, schemas.TypeUpdated, time.Duration(seq)*time.Minute, schemas.KindSyncError, "c", "t-1", "a@x"))
	}
	apply(t, v, ev(t, "inc-000000000001", 5, schemas.TypeUpdated, 5*time.Minute, schemas.KindSyncError, "c", "t-1", "a@x"))
	for seq := 1; seq <= 5; seq++ {
		require.Equal(t, fmt.Sprintf("inc-000000000001-%d", seq), decode(t, <-fast.C).ID)
	}
	require.Empty(t, fast.C, "the repeat was not sent")
	require.True(t, slow.Lost())
	n := 0
	for range slow.C { // closed after what it held
		n++
	}
	require.Equal(t, 2, n)
	require.Equal(t, 1, v.Subscribers())
	fast.Close()
	_, open := <-fast.C
	require.False(t, open)
	require.Zero(t, v.Subscribers())
}

// BenchmarkOpen100k applies 100,000 open incidents of 3 events each and
// reports the view's heap and held bytes: the figure docs/live-view.md
// gives for 100k open incidents.
func BenchmarkOpen100k(b *testing.B) {
	const n = 100000
	raws := make([][]byte, 0, 3*n)
	for i := range n {
		id := fmt.Sprintf("inc-%012x", i+1)
		for seq := 1; seq <= 3; seq++ {
			raws = append(raws, ev(b, id, seq, schemas.TypeUpdated, time.Duration(i)*time.Second+time.Duration(seq)*time.Millisecond,
				schemas.KindSyncError, "exchange.auth.password", fmt.Sprintf("t-%d", i%50), fmt.Sprintf("user%d@contoso.com", i)))
		}
	}
	b.ResetTimer()
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		v := view.New(view.Config{})
		for _, raw := range raws {
			if _, err := v.Apply(raw); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		s := v.Stats()
		if s.Open != n {
			b.Fatalf("open %d, want %d", s.Open, n)
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MiB")
		b.ReportMetric(float64(s.Bytes)/(1<<20), "held-MiB")
		runtime.KeepAlive(v)
	}
	b.ReportMetric(float64(len(raws))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
