package detectors

import (
	"strings"
	"time"
)

// The engine decides runs in due order: a run's decision is due once event
// time passes its end plus the lateness (or its last line plus the run
// timeout). Runs are queued as dueItems in a typed min-heap, or, when an
// item is due no earlier than every queued one (a new run's timeout,
// nearly always), in a FIFO queue, and the two are merged when they pop:
// the items due at one instant are taken from both together and put in
// dueLess order (Engine.Advance).

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

// dueCompare is dueLess as a comparison function, for slices.SortFunc.
func dueCompare(x, y dueItem) int {
	switch {
	case dueLess(&x, &y):
		return -1
	case dueLess(&y, &x):
		return 1
	}
	return 0
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

// dueQueue is a FIFO of dueItems pushed in order of due time (items due
// at one instant in any order: Advance sorts them).
//
// An item whose run was decided before the item's time (a run that ended:
// its timeout item is superseded by one at its end) is cleared in place
// (drop), so that the queue does not keep the decided run alive until the
// timeout passes: with a million mailboxes, that was a million decided
// runs. A cleared item (r nil) keeps its time and is skipped when it pops.
//
// Cleared items still take their place until their time: a run timeout
// (10 min) of every run started. Once they are most of the queue, drop
// compacts it, so that it holds about as many items as there are runs
// undecided.
type dueQueue struct {
	items   []dueItem
	head    int
	base    int // the position (see end) of items[0]
	cleared int // items[head:] cleared by drop
}

func (q *dueQueue) len() int        { return len(q.items) - q.head }
func (q *dueQueue) first() *dueItem { return &q.items[q.head] }
func (q *dueQueue) push(it dueItem) { q.items = append(q.items, it) }

// end is the position the next pushed item gets: positions count every
// item ever pushed, so they survive the compactions of pop.
func (q *dueQueue) end() int { return q.base + len(q.items) }

// drop clears the item at position pos if it is still queued and still
// r's.
func (q *dueQueue) drop(pos int, r *run) {
	if i := pos - q.base; i >= q.head && i < len(q.items) && q.items[i].r == r {
		q.items[i].r = nil
		q.cleared++
		if q.cleared >= 1024 && 2*q.cleared >= q.len() {
			q.compact()
		}
	}
}

// compact removes the cleared items. The items kept get new positions,
// past every old one, and their runs' qpos follow them.
func (q *dueQueue) compact() {
	base := q.end()
	n := 0
	for i := q.head; i < len(q.items); i++ {
		it := q.items[i]
		if it.r == nil {
			continue
		}
		if it.r.qpos == q.base+i {
			it.r.qpos = base + n
		}
		q.items[n] = it
		n++
	}
	clear(q.items[n:])
	q.items, q.head, q.base, q.cleared = q.items[:n], 0, base, 0
}

// last is the last item queued, nil if none.
func (q *dueQueue) last() *dueItem {
	if n := len(q.items); n > q.head {
		return &q.items[n-1]
	}
	return nil
}

func (q *dueQueue) pop() dueItem {
	it := q.items[q.head]
	if it.r == nil {
		q.cleared--
	}
	q.items[q.head] = dueItem{}
	q.head++
	switch {
	case q.head == len(q.items):
		q.base += q.head
		q.items, q.head = q.items[:0], 0
	case q.head >= 1024 && 2*q.head >= len(q.items):
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.base += q.head
		q.items, q.head = q.items[:n], 0
	}
	return it
}

// instant is a time.Time as two integers: exact for every year (unlike
// UnixNano), and compared without time.Time's monotonic and location
// handling, in the due heap's hot loop; 16 bytes where a time.Time takes
// 24 and a pointer (its location) in every mailbox. The zero instant is
// the zero time.Time.
type instant struct {
	sec  int64 // since January 1, year 1, 00:00 UTC
	nsec int32
}

// year1 is the zero time.Time in Unix seconds.
const year1 = -62135596800

func instantOf(t time.Time) instant { return instant{t.Unix() - year1, int32(t.Nanosecond())} }

// time is a as a time.Time in UTC.
func (a instant) time() time.Time { return time.Unix(a.sec+year1, int64(a.nsec)).UTC() }

// add is a+d, for d >= 0.
func (a instant) add(d time.Duration) instant {
	a.sec += int64(d / time.Second)
	a.nsec += int32(d % time.Second)
	if a.nsec >= 1e9 {
		a.sec, a.nsec = a.sec+1, a.nsec-1e9
	}
	return a
}

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
