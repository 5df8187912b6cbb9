package kafkasource

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
)

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

	// For alignment (Config.MaxAhead):
	fetched    atomic.Int64 // next offset to fetch, -1 until known
	read       atomic.Int64 // offset after the last message Read returned, -1 until known
	outOfOrder atomic.Bool  // its backlog is out of event-time order (backlog.go)
	eventTime  atomic.Int64 // latest event time processed (Unix ns), 0 if none
	delivered  atomic.Int64 // wall time of the last delivery (Unix ns)
}

// alignIdle is how long a partition that delivers nothing still holds the
// others back (alignment), like the reorder stage's idle timeout.
const alignIdle = 10 * time.Second

// caughtUp reports whether every message the partition had at the last
// fetch was fetched.
func (p *partitionState) caughtUp() bool {
	hw := p.highWater.Load()
	return hw >= 0 && p.fetched.Load() >= hw
}

// readUp reports whether every message the partition had at the last
// fetch was returned by Read: nothing fetched waits in the queue.
func (p *partitionState) readUp() bool {
	hw := p.highWater.Load()
	return hw >= 0 && p.read.Load() >= hw
}

// ahead reports whether p is more than maxAhead of event time ahead of a
// partition of g that is still being read (or has told no event time
// yet), so that p's fetcher should wait.
func (g *generation) ahead(p *partitionState, maxAhead time.Duration, now time.Time) bool {
	t := p.eventTime.Load()
	if t == 0 || maxAhead < 0 {
		return false
	}
	idle := now.Add(-alignIdle).UnixNano()
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

// startGeneration starts a fetcher per assigned partition and a supervisor
// that commits and tears the generation down. All of them run under
// gen.Start, so the group waits for them before joining the next
// generation.
func (s *Source) startGeneration(gen *kafka.Generation) {
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
				name:          partitionName(topic, a.ID),
				restoredBelow: a.Offset, // FirstOffset (-2) when nothing was committed
				tracker:       newOffsetTracker(),
			}
			p.committed.Store(max(a.Offset, -1))
			p.highWater.Store(-1)
			p.fetched.Store(-1)
			p.read.Store(-1)
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
func (s *Source) supervise(genCtx context.Context, g *generation) {
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
func (s *Source) commit(g *generation, final bool) error {
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

func partitionNames(parts []*partitionState) []string {
	names := make([]string, len(parts))
	for i, p := range parts {
		names[i] = p.name
	}
	return names
}

// partitionName is the name of a partition everywhere syncwatch shows or
// keys one: "topic/partition" (pipeline.Message.Source, Assigned, Lag,
// the reorder stage's sources, origins).
func partitionName(topic string, partition int) string {
	return topic + "/" + strconv.Itoa(partition)
}
