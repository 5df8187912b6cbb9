package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
)

// contractExample is the incident event of events.md, verbatim.
const contractExample = `{
  "specversion": "1.0",
  "id": "inc-5d1c0e9a7b3f-2",
  "source": "syncwatch/ingest",
  "type": "com.syncwatch.incident.opened",
  "subject": "t-1042/anna.berg@contoso.com",
  "time": "2026-11-24T10:15:32.123Z",
  "datacontenttype": "application/json",
  "data": {
    "incident_id": "inc-5d1c0e9a7b3f",
    "kind": "sync_error",
    "class": "exchange.auth.password",
    "status": "open",
    "severity": "critical",
    "tenant": "t-1042",
    "mailbox": "anna.berg@contoso.com",
    "producer": "ExchangeConnector",
    "title": "Authentication error",
    "remediation": "Open SAP Cloud for Customer > E-Mail Integration > Sync Settings > E-Mail Configuration, enter the new password and click Save.",
    "first_seen": "2026-11-24T10:15:32.123Z",
    "last_seen": "2026-11-24T10:15:32.123Z",
    "occurrences": 1,
    "runs": ["7f3a9c"],
    "affected_records": 0,
    "sample_records": [],
    "template": "",
    "details": {},
    "evidence": [{"producer": "ExchangeConnector", "time": "2026-11-24T10:15:32.123Z", "message": "Authentication error", "origin": "sync.exchange-connector/0/1841"}]
  }
}`

// contractCompact is contractExample as encoding/json writes it: compact,
// and with '>' escaped as \u003e (json.Marshal escapes <, > and &).
const contractCompact = `{"specversion":"1.0","id":"inc-5d1c0e9a7b3f-2","source":"syncwatch/ingest","type":"com.syncwatch.incident.opened","subject":"t-1042/anna.berg@contoso.com","time":"2026-11-24T10:15:32.123Z","datacontenttype":"application/json","data":{"incident_id":"inc-5d1c0e9a7b3f","kind":"sync_error","class":"exchange.auth.password","status":"open","severity":"critical","tenant":"t-1042","mailbox":"anna.berg@contoso.com","producer":"ExchangeConnector","title":"Authentication error","remediation":"Open SAP Cloud for Customer \u003e E-Mail Integration \u003e Sync Settings \u003e E-Mail Configuration, enter the new password and click Save.","first_seen":"2026-11-24T10:15:32.123Z","last_seen":"2026-11-24T10:15:32.123Z","occurrences":1,"runs":["7f3a9c"],"affected_records":0,"sample_records":[],"template":"","details":{},"evidence":[{"producer":"ExchangeConnector","time":"2026-11-24T10:15:32.123Z","message":"Authentication error","origin":"sync.exchange-connector/0/1841"}]}}`

// contractEvent is contractExample as a Go value.
func contractEvent() IncidentEvent {
	ts := Time{time.Date(2026, 11, 24, 10, 15, 32, 123_000_000, time.UTC)}
	return IncidentEvent{
		SpecVersion:     SpecVersion,
		ID:              "inc-5d1c0e9a7b3f-2",
		Source:          "syncwatch/ingest",
		Type:            TypeOpened,
		Subject:         "t-1042/anna.berg@contoso.com",
		Time:            ts,
		DataContentType: DataContentType,
		Data: IncidentData{
			IncidentID:      "inc-5d1c0e9a7b3f",
			Kind:            KindSyncError,
			Class:           "exchange.auth.password",
			Status:          StatusOpen,
			Severity:        SeverityCritical,
			Tenant:          "t-1042",
			Mailbox:         "anna.berg@contoso.com",
			Producer:        "ExchangeConnector",
			Title:           "Authentication error",
			Remediation:     "Open SAP Cloud for Customer > E-Mail Integration > Sync Settings > E-Mail Configuration, enter the new password and click Save.",
			FirstSeen:       ts,
			LastSeen:        ts,
			Occurrences:     1,
			Runs:            []string{"7f3a9c"},
			AffectedRecords: 0,
			SampleRecords:   []string{},
			Template:        "",
			Details:         map[string]any{},
			Evidence: []Evidence{{
				Producer: "ExchangeConnector",
				Time:     ts,
				Message:  "Authentication error",
				Origin:   "sync.exchange-connector/0/1841",
			}},
		},
	}
}

// mutate decodes doc, applies f to the decoded object (and its "data"
// member, nil if absent) and re-encodes it.
func mutate(t *testing.T, doc string, f func(top, data map[string]any)) []byte {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader([]byte(doc)))
	d.UseNumber()
	var top map[string]any
	require.NoError(t, d.Decode(&top))
	data, _ := top["data"].(map[string]any)
	f(top, data)
	b, err := json.Marshal(top)
	require.NoError(t, err)
	return b
}

func TestSchemaJSON(t *testing.T) {
	tests := []struct {
		name   string
		schema string
		wantID string
	}{
		{name: "incident event", schema: SchemaIncidentEvent, wantID: "https://syncwatch.dev/schemas/incident-event/v1.json"},
		{name: "dead letter", schema: SchemaDeadLetter, wantID: "https://syncwatch.dev/schemas/dead-letter/v2.json"},
		{name: "log record", schema: SchemaLogRecord, wantID: "https://syncwatch.dev/schemas/log-record/v1.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, ok := SchemaJSON(tt.schema)
			require.True(t, ok)
			var doc struct {
				Schema string `json:"$schema"`
				ID     string `json:"$id"`
			}
			require.NoError(t, json.Unmarshal(b, &doc))
			require.Equal(t, "https://json-schema.org/draft/2020-12/schema", doc.Schema)
			require.Equal(t, tt.wantID, doc.ID)
			// Compiled: an empty object breaks every schema's "required".
			require.ErrorIs(t, Validate(tt.schema, []byte(`{}`)), ErrInvalid)
		})
	}
}

func TestSchemaUnknown(t *testing.T) {
	_, ok := SchemaJSON("incident-event.v0")
	require.False(t, ok)
	err := Validate("incident-event.v0", []byte(`{}`))
	require.ErrorIs(t, err, ErrUnknownSchema)
	require.NotErrorIs(t, err, ErrInvalid)
}

func TestValidateIncidentEvent(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(top, data map[string]any)
		wantErr bool
	}{
		{name: "events.md sample", mutate: func(top, data map[string]any) {}},
		{name: "updated", mutate: func(top, data map[string]any) { top["type"] = TypeUpdated }},
		{name: "resolved", mutate: func(top, data map[string]any) {
			top["type"] = TypeResolved
			data["status"] = StatusResolved
		}},
		{name: "sync issue with details and samples", mutate: func(top, data map[string]any) {
			data["kind"] = KindSyncIssue
			data["severity"] = SeverityWarning
			data["class"] = "record.too_large"
			data["affected_records"] = 3
			data["sample_records"] = []string{"r-1", "r-2"}
			data["details"] = map[string]any{"limit": 10000, "actual": 10040, "other": 0}
		}},
		{name: "pipeline kind, info severity", mutate: func(top, data map[string]any) {
			data["kind"] = "pipeline"
			data["severity"] = "info"
			data["class"] = "unknown"
		}},
		{name: "time with offset", mutate: func(top, data map[string]any) { top["time"] = "2026-11-24T11:15:32+01:00" }},
		{name: "cloudevents extension attribute", mutate: func(top, data map[string]any) { top["traceparent"] = "00-abc-01" }},
		{name: "no evidence", mutate: func(top, data map[string]any) { data["evidence"] = []any{} }},

		{name: "missing id", mutate: func(top, data map[string]any) { delete(top, "id") }, wantErr: true},
		{name: "id without sequence", mutate: func(top, data map[string]any) { top["id"] = "inc-5d1c0e9a7b3f" }, wantErr: true},
		{name: "id with upper-case hex", mutate: func(top, data map[string]any) { top["id"] = "inc-5D1C0E9A7B3F-2" }, wantErr: true},
		{name: "bad type", mutate: func(top, data map[string]any) { top["type"] = "com.syncwatch.incident.closed" }, wantErr: true},
		{name: "bad specversion", mutate: func(top, data map[string]any) { top["specversion"] = "0.3" }, wantErr: true},
		{name: "bad datacontenttype", mutate: func(top, data map[string]any) { top["datacontenttype"] = "text/plain" }, wantErr: true},
		{name: "empty source", mutate: func(top, data map[string]any) { top["source"] = "" }, wantErr: true},
		{name: "bad time", mutate: func(top, data map[string]any) { top["time"] = "2026-11-24 10:15:32" }, wantErr: true},
		{name: "time without zone", mutate: func(top, data map[string]any) { top["time"] = "2026-11-24T10:15:32.123" }, wantErr: true},
		{name: "impossible date", mutate: func(top, data map[string]any) { top["time"] = "2026-02-30T10:15:32Z" }, wantErr: true},
		{name: "non-extension top-level member", mutate: func(top, data map[string]any) { top["incident_id"] = "inc-5d1c0e9a7b3f" }, wantErr: true},
		{name: "missing data", mutate: func(top, data map[string]any) { delete(top, "data") }, wantErr: true},
		{name: "extra field in data", mutate: func(top, data map[string]any) { data["priority"] = "high" }, wantErr: true},
		{name: "missing field in data", mutate: func(top, data map[string]any) { delete(data, "template") }, wantErr: true},
		{name: "bad kind", mutate: func(top, data map[string]any) { data["kind"] = "sync_warning" }, wantErr: true},
		{name: "bad status", mutate: func(top, data map[string]any) { data["status"] = "closed" }, wantErr: true},
		{name: "bad severity", mutate: func(top, data map[string]any) { data["severity"] = "error" }, wantErr: true},
		{name: "bad incident_id", mutate: func(top, data map[string]any) { data["incident_id"] = "inc-5d1c" }, wantErr: true},
		{name: "bad class", mutate: func(top, data map[string]any) { data["class"] = "Exchange Auth" }, wantErr: true},
		{name: "bad first_seen", mutate: func(top, data map[string]any) { data["first_seen"] = "yesterday" }, wantErr: true},
		{name: "zero occurrences", mutate: func(top, data map[string]any) { data["occurrences"] = 0 }, wantErr: true},
		{name: "fractional occurrences", mutate: func(top, data map[string]any) { data["occurrences"] = 1.5 }, wantErr: true},
		{name: "runs null", mutate: func(top, data map[string]any) { data["runs"] = nil }, wantErr: true},
		{name: "runs not strings", mutate: func(top, data map[string]any) { data["runs"] = []any{1} }, wantErr: true},
		{name: "details null", mutate: func(top, data map[string]any) { data["details"] = nil }, wantErr: true},
		{name: "extra field in evidence", mutate: func(top, data map[string]any) {
			data["evidence"].([]any)[0].(map[string]any)["raw"] = "x"
		}, wantErr: true},
		{name: "evidence without origin", mutate: func(top, data map[string]any) {
			delete(data["evidence"].([]any)[0].(map[string]any), "origin")
		}, wantErr: true},
		{name: "evidence with bad time", mutate: func(top, data map[string]any) {
			data["evidence"].([]any)[0].(map[string]any)["time"] = "10:15"
		}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := mutate(t, contractExample, tt.mutate)
			err := Validate(SchemaIncidentEvent, doc)
			if !tt.wantErr {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInvalid)
			var verr *jsonschema.ValidationError
			require.True(t, errors.As(err, &verr), "validator detail is wrapped")
		})
	}
}

func TestMarshalMatchesContract(t *testing.T) {
	// The expected text is the events.md example, compacted and with HTML
	// characters escaped as encoding/json does.
	var want bytes.Buffer
	require.NoError(t, json.Compact(&want, []byte(contractExample)))
	var escaped bytes.Buffer
	json.HTMLEscape(&escaped, want.Bytes())
	require.Equal(t, contractCompact, escaped.String())

	got, err := json.Marshal(contractEvent())
	require.NoError(t, err)
	require.Equal(t, contractCompact, string(got))
	require.NoError(t, Validate(SchemaIncidentEvent, got))
	require.NoError(t, ValidateEvent(contractEvent()))
}

func TestMarshalTimeFormat(t *testing.T) {
	tests := []struct {
		name string
		in   time.Time
		want string
	}{
		{name: "whole second", in: time.Date(2026, 11, 24, 10, 17, 2, 0, time.UTC), want: `"2026-11-24T10:17:02.000Z"`},
		{name: "truncates below milliseconds", in: time.Date(2026, 11, 24, 10, 15, 32, 123_999_999, time.UTC), want: `"2026-11-24T10:15:32.123Z"`},
		{name: "converts to UTC", in: time.Date(2026, 11, 24, 11, 15, 32, 5_000_000, time.FixedZone("CET", 3600)), want: `"2026-11-24T10:15:32.005Z"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(Time{tt.in})
			require.NoError(t, err)
			require.Equal(t, tt.want, string(b))
		})
	}
}

func TestValidateEvent(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(e *IncidentEvent)
		wantErr bool
	}{
		{name: "contract event", mutate: func(e *IncidentEvent) {}},
		{name: "nil runs marshal as null", mutate: func(e *IncidentEvent) { e.Data.Runs = nil }, wantErr: true},
		{name: "nil sample records marshal as null", mutate: func(e *IncidentEvent) { e.Data.SampleRecords = nil }, wantErr: true},
		{name: "nil details marshal as null", mutate: func(e *IncidentEvent) { e.Data.Details = nil }, wantErr: true},
		{name: "nil evidence marshals as null", mutate: func(e *IncidentEvent) { e.Data.Evidence = nil }, wantErr: true},
		{name: "empty kind", mutate: func(e *IncidentEvent) { e.Data.Kind = "" }, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := contractEvent()
			tt.mutate(&e)
			err := ValidateEvent(e)
			if tt.wantErr {
				require.ErrorIs(t, err, ErrInvalid)
				return
			}
			require.NoError(t, err)
		})
	}
}

func TestDecodeEvent(t *testing.T) {
	tests := []struct {
		name        string
		doc         []byte
		want        IncidentEvent
		wantInvalid bool
		wantErr     bool
	}{
		{name: "events.md sample", doc: []byte(contractExample), want: contractEvent()},
		{name: "encoded by json.Marshal", doc: []byte(contractCompact), want: contractEvent()},
		{name: "schema violation", doc: mutate(t, contractExample, func(top, data map[string]any) { data["kind"] = "bad" }), wantInvalid: true, wantErr: true},
		{name: "not JSON", doc: []byte(`{"specversion":`), wantErr: true},
		{name: "empty", doc: nil, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeEvent(tt.doc)
			if !tt.wantErr {
				require.NoError(t, err)
				require.Equal(t, tt.want, got)
				return
			}
			require.Error(t, err)
			require.Equal(t, tt.wantInvalid, errors.Is(err, ErrInvalid))
			require.Equal(t, IncidentEvent{}, got)
		})
	}
}

func TestValidateDeadLetter(t *testing.T) {
	valid := func() DeadLetter {
		return DeadLetter{
			Reason:    "logfmt: unclosed quote at byte 88",
			Origin:    "sync.engine/2/99120",
			Received:  Time{time.Date(2026, 11, 24, 10, 17, 2, 0, time.UTC)},
			RawBase64: []byte(`ts=2026-11-24T10:17:02Z msg="unclosed`),
		}
	}
	marshal := func(d DeadLetter) []byte {
		b, err := json.Marshal(d)
		require.NoError(t, err)
		return b
	}
	tests := []struct {
		name    string
		doc     []byte
		wantErr bool
	}{
		{name: "marshalled dead letter", doc: marshal(valid())},
		{name: "events.md shape without fraction", doc: []byte(`{"reason":"logfmt: unclosed quote at byte 88","origin":"sync.engine/2/99120","received":"2026-11-24T10:17:02Z","raw_base64":"dHM9"}`)},
		{name: "empty raw entry", doc: marshal(func() DeadLetter { d := valid(); d.RawBase64 = []byte{}; return d }())},
		{name: "nil raw entry marshals as null", doc: marshal(func() DeadLetter { d := valid(); d.RawBase64 = nil; return d }()), wantErr: true},
		{name: "missing reason", doc: []byte(`{"origin":"f:1","received":"2026-11-24T10:17:02Z","raw_base64":""}`), wantErr: true},
		{name: "empty origin", doc: []byte(`{"reason":"x","origin":"","received":"2026-11-24T10:17:02Z","raw_base64":""}`), wantErr: true},
		{name: "bad received", doc: []byte(`{"reason":"x","origin":"f:1","received":"24/11/2026","raw_base64":""}`), wantErr: true},
		{name: "raw not base64", doc: []byte(`{"reason":"x","origin":"f:1","received":"2026-11-24T10:17:02Z","raw_base64":"..."}`), wantErr: true},
		{name: "extra field", doc: []byte(`{"reason":"x","origin":"f:1","received":"2026-11-24T10:17:02Z","raw_base64":"","raw":"x"}`), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(SchemaDeadLetter, tt.doc)
			if tt.wantErr {
				require.ErrorIs(t, err, ErrInvalid)
				return
			}
			require.NoError(t, err)
		})
	}
}

func TestValidateLogRecord(t *testing.T) {
	full := func() LogRecord {
		return LogRecord{
			Time:         time.Date(2026, 11, 24, 10, 15, 32, 123_456_789, time.UTC),
			Producer:     ProducerEngine,
			Severity:     SeverityError,
			SeverityText: SeverityError.String(),
			Tenant:       "t-1042",
			Mailbox:      "anna.berg@contoso.com",
			RunID:        "7f3a9c",
			RecordID:     "r-17",
			RecordType:   "appointment",
			Event:        EventRunFinished,
			Synced:       40,
			Failed:       2,
			HasCounts:    true,
			HTTPStatus:   500,
			Logger:       "engine.run",
			Body:         "run finished",
			Attributes:   AttrsFrom(map[string]string{"k": "v"}),
			Origin:       "sync.engine/2/99120",
		}
	}
	tests := []struct {
		name    string
		mutate  func(r *LogRecord)
		wantErr bool
	}{
		{name: "every field", mutate: func(r *LogRecord) {}},
		{name: "only required fields", mutate: func(r *LogRecord) {
			*r = LogRecord{Time: r.Time, Producer: ProducerExchange, SeverityText: "INFO", Body: "x", Origin: "a.log:1"}
		}},
		{name: "unknown producer", mutate: func(r *LogRecord) { r.Producer = ProducerUnknown }},
		{name: "unset severity", mutate: func(r *LogRecord) { r.SeverityText = SeverityUnset.String() }},
		{name: "out-of-range producer", mutate: func(r *LogRecord) { r.Producer = Producer(9) }, wantErr: true},
		{name: "out-of-range event", mutate: func(r *LogRecord) { r.Event = Event(42) }, wantErr: true},
		{name: "empty severity text", mutate: func(r *LogRecord) { r.SeverityText = "" }, wantErr: true},
		{name: "raw severity text", mutate: func(r *LogRecord) { r.SeverityText = "Information" }, wantErr: true},
		{name: "empty origin", mutate: func(r *LogRecord) { r.Origin = "" }, wantErr: true},
		{name: "bad http status", mutate: func(r *LogRecord) { r.HTTPStatus = 42 }, wantErr: true},
		{name: "negative count", mutate: func(r *LogRecord) { r.Failed = -1 }, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := full()
			tt.mutate(&r)
			b, err := json.Marshal(r)
			require.NoError(t, err)
			err = Validate(SchemaLogRecord, b)
			if tt.wantErr {
				require.ErrorIs(t, err, ErrInvalid)
				return
			}
			require.NoError(t, err)
		})
	}
}

func TestValidateConcurrent(t *testing.T) {
	good := []byte(contractCompact)
	bad := mutate(t, contractExample, func(top, data map[string]any) { delete(top, "id") })
	const workers = 8
	errs := make([][2]error, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			errs[i] = [2]error{Validate(SchemaIncidentEvent, good), Validate(SchemaIncidentEvent, bad)}
		})
	}
	wg.Wait()
	for i := range workers {
		require.NoError(t, errs[i][0])
		require.ErrorIs(t, errs[i][1], ErrInvalid)
	}
}

func BenchmarkValidateEvent(b *testing.B) {
	doc := []byte(contractCompact)
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if err := Validate(SchemaIncidentEvent, doc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeEvent(b *testing.B) {
	doc := []byte(contractCompact)
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, err := DecodeEvent(doc); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzDecodeEvent checks that DecodeEvent never panics and that whatever it
// accepts, re-encoded as syncwatch encodes events, is still valid.
func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(contractExample))
	f.Add([]byte(contractCompact))
	f.Add([]byte(`{"specversion":"1.0"}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		e, err := DecodeEvent(doc)
		if err != nil {
			return
		}
		require.NoError(t, ValidateEvent(e))
	})
}
