package pipeline

import (
	"github.com/syncwatch/syncwatch/pipeline/parse"
	"github.com/syncwatch/syncwatch/pipeline/repartition/repeats"
	"github.com/syncwatch/syncwatch/schemas"
)

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
	f.Source = repeats.Pair(f.Source, en.Source)
	id := &repeats.ID{Source: f.Source, Offset: f.Offset, Index: f.Index, Floor: f.Floor}
	switch f.Kind {
	case schemas.ForwardedMark:
		n := normalized{Source: f.Source, Ack: en.Ack, fwd: id, mark: true}
		n.Record.Time = f.Time
		return n
	case schemas.ForwardedDeadLetter:
		// (the health monitor places it at Time, as the first hop did)
		n := normalized{Source: f.Source, Ack: en.Ack, fwd: id, Producer: f.Producer, DeadLetter: *f.DeadLetter}
		n.Record.Time = f.Time
		return n
	}
	n := normalized{OK: true, Source: f.Source, Ack: en.Ack, fwd: id, Producer: f.Record.Producer}
	r := &n.Record
	r.LogRecord = *f.Record
	r.Source, r.Ack, r.tie = f.Source, en.Ack, f.Tie
	return n
}
