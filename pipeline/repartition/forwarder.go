// Package repartition is the first hop of `ingest --repartition`: it
// reads the raw log topics whatever their keys, normalizes each message
// (envelopes, joined continuation lines, parsing) and writes the records
// to an internal topic keyed by tenant/mailbox, as Kafka Streams and
// ksqlDB repartition a stream before a keyed aggregation. The second hop
// is the ordinary consumer (pipeline.Consumer) on that topic, with
// pipeline.NormalizeConfig.Repartitioned: whatever partitions the
// shippers wrote a mailbox's logs to, one member judges all of them.
//
// What crosses the topic is schemas.Forwarded, version
// schemas.ForwardedVersion: records, dead letters (keyed by their raw
// partition) and marks, the event time each raw partition has reached,
// sent to every partition of the topic after the records that reached
// it. The second hop orders records by event time across raw partitions
// exactly as a single consumer of the raw topics would, with the raw
// partitions as its reorder sources and the marks moving their
// watermarks.
//
// A raw offset is committed only once every record it produced was
// acknowledged by the internal topic (RequiredAcks all). A member that
// crashes in between leaves those records to the next owner, which
// forwards them again; the second hop drops the repeats by the raw
// partition and offset each record carries.
package repartition

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-multierror"
	"github.com/segmentio/kafka-go"

	"github.com/syncwatch/syncwatch/pipeline"
	"github.com/syncwatch/syncwatch/pipeline/parse"
	"github.com/syncwatch/syncwatch/schemas"
)

// Input is what the forwarder reads: a consumer-group member on the raw
// topics (kafkasource.Source) that also tells the offsets it committed.
type Input interface {
	pipeline.MessageSource
	// Committed returns, per partition of the current generation, the
	// offset committed last (the next to read), -1 if none.
	Committed() map[string]int64
}

// Output is where the forwarder writes: the repartition topic (a
// kafka.Writer whose Balancer is Balancer).
type Output interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// Defaults of Config.
const (
	DefaultBatchSize = 2000
	DefaultBatchWait = 10 * time.Millisecond
)

// Config configures a Forwarder.
type Config struct {
	// Partitions is the repartition topic's partition count; a mark goes
	// to each. Required.
	Partitions int

	// Normalize configures unwrapping, joining and parsing, as for a
	// consumer of the raw topics.
	Normalize pipeline.NormalizeConfig

	// BatchSize is the most messages normalized and written at once.
	//
	// Default: DefaultBatchSize (2000)
	BatchSize int

	// BatchWait is how long a batch waits to fill before it goes anyway.
	//
	// Default: DefaultBatchWait (10ms)
	BatchWait time.Duration

	// Logger receives the forwarder's logs.
	//
	// Default: slog.Default()
	Logger *slog.Logger
}

// Validate reports every problem of the configuration at once.
func (c *Config) Validate() error {
	var errs *multierror.Error
	if c.Partitions <= 0 {
		errs = multierror.Append(errs, fmt.Errorf("Partitions %d: must be positive", c.Partitions))
	}
	if c.Normalize.Repartitioned {
		errs = multierror.Append(errs, errors.New("Normalize.Repartitioned: a first hop reads raw topics"))
	}
	if err := c.Normalize.Validate(); err != nil {
		errs = multierror.Append(errs, fmt.Errorf("Normalize: %w", err))
	}
	if c.BatchSize < 0 {
		errs = multierror.Append(errs, fmt.Errorf("BatchSize %d: must not be negative", c.BatchSize))
	}
	if c.BatchWait < 0 {
		errs = multierror.Append(errs, fmt.Errorf("BatchWait %v: must not be negative", c.BatchWait))
	}
	return errs.ErrorOrNil()
}

// Stats counts what a Forwarder wrote.
type Stats struct {
	// Messages is the raw messages read and Forwarded those whose records
	// were all written and that were acknowledged (an entry held for the
	// continuation lines of its stack trace is forwarded once complete);
	// Records and DeadLetters are what they gave, Marks the watermarks
	// written.
	Messages, Forwarded, Records, DeadLetters, Marks int64
	// WriteRetries counts writes to the repartition topic that failed and
	// were tried again.
	WriteRetries int64
}

// Forwarder is the first hop: raw topics in, repartition topic out.
type Forwarder struct {
	in  Input
	out Output
	cfg Config
	log *slog.Logger

	norm   *pipeline.NormalizeStage
	latest map[string]time.Time // per raw partition, the latest event time forwarded
	// sent is, per raw partition, the time of the last mark written
	sent map[string]time.Time
	// lastProducer is, per raw partition, its last record's producer
	lastProducer map[string]schemas.Producer
	gen          int

	messages, forwarded, records, deadLetters, marks, retries atomic.Int64
}

// New returns a forwarder from in to out; cfg must be valid.
func New(in Input, out Output, cfg Config) (*Forwarder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("validating repartition config: %w", err)
	}
	return &Forwarder{in: in, out: out, cfg: cfg, log: cmp.Or(cfg.Logger, slog.Default())}, nil
}

// Stats returns the counters so far. Safe for concurrent use.
func (f *Forwarder) Stats() Stats {
	return Stats{Messages: f.messages.Load(), Forwarded: f.forwarded.Load(), Records: f.records.Load(), DeadLetters: f.deadLetters.Load(),
		Marks: f.marks.Load(), WriteRetries: f.retries.Load()}
}

// Run forwards until ctx ends (nil) or reading fails. What was read and
// not written when ctx ends is left uncommitted: the next owner forwards
// it.
func (f *Forwarder) Run(ctx context.Context) error {
	f.reset()
	b := &pipeline.Batch{}
	for ctx.Err() == nil {
		ended, err := f.fill(ctx, b)
		if err != nil {
			return err
		}
		if ended {
			// the raw partitions moved: entries held for continuation
			// lines are dropped with their offsets uncommitted
			b.Reset()
			f.reset()
			continue
		}
		if err := f.forward(ctx, b); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	return nil
}

func (f *Forwarder) reset() {
	f.norm = pipeline.NewNormalizeStage(f.cfg.Normalize)
	f.latest = map[string]time.Time{}
	f.sent = map[string]time.Time{}
	f.lastProducer = map[string]schemas.Producer{}
	f.gen = -1
}

// fill reads messages into b until it holds BatchSize or BatchWait passed.
func (f *Forwarder) fill(ctx context.Context, b *pipeline.Batch) (ended bool, err error) {
	rctx, cancel := context.WithTimeout(ctx, cmp.Or(f.cfg.BatchWait, DefaultBatchWait))
	defer cancel()
	for len(b.Entries) < cmp.Or(f.cfg.BatchSize, DefaultBatchSize) {
		msg, ack, err := f.in.Read(rctx)
		if err != nil {
			switch {
			case ctx.Err() != nil, errors.Is(err, context.DeadlineExceeded):
				return false, nil
			case errors.Is(err, pipeline.ErrGenerationEnded):
				return true, nil
			}
			return false, fmt.Errorf("reading raw messages: %w", err)
		}
		if msg.Restored {
			// forwarded before (the first hop restores nothing, but a
			// source configured to would hand these out)
			if ack != nil {
				ack(ctx, nil)
			}
			continue
		}
		b.Entries = append(b.Entries, pipeline.Entry{
			Source: msg.Source, Raw: msg.Value, Origin: msg.Source + "/" + strconv.FormatInt(msg.Offset, 10),
			Ack: f.counted(ack), Message: true,
		})
	}
	return false, nil
}

// forward normalizes b, writes what it gave to the repartition topic and,
// once written, acknowledges the raw messages.
func (f *Forwarder) forward(ctx context.Context, b *pipeline.Batch) error {
	f.messages.Add(int64(len(b.Entries)))
	b.Now = time.Now()
	b.Backlog = !f.in.CaughtUp()
	if err := f.norm.Exec(ctx, b); err != nil {
		return err
	}
	committed := f.in.Committed()
	msgs := make([]kafka.Message, 0, len(b.Records)+len(b.DeadLetters)+f.cfg.Partitions)
	acks := b.Acks
	touched := map[string]bool{}
	// each record's raw offset and index, parsed once for its message and
	// for placing the dead letters
	ids := make([][2]int64, len(b.Records))
	for i := range b.Records {
		off, idx := originID(b.Records[i].Origin, b.Records[i].Source)
		ids[i] = [2]int64{off, int64(idx)}
	}
	placed := f.placeDeadLetters(b, ids)
	for i := range b.Records {
		r := &b.Records[i]
		src := r.Source
		off, idx := ids[i][0], int(ids[i][1])
		fw := schemas.Forwarded{Kind: schemas.ForwardedRecord, Source: src, Offset: off, Index: idx,
			Floor: committed[src], Time: r.Time, Tie: r.Tie(), Record: &r.LogRecord}
		v, err := fw.AppendBinary(nil)
		if err != nil {
			return fmt.Errorf("encoding a record of %s: %w", r.Origin, err)
		}
		msgs = append(msgs, kafka.Message{Key: []byte(r.Tenant + "/" + r.Mailbox), Value: v})
		if r.Ack != nil {
			acks = append(acks, r.Ack)
		}
		if r.Time.After(f.latest[src]) {
			f.latest[src] = r.Time
		}
		touched[src] = true
	}
	for i := range b.DeadLetters {
		dl := &b.DeadLetters[i]
		src := sourceOf(dl.Origin)
		off, idx := originID(dl.Origin, src)
		fw := schemas.Forwarded{Kind: schemas.ForwardedDeadLetter, Source: src, Offset: off, Index: idx,
			Floor: committed[src], DeadLetter: dl, Producer: placed[i].producer, Time: placed[i].at}
		v, err := fw.AppendBinary(nil)
		if err != nil {
			return fmt.Errorf("encoding a dead letter of %s: %w", dl.Origin, err)
		}
		msgs = append(msgs, kafka.Message{Key: []byte(src), Value: v})
	}
	// The marks go after the records, to every partition: each raw
	// partition's records up to its latest time are in front of them.
	// While a backlog out of event-time order is read whole (b.Backlog),
	// they keep the time they had, as a consumer of the raw topics holds
	// every record until then: the second hop's watermark moves by marks
	// only, and later records of such a backlog must not be late. A
	// partition touched gets a mark all the same (it is not idle), and
	// one whose mark moved gets one untouched (the backlog was read).
	for src, t := range f.latest {
		if b.Backlog {
			t = f.sent[src]
		}
		if h, ok := b.HeldSince(src); ok && h.Before(t) {
			// an entry of src waits for its continuation lines: the
			// records after it are in front of the mark, it is not
			t = h
		}
		if !touched[src] && t.Equal(f.sent[src]) {
			continue
		}
		touched[src] = true // (counted below)
		f.sent[src] = t
		fw := schemas.Forwarded{Kind: schemas.ForwardedMark, Source: src, Offset: -1, Floor: committed[src], Time: t}
		v, err := fw.AppendBinary(nil)
		if err != nil {
			return fmt.Errorf("encoding the mark of %s: %w", src, err)
		}
		for p := range f.cfg.Partitions {
			msgs = append(msgs, kafka.Message{Value: v, Headers: []kafka.Header{{Key: PartitionHeader, Value: []byte(strconv.Itoa(p))}}})
		}
	}
	if len(msgs) > 0 {
		if err := f.write(ctx, msgs); err != nil {
			return err
		}
	}
	for _, ack := range acks {
		if err := ack(ctx, nil); err != nil {
			return fmt.Errorf("acknowledging raw messages: %w", err)
		}
	}
	f.records.Add(int64(len(b.Records)))
	f.deadLetters.Add(int64(len(b.DeadLetters)))
	f.marks.Add(int64(len(touched) * f.cfg.Partitions))
	for src, t := range f.latest {
		f.in.ObserveEventTime(src, t)
	}
	b.Reset()
	return nil
}

// placement is where the health monitor places a dead letter: the
// producer it belongs to and its raw partition's latest record time.
type placement struct {
	producer schemas.Producer
	at       time.Time
}

// placeDeadLetters places b's dead letters as a health monitor reading
// the raw partitions would: by their partition's records before them (in
// offset order; the batch's records are not yet in f.latest), and notes
// each partition's last record's producer for the next batch. ids are the
// records' raw offsets and indexes.
func (f *Forwarder) placeDeadLetters(b *pipeline.Batch, ids [][2]int64) []placement {
	out := make([]placement, len(b.DeadLetters))
	for i := range b.DeadLetters {
		dl := &b.DeadLetters[i]
		src := sourceOf(dl.Origin)
		off, _ := originID(dl.Origin, src)
		p, at := f.lastProducer[src], f.latest[src]
		for j := range b.Records {
			r := &b.Records[j]
			if r.Source != src {
				continue
			}
			if ids[j][0] >= off {
				continue
			}
			p = r.Producer
			if r.Time.After(at) {
				at = r.Time
			}
		}
		if p == schemas.ProducerUnknown {
			p = parse.DetectFormat(dl.RawBase64).Producer()
		}
		out[i] = placement{producer: p, at: at}
	}
	for j := range b.Records {
		f.lastProducer[b.Records[j].Source] = b.Records[j].Producer
	}
	return out
}

// counted wraps a raw message's ack so that it counts the message as
// forwarded: a caller that stops once everything was (--stop-after)
// commits every offset on closing, and misses no entry still held for
// its continuation lines.
func (f *Forwarder) counted(ack pipeline.AckFunc) pipeline.AckFunc {
	if ack == nil {
		return nil
	}
	return func(ctx context.Context, err error) error {
		aerr := ack(ctx, err)
		if err == nil && aerr == nil {
			f.forwarded.Add(1) // once the source noted it, for its commit
		}
		return aerr
	}
}

// write writes msgs, trying again while the topic cannot take them: the
// raw offsets stay uncommitted meanwhile, so nothing is lost if the
// process stops.
func (f *Forwarder) write(ctx context.Context, msgs []kafka.Message) error {
	var warned time.Time
	for {
		err := f.out.WriteMessages(ctx, msgs...)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		f.retries.Add(1)
		if time.Since(warned) > time.Minute {
			warned = time.Now()
			f.log.Warn("writing to the repartition topic failed; trying again (the raw offsets stay uncommitted)", "messages", len(msgs), "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// originID is the raw offset and entry index in origin,
// "source/offset[#index][ (shipper ...)]", as the forwarder's entries
// name them.
func originID(origin, src string) (offset int64, index int) {
	rest := strings.TrimPrefix(origin, src+"/")
	end := strings.IndexAny(rest, "# ")
	if end < 0 {
		end = len(rest)
	}
	offset, _ = strconv.ParseInt(rest[:end], 10, 64)
	if end < len(rest) && rest[end] == '#' {
		rest = rest[end+1:]
		if e := strings.IndexByte(rest, ' '); e >= 0 {
			rest = rest[:e]
		}
		index, _ = strconv.Atoi(rest)
	}
	return offset, index
}

// sourceOf is the "topic/partition" an origin "topic/partition/offset..."
// begins with.
func sourceOf(origin string) string {
	slash := strings.IndexByte(origin, '/')
	if slash < 0 {
		return origin
	}
	next := strings.IndexByte(origin[slash+1:], '/')
	if next < 0 {
		return origin
	}
	return origin[:slash+1+next]
}

// PartitionHeader names the header by which a mark chooses its partition
// (Balancer).
const PartitionHeader = "syncwatch-partition"

// Balancer places the repartition topic's messages: a mark on the
// partition its header names, everything else by the murmur2 hash of its
// key (tenant/mailbox for records), as Kafka's Java producer does.
type Balancer struct{ murmur kafka.Murmur2Balancer }

// Balance implements kafka.Balancer.
func (b *Balancer) Balance(msg kafka.Message, partitions ...int) int {
	for _, h := range msg.Headers {
		if h.Key == PartitionHeader {
			if p, err := strconv.Atoi(string(h.Value)); err == nil {
				for _, q := range partitions {
					if q == p {
						return p
					}
				}
			}
		}
	}
	if len(msg.Key) == 0 {
		// (never: records and dead letters have keys) spread by value
		h := fnv.New32a()
		h.Write(msg.Value)
		return partitions[int(h.Sum32()%uint32(len(partitions)))]
	}
	return b.murmur.Balance(msg, partitions...)
}

// Written is how many messages s says were written to the repartition
// topic: records, dead letters and marks.
func (s Stats) Written() int64 { return s.Records + s.DeadLetters + s.Marks }
