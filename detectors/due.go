package detectors

import (
	"strings"
	"time"
)

// The engine decides runs in due order: a run's decision is due once event
// time passes its end plus the lateness (or its last line plus the run
// timeout). Runs are queued as dueItems in a typed min-heap, or, when an
// item is later than every queued one (a new run's timeout, nearly
// always), in a FIFO queue, and the two are merged when they pop.

// dueItem is a run queued for its decision at a due time. version is the
// run's version when it was queued: an item of an older version is stale.
type dueItem struct {
	at      instant
	r       *run
	version int
}

// dueHeap is a binary min-heap of dueItem ordered by due time, then
// mailbox ("tenant/mailbox"), then run id: a total order, so the runs due
// at one instant are decided in the same order in every run. Typed, not
// container/heap: no boxing of items into interfaces on every push.
type dueHeap []dueItem

func (h dueHeap) less(i, j int) bool { return dueLess(&h[i], &h[j]) }

func (h *dueHeap) push(it dueItem) {
	*h = append(*h, it)
	q := *h
	for j := len(q) - 1; j > 0; {
		i := (j - 1) / 2
		if !q.less(j, i) {
			break
		}
		q[i], q[j] = q[j], q[i]
		j = i
	}
}

func (h *dueHeap) pop() dueItem {
	q := *h
	n := len(q) - 1
	it := q[0]
	q[0] = q[n]
	q[n] = dueItem{}
	q = q[:n]
	for i := 0; ; {
		j := 2*i + 1
		if j >= n {
			break
		}
		if j2 := j + 1; j2 < n && q.less(j2, j) {
			j = j2
		}
		if !q.less(j, i) {
			break
		}
		q[i], q[j] = q[j], q[i]
		i = j
	}
	*h = q
	return it
}

func dueLess(x, y *dueItem) bool {
	if x.at != y.at {
		return x.at.before(y.at)
	}
	a, b := x.r, y.r
	if a.mb.key != b.mb.key {
		return compareKeys(a.mb.key, b.mb.key) < 0
	}
	return a.id < b.id
}

// dueQueue is a FIFO of dueItems pushed in due order.
type dueQueue struct {
	items []dueItem
	head  int
}

func (q *dueQueue) len() int        { return len(q.items) - q.head }
func (q *dueQueue) first() *dueItem { return &q.items[q.head] }
func (q *dueQueue) push(it dueItem) { q.items = append(q.items, it) }

func (q *dueQueue) pop() dueItem {
	it := q.items[q.head]
	q.items[q.head] = dueItem{}
	q.head++
	switch {
	case q.head == len(q.items):
		q.items, q.head = q.items[:0], 0
	case q.head >= 1024 && 2*q.head >= len(q.items):
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	return it
}

// instant is a time.Time as two integers: exact for every year (unlike
// UnixNano), and compared without time.Time's monotonic and location
// handling, in the due heap's hot loop.
type instant struct {
	sec  int64
	nsec int32
}

func instantOf(t time.Time) instant { return instant{t.Unix(), int32(t.Nanosecond())} }

func (a instant) before(b instant) bool {
	return a.sec < b.sec || a.sec == b.sec && a.nsec < b.nsec
}

// compareKeys orders mailboxes as the strings "tenant/mailbox" would,
// without building them.
func compareKeys(a, b mbKey) int {
	return compareJoined(a.tenant, a.mailbox, b.tenant, b.mailbox)
}

// compareJoined compares a1+"/"+a2 with b1+"/"+b2 without allocating.
func compareJoined(a1, a2, b1, b2 string) int {
	a, b := [3]string{a1, "/", a2}, [3]string{b1, "/", b2}
	ai, bi := 0, 0
	as, bs := a[0], b[0]
	for {
		for as == "" && ai < 2 {
			ai++
			as = a[ai]
		}
		for bs == "" && bi < 2 {
			bi++
			bs = b[bi]
		}
		if as == "" || bs == "" {
			return len(as) - len(bs) // the shorter one is a prefix
		}
		n := min(len(as), len(bs))
		if c := strings.Compare(as[:n], bs[:n]); c != 0 {
			return c
		}
		as, bs = as[n:], bs[n:]
	}
}
