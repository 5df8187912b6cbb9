package gctune

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGCTunerPercent(t *testing.T) {
	tu := &Tuner{budget: 128 << 20, min: 25, max: 400}
	assert.Equal(t, 400, tu.gcPercent(0), "no live heap measured yet")
	assert.Equal(t, 400, tu.gcPercent(10<<20), "small heap: goal capped by max, not budget")
	assert.Equal(t, 300, tu.gcPercent(32<<20), "goal = budget")
	assert.Equal(t, 100, tu.gcPercent(64<<20), "goal = budget at the default")
	assert.Equal(t, 100, tu.gcPercent(100<<20), "the default up to budget")
	assert.Equal(t, 100, tu.gcPercent(128<<20), "the default up to budget")
	assert.Equal(t, 50, tu.gcPercent(256<<20), "past budget: budget bytes of garbage")
	assert.Equal(t, 42, tu.gcPercent(300<<20), "past budget: budget bytes of garbage")
	assert.Equal(t, 25, tu.gcPercent(512<<20), "past 4 x budget: a quarter")
	assert.Equal(t, 25, tu.gcPercent(1<<30), "never below min")
	prev := tu.gcPercent(1)
	for live := uint64(1); live < 2<<30; live += live/64 + 1 { // no step up as the heap grows
		p := tu.gcPercent(live)
		assert.LessOrEqual(t, p, prev, "live %d", live)
		prev = p
	}
}

// TestGCLimitPercent: Limit's tuner never raises GOGC above the default
// and lowers it past the budget as Start's does.
func TestGCLimitPercent(t *testing.T) {
	tu := &Tuner{budget: 128 << 20, min: 25, max: defaultGCPercent}
	assert.Equal(t, 100, tu.gcPercent(0))
	assert.Equal(t, 100, tu.gcPercent(10<<20), "small heap: the default")
	assert.Equal(t, 100, tu.gcPercent(128<<20))
	assert.Equal(t, 42, tu.gcPercent(300<<20), "past budget: budget bytes of garbage")
	assert.Equal(t, 25, tu.gcPercent(1<<30))
}

func TestTuneGCFollowsCollections(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)

	// A budget far below the test binary's live heap: after a collection
	// the tuner must settle on the minimum; a huge one: on the maximum.
	tu := Start(1)
	require.NotNil(t, tu)
	require.Eventually(t, func() bool { runtime.GC(); return tu.Percent() == minGCPercent }, 5*time.Second, 10*time.Millisecond)
	tu.Stop()

	tu = Start(1 << 40)
	require.NotNil(t, tu)
	require.Eventually(t, func() bool { runtime.GC(); return tu.Percent() == maxGCPercent }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, maxGCPercent, debug.SetGCPercent(maxGCPercent), "the runtime's GOGC is the tuner's")
	tu.Stop()
	assert.Equal(t, defaultGCPercent, debug.SetGCPercent(defaultGCPercent), "Stop restores the default")
}

func TestTuneGCLeavesUserSettingsAlone(t *testing.T) {
	t.Setenv("GOGC", "50")
	assert.Nil(t, Start(0))
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "1GiB")
	assert.Nil(t, Start(0))
}
