package schemas

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Producer names the component that wrote a log entry.
type Producer uint8

// The three producers of the C4C <-> Exchange synchronization.
const (
	ProducerUnknown  Producer = iota
	ProducerExchange          // ExchangeConnector, log4net-style text
	ProducerEngine            // the sync engine, logfmt
	ProducerC4CC              // the C4CC Connector, JSON lines
)

// NumProducers is the number of known producers, for arrays indexed by Producer.
const NumProducers = 4

var producerNames = [...]string{"unknown", "ExchangeConnector", "SyncEngine", "C4CCConnector"}

// String returns the producer's name as it appears in incident events.
func (p Producer) String() string {
	if int(p) < len(producerNames) {
		return producerNames[p]
	}
	return "Producer(" + strconv.Itoa(int(p)) + ")"
}

// MarshalText implements encoding.TextMarshaler.
func (p Producer) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// ParseProducer maps a producer name (as String returns it) back to a Producer.
func ParseProducer(s string) (Producer, bool) {
	for i, n := range producerNames {
		if n == s && i != 0 {
			return Producer(i), true
		}
	}
	return ProducerUnknown, false
}

// Event is what a log entry says happened.
type Event uint8

// Events, as the sync engine names them; other producers' entries are mapped
// onto the same set (an ExchangeConnector "item X synced" is EventRecordSynced).
const (
	EventMessage Event = iota // any other entry
	EventRunStarted
	EventRecordSynced
	EventRecordFailed
	EventRunFailed
	EventRunFinished
)

var eventNames = [...]string{"message", "run_started", "record_synced", "record_failed", "run_failed", "run_finished"}

// String returns the event's name as the sync engine writes it.
func (e Event) String() string {
	if int(e) < len(eventNames) {
		return eventNames[e]
	}
	return "Event(" + strconv.Itoa(int(e)) + ")"
}

// MarshalText implements encoding.TextMarshaler.
func (e Event) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

// ParseEvent maps an engine event name to an Event. Unknown names give
// EventMessage and false.
func ParseEvent(s string) (Event, bool) {
	for i, n := range eventNames {
		if n == s {
			return Event(i), true
		}
	}
	return EventMessage, false
}

// Severity follows the OpenTelemetry severity ranges (DEBUG 5, INFO 9,
// WARN 13, ERROR 17, FATAL 21).
type Severity uint8

// Severities.
const (
	SeverityUnset Severity = 0
	SeverityDebug Severity = 5
	SeverityInfo  Severity = 9
	SeverityWarn  Severity = 13
	SeverityError Severity = 17
	SeverityFatal Severity = 21
)

// String returns the canonical upper-case severity text.
func (s Severity) String() string {
	switch {
	case s >= SeverityFatal:
		return "FATAL"
	case s >= SeverityError:
		return "ERROR"
	case s >= SeverityWarn:
		return "WARN"
	case s >= SeverityInfo:
		return "INFO"
	case s >= SeverityDebug:
		return "DEBUG"
	}
	return "UNSET"
}

// ParseSeverity reads a level in any case: trace, debug, info, information,
// warn, warning, error, err, fatal, critical. It does not allocate.
func ParseSeverity(b []byte) (Severity, bool) {
	var buf [11]byte
	if len(b) == 0 || len(b) > len(buf) {
		return SeverityUnset, false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	switch string(buf[:len(b)]) {
	case "trace", "debug", "verbose", "dbg", "fine", "finer", "finest", "d", "t":
		return SeverityDebug, true
	case "info", "information", "notice", "inf", "i":
		return SeverityInfo, true
	case "warn", "warning", "wrn", "w":
		return SeverityWarn, true
	case "error", "err", "e":
		return SeverityError, true
	case "fatal", "critical", "crit", "panic", "severe", "alert", "emerg", "emergency", "f", "c":
		return SeverityFatal, true
	}
	return SeverityUnset, false
}

// LogRecord is one log entry after normalization, whatever its producer.
// Field names follow the OpenTelemetry log data model where one fits.
//
// A LogRecord is plain data; parsers fill one in place (see pipeline) so
// that a caller may reuse it. Reset clears it for reuse.
type LogRecord struct {
	// Time is the event time of the entry, in UTC.
	Time time.Time `json:"time"`
	// Producer is the component that wrote the entry.
	Producer Producer `json:"producer"`
	// Severity and SeverityText: the level, normalized (SeverityText is
	// the canonical upper-case name).
	Severity     Severity `json:"-"`
	SeverityText string   `json:"severity_text"`
	// Tenant, Mailbox and RunID identify the sync run the entry belongs to.
	Tenant  string `json:"tenant"`
	Mailbox string `json:"mailbox"`
	RunID   string `json:"run_id"`
	// RecordID and RecordType name the synchronized item, for per-record entries.
	RecordID   string `json:"record_id,omitempty"`
	RecordType string `json:"record_type,omitempty"`
	// Event is what happened.
	Event Event `json:"event"`
	// Synced and Failed are the run's counts; only meaningful when HasCounts
	// (a run_finished entry).
	Synced    int  `json:"synced,omitempty"`
	Failed    int  `json:"failed,omitempty"`
	HasCounts bool `json:"-"`
	// HTTPStatus is the HTTP status the entry reports, 0 if none.
	HTTPStatus int `json:"http_status,omitempty"`
	// Logger is the producer's logger or component name.
	Logger string `json:"logger,omitempty"`
	// Body is the message text (for an ExchangeConnector entry with a stack
	// trace, the first line; the trace is in Attributes["stack"]).
	Body string `json:"body"`
	// Attributes holds every other field of the entry, as text.
	Attributes Attrs `json:"attributes,omitempty"`
	// Origin says where the entry came from: "topic/partition/offset" or
	// "file:line".
	Origin string `json:"origin"`
}

// Reset clears r for reuse, keeping the Attributes' storage.
func (r *LogRecord) Reset() {
	attrs := r.Attributes[:0]
	*r = LogRecord{Attributes: attrs}
}

// SetAttr sets an extra attribute.
func (r *LogRecord) SetAttr(k, v string) { r.Attributes.Set(k, v) }

// Attr is one extra field of an entry.
type Attr struct{ Key, Value string }

// Attrs are a record's extra fields, sorted by key, each key once. A
// slice, not a map: an entry carries one to a few, and a map cost an
// allocation of some 300 bytes per record, the largest of the parse path.
// It encodes in JSON as an object, like the map it replaces.
type Attrs []Attr

// AttrsFrom returns the attributes of m.
func AttrsFrom(m map[string]string) Attrs {
	var a Attrs
	for k, v := range m {
		a.Set(k, v)
	}
	return a
}

// Get returns the value of key k, "" if none.
func (a Attrs) Get(k string) string {
	v, _ := a.Lookup(k)
	return v
}

// Lookup returns the value of key k and whether it is set.
func (a Attrs) Lookup(k string) (string, bool) {
	i, ok := a.search(k)
	if !ok {
		return "", false
	}
	return a[i].Value, true
}

func (a Attrs) search(k string) (int, bool) {
	if len(a) <= 8 {
		for i := range a {
			if a[i].Key >= k {
				return i, a[i].Key == k
			}
		}
		return len(a), false
	}
	i, ok := slices.BinarySearchFunc(a, k, func(x Attr, k string) int { return strings.Compare(x.Key, k) })
	return i, ok
}

// Set sets key k to v, replacing any value it had.
func (a *Attrs) Set(k, v string) {
	i, ok := a.search(k)
	if ok {
		(*a)[i].Value = v
		return
	}
	if *a == nil {
		*a = make(Attrs, 0, 2)
	}
	*a = slices.Insert(*a, i, Attr{k, v})
}

// Map returns the attributes as a map (nil if there are none).
func (a Attrs) Map() map[string]string {
	if len(a) == 0 {
		return nil
	}
	m := make(map[string]string, len(a))
	for _, x := range a {
		m[x.Key] = x.Value
	}
	return m
}

// MarshalJSON encodes the attributes as an object with sorted keys, as
// encoding/json encodes a map[string]string.
func (a Attrs) MarshalJSON() ([]byte, error) {
	if a == nil {
		return []byte("null"), nil
	}
	b := make([]byte, 0, 16*len(a)+2)
	b = append(b, '{')
	for i, x := range a {
		if i > 0 {
			b = append(b, ',')
		}
		k, err := json.Marshal(x.Key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(x.Value)
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, k...), ':'), v...)
	}
	return append(b, '}'), nil
}

// UnmarshalJSON decodes an object of strings.
func (a *Attrs) UnmarshalJSON(b []byte) error {
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if m == nil {
		*a = nil
		return nil
	}
	*a = AttrsFrom(m)
	if *a == nil {
		*a = Attrs{}
	}
	return nil
}
