package pipeline

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// GC tuning. The pipeline's live heap is small (tens of MB: open runs and
// the reorder window), while it allocates about one short-lived string per
// log line. With the default GOGC=100 the collector then runs every few MB
// of allocation and takes a quarter to a third of the CPU of a replay.
//
// TuneGC raises GOGC while the live heap is small, so that the heap goal
// (live × (1 + GOGC/100)) grows towards budget, and lowers it back towards
// the default as the live heap grows, so that the goal never exceeds
// budget because of the tuning. It re-computes GOGC after every collection
// from the live heap that collection measured. It does nothing when the
// user set GOGC or GOMEMLIMIT: they asked for their own policy.
//
// This is the technique of Uber's "GC tuner" for services with a small
// live heap and a high allocation rate.

// GCTuner adjusts GOGC after every garbage collection; see TuneGC.
type GCTuner struct {
	budget  uint64
	min     int
	max     int
	stopped atomic.Bool
	current atomic.Int64
	sample  []metrics.Sample
}

// Defaults of TuneGC.
const (
	DefaultGCBudget  = 128 << 20 // heap goal the tuning may grow to
	defaultGCPercent = 100
	maxGCPercent     = 400
)

// TuneGC starts tuning GOGC for a heap goal of at most budget bytes (0:
// DefaultGCBudget). It returns nil, and changes nothing, when GOGC or
// GOMEMLIMIT is set in the environment. Stop ends the tuning and restores
// the default GOGC (100).
func TuneGC(budget uint64) *GCTuner {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return nil
	}
	if budget == 0 {
		budget = DefaultGCBudget
	}
	t := &GCTuner{
		budget: budget,
		min:    defaultGCPercent,
		max:    maxGCPercent,
		sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}},
	}
	t.adjust()
	t.arm()
	return t
}

// gcPercent is the GOGC that makes the heap goal budget for a live heap of
// live bytes, clamped to [min, max].
func (t *GCTuner) gcPercent(live uint64) int {
	if live == 0 {
		return t.max
	}
	if live >= t.budget {
		return t.min
	}
	p := int((t.budget - live) * 100 / live)
	return max(t.min, min(t.max, p))
}

func (t *GCTuner) adjust() {
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

func (t *GCTuner) arm() {
	s := &sentinel{}
	runtime.AddCleanup(s, func(t *GCTuner) {
		if t.stopped.Load() {
			return
		}
		t.adjust()
		t.arm()
	}, t)
}

// GCPercent is the GOGC the tuner set last.
func (t *GCTuner) GCPercent() int {
	if t == nil {
		return -1
	}
	return int(t.current.Load())
}

// Stop ends the tuning and restores the default GOGC. It is safe on a nil
// tuner.
func (t *GCTuner) Stop() {
	if t == nil || t.stopped.Swap(true) {
		return
	}
	debug.SetGCPercent(defaultGCPercent)
}
