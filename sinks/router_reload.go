package sinks

import "fmt"

// Reload validates cfg against the router's sinks (a reload cannot add or
// remove a sink) and, if it is valid, makes it the routing of every batch
// that Write plans from its next call on, routes, mutes and inhibition
// swapped at once. A batch already planned keeps its decisions, also when
// a failed Write is retried after the Reload. If cfg is invalid, the error
// names every problem (as NewRouter's) and the running routing stays.
//
// Routes are matched by name: a route that keeps its name keeps what it
// remembers, the incidents it delivered events of (it still delivers
// their resolves, whatever the new mutes say) and those it held back (it
// holds their resolves back), and its rate limit's tokens when RateLimit
// and RatePeriod are unchanged. A new route starts afresh, as at start; a
// route dropped forgets. The mailboxes' open sync errors, which inhibit,
// and the counts of Stats are kept. Safe for concurrent use with Write
// (ingest reloads from its signal handler while the pipeline writes).
func (r *Router) Reload(cfg RouterConfig) error {
	if err := cfg.Validate(r.names); err != nil {
		return fmt.Errorf("validating routing config: %w", err)
	}
	r.next.Store(&cfg)
	return nil
}

// Sinks returns the names of the router's sinks, sorted: those a
// reloaded configuration may route to.
func (r *Router) Sinks() []string { return append([]string(nil), r.names...) }

// apply makes cfg, valid, the router's routing, carrying over what the
// routes of the same names remember. Called by NewRouter, and by Write
// (the only goroutine that reads the routing) for a Reload.
func (r *Router) apply(cfg RouterConfig) {
	routes := cfg.Routes
	if len(routes) == 0 {
		routes = []Route{{Name: DefaultRouteName, Sinks: r.names}}
	}
	old := map[string]*routeState{}
	for _, st := range r.routes {
		old[st.Name] = st
	}
	states := make([]*routeState, 0, len(routes))
	for _, rt := range routes {
		st := &routeState{Route: rt, sent: map[string]bool{}, held: map[string]Verdict{}}
		if prev := old[rt.Name]; prev != nil {
			st.sent, st.held = prev.sent, prev.held
			if prev.bucket != nil && rt.RateLimit == prev.RateLimit && rt.ratePeriod() == prev.ratePeriod() {
				st.bucket = prev.bucket
			}
		}
		if rt.RateLimit > 0 && st.bucket == nil {
			st.bucket = newTokenBucket(rt.RateLimit, rt.ratePeriod())
		}
		states = append(states, st)
	}
	r.cfg, r.routes = cfg, states
}
