package loggen

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/hashicorp/go-multierror"
)

// Sentinel errors.
var (
	// ErrInvalidConfig is wrapped by Config.Validate (and so by Generate
	// and WriteDir) when a field is out of range.
	ErrInvalidConfig = errors.New("loggen: invalid config")
)

// Defaults of Config, each resolved by the accessor of its field.
const (
	DefaultSeed         = 1
	DefaultMailboxes    = 30
	DefaultTenants      = 6
	DefaultStart        = "2026-11-24T00:00:00Z" // RFC 3339, UTC
	DefaultDuration     = 24 * time.Hour
	DefaultRunInterval  = 10 * time.Minute
	DefaultIncidentRate = 0.1
)

// Bounds that Validate enforces.
const (
	minRunInterval = time.Minute
	maxTenants     = 100000
	minStartYear   = 1000
	maxStartYear   = 9000
)

// defaultStart is DefaultStart parsed.
var defaultStart = func() time.Time {
	t, err := time.Parse(time.RFC3339, DefaultStart)
	if err != nil {
		panic(err)
	}
	return t
}()

// Config describes a corpus. Its zero value is the default corpus: 30
// mailboxes of 6 tenants over 24 hours from 2026-11-24T00:00:00Z, about
// 60-80 true episodes, clean, catalog wording. A zero field means its
// default; a field out of range (a negative count or duration, among
// others) is rejected by Validate, except IncidentRate, where a negative
// value disables incidents.
type Config struct {
	// Seed selects the corpus; equal configs give identical bytes. Any
	// value is valid.
	//
	// Default: 1 (DefaultSeed; so 0 and 1 give the same corpus)
	Seed int64

	// Mailboxes is the number of mailboxes synchronized. Must not be
	// negative.
	//
	// Default: 30 (DefaultMailboxes)
	Mailboxes int

	// Tenants is the number of tenants (t-1000, t-1007, t-1014, ...) the
	// mailboxes belong to. At most 100000.
	//
	// Default: 6 (DefaultTenants)
	Tenants int

	// Start is the event time of the beginning of the corpus; it is
	// truncated to the millisecond. Its year must lie in 1000-9000.
	//
	// Default: 2026-11-24T00:00:00Z (DefaultStart)
	Start time.Time

	// Duration is how long the corpus runs; no run starts after
	// Start+Duration (the last runs' lines may end a few seconds later).
	// Must not be negative.
	//
	// Default: 24h (DefaultDuration)
	Duration time.Duration

	// RunInterval is the mean time between two runs of one mailbox. Each
	// mailbox gets its own period around it (0.75x to 1.5x) and every gap
	// is jittered by +-15%. At least one minute.
	//
	// Default: 10m (DefaultRunInterval)
	RunInterval time.Duration

	// Dirty adds the dirt of log-formats.md "What real input contains":
	// CRLF endings in exchange.log, timestamps without milliseconds or
	// with a +02:00 offset, shuffled logfmt keys, lower-case JSON levels,
	// unknown JSON fields, wording noise on messages, exact duplicates
	// (Stats.Dup) and unparseable entries (Stats.Bad). Dirt never changes
	// the truth: a dirty corpus has the same truth as the clean corpus
	// of the same config.
	//
	// Default: false
	Dirty bool

	// Disorder, if positive, writes some entries (2% of those that carry
	// no failure) after later entries of their producer, by up to
	// Disorder of event time, as a multi-threaded producer or a retrying
	// shipper does; their timestamps keep their times, so the truth does
	// not change. A reader must order the entries back within Disorder
	// (Stats.Delayed counts them). Not part of Dirty, which keeps each
	// producer's entries in order. At most 1m.
	//
	// Default: 0
	Disorder time.Duration

	// IncidentRate is the probability, per idle mailbox-hour, that an
	// incident scenario starts (some scenarios, the blips, deliberately
	// produce no true episode). A negative value disables scenarios: the
	// corpus then has no truth at all. At most 1.
	//
	// Default: 0.1 (DefaultIncidentRate; 30 mailboxes x 24h give about
	// 60-80 true episodes)
	IncidentRate float64

	// Wording selects the message texts: 0 is the catalog wording of
	// detection.md and the knowledge base; 1 is a paraphrase of every
	// class's message (see the package documentation); 2 picks 0 or 1
	// per incident scenario. The truth does not depend on Wording.
	//
	// Default: 0 (the catalog wording)
	Wording int
}

// seed resolves Seed.
func (c Config) seed() int64 { return cmp.Or(c.Seed, DefaultSeed) }

// mailboxes resolves Mailboxes.
func (c Config) mailboxes() int { return cmp.Or(c.Mailboxes, DefaultMailboxes) }

// tenants resolves Tenants.
func (c Config) tenants() int { return cmp.Or(c.Tenants, DefaultTenants) }

// start resolves Start, truncated to the millisecond, in UTC.
func (c Config) start() time.Time {
	if c.Start.IsZero() {
		return defaultStart
	}
	return c.Start.UTC().Truncate(time.Millisecond)
}

// duration resolves Duration.
func (c Config) duration() time.Duration { return cmp.Or(c.Duration, DefaultDuration) }

// runInterval resolves RunInterval.
func (c Config) runInterval() time.Duration { return cmp.Or(c.RunInterval, DefaultRunInterval) }

// incidentRate resolves IncidentRate: 0 when negative (disabled).
func (c Config) incidentRate() float64 {
	switch {
	case c.IncidentRate == 0:
		return DefaultIncidentRate
	case c.IncidentRate < 0:
		return 0
	}
	return c.IncidentRate
}

// Validate reports every field out of range at once, each naming its
// field, in one error that wraps ErrInvalidConfig; nil means valid. The
// zero Config is valid. Defaults are applied before checking; c is not
// changed.
func (c Config) Validate() error {
	var errs *multierror.Error
	add := func(format string, a ...any) { errs = multierror.Append(errs, fmt.Errorf(format, a...)) }
	if c.Mailboxes < 0 {
		add("Mailboxes %d: must not be negative", c.Mailboxes)
	}
	if c.Tenants < 0 {
		add("Tenants %d: must not be negative", c.Tenants)
	} else if c.Tenants > maxTenants {
		add("Tenants %d: more than %d", c.Tenants, maxTenants)
	}
	if y := c.start().Year(); y < minStartYear || y > maxStartYear {
		add("Start %s: year %d is out of range %d-%d", c.Start.Format(time.RFC3339), y, minStartYear, maxStartYear)
	}
	if c.Disorder < 0 || c.Disorder > time.Minute {
		add("Disorder %s: must lie in 0-1m", c.Disorder)
	}
	if c.Duration < 0 {
		add("Duration %s: must not be negative", c.Duration)
	}
	if c.RunInterval != 0 && c.RunInterval < minRunInterval {
		add("RunInterval %s: shorter than %s", c.RunInterval, minRunInterval)
	}
	if math.IsNaN(c.IncidentRate) || c.IncidentRate > 1 {
		add("IncidentRate %v: not a probability (at most 1, negative disables)", c.IncidentRate)
	}
	if c.Wording < 0 || c.Wording > 2 {
		add("Wording %d: not 0, 1 or 2", c.Wording)
	}
	if err := errs.ErrorOrNil(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return nil
}
