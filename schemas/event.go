package schemas

import (
	"fmt"
	"time"
)

// CloudEvents attributes of incident events.
const (
	SpecVersion     = "1.0"
	DataContentType = "application/json"
	// ContentType is the Kafka header / HTTP Content-Type of a structured-mode CloudEvent.
	ContentType = "application/cloudevents+json"

	TypeOpened   = "com.syncwatch.incident.opened"
	TypeUpdated  = "com.syncwatch.incident.updated"
	TypeResolved = "com.syncwatch.incident.resolved"
)

// Incident kinds.
const (
	KindSyncError = "sync_error"
	KindSyncIssue = "sync_issue"
	KindPipeline  = "pipeline"
)

// Incident statuses.
const (
	StatusOpen     = "open"
	StatusResolved = "resolved"
)

// Severities of incidents.
const (
	SeverityCritical = "critical"
	SeverityWarning  = "warning"
)

// IncidentEvent is one lifecycle change of an incident, as a CloudEvents 1.0
// structured-mode JSON document (docs: events.md). Field order here is the
// order of the JSON encoding, which is part of the byte-identical output
// guarantee.
type IncidentEvent struct {
	SpecVersion     string       `json:"specversion"`
	ID              string       `json:"id"`
	Source          string       `json:"source"`
	Type            string       `json:"type"`
	Subject         string       `json:"subject"`
	Time            Time         `json:"time"`
	DataContentType string       `json:"datacontenttype"`
	Data            IncidentData `json:"data"`
}

// IncidentData is the payload of an IncidentEvent.
type IncidentData struct {
	IncidentID      string         `json:"incident_id"`
	Kind            string         `json:"kind"`
	Class           string         `json:"class"`
	Status          string         `json:"status"`
	Severity        string         `json:"severity"`
	Tenant          string         `json:"tenant"`
	Mailbox         string         `json:"mailbox"`
	Producer        string         `json:"producer"`
	Title           string         `json:"title"`
	Remediation     string         `json:"remediation"`
	FirstSeen       Time           `json:"first_seen"`
	LastSeen        Time           `json:"last_seen"`
	Occurrences     int            `json:"occurrences"`
	Runs            []string       `json:"runs"`
	AffectedRecords int            `json:"affected_records"`
	SampleRecords   []string       `json:"sample_records"`
	Template        string         `json:"template"`
	Details         map[string]any `json:"details"`
	Evidence        []Evidence     `json:"evidence"`
}

// Evidence is one log entry behind an incident change, secrets redacted.
type Evidence struct {
	Producer string `json:"producer"`
	Time     Time   `json:"time"`
	Message  string `json:"message"`
	Origin   string `json:"origin"`
}

// DeadLetter is an entry that could not be parsed, sent on with its
// reason. Its bytes carry the entry with secrets redacted (RawRedacted
// says whether any were found) unless the full bytes were asked for;
// RawLength and RawSHA256 describe the original bytes either way, so that
// a reprocessing tool can tell whether it holds them.
type DeadLetter struct {
	Reason    string `json:"reason"`
	Origin    string `json:"origin"`
	Received  Time   `json:"received"`
	RawBase64 []byte `json:"raw_base64"` // encoding/json writes []byte as base64
	// RawRedacted: secrets were replaced in RawBase64 (redact.Placeholder).
	RawRedacted bool `json:"raw_redacted,omitempty"`
	// RawLength is the length of the original entry, in bytes.
	RawLength int `json:"raw_length,omitempty"`
	// RawSHA256 is the SHA-256 of the original entry, in hex.
	RawSHA256 string `json:"raw_sha256,omitempty"`
}

// DeadLetterRaw says what a dead letter's RawBase64 carries.
type DeadLetterRaw string

// What dead letters carry.
const (
	// DeadLetterRedacted: the entry with secrets redacted (the default).
	DeadLetterRedacted DeadLetterRaw = "redacted"
	// DeadLetterFull: the entry's original bytes, secrets included.
	DeadLetterFull DeadLetterRaw = "full"
)

// ParseDeadLetterRaw parses "redacted" or "full"; "" is "redacted".
func ParseDeadLetterRaw(s string) (DeadLetterRaw, error) {
	switch DeadLetterRaw(s) {
	case "", DeadLetterRedacted:
		return DeadLetterRedacted, nil
	case DeadLetterFull:
		return DeadLetterFull, nil
	}
	return "", fmt.Errorf("%q: want redacted or full", s)
}

// Time is a time.Time that encodes as RFC 3339 in UTC with exactly three
// fractional digits ("2026-11-24T10:15:32.123Z"), as events.md shows.
type Time struct{ time.Time }

// TimeLayout is the layout of Time in JSON.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(TimeLayout)+2)
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, TimeLayout)
	return append(b, '"'), nil
}

// UnmarshalJSON implements json.Unmarshaler; it accepts any RFC 3339 time.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	v, err := time.Parse(`"`+time.RFC3339Nano+`"`, string(b))
	if err != nil {
		return err
	}
	t.Time = v.UTC()
	return nil
}
