package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/hashicorp/go-multierror"

	"github.com/syncwatch/syncwatch/pipeline/keycheck"
)

// Message is one message of a partitioned log, as a MessageSource hands
// it out.
type Message struct {
	Topic     string
	Partition int
	// Source names the message's partition, "topic/partition": the same
	// string for every message of the partition, the name Assigned lists,
	// and the reorder stage's source.
	Source string
	Offset int64
	// Time is the Kafka message timestamp.
	Time time.Time
	// Key and Value are the message's own: the source never writes them
	// again, and the pipeline's records may share Value's bytes.
	Key, Value []byte
	// Generation is the consumer-group generation the message was read in.
	// It increases on every rebalance. (A member that restarts its
	// generation after a nack, without a rebalance, may get the same
	// number again; ErrGenerationEnded still separates the two.)
	Generation int
	// Restored is true if Offset is below the group's committed offset of
	// the partition at assignment: the message was processed (and
	// committed) before and is re-read only to rebuild detector state. Its
	// effects were already delivered; acking it does nothing.
	Restored bool
}

// MessageSource is the partitioned, acknowledging input a Consumer reads:
// a member of a Kafka consumer group (kafkasource.Source).
type MessageSource interface {
	// Read blocks until the next message and returns it with the AckFunc
	// to call once everything the message caused was delivered. Messages
	// of one partition come in offset order. It returns
	// ErrGenerationEnded, once, when the partitions were reassigned (or a
	// message was nacked): what was built from the generation's messages
	// is stale, and the next messages come from the partitions' restore
	// points. It returns ctx.Err() when ctx ends.
	Read(ctx context.Context) (Message, AckFunc, error)
	// Assigned lists the partitions (Message.Source) of the current
	// generation. It does not block.
	Assigned() []string
	// ObserveEventTime tells the source the latest event time processed
	// from a partition, so that it can hold partitions running ahead
	// (watermark alignment). It does not block.
	ObserveEventTime(partition string, t time.Time)
	// CaughtUp reports whether every assigned partition whose backlog
	// must be read whole before its records are ordered was read up to
	// the end its broker last reported: false while the source catches up
	// on such a backlog (see Batch.Backlog). It does not block.
	CaughtUp() bool
	// AtEnd reports whether Read returned every message of every assigned
	// partition up to the end its broker last reported: nothing waits to
	// be read. It is false between generations and while a partition
	// cannot be fetched. It does not block.
	AtEnd() bool
}

// Defaults of ConsumerConfig.
const (
	DefaultBatchSize    = 2000
	DefaultBatchWait    = 10 * time.Millisecond
	DefaultDrainTimeout = 10 * time.Second
	DefaultQuietAfter   = 30 * time.Second
)

// ConsumerConfig configures a Consumer. NewPipeline is required; the
// other fields work at their zero value.
type ConsumerConfig struct {
	// NewPipeline builds the pipeline the messages run through: once at
	// the start and again at the end of every generation, since what the
	// old one knew of the partitions is stale then. Required.
	NewPipeline func() (*Pipeline, error)

	// BatchSize is the most messages in one batch.
	//
	// Default: DefaultBatchSize (2000)
	BatchSize int

	// BatchWait is how long a batch waits to fill before it runs anyway.
	// It is also how often, at least, a quiet consumer runs the pipeline,
	// so that records held for ordering are released as sources go idle.
	//
	// Default: DefaultBatchWait (10ms)
	BatchWait time.Duration

	// StopAfter, if positive, ends Run once that many messages were
	// processed, flushing everything as at the end of a replay: the end of
	// input of the demo and of benchmarks.
	//
	// Default: 0 (run until ctx ends)
	StopAfter int64

	// Stop, if set, is asked after every batch with the messages processed
	// so far; once it says true, Run ends as with StopAfter. (The second
	// hop of a repartition stops once it has processed what the first hop
	// forwarded of StopAfter raw messages.)
	//
	// Default: nil
	Stop func(processed int64) bool

	// QuietAfter is how long the input may deliver nothing, with every
	// partition read to its end (MessageSource.AtEnd), before the
	// pipeline takes the decisions that wait only for more event time to
	// pass, as a replay does at the end of its input (Batch.Final): the
	// records held for ordering are released, runs that ended are
	// decided, their incidents published and their offsets committed. A
	// line that comes later than that is a late line, as in a replay of
	// the logs up to the quiet. Once per quiet spell.
	//
	// Default: DefaultQuietAfter (30s); negative: never
	QuietAfter time.Duration

	// DrainTimeout bounds the delivery of the batches in flight once Run's
	// ctx ends: a stop signal must not cut a batch whose events are being
	// written, nor wait forever for a sink that hangs.
	//
	// Default: DefaultDrainTimeout (10s)
	DrainTimeout time.Duration

	// Sources, if set, gives the reorder stage's sources for the
	// partitions assigned, declared at the start of every generation so
	// that each holds the watermark back until it delivers (or goes
	// idle). The second hop of a repartition declares each raw partition
	// as seen through each assigned partition of the repartition topic
	// (repeats.Pair).
	//
	// Default: the partitions assigned (MessageSource.Assigned)
	Sources func(assigned []string) []string

	// Logger receives the consumer's logs.
	//
	// Default: slog.Default()
	Logger *slog.Logger
}

func (c *ConsumerConfig) batchSize() int           { return cmp.Or(c.BatchSize, DefaultBatchSize) }
func (c *ConsumerConfig) batchWait() time.Duration { return cmp.Or(c.BatchWait, DefaultBatchWait) }
func (c *ConsumerConfig) drainTimeout() time.Duration {
	return cmp.Or(c.DrainTimeout, DefaultDrainTimeout)
}
func (c *ConsumerConfig) quietAfter() time.Duration { return cmp.Or(c.QuietAfter, DefaultQuietAfter) }

func (c *ConsumerConfig) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.Default()
	}
	return c.Logger
}

// Validate reports every problem of the configuration at once, each naming
// its field. c is not changed.
func (c *ConsumerConfig) Validate() error {
	var errs *multierror.Error
	add := func(format string, args ...any) { errs = multierror.Append(errs, fmt.Errorf(format, args...)) }
	if c.NewPipeline == nil {
		add("NewPipeline: required")
	}
	if c.BatchSize < 0 {
		add("BatchSize %d: must not be negative", c.BatchSize)
	}
	if c.BatchWait < 0 {
		add("BatchWait %v: must not be negative", c.BatchWait)
	}
	if c.StopAfter < 0 {
		add("StopAfter %d: must not be negative", c.StopAfter)
	}
	if c.DrainTimeout < 0 {
		add("DrainTimeout %v: must not be negative", c.DrainTimeout)
	}
	return errs.ErrorOrNil()
}

// Consumer runs the pipeline over a MessageSource: the live consumer's
// loop. It reads messages into batches, normalizes and reorders each on
// the calling goroutine while detection and delivery run behind it on the
// batches before (staged), and acknowledges each message once everything
// it caused was delivered.
//
// On the end of a generation it drops the batch being read and rebuilds
// the pipeline: the partitions come again from their restore points, and
// the events their restored messages would repeat are muted (see
// restoreMute).
type Consumer struct {
	src MessageSource
	cfg ConsumerConfig
	log *slog.Logger

	pipe      *Pipeline
	stages    *staged         // pipe's detection and delivery, behind the read loop
	dctx      context.Context // the stages' context (deliveries)
	gen       int
	parts     []string  // the reorder stage's sources in generation gen
	lastRead  time.Time // when the last batch that read messages was filled
	quiet     bool      // the pipeline was flushed since (QuietAfter)
	mute      *restoreMute
	keys      *keycheck.Check // across generations
	warned    bool            // about a mailbox on several partitions
	processed atomic.Int64
	// quietFlushes counts the flushes of quiet spells (QuietAfter).
	quietFlushes atomic.Int64
	summary      atomic.Pointer[Summary]
	published    time.Time // when summary was last copied
	obuf         []byte    // an origin being formatted
}

// NewConsumer returns a consumer of src; cfg must be valid (see
// ConsumerConfig.Validate).
func NewConsumer(src MessageSource, cfg ConsumerConfig) (*Consumer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("validating consumer config: %w", err)
	}
	c := &Consumer{src: src, cfg: cfg, log: cfg.logger(), keys: keycheck.New()}
	c.summary.Store(&Summary{})
	return c, nil
}

// SplitMailboxes is how many mailboxes came from more than one partition
// number so far: producers that do not key messages by tenant/mailbox.
// With more than one member in the group, each would judge such a
// mailbox from part of its logs. Safe for concurrent use.
func (c *Consumer) SplitMailboxes() int { return c.keys.Split() }

// Processed is how many messages were processed (run through the
// pipeline's front half) so far. Safe for concurrent use.
func (c *Consumer) Processed() int64 { return c.processed.Load() }

// QuietFlushes is how many times the input went quiet and the pipeline
// was flushed (ConsumerConfig.QuietAfter). Safe for concurrent use.
func (c *Consumer) QuietFlushes() int64 { return c.quietFlushes.Load() }

// Summary returns the pipeline's counters as copied between batches, at
// most publishEvery plus one batch old; after Run returns, the final
// ones. Safe for concurrent use (a scrape of /metrics): the pipeline
// itself is not, and is never read here.
func (c *Consumer) Summary() Summary { return *c.summary.Load() }

// publishEvery is how often Run copies the counters for Summary. The idle
// loop runs a batch every BatchWait, so the copy is never older than this
// plus one batch.
const publishEvery = 100 * time.Millisecond

// Run consumes until ctx ends (a graceful stop: what was read is
// delivered, within DrainTimeout) or StopAfter messages were processed.
// It returns nil then, and an error when reading, building the pipeline
// or delivering fails. Run may be called once.
func (c *Consumer) Run(ctx context.Context) (err error) {
	// Deliveries run on dctx: a stop signal (ctx) must not cut a batch
	// that is being written (its events would be half out and the process
	// would fail), so dctx ends only DrainTimeout after ctx does.
	dctx, dcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer dcancel()
	stopDrain := context.AfterFunc(ctx, func() { time.AfterFunc(c.cfg.drainTimeout(), dcancel) })
	defer stopDrain()
	c.dctx = dctx
	if err := c.reset(); err != nil {
		return err
	}
	defer func() {
		if serr := c.stages.Close(); serr != nil && err == nil {
			err = fmt.Errorf("running pipeline: %w", serr)
		}
		c.publish()
	}()
	b := &Batch{}
	for {
		if ctx.Err() != nil {
			return nil
		}
		genEnded, err := c.fill(ctx, b)
		if err != nil {
			return err
		}
		if genEnded {
			// Partitions moved: what this instance knew of them is stale.
			// Drop the batch (its messages come again, from the restore
			// points) and the detector state, which the restore rebuilds.
			c.log.Info("consumer group rebalanced: rebuilding detector state from the restore window")
			b.Reset()
			if err := c.reset(); err != nil {
				return err
			}
			continue
		}
		n := int64(len(b.Entries))
		b.Now = time.Now()
		b.Backlog = !c.src.CaughtUp()
		switch {
		case n > 0:
			c.lastRead, c.quiet = b.Now, false // once per batch, not per message
		case c.quietSpell(b.Now):
			b.Final = true // as at the end of a replay; more may follow
		}
		if b, err = c.exec(dctx, b); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil // stopping: what was read is delivered (deferred Close)
		}
		if done := c.processed.Add(n); (c.cfg.StopAfter > 0 && done >= c.cfg.StopAfter) || (c.cfg.Stop != nil && c.cfg.Stop(done)) {
			b.Final = true
			b.Now = time.Now()
			_, err = c.exec(dctx, b)
			return err
		}
	}
}

// fill reads messages into b until it holds BatchSize, BatchWait passed,
// ctx ended (a stop: b is processed, then Run returns) or the generation
// ended (genEnded).
func (c *Consumer) fill(ctx context.Context, b *Batch) (genEnded bool, err error) {
	// One deadline per batch: a context per message cost 8% of the CPU.
	rctx, cancel := context.WithTimeout(ctx, c.cfg.batchWait())
	defer cancel()
	for len(b.Entries) < c.cfg.batchSize() {
		msg, ack, err := c.src.Read(rctx)
		if err != nil {
			switch {
			case ctx.Err() != nil, errors.Is(err, context.DeadlineExceeded):
				return false, nil
			case errors.Is(err, ErrGenerationEnded):
				return true, nil
			}
			return false, fmt.Errorf("reading messages: %w", err)
		}
		if msg.Generation != c.gen {
			c.gen = msg.Generation
			c.parts = c.src.Assigned()
			if c.cfg.Sources != nil {
				c.parts = c.cfg.Sources(c.parts)
			}
			for _, p := range c.parts {
				c.pipe.Reorder.addSource(p, time.Now())
			}
		}
		c.mute.observe(msg)
		c.obuf = strconv.AppendInt(append(append(c.obuf[:0], msg.Source...), '/'), msg.Offset, 10)
		b.Entries = append(b.Entries, Entry{
			Source: msg.Source,
			Raw:    msg.Value,
			// Value is never written again (Message): its bytes are the
			// entry's immutable string, which the record's strings slice
			// instead of a copy of the value each.
			Text:    unsafe.String(unsafe.SliceData(msg.Value), len(msg.Value)),
			Origin:  string(c.obuf), // "topic/partition/offset", one allocation
			Ack:     ack,
			Message: true,
		})
	}
	return false, nil
}

// quietSpell reports whether the input has been quiet for QuietAfter (at
// now), every partition read to its end, since the last message or the
// last flush: the pipeline is then flushed (once per quiet spell).
func (c *Consumer) quietSpell(now time.Time) bool {
	q := c.cfg.quietAfter()
	if q < 0 || c.quiet || c.lastRead.IsZero() || now.Sub(c.lastRead) < q || !c.src.AtEnd() {
		return false
	}
	c.quiet = true
	c.quietFlushes.Add(1)
	c.log.Info("input quiet: taking the decisions that wait for more event time, as at the end of a replay",
		"quiet_for", now.Sub(c.lastRead).Round(time.Millisecond), "held_records", c.pipe.Reorder.numHeld(), "late_records", c.pipe.Reorder.numLate(), "repeats_dropped", c.pipe.Normalize.Stats().Repeated)
	return true
}

// exec hands b to the pipeline's stages and returns the batch to fill next.
func (c *Consumer) exec(ctx context.Context, b *Batch) (*Batch, error) {
	start := time.Now()
	nb, err := c.stages.Exec(ctx, b)
	if err != nil {
		return nb, fmt.Errorf("running pipeline: %w", err)
	}
	// Nothing was read while the batch was reordered and handed over (and
	// waited for a free batch): that time says nothing about the
	// partitions' silence.
	c.pipe.Reorder.stalled(time.Since(start))
	if !c.warned && c.keys.Split() > 0 {
		c.warned = true
		m := c.keys.First()
		c.log.Warn("a mailbox's logs come from more than one partition: the producers do not key messages by tenant/mailbox. "+
			"With more than one member in the group, each would judge the mailbox's runs from part of its logs: "+
			"key the messages by tenant/mailbox, or repartition them (restart ingest with --repartition always; docs/rebalancing.md); syncwatch_mailboxes_split counts such mailboxes",
			"tenant", m.Tenant, "mailbox", m.Mailbox, "partitions", m.Partitions[:])
	}
	if c.cfg.Sources == nil { // (the sources are not the partitions read)
		for _, p := range c.parts {
			c.src.ObserveEventTime(p, c.pipe.Reorder.latest(p))
		}
	}
	if time.Since(c.published) >= publishEvery {
		c.publish()
	}
	return nb, nil
}

// publish copies the pipeline's counters for Summary. It runs on Run's
// goroutine, between batches: the pipeline is not safe for concurrent
// use, and a scrape that read it while a batch ran iterated the engine's
// maps during writes ("concurrent map iteration and map write").
func (c *Consumer) publish() {
	s := c.stages.Summary()
	c.published = time.Now()
	c.summary.Store(&s)
}

// reset closes the current pipeline, once its batches are delivered, and
// starts a new one.
func (c *Consumer) reset() error {
	if c.stages != nil {
		// the old pipeline's batches go out before its state is dropped
		if err := c.stages.Close(); err != nil {
			return fmt.Errorf("running pipeline: %w", err)
		}
	}
	p, err := c.cfg.NewPipeline()
	if err != nil {
		return err
	}
	c.pipe = p
	if !p.Normalize.cfg.Repartitioned { // (a first hop keyed them)
		p.Normalize.keys = c.keys
	}
	c.stages = p.start(c.dctx)
	c.gen = -1
	c.mute = newRestoreMute(p.Normalize.cfg)
	p.Deliver.SetFilter(c.mute.keep)
	c.publish()
	return nil
}
