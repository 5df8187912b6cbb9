package schemas

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ForwardedVersion is the version of the repartition topic's record
// format that Forwarded encodes. A reader rejects other versions: the
// members of a group must run versions that speak the same one (the
// format changes with a new version number, read by the release before
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
type Forwarded struct {
	// Kind is ForwardedRecord, ForwardedMark or ForwardedDeadLetter.
	Kind string
	// Source is the raw partition the entry came from, "topic/partition".
	Source string
	// Offset is the raw offset of the message the entry began in, and
	// Index the entry's place among the records forwarded from that
	// message (an OTLP batch carries several): together, the entry's
	// identity within Source, by which the second hop drops the records
	// that a first hop forwarded again after a crash.
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
	// its format was recognised as.
	DeadLetter *DeadLetter
	Producer   Producer
}

// forwardedJSON is Forwarded on the wire: JSON with a version, every
// field of a LogRecord that its own JSON form leaves out (severity, the
// presence of counts) or writes as a name only (producer, event).
type forwardedJSON struct {
	V          int         `json:"v"`
	Kind       string      `json:"kind"`
	Source     string      `json:"source"`
	Offset     int64       `json:"offset"`
	Index      int         `json:"index,omitempty"`
	Floor      int64       `json:"floor"`
	Time       time.Time   `json:"time"`
	Tie        uint64      `json:"tie,omitempty"`
	Record     *recordJSON `json:"record,omitempty"`
	DeadLetter *DeadLetter `json:"dead_letter,omitempty"`
	Producer   uint8       `json:"producer,omitempty"`
}

type recordJSON struct {
	Producer     uint8  `json:"producer"`
	Severity     uint8  `json:"severity"`
	SeverityText string `json:"severity_text,omitempty"`
	Tenant       string `json:"tenant"`
	Mailbox      string `json:"mailbox"`
	RunID        string `json:"run_id,omitempty"`
	RecordID     string `json:"record_id,omitempty"`
	RecordType   string `json:"record_type,omitempty"`
	Event        uint8  `json:"event"`
	Synced       int    `json:"synced,omitempty"`
	Failed       int    `json:"failed,omitempty"`
	HasCounts    bool   `json:"has_counts,omitempty"`
	HTTPStatus   int    `json:"http_status,omitempty"`
	Logger       string `json:"logger,omitempty"`
	Body         string `json:"body"`
	Attributes   Attrs  `json:"attributes,omitempty"`
	Origin       string `json:"origin"`
}

// MarshalJSON encodes f in the repartition topic's format, version
// ForwardedVersion.
func (f *Forwarded) MarshalJSON() ([]byte, error) {
	w := forwardedJSON{V: ForwardedVersion, Kind: f.Kind, Source: f.Source, Offset: f.Offset, Index: f.Index,
		Floor: f.Floor, Time: f.Time, Tie: f.Tie, DeadLetter: f.DeadLetter, Producer: uint8(f.Producer)}
	if r := f.Record; r != nil {
		w.Record = &recordJSON{
			Producer: uint8(r.Producer), Severity: uint8(r.Severity), SeverityText: r.SeverityText,
			Tenant: r.Tenant, Mailbox: r.Mailbox, RunID: r.RunID, RecordID: r.RecordID, RecordType: r.RecordType,
			Event: uint8(r.Event), Synced: r.Synced, Failed: r.Failed, HasCounts: r.HasCounts,
			HTTPStatus: r.HTTPStatus, Logger: r.Logger, Body: r.Body, Attributes: r.Attributes, Origin: r.Origin,
		}
	}
	return json.Marshal(&w)
}

// UnmarshalJSON decodes a message of the repartition topic. It rejects
// another version than ForwardedVersion, an unknown kind, and a kind
// without what it carries.
func (f *Forwarded) UnmarshalJSON(b []byte) error {
	var w forwardedJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	if w.V != ForwardedVersion {
		return fmt.Errorf("repartition record version %d: this syncwatch reads version %d (are the group's members on different releases?)", w.V, ForwardedVersion)
	}
	if w.Source == "" {
		return errors.New("repartition record: no source")
	}
	switch w.Kind {
	case ForwardedRecord:
		if w.Record == nil {
			return errors.New("repartition record: kind record without a record")
		}
	case ForwardedDeadLetter:
		if w.DeadLetter == nil {
			return errors.New("repartition record: kind dead_letter without a dead letter")
		}
	case ForwardedMark:
	default:
		return fmt.Errorf("repartition record: unknown kind %q", w.Kind)
	}
	*f = Forwarded{Kind: w.Kind, Source: w.Source, Offset: w.Offset, Index: w.Index, Floor: w.Floor,
		Time: w.Time, Tie: w.Tie, DeadLetter: w.DeadLetter, Producer: Producer(w.Producer)}
	if r := w.Record; r != nil {
		f.Record = &LogRecord{
			Time: w.Time, Producer: Producer(r.Producer), Severity: Severity(r.Severity), SeverityText: r.SeverityText,
			Tenant: r.Tenant, Mailbox: r.Mailbox, RunID: r.RunID, RecordID: r.RecordID, RecordType: r.RecordType,
			Event: Event(r.Event), Synced: r.Synced, Failed: r.Failed, HasCounts: r.HasCounts,
			HTTPStatus: r.HTTPStatus, Logger: r.Logger, Body: r.Body, Attributes: r.Attributes, Origin: r.Origin,
		}
	}
	return nil
}
