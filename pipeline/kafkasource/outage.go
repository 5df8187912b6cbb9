package kafkasource

import (
	"log/slog"
	"time"
)

// outageWarnEvery is how often a failure that goes on is logged again at
// WARN, with how long it has lasted: an operator reading the log an hour
// into a broker outage must see that it still fails.
const outageWarnEvery = time.Minute

// outage tracks a failing operation (joining the group, fetching a
// partition) for its log lines: WARN when it starts failing and every
// outageWarnEvery while it goes on, DEBUG in between.
type outage struct {
	since    time.Time // when it started failing; zero while healthy
	warned   time.Time // when it was last logged at WARN
	attempts int       // failures since it started failing
}

// fail records a failure at now and returns the level to log it at, how
// long the operation has been failing and the failures so far.
func (o *outage) fail(now time.Time) (level slog.Level, failingFor time.Duration, attempts int) {
	if o.since.IsZero() {
		o.since = now
	}
	o.attempts++
	level = slog.LevelDebug
	if o.warned.IsZero() || now.Sub(o.warned) >= outageWarnEvery {
		level, o.warned = slog.LevelWarn, now
	}
	return level, now.Sub(o.since), o.attempts
}

// recover records a success at now: it reports whether the operation was
// failing, and for how long.
func (o *outage) recover(now time.Time) (was bool, lasted time.Duration) {
	if o.since.IsZero() {
		return false, 0
	}
	was, lasted = true, now.Sub(o.since)
	*o = outage{}
	return was, lasted
}
