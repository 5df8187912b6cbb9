package kafkasource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-multierror"
	"github.com/segmentio/kafka-go"

	"github.com/syncwatch/syncwatch/pipeline"
)

var _ pipeline.MessageSource = (*Source)(nil)

// Source reads the log topics as a member of a consumer group, with
// at-least-once delivery: an offset is committed only after the message
// and every message before it in its partition were acked, so a crash
// replays from the last commit. Messages of one partition come in offset
// order. Each assigned partition is first re-read from its restore point
// (see Config.RestoreWindow).
//
// Read is meant for one goroutine; the AckFuncs may be called from any
// goroutine. Ready, Lag and Close are safe for concurrent use.
type Source struct {
	cfg    Config // defaults applied
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

// ObserveEventTime tells the source the latest event time processed from a
// partition ("topic/partition"), for alignment (Config.MaxAhead).
// Call it after each batch. Unknown partitions are ignored.
func (s *Source) ObserveEventTime(partition string, t time.Time) {
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
	msg pipeline.Message
	ack pipeline.AckFunc
	p   *partitionState
}

// New validates cfg and starts joining the group in the
// background; it does not wait for the broker. Connection problems are
// retried with backoff and show in Ready. Call Close to leave the group.
func New(cfg Config) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("validating kafka source config: %w", err)
	}
	resolved := cfg
	resolved.Brokers = slices.Clone(cfg.Brokers)
	resolved.GroupID = cfg.groupID()
	resolved.Topics = cfg.topics()
	resolved.Logger = cfg.logger()
	s := &Source{
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
		GroupBalancers: []kafka.GroupBalancer{coPartitionBalancer{}, kafka.RangeGroupBalancer{}},
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
// Errors: ctx.Err() when ctx ends; pipeline.ErrGenerationEnded once for
// every generation Read entered that has ended (the caller drops its state
// and keeps reading; acks of that generation's messages no longer count,
// and the partitions are read again from their restore points by whichever
// member gets them); pipeline.ErrSourceClosed after Close.
//
// The AckFunc never blocks. ack(ctx, nil) marks the message done; the
// offsets are committed in partition order every CommitInterval, never
// past a message not yet acked. ack(ctx, err) with a non-nil err is a
// nack: the source ends its generation (Read returns ErrGenerationEnded),
// commits what was acked before the nacked message and rejoins the group,
// so the nacked message and everything after it is delivered again (after
// the restore messages). Acking a Restored message, or any message after its generation
// ended, does nothing and returns nil. Acking a message twice returns an
// error.
func (s *Source) Read(ctx context.Context) (pipeline.Message, pipeline.AckFunc, error) {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	for {
		select {
		case <-s.closed:
			return pipeline.Message{}, nil, pipeline.ErrSourceClosed
		default:
		}
		if g := s.rg; g != nil {
			select {
			case <-g.ended:
				s.rg, s.pending = nil, nil
				return pipeline.Message{}, nil, pipeline.ErrGenerationEnded
			default:
			}
			if len(s.pending) > 0 {
				d := s.pending[0]
				s.pending[0] = delivery{}
				s.pending = s.pending[1:]
				d.p.read.Store(d.msg.Offset + 1)
				return d.msg, d.ack, nil
			}
			select {
			case c := <-g.msgs:
				s.pending = c
				continue // the generation may have ended meanwhile
			case <-g.ended:
				s.rg = nil
				return pipeline.Message{}, nil, pipeline.ErrGenerationEnded
			case <-s.closed:
				return pipeline.Message{}, nil, pipeline.ErrSourceClosed
			case <-ctx.Done():
				return pipeline.Message{}, nil, ctx.Err()
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
			return pipeline.Message{}, nil, pipeline.ErrSourceClosed
		case <-ctx.Done():
			return pipeline.Message{}, nil, ctx.Err()
		}
	}
}

// ackFunc returns the AckFunc of the message at offset of p, read in g.
func ackFunc(g *generation, p *partitionState, offset int64) pipeline.AckFunc {
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

// CaughtUp reports whether Read returned every message, up to the
// high-water mark its last fetch reported, of every partition of the
// current generation whose backlog is out of event-time order
// (backlog.go); a partition that delivered nothing for alignIdle does not
// count. It is false between generations. It does not block.
func (s *Source) CaughtUp() bool {
	s.mu.Lock()
	g := s.cur
	s.mu.Unlock()
	if g == nil {
		return false
	}
	idle := time.Now().Add(-alignIdle).UnixNano()
	for _, p := range g.parts {
		// a partition that delivered nothing for alignIdle (its leader
		// unreachable) holds nothing back: it is idle
		if p.outOfOrder.Load() && !p.readUp() && p.delivered.Load() >= idle {
			return false
		}
	}
	return true
}

// AtEnd reports whether Read returned every message of every partition
// of the current generation up to the high-water mark its last fetch
// reported. It is false between generations, and while a partition
// has not been fetched (its leader unreachable). It does not block.
func (s *Source) AtEnd() bool {
	s.mu.Lock()
	g := s.cur
	s.mu.Unlock()
	if g == nil {
		return false
	}
	for _, p := range g.parts {
		if !p.readUp() {
			return false
		}
	}
	return true
}

// Ready reports whether the source is consuming: it is false before the
// first generation, between generations (a rebalance, usually a few
// seconds) and while the broker or a partition leader cannot be reached.
// It does not block.
func (s *Source) Ready() bool {
	s.mu.Lock()
	active := s.cur != nil
	s.mu.Unlock()
	return active && s.failing.Load() == 0
}

// Lag returns, for each partition of the current generation, keyed
// "topic/partition", how many messages are not yet committed: the last
// seen high-water mark minus the committed offset. Partitions whose
// high-water mark is not known yet are left out. It does not block.
func (s *Source) Lag() map[string]int64 {
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
		lag[p.name] = max(hw-c, 0)
	}
	return lag
}

// Committed returns, for each partition of the current generation, keyed
// "topic/partition", the offset committed last (the next to read), -1 if
// none. It does not block.
func (s *Source) Committed() map[string]int64 {
	s.mu.Lock()
	g := s.cur
	s.mu.Unlock()
	out := map[string]int64{}
	if g == nil {
		return out
	}
	for _, p := range g.parts {
		out[p.name] = p.committed.Load()
	}
	return out
}

// Assigned lists the partitions ("topic/partition") of the current
// consumer-group generation, or nil between generations. The consumer
// declares them as sources of the reorder stage up front, so that a
// partition that has delivered nothing yet still holds the watermark back
// (until it is idle). Safe for concurrent use.
func (s *Source) Assigned() []string {
	s.mu.Lock()
	g := s.cur
	s.mu.Unlock()
	if g == nil {
		return nil
	}
	out := make([]string, 0, len(g.parts))
	for _, p := range g.parts {
		out = append(out, p.name)
	}
	return out
}

// Close stops fetching, commits what was acked, leaves the group and
// waits for the background goroutines. ctx bounds the whole call; when it
// ends first, Close returns its error and the goroutines finish on their
// own. Read returns pipeline.ErrSourceClosed afterwards. Calling Close
// again waits again and returns nil or ctx's error.
func (s *Source) Close(ctx context.Context) error {
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
func (s *Source) run() {
	defer close(s.runDone)
	bo := newBackoff()
	var down outage
	for {
		gen, err := s.group.Next(s.ctx)
		if err != nil {
			if s.ctx.Err() != nil || errors.Is(err, kafka.ErrGroupClosed) {
				return
			}
			wait := bo.NextBackOff()
			level, failingFor, attempts := down.fail(time.Now())
			s.log.Log(s.ctx, level, "joining consumer group failed, retrying with backoff", "err", err, "retry_in", wait,
				"failing_for", failingFor.Round(time.Second), "attempts", attempts)
			if !sleep(s.ctx, wait) {
				return
			}
			continue
		}
		if was, lasted := down.recover(time.Now()); was {
			s.log.Info("joined consumer group again", "failed_for", lasted.Round(time.Second))
		}
		bo.Reset()
		s.startGeneration(gen)
	}
}
