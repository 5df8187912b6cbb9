package gctune

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// Tuner adjusts GOGC after every garbage collection; see Start.
type Tuner struct {
	budget  uint64
	min     int
	max     int
	stopped atomic.Bool
	current atomic.Int64
	sample  []metrics.Sample
}

// Defaults of Start.
const (
	DefaultBudget    = 128 << 20 // heap goal the tuning may grow to; garbage a larger heap may hold
	defaultGCPercent = 100
	maxGCPercent     = 400
	minGCPercent     = 25 // a live heap past 4 × budget: a quarter of it as garbage
)

// Start starts tuning GOGC for a heap goal of at most budget bytes (0:
// DefaultBudget). It returns nil, and changes nothing, when GOGC or
// GOMEMLIMIT is set in the environment. Stop ends the tuning and restores
// the default GOGC (100).
func Start(budget uint64) *Tuner { return start(budget, maxGCPercent) }

// Limit is Start without raising GOGC: the default below budget, lower
// past it so that the heap holds at most budget bytes of garbage. For a
// program that allocates little per item, where a larger heap costs more
// (page faults on fresh memory, cache misses) than the collections it
// saves: replay since its parsers stopped allocating per line.
func Limit(budget uint64) *Tuner { return start(budget, defaultGCPercent) }

func start(budget uint64, maxPercent int) *Tuner {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return nil
	}
	if budget == 0 {
		budget = DefaultBudget
	}
	t := &Tuner{
		budget: budget,
		min:    minGCPercent,
		max:    maxPercent,
		sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}},
	}
	t.adjust()
	t.arm()
	return t
}

// gcPercent is the GOGC for a live heap of live bytes, clamped to [min,
// max]: the one that makes the heap goal budget while the live heap is
// below half of it; the default (100) up to budget; past it, the one that
// leaves budget bytes for garbage.
func (t *Tuner) gcPercent(live uint64) int {
	if live == 0 {
		return t.max
	}
	var garbage uint64
	switch {
	case 2*live <= t.budget:
		garbage = t.budget - live
	case live <= t.budget:
		garbage = live
	default:
		garbage = t.budget
	}
	p := int(min(garbage*100/live, uint64(t.max)))
	return max(t.min, p)
}

func (t *Tuner) adjust() {
	metrics.Read(t.sample)
	var live uint64
	if t.sample[0].Value.Kind() == metrics.KindUint64 {
		live = t.sample[0].Value.Uint64()
	}
	p := t.gcPercent(live)
	if int64(p) != t.current.Load() {
		t.current.Store(int64(p))
		debug.SetGCPercent(p)
	}
}

// sentinel is garbage as soon as it is allocated: its cleanup runs after
// the next collection, adjusts GOGC and allocates the next one.
type sentinel struct{ _ [16]byte }

func (t *Tuner) arm() {
	s := &sentinel{}
	runtime.AddCleanup(s, func(t *Tuner) {
		if t.stopped.Load() {
			return
		}
		t.adjust()
		t.arm()
	}, t)
}

// Percent is the GOGC the tuner set last.
func (t *Tuner) Percent() int {
	if t == nil {
		return -1
	}
	return int(t.current.Load())
}

// Stop ends the tuning and restores the default GOGC. It is safe on a nil
// tuner.
func (t *Tuner) Stop() {
	if t == nil || t.stopped.Swap(true) {
		return
	}
	debug.SetGCPercent(defaultGCPercent)
}
