package watermark

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/repartition/repeats"
)

var t0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func fixed() Config {
	return Config{Window: 2 * time.Second, MinWindow: 20 * time.Millisecond, IdleTimeout: 10 * time.Second}
}

// TestWatermarkLeastSource: the watermark is the least over the active
// sources of latest less window; a declared source that said nothing holds
// everything; a done one holds nothing; when all are done, all may go.
func TestWatermarkLeastSource(t *testing.T) {
	tr := New(fixed())
	tr.Add("a", time.Time{})
	tr.Add("b", time.Time{})
	tr.Observe(tr.Source("a"), at(10_000), false, time.Time{})
	wm, all := tr.Watermark(time.Time{}, nil)
	require.False(t, all)
	require.True(t, wm.IsZero(), "b has said nothing yet: nothing may go")

	tr.Observe(tr.Source("b"), at(5_000), false, time.Time{})
	wm, all = tr.Watermark(time.Time{}, nil)
	require.False(t, all)
	require.Equal(t, at(3_000), wm, "b's 5s less its 2s window")

	tr.Done("b")
	wm, _ = tr.Watermark(time.Time{}, nil)
	require.Equal(t, at(8_000), wm, "b is done: a alone")

	tr.Done("a")
	_, all = tr.Watermark(time.Time{}, nil)
	require.True(t, all, "every source done")
}

// TestWatermarkHeld: a source with a record on its way (an entry waiting
// for its continuation lines) has come no further than that record.
func TestWatermarkHeld(t *testing.T) {
	tr := New(fixed())
	tr.Observe(tr.Source("a"), at(60_000), false, time.Time{})
	tr.Observe(tr.Source("b"), at(61_000), false, time.Time{})
	held := func(src string) (time.Time, bool) {
		if src == "b" {
			return at(30_000), true
		}
		return time.Time{}, false
	}
	wm, _ := tr.Watermark(time.Time{}, held)
	require.Equal(t, at(28_000), wm, "b holds at its waiting entry, less the window")
	wm, _ = tr.Watermark(time.Time{}, nil)
	require.Equal(t, at(58_000), wm)
}

// TestWatermarkIdle: with a wall clock, a source quiet for IdleTimeout no
// longer holds the others back, and Stalled excuses the time the caller
// itself was busy.
func TestWatermarkIdle(t *testing.T) {
	wall := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	tr := New(fixed())
	tr.Observe(tr.Source("a"), at(1_000), false, wall)
	tr.Observe(tr.Source("b"), at(50_000), false, wall)
	later := wall.Add(11 * time.Second)
	tr.Observe(tr.Source("b"), at(60_000), false, later)
	wm, _ := tr.Watermark(later, nil)
	require.Equal(t, at(58_000), wm, "a idle for 11s: b alone")

	tr = New(fixed())
	tr.Observe(tr.Source("a"), at(1_000), false, wall)
	tr.Observe(tr.Source("b"), at(50_000), false, wall)
	tr.Stalled(5 * time.Second)
	tr.Observe(tr.Source("b"), at(60_000), false, later)
	wm, _ = tr.Watermark(later, nil)
	require.Equal(t, at(-1_000), wm, "a quiet 11s, 5s of it stalled: not idle")
}

// TestWatermarkMarksOnly: a second hop's sources move by marks only and
// learn their window per raw partition, shared by its pairs.
func TestWatermarkMarksOnly(t *testing.T) {
	cfg := fixed()
	cfg.MarksOnly, cfg.Adaptive = true, true
	tr := New(cfg)
	p0 := tr.Source(repeats.Pair("sync.exchange/0", "sync.repartitioned/0"))
	tr.Observe(p0, at(5_000), false, time.Time{})
	require.True(t, tr.Latest(repeats.Pair("sync.exchange/0", "sync.repartitioned/0")).IsZero(), "a record does not move a marks-only source")
	tr.Observe(p0, at(4_000), true, time.Time{})
	require.Equal(t, at(4_000), tr.Latest(repeats.Pair("sync.exchange/0", "sync.repartitioned/0")), "a mark does")

	// 1,000 marks over 10s, in order, through two pairs of one raw partition
	p1 := tr.Source(repeats.Pair("sync.exchange/0", "sync.repartitioned/1"))
	for i := range 1000 {
		src := p0
		if i%2 == 1 {
			src = p1
		}
		tr.Observe(src, at(4_000+10*i), true, time.Time{})
	}
	require.Equal(t, cfg.MinWindow, tr.Window(), "the pairs learned together: in order, the least window")
}
