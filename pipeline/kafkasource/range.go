package kafkasource

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-multierror"
	"github.com/segmentio/kafka-go"

	"github.com/syncwatch/syncwatch/pipeline"
	"github.com/syncwatch/syncwatch/pipeline/parse"
)

// ErrNoSuchTopic is OpenRange's error for a topic the brokers do not have.
var ErrNoSuchTopic = errors.New("no such topic")

// DefaultRangeMargin is RangeConfig.Margin's default.
const DefaultRangeMargin = 15 * time.Minute

// Tuning of a range read.
const (
	// rangeFetchAttempts is how often a failing fetch is tried before the
	// replay fails: a replay is a batch job, it reports an outage rather
	// than wait it out.
	rangeFetchAttempts = 5
	// rangeEmptyFetches is how many fetches in a row may come back empty
	// below the end offset (a broker that stopped answering) before the
	// read fails.
	rangeEmptyFetches = 20
)

// RangeConfig configures OpenRange. Its zero value with Brokers
// set reads the three topics whole, up to their end as of the call.
type RangeConfig struct {
	// Brokers are the bootstrap addresses ("host:port"). Required.
	Brokers []string

	// Topics are the topics to read.
	//
	// Default: sync.exchange-connector, sync.engine, sync.c4cc-connector
	Topics []string

	// Dialer opens every connection (TLS, SASL, client id, timeouts).
	//
	// Default: a dialer with a 10s timeout, like kafka.DefaultDialer
	Dialer *kafka.Dialer

	// From and To bound the read by Kafka message timestamp: each
	// partition is read from its first message stamped at or after
	// From-Margin, until a message stamped after To+Margin or the
	// partition's end offset at the time of OpenRange, whichever
	// comes first. A zero From reads from the partition's start, a zero
	// To up to its end offset. Message timestamps are the producer's (or
	// the broker's) clock, not the logs' event time: the caller cuts the
	// entries to the event-time window (ReplayOptions.From, To), and
	// Margin covers the difference between the two clocks.
	From, To time.Time

	// Margin widens [From, To] on message time, for producers that stamp
	// messages later (or earlier) than the event time of the logs they
	// carry. A negative Margin ignores message timestamps: partitions are
	// read whole, up to their end offsets.
	//
	// Default: 15m (DefaultRangeMargin)
	Margin time.Duration

	// MaxBytes is the most one fetch of a partition returns.
	//
	// Default: DefaultMaxBytes (1 MiB)
	MaxBytes int

	// MaxWait is how long the broker may hold a fetch that has nothing.
	//
	// Default: DefaultMaxWait (500ms)
	MaxWait time.Duration

	// Offsets are first offsets to read, by partition ("topic/partition"),
	// for a reader that resumes where it stopped: they take the place of
	// From for the partitions they name.
	//
	// Default: none
	Offsets map[string]int64

	// NotLogs says the messages are not log entries (the incidents
	// topic): their event-time order is not sampled.
	NotLogs bool

	// Envelope is the envelope messages come in, used to sample each
	// range for event-time order (backlog.go).
	//
	// Default: parse.EnvelopeAuto
	Envelope parse.Envelope
}

func (c *RangeConfig) topics() []string       { return topicsOrDefault(c.Topics) }
func (c *RangeConfig) dialer() *kafka.Dialer  { return dialerOrDefault(c.Dialer) }
func (c *RangeConfig) margin() time.Duration  { return cmp.Or(c.Margin, DefaultRangeMargin) }
func (c *RangeConfig) maxBytes() int          { return cmp.Or(c.MaxBytes, DefaultMaxBytes) }
func (c *RangeConfig) maxWait() time.Duration { return cmp.Or(c.MaxWait, DefaultMaxWait) }

// startTime is the message time reading starts at (zero: the start).
func (c *RangeConfig) startTime() time.Time {
	if c.From.IsZero() || c.margin() < 0 {
		return time.Time{}
	}
	return c.From.Add(-c.margin())
}

// stopTime is the message time past which reading stops (zero: never).
func (c *RangeConfig) stopTime() time.Time {
	if c.To.IsZero() || c.margin() < 0 {
		return time.Time{}
	}
	return c.To.Add(c.margin())
}

// Validate reports every problem of the configuration at once, each naming
// its field. c is not changed. Dialer and Margin take any value (a negative
// Margin reads whole partitions).
func (c *RangeConfig) Validate() error {
	var errs *multierror.Error
	add := func(format string, args ...any) { errs = multierror.Append(errs, fmt.Errorf(format, args...)) }
	validateBrokersTopics(c.Brokers, c.Topics, add)
	if !c.From.IsZero() && !c.To.IsZero() && !c.To.After(c.From) {
		add("To %s: must be after From %s", c.To.Format(time.RFC3339), c.From.Format(time.RFC3339))
	}
	if c.MaxBytes < 0 {
		add("MaxBytes %d: must not be negative", c.MaxBytes)
	}
	if c.MaxWait < 0 {
		add("MaxWait %v: must not be negative", c.MaxWait)
	}
	if c.Envelope > parse.EnvelopeOTLP {
		add("Envelope %v: unknown", c.Envelope)
	}
	return errs.ErrorOrNil()
}

// RangeSource is one partition read from a start offset to an end
// offset, without a consumer group: nothing is committed and no group is
// joined, so a range read never disturbs the live consumers. It is an
// EntryReader: one message is one entry (an ExchangeConnector entry with
// a stack trace is one multi-line message), named "topic/partition" with
// origins "topic/partition/offset", as the live consumer names them.
type RangeSource struct {
	// Topic and Partition name the partition.
	Topic     string
	Partition int
	// Start and End are the offsets read: [Start, End). End is the
	// partition's end offset when the range was opened.
	Start, End int64

	cfg  *RangeConfig
	name string
	stop time.Time // message time past which reading stops; zero: none
	// outOfOrder: the range is out of event-time order (HoldsBacklog)
	outOfOrder bool
	lastTime   time.Time // Kafka timestamp of the last message read
	offset     int64     // next offset to fetch
	buf        []kafka.Message
	pos        int
	done       bool
	bytes      atomic.Int64
	read       atomic.Int64

	// Close may come from another goroutine than ReadEntry's (a replay
	// that is cancelled does not wait for its readers).
	mu     sync.Mutex
	conn   *kafka.Conn
	closed bool
}

var _ pipeline.EntryReader = (*RangeSource)(nil)

// HoldsBacklog says whether the partition's range is out of event-time
// order (backlog.go): it is then read whole before its records are
// ordered (pipeline.Batch.Backlog), as the live consumer orders such a
// partition when it catches up on it.
func (s *RangeSource) HoldsBacklog() bool { return s.outOfOrder }

// OpenRange looks up, for every partition of cfg's topics, the
// offsets to read: from the first message stamped at or after
// From-Margin to the partition's end offset now. It returns one source
// per partition that has something to read, in topic and partition order
// (none when the range is empty). It only reads metadata and offsets: it
// creates no topic, joins no group and commits nothing. It blocks until
// every lookup is done or ctx ends; a topic that does not exist is an
// error naming it.
func OpenRange(ctx context.Context, cfg RangeConfig) ([]*RangeSource, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("validating Kafka range: %w", err)
	}
	c := &cfg
	parts, err := c.partitions(ctx)
	if err != nil {
		return nil, err
	}
	var out []*RangeSource
	closeAll := func() {
		for _, s := range out {
			s.Close()
		}
	}
	for _, p := range parts {
		s, err := c.open(ctx, p.Topic, p.ID)
		if err != nil {
			closeAll()
			return nil, err
		}
		if s.Start >= s.End {
			s.Close()
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

// partitions lists the partitions of the topics, in the topics' order.
// It asks for every topic's metadata rather than the named ones: naming
// a missing topic would create it on a broker that auto-creates topics.
func (c *RangeConfig) partitions(ctx context.Context) ([]kafka.Partition, error) {
	var (
		conn *kafka.Conn
		errs *multierror.Error
	)
	for _, b := range c.Brokers {
		cn, err := c.dialer().DialContext(ctx, "tcp", b)
		if err == nil {
			conn = cn
			break
		}
		errs = multierror.Append(errs, fmt.Errorf("dialing %s: %w", b, err))
	}
	if conn == nil {
		return nil, fmt.Errorf("connecting to Kafka: %w", errs.ErrorOrNil())
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(c.dialer().Timeout + c.maxWait())); err != nil {
		return nil, fmt.Errorf("setting deadline: %w", err)
	}
	all, err := conn.ReadPartitions()
	if err != nil {
		return nil, fmt.Errorf("reading topic metadata: %w", err)
	}
	var out []kafka.Partition
	for _, t := range c.topics() {
		var ps []kafka.Partition
		for _, p := range all {
			if p.Topic == t {
				ps = append(ps, p)
			}
		}
		if len(ps) == 0 {
			return nil, fmt.Errorf("reading topic %q: %w", t, ErrNoSuchTopic)
		}
		slices.SortFunc(ps, func(a, b kafka.Partition) int { return a.ID - b.ID })
		out = append(out, ps...)
	}
	return out, nil
}

// open connects to a partition's leader and looks up its offsets.
func (c *RangeConfig) open(ctx context.Context, topic string, partition int) (*RangeSource, error) {
	s := &RangeSource{
		Topic: topic, Partition: partition, cfg: c,
		name: partitionName(topic, partition), stop: c.stopTime(),
	}
	conn, err := s.connection(ctx)
	if err != nil {
		return nil, err
	}
	defer context.AfterFunc(ctx, func() { _ = conn.Close() })()
	if err := conn.SetDeadline(time.Now().Add(c.dialer().Timeout + c.maxWait())); err != nil {
		s.Close()
		return nil, fmt.Errorf("setting deadline: %w", err)
	}
	first, last, err := conn.ReadOffsets()
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("reading offsets of %s: %w", s.name, err)
	}
	s.Start, s.End = first, last
	if off, ok := c.Offsets[s.name]; ok {
		s.Start = min(max(off, first), last)
	} else if t := c.startTime(); !t.IsZero() {
		off, err := conn.ReadOffset(t)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("looking up offset of %s for time %s: %w", s.name, t.Format(time.RFC3339), err)
		}
		if off < 0 { // no message that recent
			off = last
		}
		s.Start = min(max(off, first), last)
	}
	if !c.NotLogs {
		_ = conn.SetDeadline(time.Now().Add(sampleWindows * (c.dialer().Timeout + c.maxWait())))
		if s.outOfOrder, err = sampleBacklog(conn, s.Start, s.End, c.maxWait(), c.Envelope); err != nil {
			s.Close()
			return nil, fmt.Errorf("sampling %s: %w", s.name, err)
		}
	}
	_ = conn.SetDeadline(time.Time{})
	s.offset = s.Start
	return s, nil
}

// connection returns the connection to the partition's leader, dialing
// it (through the first broker that answers) if there is none.
func (s *RangeSource) connection(ctx context.Context) (*kafka.Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, pipeline.ErrSourceClosed
	}
	if s.conn != nil {
		return s.conn, nil
	}
	var errs *multierror.Error
	for _, b := range s.cfg.Brokers {
		conn, err := s.cfg.dialer().DialLeader(ctx, "tcp", b, s.Topic, s.Partition)
		if err == nil {
			s.conn = conn
			return conn, nil
		}
		errs = multierror.Append(errs, fmt.Errorf("dialing leader of %s via %s: %w", s.name, b, err))
	}
	return nil, errs.ErrorOrNil()
}

// dropConn closes conn, after a failure on it: the next fetch dials again.
func (s *RangeSource) dropConn(conn *kafka.Conn) {
	s.mu.Lock()
	if s.conn == conn {
		s.conn = nil
	}
	s.mu.Unlock()
	_ = conn.Close()
}

// SourceName is "topic/partition".
func (s *RangeSource) SourceName() string { return s.name }

// BytesRead is the size of the message values read so far. It is safe to
// call while another goroutine reads the source.
func (s *RangeSource) BytesRead() int64 { return s.bytes.Load() }

// Messages is the number of messages read so far. It is safe to call
// while another goroutine reads the source.
func (s *RangeSource) Messages() int64 { return s.read.Load() }

// LastTime is the Kafka timestamp of the last message ReadEntry returned
// (the producer's or the broker's clock), zero before the first. Call it
// from ReadEntry's goroutine.
func (s *RangeSource) LastTime() time.Time { return s.lastTime }

// Close closes the connection; a fetch in flight fails. It is safe to
// call more than once, and concurrently with ReadEntry.
func (s *RangeSource) Close() error {
	s.mu.Lock()
	conn := s.conn
	s.conn, s.closed = nil, true
	s.mu.Unlock()
	if conn != nil {
		return conn.Close()
	}
	return nil
}

// ReadEntry reads the next message into en; en.Raw is the message value,
// valid until the next call. It returns io.EOF once the end offset is
// reached or a message is stamped after the range's stop time. It blocks
// while fetching, retrying a failed fetch a few times with backoff;
// ctx ends the wait.
func (s *RangeSource) ReadEntry(ctx context.Context, en *pipeline.Entry) error {
	for s.pos >= len(s.buf) {
		if s.done || s.offset >= s.End {
			s.done = true
			return io.EOF
		}
		if err := s.fetch(ctx); err != nil {
			return err
		}
	}
	m := &s.buf[s.pos]
	s.pos++
	if m.Offset >= s.End || (!s.stop.IsZero() && m.Time.After(s.stop)) {
		s.done = true
		return io.EOF
	}
	s.bytes.Add(int64(len(m.Value)))
	s.read.Add(1)
	s.lastTime = m.Time
	*en = pipeline.Entry{
		Source:  s.name,
		Raw:     m.Value,
		Origin:  s.name + "/" + strconv.FormatInt(m.Offset, 10),
		Message: true,
	}
	return nil
}

// fetch reads the next batch into s.buf, reconnecting and retrying with
// backoff when it fails.
func (s *RangeSource) fetch(ctx context.Context) error {
	bo := newBackoff()
	empty := 0
	for attempt := 1; ; {
		n, err := s.fetchOnce(ctx)
		if err == nil && n > 0 {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil {
			// Nothing below the end offset: a gap (compaction, a
			// transaction marker) that the batch's next offset skips, or
			// a broker that does not answer.
			if empty++; empty >= rangeEmptyFetches {
				return fmt.Errorf("fetching %s: no message at offset %d, below the end offset %d", s.name, s.offset, s.End)
			}
			if s.offset >= s.End {
				return nil
			}
			continue
		}
		if errors.Is(err, pipeline.ErrSourceClosed) {
			return err
		}
		if attempt >= rangeFetchAttempts {
			return fmt.Errorf("fetching %s at offset %d (%d attempts): %w", s.name, s.offset, attempt, err)
		}
		attempt++
		if !sleep(ctx, bo.NextBackOff()) {
			return ctx.Err()
		}
	}
}

// fetchOnce reads one batch at s.offset into s.buf and returns how many
// messages it holds.
func (s *RangeSource) fetchOnce(ctx context.Context) (int, error) {
	conn, err := s.connection(ctx)
	if err != nil {
		return 0, err
	}
	// A cancelled replay must not wait for the broker's answer.
	defer context.AfterFunc(ctx, func() { _ = conn.Close() })()
	fail := func(err error) (int, error) {
		s.dropConn(conn)
		return 0, err
	}
	if _, err := conn.Seek(s.offset, kafka.SeekAbsolute|kafka.SeekDontCheck); err != nil {
		return fail(fmt.Errorf("seeking to %d: %w", s.offset, err))
	}
	if err := conn.SetReadDeadline(time.Now().Add(s.cfg.maxWait() + defaultDialTimeout)); err != nil {
		return fail(fmt.Errorf("setting deadline: %w", err))
	}
	batch := conn.ReadBatchWith(kafka.ReadBatchConfig{MinBytes: 1, MaxBytes: s.cfg.maxBytes(), MaxWait: s.cfg.maxWait()})
	clear(s.buf)
	s.buf, s.pos = s.buf[:0], 0
	for {
		m, err := batch.ReadMessage()
		if err != nil {
			break // io.EOF at the end; other errors come out of Close
		}
		if isControlRecord(&m) {
			continue // a transaction marker
		}
		s.buf = append(s.buf, m)
	}
	next := batch.Offset()
	if err := batch.Close(); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, kafka.RequestTimedOut) {
		s.buf = s.buf[:0]
		return fail(fmt.Errorf("fetching %s at offset %d: %w", s.name, s.offset, err))
	}
	if next > s.offset {
		s.offset = next
	}
	return len(s.buf), nil
}
