package pipeline

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/hashicorp/go-multierror"

	"github.com/syncwatch/syncwatch/pipeline/parse"
)

// Joining continuation lines. A shipper without a multiline rule sends
// each physical line of an ExchangeConnector entry as an event of its own:
// the entry's first line, then its stack trace's lines. The joiner puts
// them back together, per stream: the source (a partition, a file) and,
// within it, the envelope's shipper, host and file, so that lines of two
// files interleaved on one partition do not mix. An ExchangeConnector
// entry that came as a message or in an envelope (a head) is held until
// it is complete: when the next line of its stream is not a continuation
// line, when joinLookahead more entries of its source came and none was
// its, when its source ends, or, live, when its stream sent nothing for
// NormalizeConfig.JoinWait. A continuation line joins its stream's held
// head, up to maxJoinedLines lines and MaxEntry bytes (past MaxEntry the
// entry is cut and dead-lettered as too large, as a file's scanner does);
// without one it is a dead letter. Every rule but JoinWait depends on the
// order of the entries alone, so a replay of the messages joins them as
// the live consumer did; JoinWait only splits an entry whose lines came
// further apart than that, which a shipper does not do.

// joinRole is an entry's part in joining.
type joinRole uint8

const (
	joinNone joinRole = iota // a file's entry: its scanner joined its lines
	joinLine                 // sent on its own, neither a head nor a continuation
	joinHead                 // an ExchangeConnector entry sent on its own: may take continuation lines
	joinCont                 // a continuation line sent on its own
)

const (
	// joinLookahead is how many entries of its source may follow a held
	// head's last line before it is taken to be complete.
	joinLookahead = 64
	// maxJoinedLines bounds the continuation lines joined to one entry.
	maxJoinedLines = 1000
)

// joinKey is a stream: a source and, within it, an envelope's shipper,
// host and file.
type joinKey struct{ source, stream string }

// heldEntry is a head waiting for its continuation lines.
type heldEntry struct {
	n        normalized
	key      joinKey
	order    uint64    // when it was held, for releasing in order
	seq      uint64    // its source's entry count at its last line
	wall     time.Time // the batch's Now at its last line
	lines    int       // continuation lines joined
	oversize bool      // the lines joined passed MaxEntry: cut there
	acks     []AckFunc // the continuation lines' acks
}

// joiner holds heads per stream. It is driven by the normalize stage,
// under its lock.
type joiner struct {
	held     map[joinKey]*heldEntry
	bySource map[string][]*heldEntry // in the order they were held
	seq      map[string]uint64       // entries seen per source
	order    uint64
	// free holds released heldEntries for reuse: nearly every
	// ExchangeConnector entry that comes as a message is held, and a
	// heldEntry (an entry's record and dead letter) is large.
	free []*heldEntry
}

// add takes n, an entry of a stream, and commits (through commit) what is
// complete: n itself, or the head it completes, or heads its source has
// moved past. joined counts the continuation lines joined.
func (j *joiner) add(b *Batch, n *normalized, maxEntry int, commit func(*Batch, *normalized), joined *int64) {
	if j.held == nil {
		j.held, j.bySource, j.seq = map[joinKey]*heldEntry{}, map[string][]*heldEntry{}, map[string]uint64{}
	}
	key := joinKey{n.Source, n.stream}
	j.seq[n.Source]++
	seq := j.seq[n.Source]
	h := j.held[key]
	switch {
	case n.join == joinCont && h != nil && h.lines < maxJoinedLines:
		if !h.oversize {
			if len(h.n.raw)+1+len(n.raw) > maxEntry {
				h.oversize = true
			} else {
				h.n.raw = append(append(h.n.raw, '\n'), n.raw...)
			}
		}
		h.lines++
		h.seq, h.wall = seq, b.Now
		if n.Ack != nil {
			h.acks = append(h.acks, n.Ack)
		}
		*joined++
	case n.join == joinCont:
		n.DeadLetter.Reason = envelopePrefix(n.shipper) + "continuation line without its entry"
		if h != nil {
			j.release(b, h, maxEntry, commit)
		}
		commit(b, n)
	case n.join == joinHead:
		if h != nil {
			j.release(b, h, maxEntry, commit)
		}
		j.order++
		h = j.newHeld()
		*h = heldEntry{n: *n, key: key, order: j.order, seq: seq, wall: b.Now, acks: h.acks[:0]}
		j.held[key] = h
		j.bySource[n.Source] = append(j.bySource[n.Source], h)
	default:
		if h != nil {
			j.release(b, h, maxEntry, commit)
		}
		commit(b, n)
	}
	// heads of this source that it has moved past
	for _, h := range j.bySource[n.Source] {
		if seq-h.seq >= joinLookahead {
			j.release(b, h, maxEntry, commit)
			break // one at a time: release changed the slice
		}
	}
}

// release commits h, its continuation lines joined to it, and forgets it.
func (j *joiner) release(b *Batch, h *heldEntry, maxEntry int, commit func(*Batch, *normalized)) {
	delete(j.held, h.key)
	list := j.bySource[h.key.source]
	if i := slices.Index(list, h); i >= 0 {
		list = slices.Delete(list, i, i+1)
	}
	// an emptied list stays, for the source's next head (a source
	// usually holds one at a time: a new list each was an allocation)
	j.bySource[h.key.source] = list
	if h.lines > 0 {
		n := joinedEntry(&h.n, h, maxEntry)
		commit(b, &n)
	} else {
		commit(b, &h.n)
	}
	clear(h.acks) // joinAcks copied them
	*h = heldEntry{acks: h.acks[:0]}
	j.free = append(j.free, h)
}

// newHeld returns a released heldEntry, or a new one.
func (j *joiner) newHeld() *heldEntry {
	if n := len(j.free); n > 0 {
		h := j.free[n-1]
		j.free = j.free[:n-1]
		return h
	}
	return &heldEntry{}
}

// joinedEntry is head with its continuation lines joined: parsed again, or
// a dead letter when they made it too large.
func joinedEntry(head *normalized, h *heldEntry, maxEntry int) normalized {
	ack := joinAcks(head.Ack, h.acks)
	var err error
	var rec Record
	if h.oversize {
		err = &parse.Error{Format: parse.FormatLog4net, Reason: "entry exceeds " + strconv.Itoa(maxEntry) + " bytes", Offset: maxEntry}
	} else {
		err = parse.Entry(head.raw, &rec.LogRecord)
	}
	if err != nil {
		en := Entry{Source: head.Source}
		n := deadLetter(&en, ack, head.Record.Origin, head.shipper, head.raw, err)
		return n
	}
	n := *head
	n.Record = rec
	n.Record.Origin, n.Record.Source = head.Record.Origin, head.Source
	n.Record.tie = contentHash(head.raw)
	n.Record.Ack, n.Ack = ack, ack
	n.Producer = rec.Producer
	return n
}

// joinAcks is one ack for an entry and the continuation lines joined to
// it: it acks (or nacks) every one of them.
func joinAcks(head AckFunc, more []AckFunc) AckFunc {
	if len(more) == 0 {
		return head
	}
	all := append([]AckFunc{head}, more...)
	return func(ctx context.Context, err error) error {
		var errs *multierror.Error
		for _, ack := range all {
			if ack == nil {
				continue
			}
			if aerr := ack(ctx, err); aerr != nil {
				errs = multierror.Append(errs, aerr)
			}
		}
		return errs.ErrorOrNil()
	}
}

// floors appends to dst, per source with heads held, the earliest event
// time of its held heads that parsed.
func (j *joiner) floors(dst []heldFloor) []heldFloor {
	for src, list := range j.bySource {
		var t time.Time
		for _, h := range list {
			if h.n.OK && (t.IsZero() || h.n.Record.Time.Before(t)) {
				t = h.n.Record.Time
			}
		}
		if !t.IsZero() {
			dst = append(dst, heldFloor{source: src, time: t})
		}
	}
	return dst
}

// releaseAll releases every held head, in the order they were held.
func (j *joiner) releaseAll(b *Batch, maxEntry int, commit func(*Batch, *normalized)) {
	j.releaseWhere(b, maxEntry, commit, func(*heldEntry) bool { return true })
}

// releaseIdle releases the heads whose stream sent nothing since before.
func (j *joiner) releaseIdle(b *Batch, before time.Time, maxEntry int, commit func(*Batch, *normalized)) {
	j.releaseWhere(b, maxEntry, commit, func(h *heldEntry) bool { return h.wall.Before(before) })
}

// releaseSource releases the heads of source: it ends.
func (j *joiner) releaseSource(b *Batch, source string, maxEntry int, commit func(*Batch, *normalized)) {
	j.releaseWhere(b, maxEntry, commit, func(h *heldEntry) bool { return h.key.source == source })
}

func (j *joiner) releaseWhere(b *Batch, maxEntry int, commit func(*Batch, *normalized), match func(*heldEntry) bool) {
	if len(j.held) == 0 {
		return
	}
	var due []*heldEntry
	for _, h := range j.held {
		if match(h) {
			due = append(due, h)
		}
	}
	slices.SortFunc(due, func(a, b *heldEntry) int { return int(a.order - b.order) })
	for _, h := range due {
		j.release(b, h, maxEntry, commit)
	}
}

// envelopePrefix is how a dead letter's reason names the envelope its
// entry came in.
func envelopePrefix(shipper string) string {
	if shipper == "" {
		return ""
	}
	return shipper + " envelope: "
}
