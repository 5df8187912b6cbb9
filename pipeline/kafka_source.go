package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/hashicorp/go-multierror"
	"github.com/segmentio/kafka-go"
)

// Defaults of KafkaSourceConfig.
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

// KafkaSourceConfig configures a KafkaSource. Its zero value with Brokers
// set works.
type KafkaSourceConfig struct {
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
	// nothing for AlignIdle, does not hold the others back.
	//
	// Default: DefaultMaxAhead (30s); negative: no alignment
	MaxAhead time.Duration

	// Logger receives the source's logs.
	//
	// Default: slog.Default()
	Logger *slog.Logger
}

func (c *KafkaSourceConfig) groupID() string {
	if c.GroupID == "" {
		return DefaultGroupID
	}
	return c.GroupID
}

func (c *KafkaSourceConfig) topics() []string { return topicsOrDefault(c.Topics) }

func (c *KafkaSourceConfig) dialer() *kafka.Dialer { return dialerOrDefault(c.Dialer) }

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

func (c *KafkaSourceConfig) restoreWindow() time.Duration {
	if c.RestoreWindow == 0 {
		return DefaultRestoreWindow
	}
	return c.RestoreWindow
}

func (c *KafkaSourceConfig) minBytes() int { return orDefault(c.MinBytes, DefaultMinBytes) }
func (c *KafkaSourceConfig) maxBytes() int { return orDefault(c.MaxBytes, DefaultMaxBytes) }
func (c *KafkaSourceConfig) maxWait() time.Duration {
	return orDefault(c.MaxWait, DefaultMaxWait)
}
func (c *KafkaSourceConfig) commitInterval() time.Duration {
	return orDefault(c.CommitInterval, DefaultCommitInterval)
}
func (c *KafkaSourceConfig) heartbeatInterval() time.Duration {
	return orDefault(c.HeartbeatInterval, DefaultHeartbeatInterval)
}
func (c *KafkaSourceConfig) sessionTimeout() time.Duration {
	return orDefault(c.SessionTimeout, DefaultSessionTimeout)
}
func (c *KafkaSourceConfig) rebalanceTimeout() time.Duration {
	return orDefault(c.RebalanceTimeout, DefaultRebalanceTimeout)
}
func (c *KafkaSourceConfig) queueCapacity() int {
	return orDefault(c.QueueCapacity, DefaultQueueCapacity)
}

func (c *KafkaSourceConfig) maxAhead() time.Duration {
	return orDefault(c.MaxAhead, DefaultMaxAhead)
}

func (c *KafkaSourceConfig) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.Default()
	}
	return c.Logger
}

func orDefault[T int | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
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
func (c *KafkaSourceConfig) Validate() error {
	var errs *multierror.Error
	add := func(format string, args ...any) { errs = multierror.Append(errs, fmt.Errorf(format, args...)) }

	validateBrokersTopics(c.Brokers, c.Topics, add)
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

// Message is one Kafka message handed out by KafkaSource.Read.
type Message struct {
	Topic     string
	Partition int
	Offset    int64
	// Time is the Kafka message timestamp.
	Time       time.Time
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

// KafkaSource reads the log topics as a member of a consumer group, with
// at-least-once delivery: an offset is committed only after the message
// and every message before it in its partition were acked, so a crash
// replays from the last commit. Messages of one partition come in offset
// order. Each assigned partition is first re-read from its restore point
// (see KafkaSourceConfig.RestoreWindow).
//
// Read is meant for one goroutine; the AckFuncs may be called from any
// goroutine. Ready, Lag and Close are safe for concurrent use.
type KafkaSource struct {
	cfg    KafkaSourceConfig // defaults applied
	dialer *kafka.Dialer
	log    *slog.Logger
	group  *kafka.ConsumerGroup

	ctx     context.Context // ends on Close: stops every goroutine
	cancel  context.CancelFunc
	closed  chan struct{} // closed on Close
	runDone chan struct{} // the run loop returned

	mu       sync.Mutex
	cur      *generation   // the active generation, nil between generations
	changed  chan struct{} // closed (and replaced) when cur is set
	closeErr error         // the final commit error of the generation Close ended

	failing   atomic.Int32 // partition fetchers currently failing
	closeOnce sync.Once

	readMu  sync.Mutex
	rg      *generation // the generation Read is in
	pending []delivery  // the rest of the chunk Read took last, of rg
}

// generation is the source's side of one consumer-group generation.
type generation struct {
	id     int
	gen    *kafka.Generation
	parts  []*partitionState
	msgs   chan []delivery    // every partition's messages, for Read, in chunks
	ctx    context.Context    // ends the generation's fetchers
	cancel context.CancelFunc // ends the generation locally (nack, Close)
	ended  chan struct{}      // closed once the generation is over for Read
}

// partitionState is one assigned partition of a generation.
type partitionState struct {
	topic     string
	partition int
	name      string // "topic/partition"
	// restoredBelow is the committed offset at assignment: messages below
	// it are Restored.
	restoredBelow int64

	mu      sync.Mutex
	tracker *offsetTracker
	closed  bool // the generation ended: acks no longer count

	committed atomic.Int64 // last committed offset (next to read), -1 if none
	highWater atomic.Int64 // last seen high-water mark, -1 if unknown

	// For alignment (KafkaSourceConfig.MaxAhead):
	fetched   atomic.Int64 // next offset to fetch, -1 until known
	eventTime atomic.Int64 // latest event time processed (Unix ns), 0 if none
	delivered atomic.Int64 // wall time of the last delivery (Unix ns)
}

// AlignIdle is how long a partition that delivers nothing still holds the
// others back (alignment), like the reorder stage's idle timeout.
const AlignIdle = 10 * time.Second

// caughtUp reports whether every message the partition had at the last
// fetch was fetched.
func (p *partitionState) caughtUp() bool {
	hw := p.highWater.Load()
	return hw >= 0 && p.fetched.Load() >= hw
}

// ahead reports whether p is more than maxAhead of event time ahead of a
// partition of g that is still being read (or has told no event time
// yet), so that p's fetcher should wait.
func (g *generation) ahead(p *partitionState, maxAhead time.Duration, now time.Time) bool {
	t := p.eventTime.Load()
	if t == 0 || maxAhead < 0 {
		return false
	}
	idle := now.Add(-AlignIdle).UnixNano()
	for _, q := range g.parts {
		if q == p || q.caughtUp() || q.delivered.Load() < idle {
			continue
		}
		if qt := q.eventTime.Load(); qt == 0 || t-qt > int64(maxAhead) {
			return true
		}
	}
	return false
}

// ObserveEventTime tells the source the latest event time processed from a
// partition ("topic/partition"), for alignment (KafkaSourceConfig.MaxAhead).
// Call it after each batch. Unknown partitions are ignored.
func (s *KafkaSource) ObserveEventTime(partition string, t time.Time) {
	if t.IsZero() {
		return
	}
	s.mu.Lock()
	g := s.cur
	s.mu.Unlock()
	if g == nil {
		return
	}
	for _, p := range g.parts {
		if p.name == partition {
			if ns := t.UnixNano(); ns > p.eventTime.Load() {
				p.eventTime.Store(ns)
			}
			return
		}
	}
}

type delivery struct {
	msg Message
	ack AckFunc
}

// NewKafkaSource validates cfg and starts joining the group in the
// background; it does not wait for the broker. Connection problems are
// retried with backoff and show in Ready. Call Close to leave the group.
func NewKafkaSource(cfg KafkaSourceConfig) (*KafkaSource, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("validating kafka source config: %w", err)
	}
	resolved := cfg
	resolved.Brokers = slices.Clone(cfg.Brokers)
	resolved.GroupID = cfg.groupID()
	resolved.Topics = cfg.topics()
	resolved.Logger = cfg.logger()
	s := &KafkaSource{
		cfg:     resolved,
		dialer:  cfg.dialer(),
		log:     resolved.Logger.With("component", "kafka_source", "group", resolved.GroupID),
		closed:  make(chan struct{}),
		runDone: make(chan struct{}),
		changed: make(chan struct{}),
	}
	debug := kafka.LoggerFunc(func(msg string, args ...any) {
		s.log.Debug(fmt.Sprintf(msg, args...))
	})
	group, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:                resolved.GroupID,
		Brokers:           resolved.Brokers,
		Dialer:            s.dialer,
		Topics:            resolved.Topics,
		HeartbeatInterval: cfg.heartbeatInterval(),
		SessionTimeout:    cfg.sessionTimeout(),
		RebalanceTimeout:  cfg.rebalanceTimeout(),
		// kafka-go waits this long after a failed join, on top of run's
		// exponential backoff, which is what paces the retries.
		JoinGroupBackoff:      100 * time.Millisecond,
		WatchPartitionChanges: true,
		// Range stays as a fallback so that a group mixing versions still
		// agrees on a protocol during a rolling upgrade.
		GroupBalancers: []kafka.GroupBalancer{CoPartitionBalancer{}, kafka.RangeGroupBalancer{}},
		StartOffset:    kafka.FirstOffset,
		Logger:         debug,
		ErrorLogger:    debug, // errors also come out of Next, logged there
	})
	if err != nil {
		return nil, fmt.Errorf("creating consumer group: %w", err)
	}
	s.group = group
	s.ctx, s.cancel = context.WithCancel(context.Background())
	go s.run()
	return s, nil
}

// Read blocks until the next message, and returns it with the AckFunc to
// call once everything the message caused was delivered to every sink.
//
// Errors: ctx.Err() when ctx ends; ErrGenerationEnded once for every
// generation Read entered that has ended (the caller drops its state and
// keeps reading; acks of that generation's messages no longer count, and
// the partitions are read again from their restore points by whichever
// member gets them); ErrSourceClosed after Close.
//
// The AckFunc never blocks. ack(ctx, nil) marks the message done; the
// offsets are committed in partition order every CommitInterval, never past
// a message not yet acked. ack(ctx, err) with a non-nil err is a nack: the
// source ends its generation (Read returns ErrGenerationEnded), commits what
// was acked before the nacked message and rejoins the group, so the nacked
// message and everything after it is delivered again (after the restore
// messages). Acking a Restored message, or any message after its generation
// ended, does nothing and returns nil. Acking a message twice returns an
// error.
func (s *KafkaSource) Read(ctx context.Context) (Message, AckFunc, error) {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	for {
		select {
		case <-s.closed:
			return Message{}, nil, ErrSourceClosed
		default:
		}
		if g := s.rg; g != nil {
			select {
			case <-g.ended:
				s.rg, s.pending = nil, nil
				return Message{}, nil, ErrGenerationEnded
			default:
			}
			if len(s.pending) > 0 {
				d := s.pending[0]
				s.pending[0] = delivery{}
				s.pending = s.pending[1:]
				return d.msg, d.ack, nil
			}
			select {
			case c := <-g.msgs:
				s.pending = c
				continue // the generation may have ended meanwhile
			case <-g.ended:
				s.rg = nil
				return Message{}, nil, ErrGenerationEnded
			case <-s.closed:
				return Message{}, nil, ErrSourceClosed
			case <-ctx.Done():
				return Message{}, nil, ctx.Err()
			}
		}
		s.mu.Lock()
		g, changed := s.cur, s.changed
		s.mu.Unlock()
		if g != nil {
			s.rg = g
			continue
		}
		select {
		case <-changed:
		case <-s.closed:
			return Message{}, nil, ErrSourceClosed
		case <-ctx.Done():
			return Message{}, nil, ctx.Err()
		}
	}
}

// ackFunc returns the AckFunc of the message at offset of p, read in g.
func ackFunc(g *generation, p *partitionState, offset int64) AckFunc {
	return func(_ context.Context, err error) error {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.closed {
			return nil
		}
		if err != nil {
			g.cancel() // nack: end the generation, see Read
			return nil
		}
		if err := p.tracker.ack(offset); err != nil {
			return fmt.Errorf("acking %s/%d/%d: %w", p.topic, p.partition, offset, err)
		}
		return nil
	}
}

// ackRestored is the AckFunc of restored messages.
func ackRestored(context.Context, error) error { return nil }

// Ready reports whether the source is consuming: it is false before the
// first generation, between generations (a rebalance, usually a few
// seconds) and while the broker or a partition leader cannot be reached.
// It does not block.
func (s *KafkaSource) Ready() bool {
	s.mu.Lock()
	active := s.cur != nil
	s.mu.Unlock()
	return active && s.failing.Load() == 0
}

// Lag returns, for each partition of the current generation, keyed
// "topic/partition", how many messages are not yet committed: the last
// seen high-water mark minus the committed offset. Partitions whose
// high-water mark is not known yet are left out. It does not block.
func (s *KafkaSource) Lag() map[string]int64 {
	s.mu.Lock()
	g := s.cur
	s.mu.Unlock()
	lag := map[string]int64{}
	if g == nil {
		return lag
	}
	for _, p := range g.parts {
		hw := p.highWater.Load()
		if hw < 0 {
			continue
		}
		c := max(p.committed.Load(), 0)
		lag[p.topic+"/"+strconv.Itoa(p.partition)] = max(hw-c, 0)
	}
	return lag
}

// Close stops fetching, commits what was acked, leaves the group and
// waits for the background goroutines. ctx bounds the whole call; when it
// ends first, Close returns its error and the goroutines finish on their
// own. Read returns ErrSourceClosed afterwards. Calling Close again waits
// again and returns nil or ctx's error.
func (s *KafkaSource) Close(ctx context.Context) error {
	first := false
	s.closeOnce.Do(func() {
		first = true
		close(s.closed)
		s.cancel()
	})
	done := make(chan error, 1)
	go func() {
		<-s.runDone
		// Waits for the generation's goroutines (the final commit), then
		// leaves the group.
		done <- s.group.Close()
	}()
	select {
	case err := <-done:
		if !first {
			return nil
		}
		var errs *multierror.Error
		if err != nil {
			errs = multierror.Append(errs, fmt.Errorf("leaving consumer group: %w", err))
		}
		s.mu.Lock()
		if s.closeErr != nil {
			errs = multierror.Append(errs, s.closeErr)
		}
		s.mu.Unlock()
		return errs.ErrorOrNil()
	case <-ctx.Done():
		return fmt.Errorf("closing kafka source: %w", ctx.Err())
	}
}

// run takes every generation from the group until Close.
func (s *KafkaSource) run() {
	defer close(s.runDone)
	bo := newBackoff()
	failing := false
	for {
		gen, err := s.group.Next(s.ctx)
		if err != nil {
			if s.ctx.Err() != nil || errors.Is(err, kafka.ErrGroupClosed) {
				return
			}
			wait := bo.NextBackOff()
			level := slog.LevelDebug
			if !failing {
				failing, level = true, slog.LevelWarn
			}
			s.log.Log(s.ctx, level, "joining consumer group failed, retrying with backoff", "err", err, "retry_in", wait)
			if !sleep(s.ctx, wait) {
				return
			}
			continue
		}
		if failing {
			failing = false
			s.log.Info("joined consumer group again")
		}
		bo.Reset()
		s.startGeneration(gen)
	}
}

// startGeneration starts a fetcher per assigned partition and a supervisor
// that commits and tears the generation down. All of them run under
// gen.Start, so the group waits for them before joining the next
// generation.
func (s *KafkaSource) startGeneration(gen *kafka.Generation) {
	g := &generation{
		id:    int(gen.ID),
		gen:   gen,
		msgs:  make(chan []delivery, max(1, s.cfg.queueCapacity()/deliveryChunk)),
		ended: make(chan struct{}),
	}
	g.ctx, g.cancel = context.WithCancel(s.ctx)
	for topic, assigned := range gen.Assignments {
		for _, a := range assigned {
			p := &partitionState{
				topic:         topic,
				partition:     a.ID,
				name:          topic + "/" + strconv.Itoa(a.ID),
				restoredBelow: a.Offset, // FirstOffset (-2) when nothing was committed
				tracker:       newOffsetTracker(),
			}
			p.committed.Store(max(a.Offset, -1))
			p.highWater.Store(-1)
			p.fetched.Store(-1)
			p.delivered.Store(time.Now().UnixNano())
			g.parts = append(g.parts, p)
		}
	}
	slices.SortFunc(g.parts, func(a, b *partitionState) int {
		if a.topic != b.topic {
			if a.topic < b.topic {
				return -1
			}
			return 1
		}
		return a.partition - b.partition
	})
	s.log.Info("consumer group generation started", "generation", g.id, "member", gen.MemberID, "partitions", partitionNames(g.parts))

	s.mu.Lock()
	s.cur = g
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()

	gen.Start(func(genCtx context.Context) { s.supervise(genCtx, g) })
	for _, p := range g.parts {
		gen.Start(func(context.Context) { s.consume(g, p) })
	}
}

// supervise commits the generation's acked offsets every CommitInterval and
// tears the generation down when the group ends it (genCtx) or the source
// does (g.ctx: nack or Close).
func (s *KafkaSource) supervise(genCtx context.Context, g *generation) {
	t := time.NewTicker(s.cfg.commitInterval())
	defer t.Stop()
loop:
	for {
		select {
		case <-t.C:
			if err := s.commit(g, false); err != nil {
				s.log.Warn("committing offsets failed, retrying at the next interval", "generation", g.id, "err", err)
			}
		case <-genCtx.Done():
			break loop
		case <-g.ctx.Done():
			break loop
		}
	}
	g.cancel() // stop the fetchers

	s.mu.Lock()
	if s.cur == g {
		s.cur = nil
	}
	s.mu.Unlock()
	close(g.ended)

	err := s.commit(g, true)
	if err != nil {
		s.log.Warn("committing offsets at the end of the generation failed; the partitions' next owner re-reads from the previous commit", "generation", g.id, "err", err)
		err = fmt.Errorf("committing offsets of generation %d: %w", g.id, err)
	}
	if s.ctx.Err() != nil {
		s.mu.Lock()
		s.closeErr = err
		s.mu.Unlock()
	}
	s.log.Info("consumer group generation ended", "generation", g.id)
}

// commit commits, per partition, the offset after the last message of an
// acked prefix, if it moved. With final set, acks stop counting first.
func (s *KafkaSource) commit(g *generation, final bool) error {
	offsets := map[string]map[int]int64{}
	for _, p := range g.parts {
		p.mu.Lock()
		if final {
			p.closed = true
		}
		n, ok := p.tracker.committable()
		p.mu.Unlock()
		if !ok || n+1 <= p.committed.Load() {
			continue
		}
		if offsets[p.topic] == nil {
			offsets[p.topic] = map[int]int64{}
		}
		offsets[p.topic][p.partition] = n + 1
	}
	if len(offsets) == 0 {
		return nil
	}
	if err := g.gen.CommitOffsets(offsets); err != nil {
		return err
	}
	for _, p := range g.parts {
		if o, ok := offsets[p.topic][p.partition]; ok {
			p.committed.Store(o)
		}
	}
	s.log.Debug("committed offsets", "generation", g.id, "offsets", offsets)
	return nil
}

// consume fetches one partition, from its restore point, until the
// generation ends. Failures are retried with backoff; the partition counts
// as failing (Ready is false) until a fetch succeeds again.
func (s *KafkaSource) consume(g *generation, p *partitionState) {
	f := &fetcher{s: s, g: g, p: p, bo: newBackoff(), offset: -1}
	defer f.healthy() // a failing fetcher stops counting when it exits
	defer f.closeConn()
	for g.ctx.Err() == nil {
		if err := f.step(); err != nil {
			if g.ctx.Err() != nil {
				return
			}
			f.closeConn()
			wait := f.bo.NextBackOff()
			f.unhealthy(err, wait)
			if !sleep(g.ctx, wait) {
				return
			}
			continue
		}
		f.bo.Reset()
		f.healthy()
	}
}

// fetcher is the state of one partition's fetch loop.
type fetcher struct {
	s       *KafkaSource
	g       *generation
	p       *partitionState
	bo      *backoff.ExponentialBackOff
	conn    *kafka.Conn
	stop    func() bool // unregisters the conn closer
	offset  int64       // next offset to fetch, -1 until the restore point is known
	buf     []kafka.Message
	failing bool
}

// step connects if needed, finds the restore point once, then fetches
// and delivers one batch.
func (f *fetcher) step() error {
	if f.conn == nil {
		conn, err := f.dialLeader()
		if err != nil {
			return err
		}
		f.conn = conn
		// Unblock a fetch in flight when the generation ends.
		f.stop = context.AfterFunc(f.g.ctx, func() { _ = conn.Close() })
	}
	if f.offset < 0 {
		start, err := f.restorePoint()
		if err != nil {
			return err
		}
		f.offset = start
		f.p.fetched.Store(start)
	}
	msgs, next, err := f.fetch()
	if err != nil {
		if errors.Is(err, kafka.OffsetOutOfRange) {
			return f.outOfRange(err)
		}
		return err
	}
	defer func() {
		clear(msgs)
		f.buf = msgs[:0]
	}()
	for start := 0; start < len(msgs); start += deliveryChunk {
		if err := f.deliver(msgs[start:min(len(msgs), start+deliveryChunk)]); err != nil {
			return err
		}
	}
	f.offset = next
	f.p.fetched.Store(next)
	return nil
}

func (f *fetcher) dialLeader() (*kafka.Conn, error) {
	var errs *multierror.Error
	for _, b := range f.s.cfg.Brokers {
		conn, err := f.s.dialer.DialLeader(f.g.ctx, "tcp", b, f.p.topic, f.p.partition)
		if err == nil {
			return conn, nil
		}
		errs = multierror.Append(errs, fmt.Errorf("dialing leader of %s/%d via %s: %w", f.p.topic, f.p.partition, b, err))
	}
	return nil, errs.ErrorOrNil()
}

func (f *fetcher) closeConn() {
	if f.conn == nil {
		return
	}
	if f.stop != nil {
		f.stop()
	}
	_ = f.conn.Close()
	f.conn, f.stop = nil, nil
}

// restorePoint returns the offset to start reading at: the first message
// at most RestoreWindow older than the last committed one (c-1), or c
// itself when there is nothing to restore. It clamps a committed offset
// outside the partition's log to its bounds.
func (f *fetcher) restorePoint() (int64, error) {
	conn := f.conn
	if err := conn.SetDeadline(time.Now().Add(f.s.ioTimeout())); err != nil {
		return 0, fmt.Errorf("setting deadline: %w", err)
	}
	defer func() { _ = conn.SetDeadline(time.Time{}) }()
	first, last, err := conn.ReadOffsets()
	if err != nil {
		return 0, fmt.Errorf("reading offsets of %s/%d: %w", f.p.topic, f.p.partition, err)
	}
	c := f.p.restoredBelow
	if c < 0 { // nothing committed: read everything, nothing is restored
		return first, nil
	}
	log := f.s.log.With("topic", f.p.topic, "partition", f.p.partition)
	switch {
	case c < first:
		log.Warn("committed offset is below the log start: messages were deleted before they were processed", "committed", c, "log_start", first)
		c = first
	case c > last:
		log.Warn("committed offset is past the log end; starting at the end", "committed", c, "log_end", last)
		c = last
		f.p.committed.Store(c)
	}
	f.p.restoredBelow = c
	if f.s.cfg.restoreWindow() < 0 || c == first {
		return c, nil
	}
	// The time of the last processed message, c-1.
	if _, err := conn.Seek(c-1, kafka.SeekAbsolute|kafka.SeekDontCheck); err != nil {
		return 0, fmt.Errorf("seeking to %d: %w", c-1, err)
	}
	batch := conn.ReadBatchWith(kafka.ReadBatchConfig{MinBytes: 1, MaxBytes: f.s.cfg.maxBytes(), MaxWait: f.s.cfg.maxWait()})
	m, readErr := batch.ReadMessage()
	if err := batch.Close(); err != nil {
		return 0, fmt.Errorf("reading message %d of %s/%d: %w", c-1, f.p.topic, f.p.partition, err)
	}
	if readErr != nil || m.Offset >= c {
		// c-1 is gone (compacted, a transaction marker): restore nothing.
		log.Warn("cannot read the last committed message; not restoring", "offset", c-1, "err", readErr)
		return c, nil
	}
	from := m.Time.Add(-f.s.cfg.restoreWindow())
	start, err := conn.ReadOffset(from)
	if err != nil {
		return 0, fmt.Errorf("looking up offset for time %s: %w", from.Format(time.RFC3339), err)
	}
	if start < 0 { // no message that recent: cannot happen for c-1's own time
		start = c
	}
	start = min(max(start, first), c)
	log.Info("restoring partition", "from_offset", start, "committed", c, "from_time", from)
	return start, nil
}

// fetch reads one batch at f.offset. The whole batch is read before any
// message is delivered, so a slow caller never holds the connection.
func (f *fetcher) fetch() ([]kafka.Message, int64, error) {
	conn := f.conn
	if _, err := conn.Seek(f.offset, kafka.SeekAbsolute|kafka.SeekDontCheck); err != nil {
		return nil, 0, fmt.Errorf("seeking to %d: %w", f.offset, err)
	}
	if err := conn.SetReadDeadline(time.Now().Add(f.s.ioTimeout())); err != nil {
		return nil, 0, fmt.Errorf("setting deadline: %w", err)
	}
	batch := conn.ReadBatchWith(kafka.ReadBatchConfig{
		MinBytes: f.s.cfg.minBytes(),
		MaxBytes: f.s.cfg.maxBytes(),
		MaxWait:  f.s.cfg.maxWait(),
	})
	msgs := f.buf[:0]
	for {
		m, err := batch.ReadMessage()
		if err != nil {
			break // io.EOF at the end; other errors come out of Close
		}
		msgs = append(msgs, m)
	}
	next := batch.Offset()
	if hw := batch.HighWaterMark(); hw >= 0 {
		f.p.highWater.Store(hw)
	}
	if err := batch.Close(); err != nil && !errors.Is(err, io.EOF) {
		if errors.Is(err, kafka.RequestTimedOut) {
			return msgs, next, nil // the broker's MaxWait passed with nothing new
		}
		return nil, 0, fmt.Errorf("fetching %s/%d at offset %d: %w", f.p.topic, f.p.partition, f.offset, err)
	}
	return msgs, next, nil
}

// outOfRange handles a fetch outside the partition's log: messages deleted
// by retention are skipped (with a warning); past the end, it waits.
func (f *fetcher) outOfRange(cause error) error {
	first, last, err := f.conn.ReadOffsets()
	if err != nil {
		return fmt.Errorf("reading offsets of %s/%d after %w: %w", f.p.topic, f.p.partition, cause, err)
	}
	if f.offset < first {
		f.s.log.Warn("skipping messages deleted before they were read", "topic", f.p.topic, "partition", f.p.partition, "from", f.offset, "to", first)
		f.offset = first
		return nil
	}
	if f.offset > last {
		return fmt.Errorf("offset %d of %s/%d is past the log end %d: %w", f.offset, f.p.topic, f.p.partition, last, cause)
	}
	return nil
}

// deliver hands m to Read, tracking its offset first when it is live.
// It blocks while the queue is full (backpressure).
// deliveryChunk is how many messages a fetcher hands over to Read at a
// time: per chunk, not per message, it takes the partition's lock, checks
// alignment and sends on the channel.
const deliveryChunk = 256

// deliver hands msgs (consecutive, of one fetch) over to Read.
func (f *fetcher) deliver(msgs []kafka.Message) error {
	p := f.p
	ds := make([]delivery, len(msgs))
	p.mu.Lock()
	for i, m := range msgs {
		restored := m.Offset < p.restoredBelow
		if !restored {
			if err := p.tracker.track(m.Offset); err != nil {
				p.mu.Unlock()
				return fmt.Errorf("delivering %s/%d/%d: %w", p.topic, p.partition, m.Offset, err)
			}
		}
		ds[i] = delivery{
			msg: Message{
				Topic:      m.Topic,
				Partition:  m.Partition,
				Offset:     m.Offset,
				Time:       m.Time,
				Key:        m.Key,
				Value:      m.Value,
				Generation: f.g.id,
				Restored:   restored,
			},
			ack: ackRestored,
		}
		if !restored {
			ds[i].ack = ackFunc(f.g, p, m.Offset)
		}
	}
	p.mu.Unlock()
	// Alignment: wait while this partition is too far ahead of another
	// still being read.
	for f.g.ahead(p, f.s.cfg.maxAhead(), time.Now()) {
		if !sleep(f.g.ctx, 2*time.Millisecond) {
			return f.g.ctx.Err()
		}
	}
	p.delivered.Store(time.Now().UnixNano())
	select {
	case f.g.msgs <- ds:
		return nil
	case <-f.g.ctx.Done():
		return f.g.ctx.Err()
	}
}

func (f *fetcher) unhealthy(err error, wait time.Duration) {
	if !f.failing {
		f.failing = true
		f.s.failing.Add(1)
		f.s.log.Warn("fetching partition failed, retrying with backoff", "topic", f.p.topic, "partition", f.p.partition, "err", err, "retry_in", wait)
		return
	}
	f.s.log.Debug("fetching partition failed again", "topic", f.p.topic, "partition", f.p.partition, "err", err, "retry_in", wait)
}

func (f *fetcher) healthy() {
	if f.failing {
		f.failing = false
		f.s.failing.Add(-1)
		if f.g.ctx.Err() == nil {
			f.s.log.Info("fetching partition recovered", "topic", f.p.topic, "partition", f.p.partition)
		}
	}
}

// ioTimeout bounds one request to a partition leader: the broker's MaxWait
// plus time for the network.
func (s *KafkaSource) ioTimeout() time.Duration {
	return s.cfg.maxWait() + defaultDialTimeout
}

// newBackoff is the retry policy of fetches and group joins: 100ms growing
// to 10s, with jitter.
func newBackoff() *backoff.ExponentialBackOff {
	return &backoff.ExponentialBackOff{
		InitialInterval:     100 * time.Millisecond,
		RandomizationFactor: 0.5,
		Multiplier:          2,
		MaxInterval:         10 * time.Second,
	}
}

// sleep waits for d or until ctx ends, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func partitionNames(parts []*partitionState) []string {
	names := make([]string, len(parts))
	for i, p := range parts {
		names[i] = p.topic + "/" + strconv.Itoa(p.partition)
	}
	return names
}
