package pipeline

import (
	"container/heap"
	"context"
	"sort"
	"time"
)

// ReorderConfig configures a ReorderStage. The zero value works.
type ReorderConfig struct {
	// Window is how far out of event-time order one source may deliver
	// records; records are held until the watermark has passed them by
	// this much. Default: 2s.
	Window time.Duration
	// IdleTimeout excludes a source from the watermark once it delivered
	// nothing for this long (wall clock), so that a quiet partition does
	// not hold the others back. Only used when the batch has a Now.
	// Default: 10s.
	IdleTimeout time.Duration
	// MaxBuffered bounds the records held; past it the oldest are
	// released early (a source far behind the others then no longer holds
	// them back). Default: 1,000,000.
	MaxBuffered int
}

// ReorderStage orders records by event time across sources. The watermark
// is the minimum over active sources of the latest event time each has
// delivered; records up to the watermark less the window are released in
// (event time, content) order, so the output does not depend on how the
// sources' records interleaved on arrival.
type ReorderStage struct {
	cfg     ReorderConfig
	held    recHeap
	sources map[string]*sourceState
	seq     uint64
	bound   time.Time // everything up to here has been released
	late    int64
}

type sourceState struct {
	latest   time.Time
	lastWall time.Time
	done     bool
}

// NewReorderStage returns a reorder stage.
func NewReorderStage(cfg ReorderConfig) *ReorderStage {
	return &ReorderStage{cfg: cfg, sources: map[string]*sourceState{}}
}

func (s *ReorderStage) window() time.Duration {
	if s.cfg.Window <= 0 {
		return 2 * time.Second
	}
	return s.cfg.Window
}

func (s *ReorderStage) idle() time.Duration {
	if s.cfg.IdleTimeout <= 0 {
		return 10 * time.Second
	}
	return s.cfg.IdleTimeout
}

func (s *ReorderStage) maxBuffered() int {
	if s.cfg.MaxBuffered <= 0 {
		return 1_000_000
	}
	return s.cfg.MaxBuffered
}

// AddSource declares a source before it delivers anything, so that it
// holds the watermark back from the start (replay declares every file, the
// consumer every assigned partition). now is the wall-clock time of the
// declaration, from which a source that never delivers becomes idle; zero
// means never idle.
func (s *ReorderStage) AddSource(name string, now time.Time) {
	if s.sources[name] == nil {
		s.sources[name] = &sourceState{lastWall: now}
	}
}

// SourceDone says a source will deliver nothing more (end of a file).
func (s *ReorderStage) SourceDone(name string) {
	if st := s.sources[name]; st != nil {
		st.done = true
	}
}

// RemoveSource forgets a source (a partition revoked in a rebalance).
func (s *ReorderStage) RemoveSource(name string) { delete(s.sources, name) }

// Bound is the event time up to which records have been released.
func (s *ReorderStage) Bound() time.Time { return s.bound }

// Held is the number of records held back.
func (s *ReorderStage) Held() int { return len(s.held) }

// Late counts records that arrived after the watermark had passed them.
func (s *ReorderStage) Late() int64 { return s.late }

// Exec takes b.Records (in arrival order) and replaces them with the
// records now released, in event-time order, whose acks join b.Acks.
func (s *ReorderStage) Exec(_ context.Context, b *Batch) error {
	for i := range b.Records {
		r := b.Records[i]
		st := s.sources[r.Source]
		if st == nil {
			st = &sourceState{}
			s.sources[r.Source] = st
		}
		if r.Time.After(st.latest) {
			st.latest = r.Time
		}
		if !b.Now.IsZero() {
			st.lastWall = b.Now
		}
		if !s.bound.IsZero() && r.Time.Before(s.bound) {
			s.late++
		}
		s.seq++
		r.seq = s.seq
		heap.Push(&s.held, r)
	}
	b.Records = b.Records[:0]

	bound, all := s.watermark(b)
	if !all {
		bound = bound.Add(-s.window())
	}
	over := len(s.held) - s.maxBuffered()
	for len(s.held) > 0 {
		top := s.held[0]
		if !all && top.Time.After(bound) && over <= 0 {
			break
		}
		over--
		r := heap.Pop(&s.held).(Record)
		b.Records = append(b.Records, r)
		if r.Ack != nil {
			b.Acks = append(b.Acks, r.Ack)
		}
		if r.Time.After(s.bound) {
			s.bound = r.Time
		}
	}
	if !all && bound.After(s.bound) {
		s.bound = bound
	}
	return nil
}

// watermark returns the minimum latest time over active sources, or
// all=true when every record may go (end of input, or no active source
// constrains it).
func (s *ReorderStage) watermark(b *Batch) (wm time.Time, all bool) {
	if b.Final {
		return time.Time{}, true
	}
	first := true
	names := make([]string, 0, len(s.sources))
	for n := range s.sources {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		st := s.sources[n]
		if st.done {
			continue
		}
		if !b.Now.IsZero() && !st.lastWall.IsZero() && b.Now.Sub(st.lastWall) > s.idle() {
			continue // idle: does not hold the others back
		}
		if st.latest.IsZero() {
			return time.Time{}, false // a source that has said nothing yet
		}
		if first || st.latest.Before(wm) {
			wm, first = st.latest, false
		}
	}
	if first {
		// No active source: whatever is held can go only if every source
		// is done; idle ones release up to their latest time.
		latest := time.Time{}
		anyIdle := false
		for _, st := range s.sources {
			if !st.done {
				anyIdle = true
			}
			if st.latest.After(latest) {
				latest = st.latest
			}
		}
		if !anyIdle {
			return time.Time{}, true
		}
		return latest, false
	}
	return wm, false
}

// recHeap orders records by event time, then content, then arrival.
type recHeap []Record

func (h recHeap) Len() int { return len(h) }
func (h recHeap) Less(i, j int) bool {
	a, b := &h[i], &h[j]
	if !a.Time.Equal(b.Time) {
		return a.Time.Before(b.Time)
	}
	if a.tie != b.tie {
		return a.tie < b.tie
	}
	return a.seq < b.seq
}
func (h recHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *recHeap) Push(x any)   { *h = append(*h, x.(Record)) }
func (h *recHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	old[len(old)-1] = Record{}
	*h = old[:len(old)-1]
	return r
}
