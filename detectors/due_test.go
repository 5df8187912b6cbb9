package detectors

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCompareJoined(t *testing.T) {
	parts := []string{"", "/", "a", "b", "a/", "/a", "ab", "a.b", "a0", "t-1", "t-10", "t-1/x", "x@y.com", "\xff"}
	for _, a1 := range parts {
		for _, a2 := range parts {
			for _, b1 := range parts {
				for _, b2 := range parts {
					want := strings.Compare(a1+"/"+a2, b1+"/"+b2)
					got := compareJoined(a1, a2, b1, b2)
					if sign(got) != want {
						t.Fatalf("compareJoined(%q, %q, %q, %q) = %d, want sign %d", a1, a2, b1, b2, got, want)
					}
				}
			}
		}
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func TestDueHeapPopsInOrder(t *testing.T) {
	base := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	var items []dueItem
	for i := range 500 {
		mb := &mailbox{key: mbKey{fmt.Sprintf("t-%d", i%7), fmt.Sprintf("m%d@x.com", i%13)}}
		items = append(items, dueItem{at: instantOf(base.Add(time.Duration(i*7919%37) * time.Second)), r: &run{id: fmt.Sprintf("r%03d", i), mb: mb}})
	}
	var h dueHeap
	for _, it := range items {
		h.push(it)
	}
	var got []dueItem
	for len(h) > 0 {
		got = append(got, h.pop())
	}
	require.Len(t, got, len(items))
	for i := 1; i < len(got); i++ {
		a, b := got[i-1], got[i]
		ka := a.r.mb.key.tenant + "/" + a.r.mb.key.mailbox
		kb := b.r.mb.key.tenant + "/" + b.r.mb.key.mailbox
		ordered := a.at.before(b.at) || a.at == b.at && (ka < kb || ka == kb && a.r.id < b.r.id)
		require.True(t, ordered, "item %d (%s %s %s) before item %d (%s %s %s)", i-1, a.at, ka, a.r.id, i, b.at, kb, b.r.id)
	}
}

func TestInstantOrder(t *testing.T) {
	times := []time.Time{
		{}, time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), time.Date(1677, 1, 1, 0, 0, 0, 0, time.UTC),
		t0, t0.Add(1), t0.Add(time.Second), t0.Add(-1), time.Date(2263, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
	}
	for _, a := range times {
		for _, b := range times {
			require.Equal(t, a.Before(b), instantOf(a).before(instantOf(b)), "%s before %s", a, b)
			require.Equal(t, a.Equal(b), instantOf(a) == instantOf(b), "%s equal %s", a, b)
		}
		require.True(t, a.Equal(instantOf(a).time()), "%s there and back", a)
		require.Equal(t, a.UTC().String(), instantOf(a).time().String())
	}
	require.Equal(t, instant{}, instantOf(time.Time{}), "the zero instant is the zero time")
	require.True(t, instant{}.time().IsZero())
}

func TestDueQueueFIFO(t *testing.T) {
	var q dueQueue
	next, want := 0, 0
	for round := range 50 {
		for range 100 + round*37 { // past the compaction threshold
			q.push(dueItem{version: next})
			next++
		}
		for range 90 + round*30 {
			require.Equal(t, want, q.first().version)
			require.Equal(t, want, q.pop().version)
			want++
		}
		require.Equal(t, next-want, q.len())
		require.LessOrEqual(t, q.head, len(q.items))
	}
	for q.len() > 0 {
		require.Equal(t, want, q.pop().version)
		want++
	}
	require.Equal(t, next, want)
	require.Zero(t, q.head, "an emptied queue starts over")
}

// TestDueQueueDropCompacts: items dropped by their runs' positions, with
// pops and compactions in between, leave the others in order, each run's
// position following its item.
func TestDueQueueDropCompacts(t *testing.T) {
	var q dueQueue
	var live []*run // in push order, not yet dropped or popped
	next := 0
	push := func() {
		r := &run{id: fmt.Sprint(next)}
		r.qpos = q.end()
		q.push(dueItem{at: instant{sec: int64(next)}, r: r})
		live = append(live, r)
		next++
	}
	for round := range 40 {
		for range 3000 {
			push()
		}
		// drop 4 of every 5 live runs
		var kept []*run
		for i, r := range live {
			if (i+round)%5 != 0 {
				q.drop(r.qpos, r)
				q.drop(r.qpos, r) // a second drop is harmless
			} else {
				kept = append(kept, r)
			}
		}
		live = kept
		require.LessOrEqual(t, q.len(), 2*len(live)+1024, "round %d: compacted", round)
		// pop a few live ones
		for range min(len(live), 100) {
			for q.first().r == nil {
				q.pop()
			}
			it := q.pop()
			require.Same(t, live[0], it.r)
			live = live[1:]
		}
		for _, r := range live {
			require.Same(t, r, q.items[r.qpos-q.base].r, "run %s's position", r.id)
		}
		n := 0
		for _, it := range q.items[q.head:] {
			if it.r == nil {
				n++
			}
		}
		require.Equal(t, n, q.cleared)
	}
}
