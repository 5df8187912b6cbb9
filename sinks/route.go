package sinks

import (
	"context"
	"fmt"
	"path"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-multierror"

	"github.com/syncwatch/syncwatch/schemas"
)

// DefaultRouteName names the route a Router uses when it is given none:
// every event to every sink.
const DefaultRouteName = "default"

// DefaultRatePeriod is the default of Route.RatePeriod, the period of
// Route.RateLimit.
const DefaultRatePeriod = time.Minute

// RouterConfig configures a Router: where events go and what is held
// back. Its zero value sends every event to every sink: a zero field means
// its default, and a negative number or duration is rejected by Validate.
// It is read from the YAML config (the keys are given), so every sink
// shares it.
type RouterConfig struct {
	// Routes are tried in order; an event goes to the sinks of the first
	// route that matches it and, while the matched routes say continue,
	// of the next ones that match too (as Alertmanager's routes do). An
	// event no route matches is dropped and counted as unrouted.
	//
	// Default: none (one route, "default", to every sink)
	Routes []Route `yaml:"routes"`

	// Mutes hold back the events of some classes or tenants for a window
	// of event time (a maintenance, a known outage).
	//
	// Default: none
	Mutes []Mute `yaml:"mutes"`

	// Inhibit holds back a mailbox's sync_issue events while it has an
	// open sync_error: the error (a wrong password, a deleted mailbox)
	// is the thing to fix, and the issues it causes are noise until then.
	// The issues are still detected and tracked, and still written by
	// replay and to the Kafka topic; only the routed sinks skip them.
	//
	// Default: false
	Inhibit bool `yaml:"inhibit"`
}

// Route sends the events it matches to named sinks.
type Route struct {
	// Name names the route in metrics. Required, unique.
	Name string `yaml:"name"`

	// Match selects the events.
	//
	// Default: the zero RouteMatch (every event)
	Match RouteMatch `yaml:"match"`

	// Sinks are the names of the sinks the route delivers to. Required.
	Sinks []string `yaml:"sinks"`

	// Continue goes on to the next routes after this one matched.
	//
	// Default: false (first match wins)
	Continue bool `yaml:"continue"`

	// RateLimit bounds the opened and updated events the route delivers
	// to RateLimit per RatePeriod of event time (a token bucket that
	// holds RateLimit tokens), so an outage that opens a thousand
	// incidents pages once per mailbox up to the limit, not a thousand
	// times at once. Event time, not the wall clock, so that a replay
	// decides as the live run did. Resolves are never limited.
	//
	// Default: 0 (no limit)
	RateLimit int `yaml:"rate_limit"`

	// RatePeriod is the period of RateLimit. Only used when RateLimit is
	// set.
	//
	// Default: 1m (DefaultRatePeriod)
	RatePeriod time.Duration `yaml:"rate_period"`
}

// ratePeriod resolves RatePeriod.
func (r *Route) ratePeriod() time.Duration {
	if r.RatePeriod == 0 {
		return DefaultRatePeriod
	}
	return r.RatePeriod
}

// RouteMatch selects events: every non-empty list must hold the event's
// value (lists AND, entries OR).
type RouteMatch struct {
	// Kinds are incident kinds: sync_error, sync_issue or pipeline.
	//
	// Default: none (every kind)
	Kinds []string `yaml:"kinds"`

	// Classes are path.Match globs of incident classes, so
	// "exchange.auth.*" matches every Exchange authentication class.
	//
	// Default: none (every class)
	Classes []string `yaml:"classes"`

	// Tenants are tenant ids, matched exactly.
	//
	// Default: none (every tenant)
	Tenants []string `yaml:"tenants"`

	// Severities are incident severities: critical or warning.
	//
	// Default: none (every severity)
	Severities []string `yaml:"severities"`
}

// Mute holds back the events of the classes (globs) or tenants it names
// whose event time lies in [Start, End). Both lists given: an event must
// match both. At least one of them is required.
type Mute struct {
	// Classes are path.Match globs of the incident classes to mute.
	//
	// Default: none (every class of the Tenants)
	Classes []string `yaml:"classes"`

	// Tenants are the tenant ids to mute, matched exactly.
	//
	// Default: none (every tenant, for the Classes)
	Tenants []string `yaml:"tenants"`

	// Start is the beginning of the window, in event time.
	//
	// Default: zero (the mute always was)
	Start time.Time `yaml:"start"`

	// End is the end of the window, in event time, after Start.
	//
	// Default: zero (until the mute is removed from the config)
	End time.Time `yaml:"end"`
}

// Validate reports every problem of the configuration at once, each naming
// its field by its YAML key (routes[1].sinks), combined into one error; nil
// means valid. known, if not nil, lists the sink names routes may use.
func (c *RouterConfig) Validate(known []string) error {
	var errs *multierror.Error
	add := func(format string, a ...any) { errs = multierror.Append(errs, fmt.Errorf(format, a...)) }
	names := map[string]bool{}
	for i, r := range c.Routes {
		where := fmt.Sprintf("routes[%d]", i)
		if r.Name == "" {
			add("%s.name: required", where)
		} else if names[r.Name] {
			add("%s.name %q: used twice", where, r.Name)
		}
		names[r.Name] = true
		if len(r.Sinks) == 0 {
			add("%s.sinks: at least one sink is required", where)
		}
		for _, s := range r.Sinks {
			if known != nil && !slices.Contains(known, s) {
				add("%s.sinks: %q is not a configured sink (have %v)", where, s, known)
			}
		}
		for _, k := range r.Match.Kinds {
			if k != schemas.KindSyncError && k != schemas.KindSyncIssue && k != schemas.KindPipeline {
				add("%s.match.kinds: %q (want sync_error, sync_issue or pipeline)", where, k)
			}
		}
		for _, s := range r.Match.Severities {
			if s != schemas.SeverityCritical && s != schemas.SeverityWarning {
				add("%s.match.severities: %q (want critical or warning)", where, s)
			}
		}
		checkGlobs(where+".match.classes", r.Match.Classes, add)
		if r.RateLimit < 0 {
			add("%s.rate_limit: must not be negative", where)
		}
		if r.RatePeriod < 0 {
			add("%s.rate_period: must not be negative", where)
		}
	}
	for i, m := range c.Mutes {
		where := fmt.Sprintf("mutes[%d]", i)
		if len(m.Classes) == 0 && len(m.Tenants) == 0 {
			add("%s: name classes or tenants to mute", where)
		}
		checkGlobs(where+".classes", m.Classes, add)
		if !m.Start.IsZero() && !m.End.IsZero() && !m.End.After(m.Start) {
			add("%s: end %v is not after start %v", where, m.End, m.Start)
		}
	}
	return errs.ErrorOrNil()
}

func checkGlobs(where string, globs []string, add func(string, ...any)) {
	for _, g := range globs {
		if _, err := path.Match(g, ""); err != nil {
			add("%s: %q is not a valid glob", where, g)
		}
	}
}

func (m *RouteMatch) matches(d *schemas.IncidentData) bool {
	return in(m.Kinds, d.Kind) && globIn(m.Classes, d.Class) && in(m.Tenants, d.Tenant) && in(m.Severities, d.Severity)
}

func (m *Mute) mutes(ev *schemas.IncidentEvent) bool {
	t := ev.Time.Time
	if (!m.Start.IsZero() && t.Before(m.Start)) || (!m.End.IsZero() && !t.Before(m.End)) {
		return false
	}
	return globIn(m.Classes, ev.Data.Class) && in(m.Tenants, ev.Data.Tenant)
}

// in reports whether v is in list; an empty list holds everything.
func in(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }

// globIn reports whether v matches a glob of list; an empty list matches
// everything.
func globIn(globs []string, v string) bool {
	if len(globs) == 0 {
		return true
	}
	for _, g := range globs {
		if ok, _ := path.Match(g, v); ok {
			return true
		}
	}
	return false
}

// Verdict is what a route decided for one event.
type Verdict uint8

// Verdicts. Every one but VerdictDelivered is a reason an event was held
// back, the reason label of syncwatch_events_suppressed_total.
const (
	VerdictDelivered Verdict = iota
	VerdictMuted
	VerdictInhibited
	VerdictRateLimited
	VerdictUnrouted
	numVerdicts
)

// String is the verdict's metric label.
func (v Verdict) String() string {
	switch v {
	case VerdictDelivered:
		return "delivered"
	case VerdictMuted:
		return "muted"
	case VerdictInhibited:
		return "inhibited"
	case VerdictRateLimited:
		return "rate_limited"
	case VerdictUnrouted:
		return "unrouted"
	}
	return fmt.Sprintf("verdict(%d)", uint8(v))
}

// tokenBucket limits events per period of event time. It is a pure
// function of the times it is given.
type tokenBucket struct {
	capacity float64
	per      time.Duration
	tokens   float64
	last     time.Time
}

func newTokenBucket(n int, per time.Duration) *tokenBucket {
	return &tokenBucket{capacity: float64(n), per: per, tokens: float64(n)}
}

// allow takes a token at t if there is one. Times before the latest one
// seen refill nothing.
func (b *tokenBucket) allow(t time.Time) bool {
	if !b.last.IsZero() && t.After(b.last) {
		b.tokens = min(b.capacity, b.tokens+b.capacity*float64(t.Sub(b.last))/float64(b.per))
	}
	if b.last.IsZero() || t.After(b.last) {
		b.last = t
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// routeState is a route and what it remembers: the incidents it has
// delivered an event of (whose resolves it must deliver, whatever the
// mutes) and why it held back the others (whose resolves it holds back
// for the same reason).
type routeState struct {
	Route
	bucket *tokenBucket // nil: no limit
	sent   map[string]bool
	held   map[string]Verdict
}

// decide is the route's pure decision for an event it matches, given
// whether a mute or an inhibition holds it; it updates what the route
// remembers. A resolve goes where the incident's earlier events went: a
// route that delivered any of them delivers the resolve, so no alert is
// left open downstream; one that held them all back holds the resolve
// back too, for the same reason. A resolve of an incident the route never
// saw (opened before a restart) is delivered: resolving an unknown alert
// is harmless, leaving one open is not.
func (rt *routeState) decide(ev *schemas.IncidentEvent, muted, inhibited bool) Verdict {
	id := ev.Data.IncidentID
	if isResolve(ev) {
		v, held := rt.held[id] // never set once an event was sent
		if !held {
			v = VerdictDelivered
		}
		delete(rt.sent, id)
		delete(rt.held, id)
		return v
	}
	v := VerdictDelivered
	switch {
	case muted:
		v = VerdictMuted
	case inhibited:
		v = VerdictInhibited
	case rt.bucket != nil && !rt.bucket.allow(ev.Time.Time):
		v = VerdictRateLimited
	}
	if v == VerdictDelivered {
		rt.sent[id] = true
		delete(rt.held, id)
	} else if !rt.sent[id] {
		rt.held[id] = v
	}
	return v
}

func isResolve(ev *schemas.IncidentEvent) bool {
	return ev.Type == schemas.TypeResolved || ev.Data.Status == schemas.StatusResolved
}

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
func NewRouter(cfg RouterConfig, sinks map[string]Sink) (*Router, error) {
	names := make([]string, 0, len(sinks))
	for n := range sinks {
		names = append(names, n)
	}
	sort.Strings(names)
	if err := cfg.Validate(names); err != nil {
		return nil, fmt.Errorf("validating routing config: %w", err)
	}
	routes := cfg.Routes
	if len(routes) == 0 {
		routes = []Route{{Name: DefaultRouteName, Sinks: names}}
	}
	r := &Router{cfg: cfg, names: names, sinks: sinks, errors: map[string]map[string]bool{}, counts: map[string]*[numVerdicts]int64{}}
	for _, rt := range routes {
		st := &routeState{Route: rt, sent: map[string]bool{}, held: map[string]Verdict{}}
		if rt.RateLimit > 0 {
			st.bucket = newTokenBucket(rt.RateLimit, rt.ratePeriod())
		}
		r.routes = append(r.routes, st)
	}
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
	Route   string
	Verdict Verdict
	N       int64
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
