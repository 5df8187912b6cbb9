package pipeline

import (
	"strings"

	"github.com/syncwatch/syncwatch/pipeline/parse"
	"github.com/syncwatch/syncwatch/schemas"
)

// forwardID is what identifies an entry a first hop forwarded: its raw
// partition and the partition of the repartition topic it came through
// (ForwardedSource), the offset of the message it began in and its place among
// the message's entries, with the offset below which that partition was
// committed when it was forwarded (schemas.Forwarded).
type forwardID struct {
	source string
	offset int64
	index  int
	floor  int64
}

// ForwardedSource is the reorder source of the records of raw partition
// raw ("topic/partition") that come through partition via
// ("topic/partition") of the repartition topic: "raw via N". A raw
// partition's records and marks are in order within one partition of
// the repartition topic, not across them (a consumer reads those at
// their own pace), so each pair holds the watermark back on its own.
func ForwardedSource(raw, via string) string {
	return raw + " via " + via[strings.LastIndexByte(via, '/')+1:]
}

// decodeForwarded decodes a message of the repartition topic into a
// normalized: a record, a dead letter as the first hop described it, or
// a raw partition's watermark (mark). A message that does not decode is a
// dead letter of its own.
func decodeForwarded(en *Entry) normalized {
	var f schemas.Forwarded
	if err := f.UnmarshalBinary(en.Raw); err != nil {
		return deadLetter(en, en.Ack, en.Origin, "", en.Raw, &parse.Error{Reason: "repartition topic: " + err.Error()})
	}
	// Per pair too: a consumer reads the partitions of the repartition
	// topic at their own pace, so one may bring a raw partition's later
	// floor before another brings its earlier records.
	f.Source = ForwardedSource(f.Source, en.Source)
	id := &forwardID{source: f.Source, offset: f.Offset, index: f.Index, floor: f.Floor}
	switch f.Kind {
	case schemas.ForwardedMark:
		n := normalized{Source: f.Source, Ack: en.Ack, fwd: id, mark: true}
		n.Record.Time = f.Time
		return n
	case schemas.ForwardedDeadLetter:
		return normalized{Source: f.Source, Ack: en.Ack, fwd: id, Producer: f.Producer, DeadLetter: *f.DeadLetter}
	}
	n := normalized{OK: true, Source: f.Source, Ack: en.Ack, fwd: id, Producer: f.Record.Producer}
	r := &n.Record
	r.LogRecord = *f.Record
	r.Source, r.Ack, r.tie = f.Source, en.Ack, f.Tie
	return n
}

// dedup drops the entries a first hop forwarded more than once: a member
// that crashed after writing a raw message's records to the repartition
// topic and before committing its offset leaves them to the next owner of
// the raw partition, which forwards them again from the committed offset.
// Per raw partition it keeps the highest floor seen (everything below was
// forwarded, and committed, before: a repeat) and the entries seen at or
// above it, per raw partition and partition of the repartition topic
// (a repeat goes where the first went: same key). Marks are not entries: they pass. The state is rebuilt, like
// the detectors', from the restore window.
type dedup struct {
	sources map[string]*dedupSource
}

type dedupSource struct {
	floor int64
	seen  map[uint64]struct{} // offset<<16 | index, offsets >= floor
	// pruned is the floor at the last prune: seen is pruned when the
	// floor has moved on by a while, not at every entry
	pruned int64
}

// maxIndex bounds the entries of one message told apart (an OTLP batch
// may carry more; they then share an identity with the last ones, and a
// repeat of such a batch is dropped whole only below the floor).
const maxIndex = 1<<16 - 1

// first reports whether id is the first time its entry comes (marks
// always are) and notes it.
func (d *dedup) first(id *forwardID) bool {
	if d.sources == nil {
		d.sources = map[string]*dedupSource{}
	}
	s := d.sources[id.source]
	if s == nil {
		s = &dedupSource{seen: map[uint64]struct{}{}}
		d.sources[id.source] = s
	}
	if id.floor > s.floor {
		s.floor = id.floor
		if s.floor-s.pruned > 4096 || len(s.seen) > 1<<16 {
			for k := range s.seen {
				if int64(k>>16) < s.floor {
					delete(s.seen, k)
				}
			}
			s.pruned = s.floor
		}
	}
	if id.offset < 0 { // a mark
		return true
	}
	if id.offset < s.floor {
		return false
	}
	k := uint64(id.offset)<<16 | uint64(min(id.index, maxIndex))
	if _, ok := s.seen[k]; ok {
		return false
	}
	s.seen[k] = struct{}{}
	return true
}
