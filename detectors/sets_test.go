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

func TestRunSet(t *testing.T) {
	var s runSet
	runs := make([]*run, 40)
	for i := range runs {
		runs[i] = &run{id: fmt.Sprintf("r%02d", i)}
	}
	for i, r := range runs { // past the switch to a map
		require.Nil(t, s.get(r.id))
		s.add(r)
		require.Equal(t, i+1, s.len())
		for _, x := range runs[:i+1] {
			require.Same(t, x, s.get(x.id))
		}
	}
	require.NotNil(t, s.big)
	for i, r := range runs {
		s.remove(r)
		require.Nil(t, s.get(r.id))
		require.Equal(t, len(runs)-i-1, s.len())
	}

	var small runSet
	small.add(runs[0])
	small.add(runs[1])
	small.add(runs[2])
	small.remove(runs[0])
	require.Nil(t, small.get("r00"))
	require.Same(t, runs[2], small.get("r02"))
	require.Same(t, runs[1], small.get("r01"))
	small.remove(runs[1])
	small.remove(runs[2])
	require.Zero(t, small.len())
	require.Nil(t, small.small, "an empty set holds no slice")
}
