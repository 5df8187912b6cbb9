package pipeline

// recRuns holds the reorder stage's records and gives them back in key
// order (event time, tie, seq), like recHeap, but cheaper for what a
// source really delivers: records almost always in order. Each source's
// records that come in key order are appended to a queue of its own (a
// sorted run, O(1)); only one that would break its run's order goes to a
// heap. A pop takes the least of the runs' heads (a small heap over the
// sources) and the heap's top. The order out is exactly the heap's: every
// queue is sorted by the full key, and the least key of all comes first.
//
// With 9 Kafka partitions and a few thousand records held, a pop costs a
// sift through ~4 heads instead of ~13 levels of a heap of all records.
type recRuns struct {
	runs  map[string]*recRun
	last  *recRun // the run pushed to last (records come in stretches)
	heads []runHead
	over  recHeap // records that arrived out of their source's order
	n     int
}

// recRun is one source's sorted run: a ring buffer of records.
type recRun struct {
	src     string
	recs    []Record
	keys    []recKey // keys[i] is recs[i]'s (slot unused)
	head, n int
	lastKey recKey // the key of the last record appended
}

// runHead is a non-empty run in the heads heap, by the key of its head.
type runHead struct {
	key recKey
	run *recRun
}

func (h *recRuns) len() int { return h.n }

// minTime is the event time (Unix ns) of the first record; len() > 0.
func (h *recRuns) minTime() int64 {
	switch {
	case len(h.heads) == 0:
		return h.over.minTime()
	case h.over.len() == 0:
		return h.heads[0].key.t
	}
	return min(h.heads[0].key.t, h.over.minTime())
}

func (h *recRuns) push(r *Record) {
	h.n++
	k := recKey{t: unixNano(r.Time), tie: r.tie, seq: r.seq}
	q := h.last
	if q == nil || q.src != r.Source {
		if q = h.runs[r.Source]; q == nil {
			if h.runs == nil {
				h.runs = map[string]*recRun{}
			}
			q = &recRun{src: r.Source}
			h.runs[r.Source] = q
		}
		h.last = q
	}
	switch {
	case q.n == 0:
		q.append(r, k)
		h.pushHead(runHead{key: k, run: q})
	case q.lastKey.less(&k):
		q.append(r, k)
	default:
		h.over.push(r)
	}
}

// popInto moves the first record into dst; len() > 0.
func (h *recRuns) popInto(dst *Record) {
	h.n--
	if len(h.heads) == 0 || h.over.len() > 0 && h.over.keys[0].less(&h.heads[0].key) {
		h.over.popInto(dst)
		return
	}
	q := h.heads[0].run
	*dst = q.recs[q.head]
	q.recs[q.head] = Record{} // drop references for the GC
	q.head = (q.head + 1) & (len(q.recs) - 1)
	q.n--
	if q.n == 0 {
		q.head = 0
		if len(q.recs) > maxIdleRun {
			q.recs, q.keys = nil, nil // a burst is over: give its memory back
		}
		last := len(h.heads) - 1
		h.heads[0] = h.heads[last]
		h.heads[last] = runHead{}
		h.heads = h.heads[:last]
	} else {
		h.heads[0].key = q.keys[q.head]
	}
	h.siftDownHead(0)
}

func (q *recRun) append(r *Record, k recKey) {
	if q.n == len(q.recs) {
		q.grow()
	}
	i := (q.head + q.n) & (len(q.recs) - 1)
	q.recs[i], q.keys[i] = *r, k
	q.n++
	q.lastKey = k
}

// maxIdleRun is the capacity (records) above which an emptied run frees
// its buffer.
const maxIdleRun = 1 << 14

func (q *recRun) grow() {
	size := max(64, 2*len(q.recs)) // a power of two: indexes wrap with a mask
	recs, keys := make([]Record, size), make([]recKey, size)
	for i := range q.n {
		j := (q.head + i) & (len(q.recs) - 1)
		recs[i], keys[i] = q.recs[j], q.keys[j]
	}
	q.recs, q.keys, q.head = recs, keys, 0
}

func (h *recRuns) pushHead(e runHead) {
	h.heads = append(h.heads, e)
	k := h.heads
	for i := len(k) - 1; i > 0; {
		p := (i - 1) / 2
		if !k[i].key.less(&k[p].key) {
			break
		}
		k[i], k[p] = k[p], k[i]
		i = p
	}
}

func (h *recRuns) siftDownHead(i int) {
	k := h.heads
	n := len(k)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && k[r].key.less(&k[l].key) {
			m = r
		}
		if !k[m].key.less(&k[i].key) {
			return
		}
		k[i], k[m] = k[m], k[i]
		i = m
	}
}
