package pipeline

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/hashicorp/go-multierror"

	"github.com/syncwatch/syncwatch/pipeline/repartition/repeats"
)

// Defaults of ReorderConfig.
const (
	DefaultReorderWindow = 2 * time.Second
	DefaultMinWindow     = 20 * time.Millisecond
	DefaultIdleTimeout   = 10 * time.Second
	DefaultMaxBuffered   = 1_000_000
)

// What an adaptive source must have shown before its window is learned:
// until then it is held by the whole Window.
const (
	learnRecords = 1000
	learnSpan    = 5 * time.Second
)

// ReorderConfig configures a ReorderStage. The zero value works.
type ReorderConfig struct {
	// Window is how far out of event-time order one source may deliver
	// records; records are held until the watermark has passed them by
	// this much.
	//
	// With Adaptive, Window is the most any source is held by.
	//
	// Default: DefaultReorderWindow (2s)
	Window time.Duration

	// Adaptive learns each source's window from the disorder the source
	// shows: MinWindow plus twice the furthest any of its records came
	// behind the latest event time the source had delivered before it, at
	// most Window. A source is held by the whole Window until it has
	// delivered 1,000 records spanning 5s of event time. A record that
	// still comes further behind than its source's window may be late (it
	// is counted); the source's window then grows to cover it.
	Adaptive bool

	// MinWindow is the least window of an adaptive source.
	//
	// Default: DefaultMinWindow (20ms)
	MinWindow time.Duration

	// IdleTimeout excludes a source from the watermark once it delivered
	// nothing for this long (wall clock), so that a quiet partition does
	// not hold the others back. Only used when the batch has a Now.
	//
	// Default: DefaultIdleTimeout (10s)
	IdleTimeout time.Duration

	// MaxBuffered bounds the records held; past it the oldest are
	// released early (a source far behind the others then no longer holds
	// them back).
	//
	// Default: DefaultMaxBuffered (1,000,000)
	MaxBuffered int
}

func (c *ReorderConfig) window() time.Duration { return cmp.Or(c.Window, DefaultReorderWindow) }
func (c *ReorderConfig) minWindow() time.Duration {
	return min(cmp.Or(c.MinWindow, DefaultMinWindow), c.window())
}
func (c *ReorderConfig) idle() time.Duration { return cmp.Or(c.IdleTimeout, DefaultIdleTimeout) }
func (c *ReorderConfig) maxBuffered() int    { return cmp.Or(c.MaxBuffered, DefaultMaxBuffered) }

// Validate reports every problem of the configuration at once, each
// naming its field. c is not changed.
func (c *ReorderConfig) Validate() error {
	var errs *multierror.Error
	if c.Window < 0 {
		errs = multierror.Append(errs, fmt.Errorf("Window %v: must not be negative", c.Window))
	}
	if c.MinWindow < 0 {
		errs = multierror.Append(errs, fmt.Errorf("MinWindow %v: must not be negative", c.MinWindow))
	}
	if c.IdleTimeout < 0 {
		errs = multierror.Append(errs, fmt.Errorf("IdleTimeout %v: must not be negative", c.IdleTimeout))
	}
	if c.MaxBuffered < 0 {
		errs = multierror.Append(errs, fmt.Errorf("MaxBuffered %d: must not be negative", c.MaxBuffered))
	}
	return errs.ErrorOrNil()
}

// ReorderStage orders records by event time across sources. Each active
// source bounds the release at the latest event time it has delivered less
// its window (the configured one, or with Adaptive the one it learned);
// records up to the least such bound are released in (event time,
// content) order, so the output does not depend on how the sources'
// records interleaved on arrival. A record is late only when it comes
// further behind its own source's latest time than that source's window:
// whether it is does not depend on the other sources, nor on when the
// records arrive.
type ReorderStage struct {
	cfg     ReorderConfig
	held    recRuns
	sources map[string]*sourceState
	// learners: by source, or with marksOnly by raw partition
	learners map[string]*learner
	seq      uint64
	bound    time.Time // everything up to here has been released
	late     int64
	// marksOnly: sources' times move by marks only, which a repartition's
	// first hop holds while it reads a backlog out of order whole
	marksOnly bool
}

type sourceState struct {
	latest   time.Time
	lastWall time.Time
	done     bool
	learn    *learner
}

// learner is what an adaptive window is learned from: the records (and
// marks) delivered, the first and the latest time, the furthest a record
// came behind its source's latest time. A second hop's sources share the
// learner of their raw partition: the disorder is the raw partition's,
// and each of its pairs carries a share of its records.
type learner struct {
	records       int
	first, latest time.Time
	maxLag        time.Duration
}

// newSource returns the state of a new source name, delivering nothing
// yet.
func (s *ReorderStage) newSource(name string, now time.Time) *sourceState {
	key := name
	if s.marksOnly {
		key = repeats.Raw(name)
	}
	l := s.learners[key]
	if l == nil {
		l = &learner{}
		s.learners[key] = l
	}
	return &sourceState{lastWall: now, learn: l}
}

// windowOf is how far behind its latest time source st holds the release.
func (s *ReorderStage) windowOf(st *sourceState) time.Duration {
	w, l := s.cfg.window(), st.learn
	if !s.cfg.Adaptive || l.records < learnRecords || l.latest.Sub(l.first) < learnSpan {
		return w
	}
	return min(w, s.cfg.minWindow()+2*l.maxLag)
}

// window returns the largest window of the sources not done (the
// configured Window when there are none): what the release waits for at
// most now.
func (s *ReorderStage) window() time.Duration {
	w, found := time.Duration(0), false
	for _, st := range s.sources {
		if !st.done {
			w, found = max(w, s.windowOf(st)), true
		}
	}
	if !found {
		return s.cfg.window()
	}
	return w
}

// NewReorderStage returns a reorder stage for a valid cfg (see
// ReorderConfig.Validate).
func NewReorderStage(cfg ReorderConfig) *ReorderStage {
	return &ReorderStage{cfg: cfg, sources: map[string]*sourceState{}, learners: map[string]*learner{}}
}

// addSource declares a source before it delivers anything, so that it
// holds the watermark back from the start (replay declares every file, the
// consumer every assigned partition). now is the wall-clock time of the
// declaration, from which a source that never delivers becomes idle; zero
// means never idle.
func (s *ReorderStage) addSource(name string, now time.Time) {
	if s.sources[name] == nil {
		s.sources[name] = s.newSource(name, now)
	}
}

// sourceDone says a source will deliver nothing more (end of a file).
func (s *ReorderStage) sourceDone(name string) {
	if st := s.sources[name]; st != nil {
		st.done = true
	}
}

// latest returns the latest event time seen from source name (zero if none
// or unknown).
func (s *ReorderStage) latest(name string) time.Time {
	if st := s.sources[name]; st != nil {
		return st.latest
	}
	return time.Time{}
}

// stalled tells the stage that its caller read nothing for d, being busy
// with a batch (a slow sink): no source could deliver meanwhile, so d does
// not count toward any source's idle timeout. Without it, one delivery
// longer than IdleTimeout made every source that was not in the next batch
// idle; the watermark then passed records still on their way, which came
// late and were decided out of order.
func (s *ReorderStage) stalled(d time.Duration) {
	if d <= 0 {
		return
	}
	for _, st := range s.sources {
		if !st.lastWall.IsZero() {
			st.lastWall = st.lastWall.Add(d)
		}
	}
}

// numHeld is the number of records held back.
func (s *ReorderStage) numHeld() int { return s.held.len() }

// numLate counts records that arrived after the watermark had passed them.
func (s *ReorderStage) numLate() int64 { return s.late }

// Exec takes b.Records (in arrival order) and replaces them with the
// records now released, in event-time order, whose acks join b.Acks.
func (s *ReorderStage) Exec(_ context.Context, b *Batch) error {
	// Records are moved by pointer (a Record is some 300 bytes), and
	// consecutive records of one source look it up once.
	var (
		st      *sourceState
		stOfSrc string
	)
	for i := range b.Records {
		r := &b.Records[i]
		if st == nil || r.Source != stOfSrc {
			if st = s.sources[r.Source]; st == nil {
				st = s.newSource(r.Source, time.Time{})
				s.sources[r.Source] = st
			}
			stOfSrc = r.Source
		}
		if l := st.learn; s.cfg.Adaptive {
			l.records++ // a mark counts: a second hop's source may get only marks
			if lag := st.latest.Sub(r.Time); !r.mark && lag > l.maxLag && !st.latest.IsZero() {
				l.maxLag = lag
			}
		}
		if r.Time.After(st.latest) && (r.mark || !s.marksOnly) {
			st.latest = r.Time
			if l := st.learn; s.cfg.Adaptive {
				if l.first.IsZero() {
					l.first = r.Time
				}
				if r.Time.After(l.latest) {
					l.latest = r.Time
				}
			}
		}
		if !b.Now.IsZero() {
			st.lastWall = b.Now
		}
		if r.mark {
			// a raw partition's watermark, from a first hop: its records
			// up to r.Time were forwarded before it; nothing to hold
			if r.Ack != nil {
				b.Acks = append(b.Acks, r.Ack)
			}
			continue
		}
		if !s.bound.IsZero() && r.Time.Before(s.bound) {
			s.late++
		}
		s.seq++
		r.seq = s.seq
		s.held.push(r)
	}
	b.Records = b.Records[:0]

	bound, all := s.watermark(b)
	if b.Backlog && !b.Final {
		bound, all = s.bound, false // release only what MaxBuffered forces out
	}
	over := s.held.len() - s.cfg.maxBuffered()
	for s.held.len() > 0 {
		if !all && s.held.minTime() > unixNano(bound) && over <= 0 {
			break
		}
		over--
		b.Records = append(b.Records, Record{})
		r := &b.Records[len(b.Records)-1]
		s.held.popInto(r)
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
	b.Bound = s.bound
	return nil
}

// watermark returns the minimum over active sources of the latest time
// each delivered less its window, or all=true when every record may go
// (end of input, or no active source constrains it).
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
		if !b.Now.IsZero() && !st.lastWall.IsZero() && b.Now.Sub(st.lastWall) > s.cfg.idle() {
			continue // idle: does not hold the others back
		}
		if st.latest.IsZero() {
			return time.Time{}, false // a source that has said nothing yet
		}
		latest := st.latest
		if h, ok := b.HeldSince(n); ok && h.Before(latest) {
			latest = h // an entry waits for its continuation lines
		}
		if at := latest.Add(-s.windowOf(st)); first || at.Before(wm) {
			wm, first = at, false
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
		return latest.Add(-s.cfg.window()), false
	}
	return wm, false
}

// recHeap orders records by event time, then content, then arrival.
// recHeap holds records in event-time order (then content, then arrival).
// The heap moves small keys, not the records (a Record is some 300 bytes,
// and container/heap would box every one pushed and popped): records sit
// in a slab whose freed slots are reused.
type recHeap struct {
	keys []recKey
	slab []Record
	free []int32
}

type recKey struct {
	t    int64 // event time, Unix ns
	tie  uint64
	seq  uint64
	slot int32
}

func (k *recKey) less(o *recKey) bool {
	if k.t != o.t {
		return k.t < o.t
	}
	if k.tie != o.tie {
		return k.tie < o.tie
	}
	return k.seq < o.seq
}

var (
	minNano = time.Unix(0, math.MinInt64)
	maxNano = time.Unix(0, math.MaxInt64)
)

// unixNano is t.UnixNano clamped to int64 (UnixNano is undefined outside
// the years 1678-2262; the zero time is one such).
func unixNano(t time.Time) int64 {
	switch {
	case t.Before(minNano):
		return math.MinInt64
	case t.After(maxNano):
		return math.MaxInt64
	}
	return t.UnixNano()
}

func (h *recHeap) len() int { return len(h.keys) }

// minTime is the event time (Unix ns) of the first record; len() > 0.
func (h *recHeap) minTime() int64 { return h.keys[0].t }

func (h *recHeap) push(r *Record) {
	var slot int32
	if n := len(h.free); n > 0 {
		slot = h.free[n-1]
		h.free = h.free[:n-1]
		h.slab[slot] = *r
	} else {
		slot = int32(len(h.slab))
		h.slab = append(h.slab, *r)
	}
	h.keys = append(h.keys, recKey{t: unixNano(r.Time), tie: r.tie, seq: r.seq, slot: slot})
	// sift up
	k := h.keys
	i := len(k) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !k[i].less(&k[p]) {
			break
		}
		k[i], k[p] = k[p], k[i]
		i = p
	}
}

// popInto moves the first record into dst; len() > 0.
func (h *recHeap) popInto(dst *Record) {
	k := h.keys
	top := k[0]
	n := len(k) - 1
	k[0] = k[n]
	h.keys = k[:n]
	k = h.keys
	// sift down
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && k[r].less(&k[l]) {
			m = r
		}
		if !k[m].less(&k[i]) {
			break
		}
		k[i], k[m] = k[m], k[i]
		i = m
	}
	*dst = h.slab[top.slot]
	h.slab[top.slot] = Record{} // drop references for the GC
	h.free = append(h.free, top.slot)
}
