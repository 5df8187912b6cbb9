package sinks

import (
	"fmt"
	"time"

	"github.com/syncwatch/syncwatch/schemas"
)

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
