package loggen

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Sentinel errors.
var (
	// ErrInvalidConfig is wrapped by Config.Validate (and so by Generate
	// and WriteDir) when a field is out of range.
	ErrInvalidConfig = errors.New("loggen: invalid config")
)

// Config describes a corpus. Its zero value is the default corpus: 30
// mailboxes of 6 tenants over 24 hours from 2026-11-24T00:00:00Z, about
// 60-80 true episodes, clean, catalog wording.
type Config struct {
	// Seed selects the corpus; equal configs give identical bytes.
	// Default: 1 (so 0 and 1 give the same corpus).
	Seed int64
	// Mailboxes is the number of mailboxes synchronized.
	// Default: 30.
	Mailboxes int
	// Tenants is the number of tenants (t-1000, t-1007, t-1014, ...) the
	// mailboxes belong to.
	// Default: 6.
	Tenants int
	// Start is the event time of the beginning of the corpus; it is
	// truncated to the millisecond.
	// Default: 2026-11-24T00:00:00Z.
	Start time.Time
	// Duration is how long the corpus runs; no run starts after
	// Start+Duration (the last runs' lines may end a few seconds later).
	// Default: 24h.
	Duration time.Duration
	// RunInterval is the mean time between two runs of one mailbox. Each
	// mailbox gets its own period around it (0.75x to 1.5x) and every gap
	// is jittered by +-15%. At least one minute.
	// Default: 10m.
	RunInterval time.Duration
	// Dirty adds the dirt of log-formats.md "What real input contains":
	// CRLF endings in exchange.log, timestamps without milliseconds or
	// with a +02:00 offset, shuffled logfmt keys, lower-case JSON levels,
	// unknown JSON fields, wording noise on messages, exact duplicates
	// (Stats.Dup) and unparseable entries (Stats.Bad). Dirt never changes
	// the truth: a dirty corpus has the same truth as the clean corpus
	// of the same config.
	// Default: false.
	Dirty bool
	// IncidentRate is the probability, per idle mailbox-hour, that an
	// incident scenario starts (some scenarios, the blips, deliberately
	// produce no true episode). A negative value disables scenarios: the
	// corpus then has no truth at all. At most 1.
	// Default: 0.1 (30 mailboxes x 24h give about 60-80 true episodes).
	IncidentRate float64
	// Wording selects the message texts: 0 is the catalog wording of
	// detection.md and the knowledge base; 1 is a paraphrase of every
	// class's message (see the package documentation); 2 picks 0 or 1
	// per incident scenario. The truth does not depend on Wording.
	// Default: 0.
	Wording int
}

const (
	defaultSeed         = 1
	defaultMailboxes    = 30
	defaultTenants      = 6
	defaultDuration     = 24 * time.Hour
	defaultRunInterval  = 10 * time.Minute
	defaultIncidentRate = 0.1
	minRunInterval      = time.Minute
)

var defaultStart = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)

func (c Config) seed() int64 {
	if c.Seed == 0 {
		return defaultSeed
	}
	return c.Seed
}

func (c Config) mailboxes() int {
	if c.Mailboxes == 0 {
		return defaultMailboxes
	}
	return c.Mailboxes
}

func (c Config) tenants() int {
	if c.Tenants == 0 {
		return defaultTenants
	}
	return c.Tenants
}

func (c Config) start() time.Time {
	if c.Start.IsZero() {
		return defaultStart
	}
	return c.Start.UTC().Truncate(time.Millisecond)
}

func (c Config) duration() time.Duration {
	if c.Duration == 0 {
		return defaultDuration
	}
	return c.Duration
}

func (c Config) runInterval() time.Duration {
	if c.RunInterval == 0 {
		return defaultRunInterval
	}
	return c.RunInterval
}

func (c Config) incidentRate() float64 {
	switch {
	case c.IncidentRate == 0:
		return defaultIncidentRate
	case c.IncidentRate < 0:
		return 0
	}
	return c.IncidentRate
}

// Validate reports a field out of range, wrapping ErrInvalidConfig. The
// zero Config is valid.
func (c Config) Validate() error {
	switch {
	case c.Mailboxes < 0:
		return fmt.Errorf("%w: Mailboxes %d is negative", ErrInvalidConfig, c.Mailboxes)
	case c.Tenants < 0:
		return fmt.Errorf("%w: Tenants %d is negative", ErrInvalidConfig, c.Tenants)
	case c.Tenants > 100000:
		return fmt.Errorf("%w: Tenants %d is more than 100000", ErrInvalidConfig, c.Tenants)
	case c.Duration < 0:
		return fmt.Errorf("%w: Duration %s is negative", ErrInvalidConfig, c.Duration)
	case c.RunInterval != 0 && c.RunInterval < minRunInterval:
		return fmt.Errorf("%w: RunInterval %s is shorter than %s", ErrInvalidConfig, c.RunInterval, minRunInterval)
	case math.IsNaN(c.IncidentRate) || c.IncidentRate > 1:
		return fmt.Errorf("%w: IncidentRate %v is not a probability (at most 1, negative disables)", ErrInvalidConfig, c.IncidentRate)
	case c.Wording < 0 || c.Wording > 2:
		return fmt.Errorf("%w: Wording %d is not 0, 1 or 2", ErrInvalidConfig, c.Wording)
	}
	if y := c.start().Year(); y < 1000 || y > 9000 {
		return fmt.Errorf("%w: Start year %d is out of range 1000-9000", ErrInvalidConfig, y)
	}
	return nil
}
