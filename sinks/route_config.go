package sinks

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"time"

	"github.com/hashicorp/go-multierror"
	"github.com/syncwatch/syncwatch/schemas"
)

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
func (r *Route) ratePeriod() time.Duration { return cmp.Or(r.RatePeriod, DefaultRatePeriod) }

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
