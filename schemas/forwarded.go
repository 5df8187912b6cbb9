package schemas

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// ForwardedVersion is the version of the repartition topic's record
// format that Forwarded encodes: its first byte. A reader rejects other
// versions: the members of a group must run releases that speak the same
// one (a new format comes with a new version, read by the release before
// it is written).
const ForwardedVersion = 1

// What a Forwarded carries.
const (
	// ForwardedRecord: a parsed log entry, keyed by tenant/mailbox.
	ForwardedRecord = "record"
	// ForwardedMark: the event time a raw partition has reached, sent to
	// every partition of the repartition topic (a watermark).
	ForwardedMark = "mark"
	// ForwardedDeadLetter: an entry that could not be parsed, keyed by its
	// raw partition.
	ForwardedDeadLetter = "dead_letter"
)

// Forwarded is one message of the repartition topic: what the first hop
// of `ingest --repartition` (normalization, on the raw topics) hands the
// second (detection, on the repartition topic). The first hop keys
// records by tenant/mailbox, so that one member judges all of a mailbox's
// logs whichever partitions the shippers wrote them to.
//
// On the wire (AppendBinary, UnmarshalBinary) it is binary: a version
// byte, a kind byte, then the fields in a fixed order, integers as
// varints, strings and bytes with their length first. Binary rather than
// JSON because a record must come out exactly as it went in (a log line's
// text need not be valid UTF-8, which JSON would change) and because the
// hop's cost is in this encoding: 20 µs a record through encoding/json,
// about 1 µs this way (BenchmarkForwarded).
type Forwarded struct {
	// Kind is ForwardedRecord, ForwardedMark or ForwardedDeadLetter.
	Kind string
	// Source is the raw partition the entry came from, "topic/partition".
	Source string
	// Offset is the raw offset of the message the entry began in, and
	// Index the entry's place among the records forwarded from that
	// message (an OTLP batch carries several): together, the entry's
	// identity within Source, by which the second hop drops the records
	// that a first hop forwarded again after a crash. A mark's is -1.
	Offset int64
	Index  int
	// Floor is the raw partition's committed offset as the first hop knew
	// it: every entry below it was forwarded and will never be again.
	Floor int64
	// Time is a record's event time (as Record.Time), or for a mark the
	// latest event time forwarded from Source.
	Time time.Time
	// Tie orders records of equal event time by content.
	Tie uint64
	// Record is a record's parsed entry; its Time is Time (the wire
	// carries it once).
	Record *LogRecord
	// DeadLetter is a dead letter, as the first hop described it (raw
	// bytes redacted or not, length and hash), and Producer the producer
	// it belongs to: that of its raw partition's last record before it,
	// else the one its format was recognised as. A dead letter's Time is
	// its raw partition's latest record time before it (zero: none),
	// where the health monitor places it when it carries no timestamp.
	DeadLetter *DeadLetter
	Producer   Producer
}

const (
	kindRecord     = 1
	kindMark       = 2
	kindDeadLetter = 3
)

// AppendBinary appends f in the repartition topic's format, version
// ForwardedVersion, to dst.
func (f *Forwarded) AppendBinary(dst []byte) ([]byte, error) {
	var kind byte
	switch f.Kind {
	case ForwardedRecord:
		if f.Record == nil {
			return dst, errors.New("repartition record: kind record without a record")
		}
		kind = kindRecord
	case ForwardedMark:
		kind = kindMark
	case ForwardedDeadLetter:
		if f.DeadLetter == nil {
			return dst, errors.New("repartition record: kind dead_letter without a dead letter")
		}
		kind = kindDeadLetter
	default:
		return dst, fmt.Errorf("repartition record: unknown kind %q", f.Kind)
	}
	b := append(dst, ForwardedVersion, kind)
	b = appendString(b, f.Source)
	b = binary.AppendVarint(b, f.Offset)
	b = binary.AppendUvarint(b, uint64(f.Index))
	b = binary.AppendVarint(b, f.Floor)
	b = appendTime(b, f.Time)
	b = binary.BigEndian.AppendUint64(b, f.Tie)
	switch kind {
	case kindRecord:
		r := f.Record
		flags := byte(0)
		if r.HasCounts {
			flags = 1
		}
		b = append(b, byte(r.Producer), byte(r.Severity), byte(r.Event), flags)
		b = binary.AppendVarint(b, int64(r.Synced))
		b = binary.AppendVarint(b, int64(r.Failed))
		b = binary.AppendVarint(b, int64(r.HTTPStatus))
		for _, s := range [...]string{r.SeverityText, r.Tenant, r.Mailbox, r.RunID, r.RecordID, r.RecordType, r.Logger, r.Body, r.Origin} {
			b = appendString(b, s)
		}
		b = binary.AppendUvarint(b, uint64(len(r.Attributes)))
		for _, a := range r.Attributes {
			b = appendString(appendString(b, a.Key), a.Value)
		}
	case kindDeadLetter:
		d := f.DeadLetter
		flags := byte(0)
		if d.RawRedacted {
			flags = 1
		}
		b = append(b, byte(f.Producer), flags)
		b = appendString(b, d.Reason)
		b = appendString(b, d.Origin)
		b = appendTime(b, d.Received.Time)
		b = binary.AppendUvarint(b, uint64(len(d.RawBase64)))
		b = append(b, d.RawBase64...)
		b = binary.AppendVarint(b, int64(d.RawLength))
		b = appendString(b, d.RawSHA256)
	}
	return b, nil
}

// UnmarshalBinary decodes a message of the repartition topic into f. It
// rejects another version than ForwardedVersion, an unknown kind and a
// message cut short, saying which. Strings are copied: f keeps nothing
// of data.
func (f *Forwarded) UnmarshalBinary(data []byte) error {
	if len(data) < 2 {
		return errors.New("repartition record: shorter than its header")
	}
	if data[0] != ForwardedVersion {
		return fmt.Errorf("repartition record version %d: this syncwatch reads version %d (are the group's members on different releases?)", data[0], ForwardedVersion)
	}
	d := decoder{b: data[2:]}
	*f = Forwarded{}
	kind := data[1]
	switch kind {
	case kindRecord:
		f.Kind = ForwardedRecord
	case kindMark:
		f.Kind = ForwardedMark
	case kindDeadLetter:
		f.Kind = ForwardedDeadLetter
	default:
		return fmt.Errorf("repartition record: unknown kind %d", kind)
	}
	f.Source = d.string()
	f.Offset = d.varint()
	f.Index = int(d.uvarint())
	f.Floor = d.varint()
	f.Time = d.time()
	f.Tie = d.uint64()
	switch kind {
	case kindRecord:
		r := &LogRecord{Time: f.Time}
		r.Producer, r.Severity, r.Event = Producer(d.byte()), Severity(d.byte()), Event(d.byte())
		r.HasCounts = d.byte()&1 != 0
		r.Synced, r.Failed, r.HTTPStatus = int(d.varint()), int(d.varint()), int(d.varint())
		for _, s := range [...]*string{&r.SeverityText, &r.Tenant, &r.Mailbox, &r.RunID, &r.RecordID, &r.RecordType, &r.Logger, &r.Body, &r.Origin} {
			*s = d.string()
		}
		if n := d.uvarint(); n > 0 && n <= uint64(len(d.b)) {
			r.Attributes = make(Attrs, n)
			for i := range r.Attributes {
				r.Attributes[i] = Attr{Key: d.string(), Value: d.string()}
			}
		} else if n > 0 {
			d.err = errShort
		}
		f.Record = r
	case kindDeadLetter:
		dl := &DeadLetter{}
		f.Producer = Producer(d.byte())
		dl.RawRedacted = d.byte()&1 != 0
		dl.Reason = d.string()
		dl.Origin = d.string()
		dl.Received = Time{Time: d.time()}
		dl.RawBase64 = []byte(d.string())
		dl.RawLength = int(d.varint())
		dl.RawSHA256 = d.string()
		f.DeadLetter = dl
	}
	if d.err != nil {
		return fmt.Errorf("repartition record (%s of %s): %w", f.Kind, f.Source, d.err)
	}
	if f.Source == "" {
		return errors.New("repartition record: no source")
	}
	return nil
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// appendTime appends t as Unix nanoseconds, the zero time as MinInt64.
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.AppendVarint(b, math.MinInt64)
	}
	return binary.AppendVarint(b, t.UnixNano())
}

var errShort = errors.New("cut short")

// decoder reads the fields of a Forwarded; the first problem sticks in
// err and every later read gives zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() { d.err, d.b = errShort, nil }

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) uint64() uint64 {
	if len(d.b) < 8 {
		d.fail()
		return 0
	}
	v := binary.BigEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) time() time.Time {
	n := d.varint()
	if n == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
