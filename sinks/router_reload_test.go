package sinks

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/schemas"
)

// TestRouterReload: a reload swaps a route's sinks and adds a mute for
// the batches written after it; a route kept by name still delivers the
// resolve of an incident it delivered; an invalid configuration is
// refused with every problem and the running routing stays.
func TestRouterReload(t *testing.T) {
	const (
		errK = schemas.KindSyncError
		issK = schemas.KindSyncIssue
	)
	ctx := context.Background()
	r, mems := newTestRouter(t, RouterConfig{Routes: []Route{
		{Name: "errors", Match: RouteMatch{Kinds: []string{errK}}, Sinks: []string{"pd"}},
		{Name: "rest", Sinks: []string{"am"}},
	}}, "am", "pd")
	require.Equal(t, []string{"am", "pd"}, r.Sinks())
	require.NoError(t, r.Write(ctx, []schemas.IncidentEvent{
		routeEvent(t, "a", "opened", errK, "exchange.auth.password", "t1", "m1", 0),
		routeEvent(t, "b", "opened", issK, "record.too_large", "t2", "m2", time.Second),
	}))

	require.NoError(t, r.Reload(RouterConfig{
		Routes: []Route{
			{Name: "errors", Match: RouteMatch{Kinds: []string{errK}}, Sinks: []string{"pd"}},
			{Name: "rest", Sinks: []string{"pd"}}, // was am
		},
		Mutes: []Mute{{Tenants: []string{"t1"}}},
	}))
	require.NoError(t, r.Write(ctx, []schemas.IncidentEvent{
		routeEvent(t, "c", "opened", errK, "exchange.auth.password", "t1", "m3", 2*time.Second),   // muted now
		routeEvent(t, "a", "updated", errK, "exchange.auth.password", "t1", "m1", 3*time.Second),  // muted now
		routeEvent(t, "d", "opened", issK, "record.too_large", "t3", "m4", 4*time.Second),         // to pd now
		routeEvent(t, "a", "resolved", errK, "exchange.auth.password", "t1", "m1", 5*time.Second), // delivered: a's opened was
	}))
	require.Equal(t, map[string][]string{"pd": {"a-opened", "d-opened", "a-resolved"}, "am": {"b-opened"}}, delivered(t, mems))
	require.Equal(t, map[string]int64{"errors/delivered": 2, "errors/muted": 2, "rest/delivered": 2}, counts(r))

	// invalid: refused, every problem named, nothing changes
	err := r.Reload(RouterConfig{
		Routes: []Route{{Sinks: []string{"webhook"}}},
		Mutes:  []Mute{{Classes: []string{"exchange.[auth"}}},
	})
	require.Error(t, err)
	for _, want := range []string{"routes[0].name: required", `routes[0].sinks: "webhook" is not a configured sink (have [am pd])`, `mutes[0].classes: "exchange.[auth" is not a valid glob`} {
		require.ErrorContains(t, err, want)
	}
	require.NoError(t, r.Write(ctx, []schemas.IncidentEvent{
		routeEvent(t, "e", "opened", errK, "exchange.auth.password", "t1", "m5", 6*time.Second),   // still muted
		routeEvent(t, "c", "resolved", errK, "exchange.auth.password", "t1", "m3", 7*time.Second), // held back as its opened was
	}))
	require.Equal(t, map[string]int64{"errors/delivered": 2, "errors/muted": 4, "rest/delivered": 2}, counts(r))

	// the mute lifted: t1's next events go out again, but the route,
	// kept by name, remembers it held e back: e's resolve is held too
	// (no alert of it was ever opened downstream)
	require.NoError(t, r.Reload(RouterConfig{Routes: []Route{
		{Name: "errors", Match: RouteMatch{Kinds: []string{errK}}, Sinks: []string{"pd"}},
		{Name: "rest", Sinks: []string{"pd"}},
	}}))
	require.NoError(t, r.Write(ctx, []schemas.IncidentEvent{
		routeEvent(t, "f", "opened", errK, "exchange.auth.password", "t1", "m6", 8*time.Second),
		routeEvent(t, "e", "resolved", errK, "exchange.auth.password", "t1", "m5", 9*time.Second),
	}))
	require.Equal(t, []string{"a-opened", "d-opened", "a-resolved", "f-opened"}, delivered(t, mems)["pd"])
	require.Equal(t, map[string]int64{"errors/delivered": 3, "errors/muted": 5, "rest/delivered": 2}, counts(r))
	require.NoError(t, r.Close(ctx))
}

// TestRouterReloadRetryKeepsPlan: a batch whose Write failed meets, when
// retried after a reload, the decisions it met before it; the next batch
// meets the new routing.
func TestRouterReloadRetryKeepsPlan(t *testing.T) {
	flaky := NewMemory()
	fails := 1
	flaky.onWrite = func([]schemas.IncidentEvent) error {
		if fails > 0 {
			fails--
			return errors.New("broker down")
		}
		return nil
	}
	r, err := NewRouter(RouterConfig{}, map[string]Sink{"flaky": flaky})
	require.NoError(t, err)
	ctx := context.Background()
	batch := []schemas.IncidentEvent{routeEvent(t, "a", "opened", schemas.KindSyncError, "x", "t1", "m1", 0)}
	require.Error(t, r.Write(ctx, batch))
	require.NoError(t, r.Reload(RouterConfig{Mutes: []Mute{{Tenants: []string{"t1"}}}}))
	require.NoError(t, r.Write(ctx, batch))
	require.NoError(t, r.Write(ctx, []schemas.IncidentEvent{routeEvent(t, "b", "opened", schemas.KindSyncError, "x", "t1", "m2", time.Second)}))
	require.Len(t, flaky.Events(), 1)
	require.Equal(t, "a-opened", routeName(t, flaky.Events()[0]))
	require.Equal(t, map[string]int64{"default/delivered": 1, "default/muted": 1}, counts(r))
}

// TestRouterReloadRateLimit: a route kept with the same limit keeps its
// tokens (a reload does not refill them); a changed limit starts afresh.
func TestRouterReloadRateLimit(t *testing.T) {
	limited := func(n int) RouterConfig {
		return RouterConfig{Routes: []Route{{Name: "all", Sinks: []string{"am"}, RateLimit: n, RatePeriod: time.Hour}}}
	}
	r, _ := newTestRouter(t, limited(1), "am")
	ctx := context.Background()
	at := 0
	write := func() {
		at++
		require.NoError(t, r.Write(ctx, []schemas.IncidentEvent{routeEvent(t, fmt.Sprint(at), "opened", schemas.KindSyncError, "x", "t1", "m1", time.Duration(at)*time.Second)}))
	}
	write()
	require.NoError(t, r.Reload(limited(1)))
	write() // no token left
	require.Equal(t, map[string]int64{"all/delivered": 1, "all/rate_limited": 1}, counts(r))
	require.NoError(t, r.Reload(limited(2)))
	write()
	write()
	write()
	require.Equal(t, map[string]int64{"all/delivered": 3, "all/rate_limited": 2}, counts(r))
}

// TestRouterReloadConcurrent: reloads while batches are written (go test
// -race); every event meets exactly one routing, whole.
func TestRouterReloadConcurrent(t *testing.T) {
	r, _ := newTestRouter(t, RouterConfig{}, "am")
	muted := RouterConfig{Mutes: []Mute{{Tenants: []string{"t1"}}}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := r.Reload([]RouterConfig{{}, muted}[i%2]); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(50 * time.Microsecond)
		}
	}()
	ev := routeEvent(t, "a", "opened", schemas.KindSyncError, "x", "t1", "m1", 0)
	n := 0
	for deadline := time.Now().Add(10 * time.Second); n < 2000 || (len(counts(r)) < 2 && time.Now().Before(deadline)); n++ {
		ev.Data.IncidentID = fmt.Sprintf("inc-%012x", n)
		require.NoError(t, r.Write(context.Background(), []schemas.IncidentEvent{ev}))
	}
	close(stop)
	wg.Wait()
	c := counts(r)
	require.Equal(t, int64(n), c["default/delivered"]+c["default/muted"])
	require.Positive(t, c["default/delivered"])
	require.Positive(t, c["default/muted"])
}
