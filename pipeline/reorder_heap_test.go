package pipeline

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRecHeapOrder pushes records in random order, with many equal times
// and times outside UnixNano's range, interleaving pops, and checks that
// they come out ordered by (time, tie, seq) with their contents intact.
func TestRecHeapOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	base := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	times := []time.Time{{}, time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}
	var h recHeap
	var held []Record // the reference: what the heap holds, sorted on pop
	pop := func() {
		slices.SortStableFunc(held, cmpRecord)
		var got Record
		h.popInto(&got)
		require.Equal(t, held[0].seq, got.seq)
		require.Equal(t, held[0].Body, got.Body)
		held = held[1:]
	}
	for seq := uint64(1); seq <= 5000; seq++ {
		tm := base.Add(time.Duration(r.IntN(50)) * time.Millisecond)
		if r.IntN(100) == 0 {
			tm = times[r.IntN(len(times))]
		}
		rec := Record{tie: uint64(r.IntN(4)), seq: seq, Source: "s"}
		rec.Time = tm
		rec.Body = tm.String()
		h.push(&rec)
		held = append(held, rec)
		if r.IntN(3) == 0 {
			pop()
		}
	}
	for h.len() > 0 {
		pop()
	}
	require.Empty(t, held)
	require.Len(t, h.free, len(h.slab), "every slot freed")
}

func cmpRecord(a, b Record) int {
	ta, tb := unixNano(a.Time), unixNano(b.Time)
	switch {
	case ta != tb:
		if ta < tb {
			return -1
		}
		return 1
	case a.tie != b.tie:
		if a.tie < b.tie {
			return -1
		}
		return 1
	}
	return int(a.seq) - int(b.seq)
}

// TestRecRunsOrder feeds recRuns what sources deliver (each source mostly
// in order, sometimes a record out of it, equal times, times outside
// UnixNano's range), interleaving pops, and checks that records come out
// exactly as from one heap ordered by (time, tie, seq).
func TestRecRunsOrder(t *testing.T) {
	for _, sources := range []int{1, 3, 9, 40} {
		r := rand.New(rand.NewPCG(uint64(sources), 5))
		base := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
		extremes := []time.Time{{}, time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}
		var h recRuns
		var held []Record
		latest := make([]time.Duration, sources)
		pops := 0
		pop := func() { // held is kept sorted
			require.Equal(t, unixNano(held[0].Time), h.minTime())
			var got Record
			h.popInto(&got)
			require.Equal(t, held[0].seq, got.seq, "pop %d", pops)
			require.Equal(t, held[0].Body, got.Body)
			held = held[1:]
			pops++
		}
		for seq := uint64(1); seq <= 20000; seq++ {
			src := r.IntN(sources)
			switch r.IntN(20) {
			case 0: // out of order
				latest[src] -= time.Duration(r.IntN(30)) * time.Millisecond
			case 1, 2: // same time
			default:
				latest[src] += time.Duration(r.IntN(10)) * time.Millisecond
			}
			tm := base.Add(latest[src])
			if r.IntN(500) == 0 {
				tm = extremes[r.IntN(len(extremes))]
			}
			rec := Record{tie: uint64(r.IntN(4)), seq: seq, Source: fmt.Sprint("src-", src)}
			rec.Time = tm
			rec.Body = tm.String()
			h.push(&rec)
			at, _ := slices.BinarySearchFunc(held, rec, cmpRecord)
			held = slices.Insert(held, at, rec)
			require.Equal(t, len(held), h.len())
			if r.IntN(3) == 0 {
				pop()
			}
			if r.IntN(2000) == 0 { // drain: runs empty and restart
				for h.len() > 0 {
					pop()
				}
			}
		}
		for h.len() > 0 {
			pop()
		}
		require.Empty(t, held)
		require.Empty(t, h.heads)
		require.Zero(t, h.over.len())
	}
}
