package detectors

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-multierror"
)

// Defaults of Config: what a zero field means.
const (
	DefaultSource           = "syncwatch/ingest"
	DefaultLateness         = 5 * time.Second
	DefaultRunTimeout       = 10 * time.Minute
	DefaultConsecutiveRuns  = 2
	DefaultMaxEvidence      = 3
	DefaultMaxSampleRecords = 5
	DefaultIdleEvict        = 24 * time.Hour
	DefaultMaxTemplates     = 64
	DefaultMaxMailboxes     = 2_000_000
)

// Config configures an Engine. The zero value works: a zero field means
// its default, and a negative number or duration is invalid (Validate
// rejects it).
type Config struct {
	// Source is the CloudEvents source of the events, a URI reference. It
	// names the pipeline, not the binary, so that replay and live output
	// compare byte for byte.
	//
	// Default: DefaultSource ("syncwatch/ingest")
	Source string

	// Lateness is how far event time must pass a run's end before its
	// outcome is decided: lines of the run stamped by a skewed clock after
	// its end still count.
	//
	// Default: DefaultLateness (5s)
	Lateness time.Duration

	// RunTimeout ends a run that never logged run_finished or run_failed
	// (the process died) once no line of it was seen for this long.
	//
	// Default: DefaultRunTimeout (10m)
	RunTimeout time.Duration

	// ConsecutiveRuns is how many consecutive runs must end with nothing
	// synced and the same cause before a class that depends on the run (or
	// an unknown error) opens a sync error.
	//
	// Default: DefaultConsecutiveRuns (2)
	ConsecutiveRuns int

	// MaxEvidence bounds the log entries quoted in one event.
	//
	// Default: DefaultMaxEvidence (3)
	MaxEvidence int

	// MaxSampleRecords bounds the record ids listed in one event.
	//
	// Default: DefaultMaxSampleRecords (5)
	MaxSampleRecords int

	// IdleEvict drops the state of a mailbox with nothing open once it
	// has been silent this long (event time).
	//
	// Default: DefaultIdleEvict (24h)
	IdleEvict time.Duration

	// MaxTemplates caps the distinct unknown templates tracked per
	// mailbox; failures beyond it are counted (Stats.TemplatesCapped) and
	// grouped under one overflow template.
	//
	// Default: DefaultMaxTemplates (64)
	MaxTemplates int

	// MaxMailboxes caps the mailboxes whose state is kept at once: input
	// naming ever new mailboxes (a hostile or broken producer) cannot
	// exhaust memory. Records of a new mailbox beyond it are counted
	// (Stats.MailboxesCapped) and not judged; idle mailboxes are evicted
	// after IdleEvict and make room.
	//
	// Default: DefaultMaxMailboxes (2,000,000)
	MaxMailboxes int

	// Known, when set, hands the engine the incidents still open from
	// before the first record of each mailbox (a live consumer's restore
	// window): they are carried on, not opened again.
	//
	// Default: nil (a replay sees every log from the start)
	Known KnownIncidents

	// Detectors is the chain asked about each failure, in order; the
	// first that answers wins. It must not hold a nil Detector.
	//
	// Default: Build(DefaultDetectors, Options{}), the catalog of known
	// errors and then the unknown-template grouping
	Detectors []Detector
}

// The accessors below resolve the defaults and leave c untouched. A
// negative value, which Validate rejects, resolves to the default too.

func (c *Config) source() string {
	if c.Source == "" {
		return DefaultSource
	}
	return c.Source
}

func (c *Config) lateness() time.Duration { return positiveOr(c.Lateness, DefaultLateness) }

func (c *Config) runTimeout() time.Duration { return positiveOr(c.RunTimeout, DefaultRunTimeout) }

func (c *Config) consecutiveRuns() int { return positiveOr(c.ConsecutiveRuns, DefaultConsecutiveRuns) }

func (c *Config) maxEvidence() int { return positiveOr(c.MaxEvidence, DefaultMaxEvidence) }

func (c *Config) maxSampleRecords() int {
	return positiveOr(c.MaxSampleRecords, DefaultMaxSampleRecords)
}

func (c *Config) idleEvict() time.Duration { return positiveOr(c.IdleEvict, DefaultIdleEvict) }

func (c *Config) maxTemplates() int { return positiveOr(c.MaxTemplates, DefaultMaxTemplates) }

func (c *Config) maxMailboxes() int { return positiveOr(c.MaxMailboxes, DefaultMaxMailboxes) }

// detectors returns the configured chain, or builds the default one.
func (c *Config) detectors() ([]Detector, error) {
	if len(c.Detectors) > 0 {
		return c.Detectors, nil
	}
	return Build(nil, Options{})
}

func positiveOr[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// Validate reports every problem of the configuration at once, each naming
// its field; nil means the configuration is valid. c is not changed.
func (c *Config) Validate() error {
	var errs *multierror.Error
	add := func(format string, args ...any) { errs = multierror.Append(errs, fmt.Errorf(format, args...)) }
	nonNegative := func(field string, v time.Duration) {
		if v < 0 {
			add("%s %v: must not be negative", field, v)
		}
	}
	nonNegativeInt := func(field string, v int) {
		if v < 0 {
			add("%s %d: must not be negative", field, v)
		}
	}

	// a CloudEvents source is a URI reference: no spaces, no control
	// characters, no malformed escapes
	if _, err := url.Parse(c.Source); err != nil || strings.ContainsRune(c.Source, ' ') {
		add("Source %q: not a URI reference", c.Source)
	}
	nonNegative("Lateness", c.Lateness)
	nonNegative("RunTimeout", c.RunTimeout)
	nonNegativeInt("ConsecutiveRuns", c.ConsecutiveRuns)
	nonNegativeInt("MaxEvidence", c.MaxEvidence)
	nonNegativeInt("MaxSampleRecords", c.MaxSampleRecords)
	nonNegative("IdleEvict", c.IdleEvict)
	nonNegativeInt("MaxTemplates", c.MaxTemplates)
	nonNegativeInt("MaxMailboxes", c.MaxMailboxes)
	for i, d := range c.Detectors {
		if d == nil {
			add("Detectors[%d]: nil Detector", i)
		}
	}
	return errs.ErrorOrNil()
}
