package repeats

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDedupPerPair: a raw partition's records reach the second hop
// through several partitions of the repartition topic, read at their own
// pace. A floor seen through one must not drop the records another
// brings later; a repeat through the same one is dropped, below its
// floor or not.
func TestDedupPerPair(t *testing.T) {
	var d Filter
	rec := func(via string, offset, floor int64) *ID {
		return &ID{Source: "sync.engine/1 via " + via, Offset: offset, Floor: floor}
	}
	// partition 0 is read ahead: records up to 5000, then floor 4000
	for o := int64(3000); o <= 5000; o++ {
		require.True(t, d.First(rec("0", o, 3000)))
	}
	require.True(t, d.First(&ID{Source: "sync.engine/1 via 0", Offset: -1, Floor: 4000}))
	// partition 1 brings the same raw partition's older records: new
	for o := int64(100); o < 200; o++ {
		require.True(t, d.First(rec("1", o, 50)), "offset %d through partition 1", o)
	}
	// repeats through partition 0: seen, and below its floor
	require.False(t, d.First(rec("0", 4500, 4000)), "a repeat above the floor")
	require.False(t, d.First(rec("0", 3500, 4000)), "a repeat below the floor")
	// the next owner re-forwards from its committed offset 4800
	require.False(t, d.First(rec("0", 4800, 4800)))
	require.True(t, d.First(rec("0", 5001, 4800)))
	// a mark moves the floor and always passes
	require.True(t, d.First(&ID{Source: "sync.engine/1 via 0", Offset: -1, Floor: 9000}))
	require.False(t, d.First(rec("0", 8999, 4800)), "below a mark's floor")
	// entries of one message are told apart by index
	require.True(t, d.First(&ID{Source: "s via 2", Offset: 7, Index: 0}))
	require.True(t, d.First(&ID{Source: "s via 2", Offset: 7, Index: 1}))
	require.False(t, d.First(&ID{Source: "s via 2", Offset: 7, Index: 1}))
}
