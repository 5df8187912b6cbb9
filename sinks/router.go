package sinks

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/syncwatch/syncwatch/schemas"
)

// DefaultRouteName names the route a Router uses when it is given none:
// every event to every sink.
const DefaultRouteName = "default"

// Router is a Sink that routes each event to named sinks, holding back
// what the RouterConfig mutes, inhibits or rate-limits, and counting every
// decision per route (Stats). It owns its sinks: Close closes them.
type Router struct {
	cfg    RouterConfig
	names  []string // sink names, sorted
	sinks  map[string]Sink
	routes []*routeState
	// errors holds, per "tenant/mailbox", the ids of its open sync errors.
	errors map[string]map[string]bool

	// pending is the plan of a batch whose Write failed: the caller
	// retries the same batch, and it must meet the same decisions (a rate
	// limit must not spend its tokens twice, counts must not double).
	pending *routePlan

	mu     sync.Mutex // guards counts, read by Stats
	counts map[string]*[numVerdicts]int64

	// next is a configuration Reload accepted, applied by the next Write
	// (router_reload.go).
	next atomic.Pointer[RouterConfig]

	closed atomic.Bool
}

var _ Sink = (*Router)(nil)

// routePlan is the sinks each event of a batch goes to.
type routePlan struct {
	ids     []string
	targets [][]string
}

// NewRouter validates cfg against the sink names and returns a Router
// writing to sinks. With no routes, it routes every event to every sink.
// It does not write anything yet. The error wraps that of
// RouterConfig.Validate; the Router owns sinks only once it is returned.
func NewRouter(cfg RouterConfig, sinks map[string]Sink) (*Router, error) {
	names := make([]string, 0, len(sinks))
	for n := range sinks {
		names = append(names, n)
	}
	sort.Strings(names)
	if err := cfg.Validate(names); err != nil {
		return nil, fmt.Errorf("validating routing config: %w", err)
	}
	r := &Router{names: names, sinks: sinks, errors: map[string]map[string]bool{}, counts: map[string]*[numVerdicts]int64{}}
	r.apply(cfg)
	return r, nil
}

// Write routes events, then writes each sink's share, in order,
// concurrently across sinks, each with the caller's ctx, and returns once
// every sink has returned. It returns nil once every sink accepted its
// share, ErrClosed after Close, or an error combining a *SinkError per
// failed sink (Index: the sink's position in the sorted names; see
// SinkError); as with Fanout, the caller must then retry the whole batch,
// and the retry meets the same routing decisions. Not safe for concurrent
// use.
func (r *Router) Write(ctx context.Context, events []schemas.IncidentEvent) error {
	if r.closed.Load() {
		return ErrClosed
	}
	if cfg := r.next.Swap(nil); cfg != nil {
		r.apply(*cfg) // a retried batch keeps its plan: it meets the same decisions
	}
	plan := r.pending
	if !plan.covers(events) {
		plan = r.plan(events)
	}
	shares := map[string][]schemas.IncidentEvent{}
	for i, targets := range plan.targets {
		for _, s := range targets {
			shares[s] = append(shares[s], events[i])
		}
	}
	errs := concurrently(len(r.names), func(i int) error {
		if share := shares[r.names[i]]; len(share) > 0 {
			return r.sinks[r.names[i]].Write(ctx, share)
		}
		return nil
	})
	if err := memberErrors(opWrite, errs, r.member); err != nil {
		r.pending = plan
		return err
	}
	r.pending = nil
	return nil
}

// member returns the sink of the i-th sorted name.
func (r *Router) member(i int) Sink { return r.sinks[r.names[i]] }

func (p *routePlan) covers(events []schemas.IncidentEvent) bool {
	if p == nil || len(p.ids) != len(events) {
		return false
	}
	for i := range events {
		if events[i].ID != p.ids[i] {
			return false
		}
	}
	return true
}

// plan decides where each event goes, updating the inhibition state and
// the counts.
func (r *Router) plan(events []schemas.IncidentEvent) *routePlan {
	p := &routePlan{ids: make([]string, len(events)), targets: make([][]string, len(events))}
	for i := range events {
		ev := &events[i]
		p.ids[i] = ev.ID
		r.track(ev)
		muted := slices.ContainsFunc(r.cfg.Mutes, func(m Mute) bool { return m.mutes(ev) })
		inhibited := r.cfg.Inhibit && ev.Data.Kind == schemas.KindSyncIssue && len(r.errors[mailboxKey(&ev.Data)]) > 0
		matched := false
		for _, rt := range r.routes {
			if !rt.Match.matches(&ev.Data) {
				continue
			}
			matched = true
			v := rt.decide(ev, muted, inhibited)
			r.count(rt.Name, v)
			if v == VerdictDelivered {
				for _, s := range rt.Sinks {
					if !slices.Contains(p.targets[i], s) {
						p.targets[i] = append(p.targets[i], s)
					}
				}
			}
			if !rt.Continue {
				break
			}
		}
		if !matched {
			r.count("", VerdictUnrouted)
		}
	}
	return p
}

// track keeps the open sync errors of each mailbox.
func (r *Router) track(ev *schemas.IncidentEvent) {
	if ev.Data.Kind != schemas.KindSyncError {
		return
	}
	key := mailboxKey(&ev.Data)
	if isResolve(ev) {
		delete(r.errors[key], ev.Data.IncidentID)
		if len(r.errors[key]) == 0 {
			delete(r.errors, key)
		}
		return
	}
	if r.errors[key] == nil {
		r.errors[key] = map[string]bool{}
	}
	r.errors[key][ev.Data.IncidentID] = true
}

func mailboxKey(d *schemas.IncidentData) string { return d.Tenant + "/" + d.Mailbox }

func (r *Router) count(route string, v Verdict) {
	r.mu.Lock()
	c := r.counts[route]
	if c == nil {
		c = new([numVerdicts]int64)
		r.counts[route] = c
	}
	c[v]++
	r.mu.Unlock()
}

// RouteCount is one count of Stats: the events a route decided v for.
// Route is "" for unrouted events.
type RouteCount struct {
	// Route is the route's name, "" for unrouted events.
	Route string
	// Verdict is what the route decided.
	Verdict Verdict
	// N is the number of events it decided Verdict for.
	N int64
}

// Stats returns the decisions so far, every route and verdict with a
// non-zero count, sorted by route then verdict. Safe for concurrent use
// with Write (metrics read it at scrape time).
func (r *Router) Stats() []RouteCount {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []RouteCount
	for route, c := range r.counts {
		for v, n := range c {
			if n > 0 {
				out = append(out, RouteCount{Route: route, Verdict: Verdict(v), N: n})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Route != out[j].Route {
			return out[i].Route < out[j].Route
		}
		return out[i].Verdict < out[j].Verdict
	})
	return out
}

// String names the router and its sinks in errors.
func (r *Router) String() string { return fmt.Sprintf("router%v", r.names) }

// Close closes every sink concurrently, each with ctx, and returns once
// all have returned: nil, or an error combining a *SinkError per sink
// whose Close failed (see SinkError). Later calls return nil; later Writes
// return ErrClosed.
func (r *Router) Close(ctx context.Context) error {
	if r.closed.Swap(true) {
		return nil
	}
	errs := concurrently(len(r.names), func(i int) error { return r.member(i).Close(ctx) })
	return memberErrors(opClose, errs, r.member)
}
