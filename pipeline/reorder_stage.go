package pipeline

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"time"

	"github.com/hashicorp/go-multierror"

	"github.com/syncwatch/syncwatch/pipeline/watermark"
)

// Defaults of ReorderConfig.
const (
	DefaultReorderWindow = 2 * time.Second
	DefaultMinWindow     = 20 * time.Millisecond
	DefaultIdleTimeout   = 10 * time.Second
	DefaultMaxBuffered   = 1_000_000
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

// ReorderStage orders records by event time across sources: it holds
// them and releases them up to the watermark its watermark.Tracker gives
// (each active source's latest event time less its window, the configured
// one or with Adaptive the one it learned), in (event time, content)
// order, so the output does not depend on how the sources' records
// interleaved on arrival.
type ReorderStage struct {
	cfg     ReorderConfig
	held    recRuns
	tracker *watermark.Tracker
	seq     uint64
	bound   time.Time // everything up to here has been released
	late    int64
}

// NewReorderStage returns a reorder stage for a valid cfg (see
// ReorderConfig.Validate).
func NewReorderStage(cfg ReorderConfig) *ReorderStage {
	return newReorderStage(cfg, false)
}

// newReorderStage is NewReorderStage; marksOnly: its sources are a
// repartition second hop's pairs, whose times move by the first hop's
// marks only (watermark.Config.MarksOnly).
func newReorderStage(cfg ReorderConfig, marksOnly bool) *ReorderStage {
	return &ReorderStage{cfg: cfg, tracker: watermark.New(watermark.Config{
		Window: cfg.window(), Adaptive: cfg.Adaptive, MinWindow: cfg.minWindow(),
		IdleTimeout: cfg.idle(), MarksOnly: marksOnly,
	})}
}

// window is the largest window in force (watermark.Tracker.Window).
func (s *ReorderStage) window() time.Duration { return s.tracker.Window() }

// addSource declares a source before it delivers anything
// (watermark.Tracker.Add).
func (s *ReorderStage) addSource(name string, now time.Time) { s.tracker.Add(name, now) }

// sourceDone says a source will deliver nothing more (end of a file).
func (s *ReorderStage) sourceDone(name string) { s.tracker.Done(name) }

// latest returns the latest event time seen from source name (zero if none
// or unknown).
func (s *ReorderStage) latest(name string) time.Time { return s.tracker.Latest(name) }

// stalled says the caller read nothing for d, busy with a batch
// (watermark.Tracker.Stalled).
func (s *ReorderStage) stalled(d time.Duration) { s.tracker.Stalled(d) }

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
		st      *watermark.Source
		stOfSrc string
	)
	for i := range b.Records {
		r := &b.Records[i]
		if st == nil || r.Source != stOfSrc {
			st, stOfSrc = s.tracker.Source(r.Source), r.Source
		}
		s.tracker.Observe(st, r.Time, r.mark, b.Now)
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

// watermark returns up to which event time records may go, or all=true
// when every record may (end of input, or no active source constrains it).
func (s *ReorderStage) watermark(b *Batch) (wm time.Time, all bool) {
	if b.Final {
		return time.Time{}, true
	}
	return s.tracker.Watermark(b.Now, b.HeldSince)
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
