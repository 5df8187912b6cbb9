package integration

import (
	"context"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/schemas"
	"github.com/syncwatch/syncwatch/sinks"
)

// TestRoutingGeneratedCorpus routes the events of a replayed corpus as
// ingest would (a paging route for sync errors, rate-limited, and a route
// of everything to alerts), with a tenant muted for the middle third of
// the corpus and inhibition on, and checks every decision against the
// events themselves: no issue opened while its mailbox had an open error
// reaches a sink, nothing of the muted tenant opened in the window does,
// and every resolve a sink gets follows an opened it got (no alert left
// dangling, none resolved that was never raised).
func TestRoutingGeneratedCorpus(t *testing.T) {
	// loggen never lets two scenarios of one mailbox overlap, so one
	// corpus has no issue under an open error. Two corpora laid over each
	// other (the second's mailboxes renamed to the first's, by rank) do.
	replayCorpus := func(seed int64) []schemas.IncidentEvent {
		dir, _ := corpus(t, loggen.Config{Seed: seed, Mailboxes: 40, Tenants: 4, Duration: 48 * time.Hour, Dirty: true})
		out, stderr, code := runReplay(t, "--quiet",
			filepath.Join(dir, "exchange.log"), filepath.Join(dir, "engine.log"), filepath.Join(dir, "c4cc.jsonl"))
		require.Equal(t, 0, code, "stderr: %s", stderr)
		evs := decodeEvents(t, out)
		require.NotEmpty(t, evs)
		return evs
	}
	mailboxes := func(evs []schemas.IncidentEvent) []string {
		seen := map[string]bool{}
		var out []string
		for _, e := range evs {
			if k := e.Subject; !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
		sort.Strings(out)
		return out
	}
	a, b := replayCorpus(82), replayCorpus(83)
	ma, mb := mailboxes(a), mailboxes(b)
	rename := map[string]string{}
	for i, k := range mb {
		rename[k] = ma[i%len(ma)]
	}
	for i := range b {
		b[i].Subject = rename[b[i].Subject]
		b[i].Data.Tenant, b[i].Data.Mailbox, _ = strings.Cut(b[i].Subject, "/")
	}
	evs := append(a, b...)
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time.Time) })

	// mute the busiest tenant for the middle third of the corpus
	perTenant := map[string]int{}
	for _, e := range evs {
		perTenant[e.Data.Tenant]++
	}
	muted := ""
	for tenant, n := range perTenant {
		if muted == "" || n > perTenant[muted] || (n == perTenant[muted] && tenant < muted) {
			muted = tenant
		}
	}
	first, last := evs[0].Time.Time, evs[len(evs)-1].Time.Time
	start, end := first.Add(last.Sub(first)/3), first.Add(2*last.Sub(first)/3)

	pager, alerts := sinks.NewMemory(), sinks.NewMemory()
	r, err := sinks.NewRouter(sinks.RouterConfig{
		Inhibit: true,
		Mutes:   []sinks.Mute{{Tenants: []string{muted}, Start: start, End: end}},
		Routes: []sinks.Route{
			{Name: "page-errors", Match: sinks.RouteMatch{Kinds: []string{schemas.KindSyncError}}, Sinks: []string{"pager"}, Continue: true, RateLimit: 10, RatePeriod: time.Hour},
			{Name: "alerts", Sinks: []string{"alerts"}},
		},
	}, map[string]sinks.Sink{"pager": pager, "alerts": alerts})
	require.NoError(t, err)
	// in batches, as the pipeline writes them
	for lo := 0; lo < len(evs); lo += 50 {
		require.NoError(t, r.Write(context.Background(), evs[lo:min(lo+50, len(evs))]))
	}

	// the facts, from the events alone
	openErrors := map[string]map[string]bool{}
	openedUnderError, openedInMute := map[string]bool{}, map[string]bool{}
	for _, e := range evs {
		mb := e.Data.Tenant + "/" + e.Data.Mailbox
		switch {
		case e.Data.Kind == schemas.KindSyncError && e.Type == schemas.TypeResolved:
			delete(openErrors[mb], e.Data.IncidentID)
		case e.Data.Kind == schemas.KindSyncError:
			if openErrors[mb] == nil {
				openErrors[mb] = map[string]bool{}
			}
			openErrors[mb][e.Data.IncidentID] = true
		case e.Data.Kind == schemas.KindSyncIssue && e.Type == schemas.TypeOpened && len(openErrors[mb]) > 0:
			openedUnderError[e.Data.IncidentID] = true
		}
		if e.Type == schemas.TypeOpened && e.Data.Tenant == muted && !e.Time.Before(start) && e.Time.Before(end) {
			openedInMute[e.Data.IncidentID] = true
		}
	}
	require.NotEmpty(t, openedUnderError, "the corpus must open issues under an open error, or inhibition is untested")
	require.NotEmpty(t, openedInMute, "the corpus must open incidents in the mute window")

	for name, m := range map[string]*sinks.Memory{"pager": pager, "alerts": alerts} {
		raised := map[string]bool{}
		for _, e := range m.Events() {
			id := e.Data.IncidentID
			require.False(t, e.Type == schemas.TypeOpened && openedUnderError[id], "%s got issue %s, opened under an open error", name, id)
			require.False(t, e.Type == schemas.TypeOpened && openedInMute[id], "%s got %s, opened while muted", name, id)
			if e.Type == schemas.TypeResolved {
				require.True(t, raised[id], "%s got the resolve of %s, which it never got raised", name, id)
				delete(raised, id)
			} else {
				raised[id] = true
			}
		}
	}
	for _, e := range pager.Events() {
		require.Equal(t, schemas.KindSyncError, e.Data.Kind)
	}

	stats := map[string]map[string]int64{}
	var total int64
	for _, c := range r.Stats() {
		if stats[c.Route] == nil {
			stats[c.Route] = map[string]int64{}
		}
		stats[c.Route][c.Verdict.String()] = c.N
		if c.Route == "alerts" {
			total += c.N
		}
	}
	require.Equal(t, int64(len(evs)), total, "the catch-all route decides every event once")
	require.Positive(t, stats["alerts"]["inhibited"])
	require.Positive(t, stats["alerts"]["muted"])
	require.Positive(t, stats["page-errors"]["rate_limited"])
	require.Equal(t, stats["alerts"]["delivered"], int64(len(alerts.Events())))
	require.Equal(t, stats["page-errors"]["delivered"], int64(len(pager.Events())))
	t.Logf("%d events; muted tenant %s from %s to %s", len(evs), muted, start.Format(time.RFC3339), end.Format(time.RFC3339))
	for _, route := range []string{"page-errors", "alerts"} {
		s := stats[route]
		t.Logf("route %-11s delivered %4d  muted %3d  inhibited %3d  rate_limited %3d", route, s["delivered"], s["muted"], s["inhibited"], s["rate_limited"])
	}
}
