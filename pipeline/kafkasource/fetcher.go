package kafkasource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/hashicorp/go-multierror"
	"github.com/segmentio/kafka-go"

	"github.com/syncwatch/syncwatch/pipeline"
)

// consume fetches one partition, from its restore point, until the
// generation ends. Failures are retried with backoff; the partition counts
// as failing (Ready is false) until a fetch succeeds again.
func (s *Source) consume(g *generation, p *partitionState) {
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
	s       *Source
	g       *generation
	p       *partitionState
	bo      *backoff.ExponentialBackOff
	conn    *kafka.Conn
	stop    func() bool // unregisters the conn closer
	offset  int64       // next offset to fetch, -1 until the restore point is known
	buf     []kafka.Message
	failing bool
	down    outage // the failures while failing, for the log
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
		f.p.read.CompareAndSwap(-1, start) // nothing before start is read here
		f.sampleBacklog(start)
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

// sampleBacklog marks the partition when its messages from start on are
// out of event-time order (see backlog.go). A failure
// to sample is logged and leaves it unmarked.
func (f *fetcher) sampleBacklog(start int64) {
	conn := f.conn
	_ = conn.SetDeadline(time.Now().Add(sampleWindows * f.s.ioTimeout()))
	defer func() { _ = conn.SetDeadline(time.Time{}) }()
	_, last, err := conn.ReadOffsets()
	if err == nil {
		var ok bool
		ok, err = sampleBacklog(conn, start, last, f.s.cfg.maxWait(), f.s.cfg.Envelope)
		f.p.outOfOrder.Store(ok)
		if ok {
			f.s.log.Info("partition's backlog is out of event-time order (a shipper sending files one after another): holding its records until it is read to its end",
				"topic", f.p.topic, "partition", f.p.partition, "from_offset", start, "to_offset", last)
		}
	}
	if err != nil {
		f.s.log.Warn("sampling the partition's backlog failed; its records are not held", "topic", f.p.topic, "partition", f.p.partition, "err", err)
	}
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
	ds := make([]delivery, 0, len(msgs))
	p.mu.Lock()
	for _, m := range msgs {
		restored := m.Offset < p.restoredBelow
		if isControlRecord(&m) {
			// a transaction marker: nothing to process, but its offset
			// counts as processed, so that the commit passes it
			if !restored {
				if err := p.tracker.skip(m.Offset); err != nil {
					p.mu.Unlock()
					return fmt.Errorf("skipping the transaction marker %s/%d/%d: %w", p.topic, p.partition, m.Offset, err)
				}
			}
			continue
		}
		if !restored {
			if err := p.tracker.track(m.Offset); err != nil {
				p.mu.Unlock()
				return fmt.Errorf("delivering %s/%d/%d: %w", p.topic, p.partition, m.Offset, err)
			}
		}
		ds = append(ds, delivery{
			msg: pipeline.Message{
				Topic:      m.Topic,
				Partition:  m.Partition,
				Source:     p.name,
				Offset:     m.Offset,
				Time:       m.Time,
				Key:        m.Key,
				Value:      m.Value,
				Generation: f.g.id,
				Restored:   restored,
			},
			ack: ackRestored,
			p:   p,
		})
		if !restored {
			ds[len(ds)-1].ack = ackFunc(f.g, p, m.Offset)
		}
	}
	p.mu.Unlock()
	if len(ds) == 0 {
		return nil // transaction markers only
	}
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
	}
	level, failingFor, attempts := f.down.fail(time.Now())
	f.s.log.Log(f.g.ctx, level, "fetching partition failed, retrying with backoff", "topic", f.p.topic, "partition", f.p.partition,
		"err", err, "retry_in", wait, "failing_for", failingFor.Round(time.Second), "attempts", attempts)
}

func (f *fetcher) healthy() {
	if f.failing {
		f.failing = false
		f.s.failing.Add(-1)
		_, lasted := f.down.recover(time.Now())
		if f.g.ctx.Err() == nil {
			f.s.log.Info("fetching partition recovered", "topic", f.p.topic, "partition", f.p.partition, "failed_for", lasted.Round(time.Second))
		}
	}
}

// ioTimeout bounds one request to a partition leader: the broker's MaxWait
// plus time for the network.
func (s *Source) ioTimeout() time.Duration {
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
