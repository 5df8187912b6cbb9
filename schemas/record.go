package schemas

import (
	"strconv"
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
	case "trace", "debug", "verbose":
		return SeverityDebug, true
	case "info", "information", "notice":
		return SeverityInfo, true
	case "warn", "warning":
		return SeverityWarn, true
	case "error", "err":
		return SeverityError, true
	case "fatal", "critical", "crit", "panic":
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
	Attributes map[string]string `json:"attributes,omitempty"`
	// Origin says where the entry came from: "topic/partition/offset" or
	// "file:line".
	Origin string `json:"origin"`
}

// Reset clears r for reuse, keeping the Attributes map's storage.
func (r *LogRecord) Reset() {
	attrs := r.Attributes
	for k := range attrs {
		delete(attrs, k)
	}
	*r = LogRecord{Attributes: attrs}
}

// SetAttr sets an extra attribute, allocating the map on first use.
func (r *LogRecord) SetAttr(k, v string) {
	if r.Attributes == nil {
		r.Attributes = make(map[string]string, 4)
	}
	r.Attributes[k] = v
}
