package kafkasource

import (
	"cmp"
	"fmt"
	"slices"
)

// offsetTracker tracks the messages of one partition that were handed out
// and not yet acknowledged, so that acks may arrive in any order while the
// offset committed to Kafka never passes an unacknowledged message.
//
// Offsets must be tracked in increasing order (the order a partition is
// read in); gaps are allowed (compacted records, transaction markers).
// Memory is proportional to the number of tracked offsets not yet covered
// by committable. The zero value is not usable; use newOffsetTracker. It is
// not safe for concurrent use.
type offsetTracker struct {
	pending []trackedOffset // tracked offsets in increasing order, from head
	head    int             // index of the first pending entry
	last    int64           // highest tracked offset, -1 if none
	done    int64           // highest offset whose predecessors are all acked, -1 if none
}

type trackedOffset struct {
	offset int64
	acked  bool
}

func newOffsetTracker() *offsetTracker {
	return &offsetTracker{last: -1, done: -1}
}

// track records that the message at offset was handed out. offset must be
// greater than every offset tracked before.
func (t *offsetTracker) track(offset int64) error {
	if offset < 0 {
		return fmt.Errorf("tracking offset %d: negative offset", offset)
	}
	if offset <= t.last {
		return fmt.Errorf("tracking offset %d: not after the last tracked offset %d", offset, t.last)
	}
	t.last = offset
	t.pending = append(t.pending, trackedOffset{offset: offset})
	return nil
}

// skip records that the message at offset needs no processing (a
// transaction marker): tracked and acked at once.
func (t *offsetTracker) skip(offset int64) error {
	if err := t.track(offset); err != nil {
		return err
	}
	return t.ack(offset)
}

// ack records that the message at offset was processed. offset must be
// tracked and not acked yet.
func (t *offsetTracker) ack(offset int64) error {
	p := t.pending[t.head:]
	i, found := slices.BinarySearchFunc(p, offset, func(e trackedOffset, o int64) int { return cmp.Compare(e.offset, o) })
	if !found {
		if offset <= t.done {
			return fmt.Errorf("acking offset %d: already acked", offset)
		}
		return fmt.Errorf("acking offset %d: not tracked", offset)
	}
	if p[i].acked {
		return fmt.Errorf("acking offset %d: already acked", offset)
	}
	p[i].acked = true
	for t.head < len(t.pending) && t.pending[t.head].acked {
		t.done = t.pending[t.head].offset
		t.head++
	}
	t.compact()
	return nil
}

// committable returns the highest tracked offset N such that every tracked
// offset <= N is acked, and false if there is none. The offset to commit to
// Kafka is N+1 (the next offset to read).
func (t *offsetTracker) committable() (int64, bool) {
	return t.done, t.done >= 0
}

// inFlight returns how many tracked offsets are not yet acked or are acked
// but behind an unacked one.
func (t *offsetTracker) inFlight() int {
	return len(t.pending) - t.head
}

// compact drops the acked prefix once it is at least half of the slice, so
// that appends reuse memory and the slice stays proportional to inFlight.
func (t *offsetTracker) compact() {
	if t.head == 0 || t.head < len(t.pending)/2 {
		return
	}
	n := copy(t.pending, t.pending[t.head:])
	clear(t.pending[n:])
	t.pending = t.pending[:n]
	t.head = 0
}
