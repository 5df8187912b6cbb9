package sinks

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/schemas"
)

var routeT0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

// routeEvent is a valid event of incident id, of type typ ("opened",
// "updated", "resolved"), at routeT0 + at.
func routeEvent(t *testing.T, id, typ, kind, class, tenant, mailbox string, at time.Duration) schemas.IncidentEvent {
	t.Helper()
	e := fixedEvent()
	e.Type = "com.syncwatch.incident." + typ
	e.Data.IncidentID = fmt.Sprintf("inc-%012x", id) // hex of the name: schema-valid, and readable back
	e.ID = fmt.Sprintf("%s-%d", e.Data.IncidentID, slices.Index(routeTypes, typ)+1)
	e.Time.Time = routeT0.Add(at)
	e.Data.Kind, e.Data.Class, e.Data.Tenant, e.Data.Mailbox = kind, class, tenant, mailbox
	e.Subject = tenant + "/" + mailbox
	e.Data.FirstSeen = e.Time
	e.Data.LastSeen = e.Time
	if kind == schemas.KindSyncIssue {
		e.Data.Severity = schemas.SeverityWarning
	}
	if typ == "resolved" {
		e.Data.Status = schemas.StatusResolved
	}
	require.NoError(t, schemas.ValidateEvent(e))
	return e
}

var routeTypes = []string{"opened", "updated", "resolved"}

// routeName is the "name-type" routeEvent made e from.
func routeName(t *testing.T, e schemas.IncidentEvent) string {
	t.Helper()
	name, err := hex.DecodeString(strings.TrimLeft(strings.TrimPrefix(e.Data.IncidentID, "inc-"), "0"))
	require.NoError(t, err)
	seq, err := strconv.Atoi(e.ID[strings.LastIndexByte(e.ID, '-')+1:])
	require.NoError(t, err)
	return string(name) + "-" + routeTypes[seq-1]
}

// delivered returns the "name-type" of the events each memory sink
// received.
func delivered(t *testing.T, mems map[string]*Memory) map[string][]string {
	out := map[string][]string{}
	for name, m := range mems {
		for _, e := range m.Events() {
			out[name] = append(out[name], routeName(t, e))
		}
	}
	return out
}

func newTestRouter(t *testing.T, cfg RouterConfig, names ...string) (*Router, map[string]*Memory) {
	t.Helper()
	mems := map[string]*Memory{}
	ss := map[string]Sink{}
	for _, n := range names {
		mems[n] = NewMemory()
		ss[n] = mems[n]
	}
	r, err := NewRouter(cfg, ss)
	require.NoError(t, err)
	return r, mems
}

func counts(r *Router) map[string]int64 {
	out := map[string]int64{}
	for _, c := range r.Stats() {
		out[c.Route+"/"+c.Verdict.String()] = c.N
	}
	return out
}

func TestRouterRoutes(t *testing.T) {
	const (
		errK = schemas.KindSyncError
		issK = schemas.KindSyncIssue
	)
	tests := []struct {
		scenario string
		sinks    []string // default: am
		cfg      RouterConfig
		events   func(t *testing.T) []schemas.IncidentEvent
		want     map[string][]string
		counts   map[string]int64
	}{
		{
			scenario: "no routes: everything everywhere",
			sinks:    []string{"am", "pd"},
			events: func(t *testing.T) []schemas.IncidentEvent {
				return []schemas.IncidentEvent{routeEvent(t, "a", "opened", errK, "exchange.auth.password", "t1", "m1", 0)}
			},
			want:   map[string][]string{"am": {"a-opened"}, "pd": {"a-opened"}},
			counts: map[string]int64{"default/delivered": 1},
		},
		{
			scenario: "first match wins; continue goes on; unmatched is unrouted",
			cfg: RouterConfig{Routes: []Route{
				{Name: "auth", Match: RouteMatch{Classes: []string{"exchange.auth.*"}}, Sinks: []string{"pd"}, Continue: true},
				{Name: "errors", Match: RouteMatch{Kinds: []string{errK}}, Sinks: []string{"am"}},
				{Name: "t2-issues", Match: RouteMatch{Tenants: []string{"t2"}, Severities: []string{"warning"}}, Sinks: []string{"am"}},
			}},
			events: func(t *testing.T) []schemas.IncidentEvent {
				return []schemas.IncidentEvent{
					routeEvent(t, "a", "opened", errK, "exchange.auth.password", "t1", "m1", 0),
					routeEvent(t, "b", "opened", errK, "c4c.mailbox.deleted", "t1", "m2", time.Second),
					routeEvent(t, "c", "opened", issK, "record.too_large", "t2", "m3", 2*time.Second),
					routeEvent(t, "d", "opened", issK, "record.too_large", "t1", "m4", 3*time.Second),
				}
			},
			want:   map[string][]string{"pd": {"a-opened"}, "am": {"a-opened", "b-opened", "c-opened"}},
			counts: map[string]int64{"auth/delivered": 1, "errors/delivered": 2, "t2-issues/delivered": 1, "/unrouted": 1},
		},
		{
			scenario: "rate limit: 2 per minute of event time; resolves follow their opened",
			cfg:      RouterConfig{Routes: []Route{{Name: "all", Sinks: []string{"pd"}, RateLimit: 2}}},
			events: func(t *testing.T) []schemas.IncidentEvent {
				var evs []schemas.IncidentEvent
				for i := range 4 {
					evs = append(evs, routeEvent(t, fmt.Sprint("i", i), "opened", errK, "x", "t1", fmt.Sprint("m", i), time.Duration(i)*time.Second))
				}
				return append(evs,
					routeEvent(t, "i0", "resolved", errK, "x", "t1", "m0", 10*time.Second), // delivered: i0 went out
					routeEvent(t, "i3", "resolved", errK, "x", "t1", "m3", 11*time.Second), // held: i3 was limited
					routeEvent(t, "i4", "opened", errK, "x", "t1", "m4", 40*time.Second),   // a token refilled
				)
			},
			want:   map[string][]string{"pd": {"i0-opened", "i1-opened", "i0-resolved", "i4-opened"}},
			counts: map[string]int64{"all/delivered": 4, "all/rate_limited": 3},
		},
		{
			scenario: "mute a class glob for a window of event time",
			cfg: RouterConfig{Mutes: []Mute{{Classes: []string{"c4c.*"}, Start: routeT0.Add(time.Minute), End: routeT0.Add(time.Hour)}},
				Routes: []Route{{Name: "all", Sinks: []string{"am"}}}},
			events: func(t *testing.T) []schemas.IncidentEvent {
				return []schemas.IncidentEvent{
					routeEvent(t, "before", "opened", errK, "c4c.mailbox.deleted", "t1", "m1", 0),
					routeEvent(t, "during", "opened", errK, "c4c.mailbox.deleted", "t1", "m2", 2*time.Minute),
					routeEvent(t, "other", "opened", errK, "exchange.auth.password", "t1", "m3", 3*time.Minute),
					routeEvent(t, "before", "updated", errK, "c4c.mailbox.deleted", "t1", "m1", 4*time.Minute),
					routeEvent(t, "before", "resolved", errK, "c4c.mailbox.deleted", "t1", "m1", 5*time.Minute),
					routeEvent(t, "during", "resolved", errK, "c4c.mailbox.deleted", "t1", "m2", 2*time.Hour),
					routeEvent(t, "after", "opened", errK, "c4c.mailbox.deleted", "t1", "m4", 2*time.Hour),
				}
			},
			want:   map[string][]string{"am": {"before-opened", "other-opened", "before-resolved", "after-opened"}},
			counts: map[string]int64{"all/delivered": 4, "all/muted": 3},
		},
		{
			scenario: "mute a tenant",
			cfg:      RouterConfig{Mutes: []Mute{{Tenants: []string{"t9"}}}},
			events: func(t *testing.T) []schemas.IncidentEvent {
				return []schemas.IncidentEvent{
					routeEvent(t, "a", "opened", errK, "x", "t9", "m1", 0),
					routeEvent(t, "b", "opened", errK, "x", "t1", "m1", 0),
				}
			},
			want:   map[string][]string{"am": {"b-opened"}},
			counts: map[string]int64{"default/delivered": 1, "default/muted": 1},
		},
		{
			scenario: "inhibition: a mailbox's issues wait while it has an open error",
			cfg:      RouterConfig{Inhibit: true},
			events: func(t *testing.T) []schemas.IncidentEvent {
				return []schemas.IncidentEvent{
					routeEvent(t, "early", "opened", issK, "record.too_large", "t1", "m1", 0),
					routeEvent(t, "err", "opened", errK, "exchange.auth.password", "t1", "m1", time.Minute),
					routeEvent(t, "iss", "opened", issK, "record.too_large", "t1", "m1", 2*time.Minute),
					routeEvent(t, "elsewhere", "opened", issK, "record.too_large", "t1", "m2", 2*time.Minute),
					routeEvent(t, "early", "resolved", issK, "record.too_large", "t1", "m1", 3*time.Minute),
					routeEvent(t, "iss", "resolved", issK, "record.too_large", "t1", "m1", 4*time.Minute),
					routeEvent(t, "err", "resolved", errK, "exchange.auth.password", "t1", "m1", 5*time.Minute),
					routeEvent(t, "late", "opened", issK, "record.too_large", "t1", "m1", 6*time.Minute),
				}
			},
			want:   map[string][]string{"am": {"early-opened", "err-opened", "elsewhere-opened", "early-resolved", "err-resolved", "late-opened"}},
			counts: map[string]int64{"default/delivered": 6, "default/inhibited": 2},
		},
		{
			scenario: "no inhibition unless asked",
			events: func(t *testing.T) []schemas.IncidentEvent {
				return []schemas.IncidentEvent{
					routeEvent(t, "err", "opened", errK, "exchange.auth.password", "t1", "m1", 0),
					routeEvent(t, "iss", "opened", issK, "record.too_large", "t1", "m1", time.Minute),
				}
			},
			want:   map[string][]string{"am": {"err-opened", "iss-opened"}},
			counts: map[string]int64{"default/delivered": 2},
		},
	}
	for _, test := range tests {
		t.Run(test.scenario, func(t *testing.T) {
			names := test.sinks
			if names == nil {
				names = []string{"am", "pd"}
				if len(test.cfg.Routes) == 0 {
					names = []string{"am"}
				}
			}
			r, mems := newTestRouter(t, test.cfg, names...)
			require.NoError(t, r.Write(context.Background(), test.events(t)))
			require.Equal(t, test.want, delivered(t, mems))
			require.Equal(t, test.counts, counts(r))
		})
	}
}

// TestRouterRetryKeepsDecisions fails one sink once: the retry of the
// same batch must meet the same decisions, not spend rate tokens or count
// twice.
func TestRouterRetryKeepsDecisions(t *testing.T) {
	flaky := NewMemory()
	fails := 1
	flaky.onWrite = func([]schemas.IncidentEvent) error {
		if fails > 0 {
			fails--
			return errors.New("broker down")
		}
		return nil
	}
	steady := NewMemory()
	r, err := NewRouter(RouterConfig{Routes: []Route{{Name: "all", Sinks: []string{"flaky", "steady"}, RateLimit: 1}}},
		map[string]Sink{"flaky": flaky, "steady": steady})
	require.NoError(t, err)
	batch := []schemas.IncidentEvent{
		routeEvent(t, "a", "opened", schemas.KindSyncError, "x", "t1", "m1", 0),
		routeEvent(t, "b", "opened", schemas.KindSyncError, "x", "t1", "m2", time.Second),
	}
	err = r.Write(context.Background(), batch)
	var serr *SinkError
	require.ErrorAs(t, err, &serr)
	require.Same(t, flaky, serr.Sink)
	require.NoError(t, r.Write(context.Background(), batch))
	require.Len(t, flaky.Events(), 1)
	require.Equal(t, "a-opened", routeName(t, flaky.Events()[0]), "the retry delivers what the first try decided")
	require.Len(t, steady.Events(), 2, "the sink that succeeded gets the batch again (at least once)")
	require.Equal(t, map[string]int64{"all/delivered": 1, "all/rate_limited": 1}, counts(r))
	require.NoError(t, r.Close(context.Background()))
	require.True(t, flaky.isClosed())
	require.ErrorIs(t, r.Write(context.Background(), batch), ErrClosed)
}

func TestRouterConfigValidate(t *testing.T) {
	known := []string{"am", "pd"}
	tests := []struct {
		name    string
		cfg     RouterConfig
		known   []string
		wantErr []string // one substring per problem; none: valid
	}{
		{name: "zero value", known: known},
		{name: "zero value, no sinks known", known: nil},
		{name: "every field set", known: known, cfg: RouterConfig{
			Routes: []Route{{Name: "a", Sinks: []string{"am", "pd"}, Continue: true, RateLimit: 1, RatePeriod: time.Hour,
				Match: RouteMatch{Kinds: []string{schemas.KindSyncError}, Classes: []string{"exchange.auth.*"}, Tenants: []string{"t-1"}, Severities: []string{schemas.SeverityWarning}}}},
			Mutes:   []Mute{{Classes: []string{"record.*"}, Tenants: []string{"t-1"}, Start: routeT0, End: routeT0.Add(time.Hour)}},
			Inhibit: true,
		}},
		{name: "nil known accepts any sink", cfg: RouterConfig{Routes: []Route{{Name: "a", Sinks: []string{"anything"}}}}},
		{name: "route without name", known: known, cfg: RouterConfig{Routes: []Route{{Sinks: []string{"am"}}}}, wantErr: []string{"routes[0].name: required"}},
		{name: "route name used twice", known: known, cfg: RouterConfig{Routes: []Route{{Name: "a", Sinks: []string{"am"}}, {Name: "a", Sinks: []string{"pd"}}}},
			wantErr: []string{`routes[1].name "a": used twice`}},
		{name: "route without sinks", known: known, cfg: RouterConfig{Routes: []Route{{Name: "a"}}}, wantErr: []string{"routes[0].sinks: at least one sink is required"}},
		{name: "unknown sink", known: known, cfg: RouterConfig{Routes: []Route{{Name: "a", Sinks: []string{"nope"}}}},
			wantErr: []string{`routes[0].sinks: "nope" is not a configured sink`}},
		{name: "unknown kind", known: known, cfg: RouterConfig{Routes: []Route{{Name: "a", Sinks: []string{"am"}, Match: RouteMatch{Kinds: []string{"bug"}}}}},
			wantErr: []string{`routes[0].match.kinds: "bug"`}},
		{name: "bad class glob", known: known, cfg: RouterConfig{Routes: []Route{{Name: "a", Sinks: []string{"am"}, Match: RouteMatch{Classes: []string{"[x"}}}}},
			wantErr: []string{`routes[0].match.classes: "[x" is not a valid glob`}},
		{name: "unknown severity", known: known, cfg: RouterConfig{Routes: []Route{{Name: "a", Sinks: []string{"am"}, Match: RouteMatch{Severities: []string{"high"}}}}},
			wantErr: []string{`routes[0].match.severities: "high"`}},
		{name: "negative rate limit", known: known, cfg: RouterConfig{Routes: []Route{{Name: "a", Sinks: []string{"am"}, RateLimit: -1}}},
			wantErr: []string{"routes[0].rate_limit: must not be negative"}},
		{name: "negative rate period", known: known, cfg: RouterConfig{Routes: []Route{{Name: "a", Sinks: []string{"am"}, RatePeriod: -1}}},
			wantErr: []string{"routes[0].rate_period: must not be negative"}},
		{name: "mute of nothing", known: known, cfg: RouterConfig{Mutes: []Mute{{}}}, wantErr: []string{"mutes[0]: name classes or tenants"}},
		{name: "bad mute glob", known: known, cfg: RouterConfig{Mutes: []Mute{{Classes: []string{"[x"}}}}, wantErr: []string{`mutes[0].classes: "[x" is not a valid glob`}},
		{name: "mute ends before it starts", known: known, cfg: RouterConfig{Mutes: []Mute{{Tenants: []string{"t"}, Start: routeT0, End: routeT0}}},
			wantErr: []string{"mutes[0]: end"}},
		{
			name:  "every problem at once",
			known: []string{"am"},
			cfg: RouterConfig{
				Routes: []Route{
					{Name: "a", Sinks: []string{"nope"}, Match: RouteMatch{Kinds: []string{"bug"}, Severities: []string{"high"}, Classes: []string{"[x"}}},
					{Name: "a", RateLimit: -1, RatePeriod: -1},
					{Sinks: []string{"am"}},
				},
				Mutes: []Mute{{}, {Tenants: []string{"t"}, Start: routeT0, End: routeT0}},
			},
			wantErr: []string{
				`routes[0].sinks: "nope" is not a configured sink`, `routes[0].match.kinds: "bug"`, `routes[0].match.severities: "high"`,
				`routes[0].match.classes: "[x"`, `routes[1].name "a": used twice`, "routes[1].sinks: at least one", "routes[1].rate_limit",
				"routes[1].rate_period", "routes[2].name: required", "mutes[0]: name classes or tenants", "mutes[1]: end",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireProblems(t, tt.cfg.Validate(tt.known), tt.wantErr)
			if tt.known == nil {
				return
			}
			members := map[string]Sink{}
			for _, n := range tt.known {
				members[n] = NewMemory()
			}
			_, err := NewRouter(tt.cfg, members)
			if len(tt.wantErr) == 0 {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, "validating routing config")
		})
	}
}

func TestTokenBucket(t *testing.T) {
	b := newTokenBucket(2, time.Minute)
	require.True(t, b.allow(routeT0))
	require.True(t, b.allow(routeT0))
	require.False(t, b.allow(routeT0.Add(time.Second)))
	require.False(t, b.allow(routeT0), "an earlier time refills nothing")
	require.True(t, b.allow(routeT0.Add(31*time.Second)), "half a period refills one token")
	require.False(t, b.allow(routeT0.Add(31*time.Second)))
	require.True(t, b.allow(routeT0.Add(time.Hour)))
	require.True(t, b.allow(routeT0.Add(time.Hour)))
	require.False(t, b.allow(routeT0.Add(time.Hour)), "the bucket holds at most its capacity")
}
