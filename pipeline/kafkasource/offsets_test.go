package kafkasource

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOffsetTracker(t *testing.T) {
	type step struct {
		op      string // "track" or "ack"
		offset  int64
		wantErr bool
	}
	tests := []struct {
		name       string
		steps      []step
		wantOffset int64
		wantOK     bool
		wantFlight int
	}{
		{name: "nothing tracked", wantOK: false},
		{
			name:       "tracked, nothing acked",
			steps:      []step{{op: "track", offset: 5}, {op: "track", offset: 6}},
			wantOK:     false,
			wantFlight: 2,
		},
		{
			name:       "in-order acks",
			steps:      []step{{op: "track", offset: 5}, {op: "track", offset: 6}, {op: "ack", offset: 5}, {op: "ack", offset: 6}},
			wantOffset: 6, wantOK: true,
		},
		{
			name:       "out-of-order ack stops at the first unacked offset",
			steps:      []step{{op: "track", offset: 0}, {op: "track", offset: 1}, {op: "track", offset: 2}, {op: "ack", offset: 0}, {op: "ack", offset: 2}},
			wantOffset: 0, wantOK: true, wantFlight: 2,
		},
		{
			name:       "late ack fills the gap",
			steps:      []step{{op: "track", offset: 0}, {op: "track", offset: 1}, {op: "track", offset: 2}, {op: "ack", offset: 2}, {op: "ack", offset: 0}, {op: "ack", offset: 1}},
			wantOffset: 2, wantOK: true,
		},
		{
			name:       "only the newest acked",
			steps:      []step{{op: "track", offset: 10}, {op: "track", offset: 11}, {op: "ack", offset: 11}},
			wantOK:     false,
			wantFlight: 2,
		},
		{
			name:       "gaps in offsets (compaction, transaction markers)",
			steps:      []step{{op: "track", offset: 3}, {op: "track", offset: 7}, {op: "track", offset: 20}, {op: "ack", offset: 7}, {op: "ack", offset: 3}},
			wantOffset: 7, wantOK: true, wantFlight: 1,
		},
		{
			name:       "tracking an older offset is refused",
			steps:      []step{{op: "track", offset: 5}, {op: "track", offset: 5, wantErr: true}, {op: "track", offset: 4, wantErr: true}, {op: "ack", offset: 5}},
			wantOffset: 5, wantOK: true,
		},
		{
			name:   "negative offset is refused",
			steps:  []step{{op: "track", offset: -2, wantErr: true}},
			wantOK: false,
		},
		{
			name:       "ack of an untracked offset is refused",
			steps:      []step{{op: "track", offset: 5}, {op: "ack", offset: 6, wantErr: true}, {op: "ack", offset: 4, wantErr: true}},
			wantOK:     false,
			wantFlight: 1,
		},
		{
			name:       "double ack is refused, pending or committable",
			steps:      []step{{op: "track", offset: 1}, {op: "track", offset: 2}, {op: "ack", offset: 2}, {op: "ack", offset: 2, wantErr: true}, {op: "ack", offset: 1}, {op: "ack", offset: 1, wantErr: true}},
			wantOffset: 2, wantOK: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newOffsetTracker()
			for i, s := range tt.steps {
				var err error
				switch s.op {
				case "track":
					err = tr.track(s.offset)
				case "ack":
					err = tr.ack(s.offset)
				default:
					t.Fatalf("unknown op %q", s.op)
				}
				if s.wantErr {
					require.Error(t, err, "step %d", i)
				} else {
					require.NoError(t, err, "step %d", i)
				}
			}
			got, ok := tr.committable()
			require.Equal(t, tt.wantOK, ok)
			if tt.wantOK {
				require.Equal(t, tt.wantOffset, got)
			}
			require.Equal(t, tt.wantFlight, tr.inFlight())
		})
	}
}

// checkTrackerInvariant runs offsets through a tracker, acking them in the
// order given by perm, and checks after every ack that the committable
// offset never passes an unacked offset and covers every acked prefix.
func checkTrackerInvariant(t *testing.T, offsets []int64, perm []int) {
	t.Helper()
	tr := newOffsetTracker()
	for _, o := range offsets {
		require.NoError(t, tr.track(o))
	}
	acked := make([]bool, len(offsets))
	prev := int64(-1)
	for _, i := range perm {
		require.NoError(t, tr.ack(offsets[i]))
		acked[i] = true
		// The expected committable offset: the end of the acked prefix.
		want, wantOK := int64(-1), false
		for j := range offsets {
			if !acked[j] {
				break
			}
			want, wantOK = offsets[j], true
		}
		got, ok := tr.committable()
		require.Equal(t, wantOK, ok)
		if ok {
			require.Equal(t, want, got)
			require.GreaterOrEqual(t, got, prev, "committable went backwards")
			prev = got
			for j, o := range offsets {
				if o <= got {
					require.True(t, acked[j], "committable %d passes unacked offset %d", got, o)
				}
			}
		}
	}
	require.Zero(t, tr.inFlight())
}

func TestOffsetTrackerRandomAckOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		n := 1 + rng.IntN(60)
		offsets := make([]int64, n)
		next := int64(rng.IntN(100))
		for i := range offsets {
			offsets[i] = next
			next += 1 + int64(rng.IntN(3))
		}
		checkTrackerInvariant(t, offsets, rng.Perm(n))
	}
}

func FuzzOffsetTracker(f *testing.F) {
	f.Add(uint64(1), uint8(10), uint8(0))
	f.Add(uint64(42), uint8(200), uint8(3))
	f.Fuzz(func(t *testing.T, seed uint64, n uint8, maxGap uint8) {
		rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		offsets := make([]int64, int(n))
		next := int64(0)
		for i := range offsets {
			offsets[i] = next
			next += 1 + int64(rng.IntN(int(maxGap%8)+1))
		}
		checkTrackerInvariant(t, offsets, rng.Perm(int(n)))
	})
}

func BenchmarkOffsetTracker(b *testing.B) {
	b.ReportAllocs()
	tr := newOffsetTracker()
	const window = 64
	for i := range b.N {
		if err := tr.track(int64(i)); err != nil {
			b.Fatal(err)
		}
		// Ack with a lag, out of order within pairs.
		if j := i - window; j >= 0 && j%2 == 1 {
			if err := tr.ack(int64(j)); err != nil {
				b.Fatal(err)
			}
			if err := tr.ack(int64(j - 1)); err != nil {
				b.Fatal(err)
			}
		}
	}
}
