package kafkasource

import (
	"cmp"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"time"

	"github.com/hashicorp/go-multierror"
	"github.com/segmentio/kafka-go"

	"github.com/syncwatch/syncwatch/pipeline/parse"
)

// Defaults of Config.
const (
	DefaultGroupID           = "syncwatch"
	DefaultRestoreWindow     = 6 * time.Hour
	DefaultMinBytes          = 1
	DefaultMaxBytes          = 1 << 20 // 1 MiB
	DefaultMaxWait           = 500 * time.Millisecond
	DefaultCommitInterval    = time.Second
	DefaultHeartbeatInterval = 3 * time.Second
	DefaultSessionTimeout    = 30 * time.Second
	DefaultRebalanceTimeout  = 30 * time.Second
	DefaultQueueCapacity     = 4096
	DefaultMaxAhead          = 30 * time.Second
	defaultDialTimeout       = 10 * time.Second
)

// DefaultTopics are the topics the three producers log to.
var DefaultTopics = []string{"sync.exchange-connector", "sync.engine", "sync.c4cc-connector"}

// Config configures a Source. Its zero value with Brokers
// set works.
type Config struct {
	// Brokers are the bootstrap addresses ("host:port"). Required.
	Brokers []string

	// GroupID is the consumer group; the members of a group split the
	// partitions between them.
	//
	// Default: "syncwatch"
	GroupID string

	// Topics are the topics to consume.
	//
	// Default: sync.exchange-connector, sync.engine, sync.c4cc-connector
	Topics []string

	// Dialer opens every connection (TLS, SASL, client id, timeouts).
	//
	// Default: a dialer with a 10s timeout, like kafka.DefaultDialer
	Dialer *kafka.Dialer

	// RestoreWindow is how far back, in message time, a partition is
	// re-read when it is assigned: from the first message at most
	// RestoreWindow older than the last committed one. The re-read messages
	// come with Restored set, so detectors rebuild their state without
	// emitting anything twice. A negative value disables restoring.
	//
	// Default: 6h
	RestoreWindow time.Duration

	// MinBytes is the least a fetch waits for (up to MaxWait).
	//
	// Default: 1
	MinBytes int

	// MaxBytes is the most a fetch of one partition returns (a larger first
	// record batch is still returned whole). One fetched batch per assigned
	// partition is held in memory.
	//
	// Default: 1 MiB
	MaxBytes int

	// MaxWait is how long the broker may hold a fetch waiting for MinBytes.
	// It also bounds how long a partition fetcher takes to notice the end
	// of its generation.
	//
	// Default: 500ms
	MaxWait time.Duration

	// CommitInterval is how often the acked offsets are committed. They are
	// also committed when a generation ends and on Close. Must not be
	// negative.
	//
	// Default: 1s
	CommitInterval time.Duration

	// HeartbeatInterval is how often the group coordinator is told this
	// member is alive; it is also how soon a member learns of a rebalance.
	//
	// Default: 3s
	HeartbeatInterval time.Duration

	// SessionTimeout is how long the coordinator waits for a heartbeat
	// before it gives this member's partitions to others (after a crash).
	//
	// Default: 30s
	SessionTimeout time.Duration

	// RebalanceTimeout is how long the coordinator waits for members to
	// rejoin during a rebalance.
	//
	// Default: 30s
	RebalanceTimeout time.Duration

	// QueueCapacity is how many fetched messages wait for Read, across all
	// partitions; a slow caller makes the fetchers wait (backpressure).
	// It must cover a batch's processing time, or the consumer waits for
	// fetches after each batch: 1000 cost ingest a sixth of its throughput
	// against 4096 (7.8-9.4 s against 6.8-7.8 s for 1.91M messages), for
	// some 60 MB more peak RSS. Messages are handed over in chunks of up
	// to 256 (deliveryChunk), so the queue holds QueueCapacity/256 chunks
	// (at least one), plus the chunk Read is taking messages from.
	//
	// Default: 4096
	QueueCapacity int

	// MaxAhead is how far, in event time, a partition may run ahead of
	// the slowest partition still being read before its fetcher waits
	// (watermark alignment). Detection waits for the slowest partition
	// anyway (the watermark); without this, what the fast partitions
	// fetch meanwhile piles up in memory: catching up after downtime, a
	// consumer held over a gigabyte of records. Event times come from
	// ObserveEventTime; a partition that is caught up, or has delivered
	// nothing for alignIdle, does not hold the others back.
	//
	// Default: DefaultMaxAhead (30s); negative: no alignment
	MaxAhead time.Duration

	// Envelope is the envelope messages come in, used to sample a newly
	// assigned partition's backlog for event-time order
	// (backlog.go).
	//
	// Default: parse.EnvelopeAuto
	Envelope parse.Envelope

	// Logger receives the source's logs.
	//
	// Default: slog.Default()
	Logger *slog.Logger
}

func (c *Config) groupID() string              { return cmp.Or(c.GroupID, DefaultGroupID) }
func (c *Config) topics() []string             { return topicsOrDefault(c.Topics) }
func (c *Config) dialer() *kafka.Dialer        { return dialerOrDefault(c.Dialer) }
func (c *Config) restoreWindow() time.Duration { return cmp.Or(c.RestoreWindow, DefaultRestoreWindow) }
func (c *Config) minBytes() int                { return cmp.Or(c.MinBytes, DefaultMinBytes) }
func (c *Config) maxBytes() int                { return cmp.Or(c.MaxBytes, DefaultMaxBytes) }
func (c *Config) maxWait() time.Duration       { return cmp.Or(c.MaxWait, DefaultMaxWait) }
func (c *Config) commitInterval() time.Duration {
	return cmp.Or(c.CommitInterval, DefaultCommitInterval)
}
func (c *Config) heartbeatInterval() time.Duration {
	return cmp.Or(c.HeartbeatInterval, DefaultHeartbeatInterval)
}
func (c *Config) sessionTimeout() time.Duration {
	return cmp.Or(c.SessionTimeout, DefaultSessionTimeout)
}
func (c *Config) rebalanceTimeout() time.Duration {
	return cmp.Or(c.RebalanceTimeout, DefaultRebalanceTimeout)
}
func (c *Config) queueCapacity() int      { return cmp.Or(c.QueueCapacity, DefaultQueueCapacity) }
func (c *Config) maxAhead() time.Duration { return cmp.Or(c.MaxAhead, DefaultMaxAhead) }

func (c *Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.Default()
	}
	return c.Logger
}

// topicsOrDefault returns a copy of topics, or of DefaultTopics if empty.
func topicsOrDefault(topics []string) []string {
	if len(topics) == 0 {
		return slices.Clone(DefaultTopics)
	}
	return slices.Clone(topics)
}

// dialerOrDefault returns d, or a dialer with the default timeout if nil.
func dialerOrDefault(d *kafka.Dialer) *kafka.Dialer {
	if d == nil {
		return &kafka.Dialer{Timeout: defaultDialTimeout, DualStack: true}
	}
	return d
}

// validateBrokersTopics reports, through add, missing or malformed broker
// addresses and empty or repeated topic names.
func validateBrokersTopics(brokers, topics []string, add func(string, ...any)) {
	if len(brokers) == 0 {
		add("Brokers: at least one broker address is required")
	}
	for i, b := range brokers {
		if _, port, err := net.SplitHostPort(b); err != nil || port == "" {
			add("Brokers[%d] %q: not a host:port address", i, b)
		}
	}
	seen := map[string]bool{}
	for i, t := range topics {
		switch {
		case t == "":
			add("Topics[%d]: empty topic name", i)
		case seen[t]:
			add("Topics[%d] %q: listed twice", i, t)
		}
		seen[t] = true
	}
}

// Validate reports every problem of the configuration at once, each naming
// its field. Defaults are applied before checking; c is not changed.
// GroupID, Dialer, Logger, RestoreWindow and MaxAhead take any value (a
// negative RestoreWindow or MaxAhead turns restoring or alignment off).
func (c *Config) Validate() error {
	var errs *multierror.Error
	add := func(format string, args ...any) { errs = multierror.Append(errs, fmt.Errorf(format, args...)) }

	validateBrokersTopics(c.Brokers, c.Topics, add)
	if c.Envelope > parse.EnvelopeOTLP {
		add("Envelope %v: unknown", c.Envelope)
	}
	if c.MinBytes < 0 {
		add("MinBytes %d: must not be negative", c.MinBytes)
	}
	if c.MaxBytes < 0 {
		add("MaxBytes %d: must not be negative", c.MaxBytes)
	}
	if c.MinBytes >= 0 && c.MaxBytes >= 0 && c.minBytes() > c.maxBytes() {
		add("MinBytes %d: greater than MaxBytes %d", c.minBytes(), c.maxBytes())
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"MaxWait", c.MaxWait},
		{"CommitInterval", c.CommitInterval},
		{"HeartbeatInterval", c.HeartbeatInterval},
		{"SessionTimeout", c.SessionTimeout},
		{"RebalanceTimeout", c.RebalanceTimeout},
	} {
		if d.v < 0 {
			add("%s %v: must not be negative", d.name, d.v)
		}
	}
	if c.HeartbeatInterval >= 0 && c.SessionTimeout >= 0 && c.heartbeatInterval() >= c.sessionTimeout() {
		add("HeartbeatInterval %v: must be shorter than SessionTimeout %v", c.heartbeatInterval(), c.sessionTimeout())
	}
	if c.QueueCapacity < 0 {
		add("QueueCapacity %d: must not be negative", c.QueueCapacity)
	}
	return errs.ErrorOrNil()
}
