package detectors

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEntrySet(t *testing.T) {
	var s entrySet
	for i := uint64(0); i < 100; i++ { // past the switch to a map
		require.True(t, s.add(i*7919), "first add of %d", i)
		require.False(t, s.add(i*7919), "second add of %d", i)
		for j := uint64(0); j <= i; j++ {
			require.False(t, s.add(j*7919), "%d after %d", j, i)
		}
	}
	require.NotNil(t, s.big)
	require.Len(t, s.big, 100)
}

func TestMailboxRuns(t *testing.T) {
	var mb mailbox
	runs := make([]*run, 40)
	for i := range runs {
		runs[i] = &run{id: fmt.Sprintf("r%02d", i)}
	}
	for i, r := range runs { // past the switch to a map
		require.Nil(t, mb.getRun(r.id))
		mb.addRun(r)
		require.Equal(t, i+1, mb.numRuns())
		for _, x := range runs[:i+1] {
			require.Same(t, x, mb.getRun(x.id))
		}
	}
	require.NotNil(t, mb.more.runs)
	require.Nil(t, mb.runs)
	for i, r := range runs {
		mb.removeRun(r)
		require.Nil(t, mb.getRun(r.id))
		require.Equal(t, len(runs)-i-1, mb.numRuns())
	}
	mb.trim()
	require.Nil(t, mb.more, "an empty mailbox holds nothing more")

	for _, order := range [][]int{{0, 1, 2}, {1, 0, 2}, {2, 1, 0}} {
		var small mailbox
		small.addRun(runs[0])
		small.addRun(runs[1])
		small.addRun(runs[2])
		for i, k := range order {
			small.removeRun(runs[k])
			require.Nil(t, small.getRun(runs[k].id))
			require.Nil(t, runs[k].next)
			require.Equal(t, 2-i, small.numRuns())
			for _, x := range order[i+1:] {
				require.Same(t, runs[x], small.getRun(runs[x].id))
			}
		}
		require.Nil(t, small.runs, "an idle mailbox holds no run")
		require.Nil(t, small.more)
	}
}

func TestMailboxRecent(t *testing.T) {
	var mb mailbox
	for h := uint64(1); h <= 20; h++ {
		mb.decided(h)
		for x := uint64(1); x <= 21; x++ {
			require.Equal(t, x <= h && x+8 > h, mb.recentlyDecided(x), "%d after %d", x, h)
		}
	}
}
