// Package repeats drops the records that a repartition's first hop
// forwarded more than once: a member that crashed after writing a raw
// message's records to the repartition topic and before committing its
// offset leaves them to the next owner of the raw partition, which
// forwards them again from the committed offset.
package repeats

import "strings"

// Pair names the records of raw partition raw ("topic/partition") that
// come through partition via ("topic/partition") of the repartition
// topic, "raw via N": the second hop's reorder source, and the scope of
// an ID. A raw
// partition's records and marks are in order within one partition of
// the repartition topic, not across them (a consumer reads those at
// their own pace), so each pair holds the watermark back on its own.
func Pair(raw, via string) string {
	return raw + " via " + via[strings.LastIndexByte(via, '/')+1:]
}

// Raw returns the raw partition of a Pair (source itself if it is none).
func Raw(source string) string {
	raw, _, _ := strings.Cut(source, " via ")
	return raw
}

// ID is what identifies an entry a first hop forwarded
// (schemas.Forwarded): Source, its raw partition and the partition of
// the repartition topic it came through (Pair); Offset, the raw offset of
// the message it began in (-1 for a mark); Index, its place among the
// message's entries; Floor, the offset below which the raw partition was
// committed when it was forwarded.
type ID struct {
	Source string
	Offset int64
	Index  int
	Floor  int64
}

// Filter drops the entries a first hop forwarded more than once: a member
// that crashed after writing a raw message's records to the repartition
// topic and before committing its offset leaves them to the next owner of
// the raw partition, which forwards them again from the committed offset.
// Per raw partition it keeps the highest floor seen (everything below was
// forwarded, and committed, before: a repeat) and the entries seen at or
// above it, per raw partition and partition of the repartition topic
// (a repeat goes where the first went: same key). Marks are not entries: they pass. The state is rebuilt, like
// the detectors', from the restore window.
type Filter struct {
	sources map[string]*source
}

type source struct {
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

// First reports whether id is the first time its entry comes (marks
// always are) and notes it.
func (d *Filter) First(id *ID) bool {
	if d.sources == nil {
		d.sources = map[string]*source{}
	}
	s := d.sources[id.Source]
	if s == nil {
		s = &source{seen: map[uint64]struct{}{}}
		d.sources[id.Source] = s
	}
	if id.Floor > s.floor {
		s.floor = id.Floor
		if s.floor-s.pruned > 4096 || len(s.seen) > 1<<16 {
			for k := range s.seen {
				if int64(k>>16) < s.floor {
					delete(s.seen, k)
				}
			}
			s.pruned = s.floor
		}
	}
	if id.Offset < 0 { // a mark
		return true
	}
	if id.Offset < s.floor {
		return false
	}
	k := uint64(id.Offset)<<16 | uint64(min(id.Index, maxIndex))
	if _, ok := s.seen[k]; ok {
		return false
	}
	s.seen[k] = struct{}{}
	return true
}
