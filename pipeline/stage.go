package pipeline

import (
	"context"
	"time"

	"github.com/syncwatch/syncwatch/pipeline/health"
	"github.com/syncwatch/syncwatch/schemas"
)

// AckFunc acknowledges an input. A nil err means everything the input
// caused was delivered to every sink, so its offset may be committed; a
// non-nil err is a nack: the input must be delivered again. It may block
// until ctx ends.
type AckFunc func(ctx context.Context, err error) error

// Entry is one raw log entry as a source read it.
type Entry struct {
	// Source names the stream the entry came from ("exchange.log",
	// "sync.engine/2"): the watermark is the minimum over sources.
	Source string
	// Raw is the entry; stages may keep it only until Exec returns.
	Raw []byte
	// Text, if not empty, is Raw as an immutable string (string(Raw)),
	// which the records' strings may share (parse.EntryText): replay
	// makes one for a chunk of entries, so that parsing allocates nothing
	// per entry.
	Text string
	// Origin is "file:line" or "topic/partition/offset".
	Origin string
	// Oversize is set when the source cut the entry at its size limit.
	Oversize bool
	// Message is set when the entry is one message of a stream (a Kafka
	// message) rather than a file's entry, which its scanner framed
	// (continuation lines joined): a shipper may have sent the lines of a
	// multi-line entry as messages of their own, which are joined back.
	Message bool
	// Ack, if not nil, is called once the entry's effects are delivered.
	Ack AckFunc
}

// Record is a normalized entry on its way through the stages.
type Record struct {
	schemas.LogRecord
	// Source is the Entry's source.
	Source string
	// Ack is the Entry's ack, held until the record has been processed.
	Ack AckFunc
	// tie orders records of equal event time by content, so that the
	// order (and so the output) does not depend on how sources interleave.
	tie uint64
	// seq keeps arrival order among identical records.
	seq uint64
	// mark: not a record but the watermark of Source, at Time (from a
	// first hop, Repartitioned); the reorder stage takes it in.
	mark bool
}

// Tie is what orders r among records of equal event time: a hash of its
// entry's content. A first hop of a repartition forwards it with the
// record, so that the second orders as a consumer of the raw topics does.
func (r *Record) Tie() uint64 { return r.tie }

// Batch is the unit of work that flows through the stages. Each stage
// consumes some fields and fills others.
type Batch struct {
	// Entries are raw inputs (consumed by NormalizeStage).
	Entries []Entry
	// Records are normalized records: in arrival order after
	// NormalizeStage, in event-time order after ReorderStage.
	Records []Record
	// Events are incident events to deliver.
	Events []schemas.IncidentEvent
	// DeadLetters are entries that could not be parsed.
	DeadLetters []schemas.DeadLetter
	// Acks are to be called once Events and DeadLetters are delivered.
	Acks []AckFunc
	// Final marks the end of input, or of what there is of it: stages
	// flush everything they hold. A replay sets it once, at the end; a
	// Consumer also when its input has been quiet for QuietAfter, and
	// more batches may follow (their records before Bound are late).
	Final bool
	// Now is the wall-clock time of the batch, used only for source
	// idleness and the received time of dead letters; never for detection.
	Now time.Time
	// Bound is the event time up to which every record has been released,
	// set by ReorderStage: DetectStage advances the engine's clock to it,
	// so that runs are decided even when no newer record arrives.
	Bound time.Time
	// Backlog is set when a source has more to read than it has read (a
	// Kafka partition catching up): ReorderStage then releases only what
	// its MaxBuffered forces out. A log shipper that finds files waiting
	// sends one file's backlog after another's, so the event times of a
	// partition go back each time a file starts; until the backlog is
	// read, a stream further back in it may still hold older records.
	Backlog bool

	// health: the entries committed, for the health monitor (see
	// health.Observation)
	health []health.Observation
	// held: per source, the earliest event time of the entries the
	// normalize stage holds for their continuation lines (see joiner),
	// as of this batch: ReorderStage keeps the source's later records
	// until they come
	held []heldFloor
}

// HeldSince returns the earliest event time of the entries of source that
// the normalize stage holds for their continuation lines, and whether it
// holds one: nothing of source from then on may be taken as complete (a
// repartition first hop's marks stop there).
func (b *Batch) HeldSince(source string) (time.Time, bool) {
	for _, h := range b.held {
		if h.source == source {
			return h.time, true
		}
	}
	return time.Time{}, false
}

// heldFloor is the earliest event time of the entries a source has
// waiting in the joiner.
type heldFloor struct {
	source string
	time   time.Time
}

// Reset empties b for reuse, keeping its storage.
func (b *Batch) Reset() {
	clear(b.Entries)
	clear(b.Records)
	clear(b.Events)
	clear(b.Acks)
	clear(b.health)
	clear(b.held)
	*b = Batch{Entries: b.Entries[:0], Records: b.Records[:0], Events: b.Events[:0], DeadLetters: b.DeadLetters[:0], Acks: b.Acks[:0], health: b.health[:0], held: b.held[:0]}
}

// Stage is one step of the pipeline.
type Stage interface {
	// Exec processes b in place. It blocks as long as the step needs (a
	// sink write); ctx bounds it. An error stops the batch: its inputs are
	// not acknowledged.
	Exec(ctx context.Context, b *Batch) error
}

// MultiStage runs stages in sequence, stopping at the first error.
type MultiStage []Stage

// Exec runs every stage on b in order.
func (ms MultiStage) Exec(ctx context.Context, b *Batch) error {
	for _, s := range ms {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.Exec(ctx, b); err != nil {
			return err
		}
	}
	return nil
}
