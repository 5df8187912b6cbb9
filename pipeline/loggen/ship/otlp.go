package ship

import (
	"fmt"
	"path"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/syncwatch/syncwatch/schemas"
)

// otlpBatch is the records of one key waiting to be sent.
type otlpBatch struct {
	key      []byte
	logs     plog.Logs
	records  plog.LogRecordSlice
	first    time.Time // read time of its first record
	producer schemas.Producer
	n        int
}

// otlpBatcher groups filelog records into plog.Logs batches, one per key
// (one only unless KeyMailbox), and sends a batch when it holds BatchSize
// records or when a record is read BatchTimeout or more after the
// batch's first one (the batch processor's size and timeout, on the
// read-time clock).
type otlpBatcher struct {
	cfg     Config
	json    bool
	byKey   map[string]*otlpBatch
	order   []*otlpBatch // open batches, oldest first
	names   [schemas.NumProducers]string
	marshal plog.Marshaler
}

func newOTLPBatcher(cfg Config) *otlpBatcher {
	b := &otlpBatcher{cfg: cfg, byKey: map[string]*otlpBatch{}}
	if cfg.Kind == OTLPJSON {
		b.marshal = &plog.JSONMarshaler{}
	} else {
		b.marshal = &plog.ProtoMarshaler{}
	}
	for p := range b.names {
		b.names[p] = path.Base(cfg.Path(schemas.Producer(p)))
	}
	return b
}

// add appends one record, first sending the batches it times out, and
// the batch it fills.
func (b *otlpBatcher) add(s *Shipper, t *token, emit func(Message) error) error {
	timeout := b.cfg.batchTimeout()
	for len(b.order) > 0 && !t.read.Before(b.order[0].first.Add(timeout)) {
		o := b.order[0]
		if err := b.send(o, o.first.Add(timeout), emit); err != nil {
			return err
		}
	}
	k := string(t.key)
	bt := b.byKey[k]
	if bt == nil {
		bt = &otlpBatch{key: t.key, logs: plog.NewLogs(), first: t.read, producer: t.producer}
		// the filelog receiver sets no resource attributes and an empty
		// scope: one ResourceLogs with one ScopeLogs per batch
		bt.records = bt.logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
		b.byKey[k] = bt
		b.order = append(b.order, bt)
	}
	r := bt.records.AppendEmpty()
	// no parser: no timestamp, severity 0; the observed time is the read
	r.SetObservedTimestamp(pcommon.NewTimestampFromTime(t.read))
	r.Body().SetStr(string(t.text))
	r.Attributes().PutStr("log.file.name", b.names[t.producer])
	bt.n++
	if bt.n >= b.cfg.batchSize() {
		return b.send(bt, t.read, emit)
	}
	return nil
}

// send marshals batch bt, stamped at, and forgets it.
func (b *otlpBatcher) send(bt *otlpBatch, at time.Time, emit func(Message) error) error {
	delete(b.byKey, string(bt.key))
	for i, o := range b.order {
		if o == bt {
			b.order = append(b.order[:i], b.order[i+1:]...)
			break
		}
	}
	v, err := b.marshal.MarshalLogs(bt.logs)
	if err != nil {
		return fmt.Errorf("marshalling otlp logs: %w", err)
	}
	return emit(Message{Key: bt.key, Value: v, Time: at.Truncate(time.Millisecond), Producer: bt.producer, Records: bt.n})
}

// flushAll sends every open batch, oldest first.
func (b *otlpBatcher) flushAll(emit func(Message) error) error {
	for len(b.order) > 0 {
		o := b.order[0]
		last := o.records.At(o.records.Len() - 1).ObservedTimestamp().AsTime()
		if err := b.send(o, last, emit); err != nil {
			return err
		}
	}
	return nil
}
