package sinks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/schemas"
)

// fixedLine is fixedEvent as every sink must write it: encoding/json's
// bytes (the events.md example, compact, '>' escaped as \u003e) and '\n'.
const fixedLine = `{"specversion":"1.0","id":"inc-5d1c0e9a7b3f-2","source":"syncwatch/ingest","type":"com.syncwatch.incident.opened","subject":"t-1042/anna.berg@contoso.com","time":"2026-11-24T10:15:32.123Z","datacontenttype":"application/json","data":{"incident_id":"inc-5d1c0e9a7b3f","kind":"sync_error","class":"exchange.auth.password","status":"open","severity":"critical","tenant":"t-1042","mailbox":"anna.berg@contoso.com","producer":"ExchangeConnector","title":"Authentication error","remediation":"Open SAP Cloud for Customer \u003e E-Mail Integration \u003e Sync Settings \u003e E-Mail Configuration, enter the new password and click Save.","first_seen":"2026-11-24T10:15:32.123Z","last_seen":"2026-11-24T10:15:32.123Z","occurrences":1,"runs":["7f3a9c"],"affected_records":0,"sample_records":[],"template":"","details":{},"evidence":[{"producer":"ExchangeConnector","time":"2026-11-24T10:15:32.123Z","message":"Authentication error","origin":"sync.exchange-connector/0/1841"}]}}` + "\n"

// fixedEvent is the incident event of events.md.
func fixedEvent() schemas.IncidentEvent {
	ts := schemas.Time{Time: time.Date(2026, 11, 24, 10, 15, 32, 123_000_000, time.UTC)}
	return schemas.IncidentEvent{
		SpecVersion:     schemas.SpecVersion,
		ID:              "inc-5d1c0e9a7b3f-2",
		Source:          "syncwatch/ingest",
		Type:            schemas.TypeOpened,
		Subject:         "t-1042/anna.berg@contoso.com",
		Time:            ts,
		DataContentType: schemas.DataContentType,
		Data: schemas.IncidentData{
			IncidentID:    "inc-5d1c0e9a7b3f",
			Kind:          schemas.KindSyncError,
			Class:         "exchange.auth.password",
			Status:        schemas.StatusOpen,
			Severity:      schemas.SeverityCritical,
			Tenant:        "t-1042",
			Mailbox:       "anna.berg@contoso.com",
			Producer:      "ExchangeConnector",
			Title:         "Authentication error",
			Remediation:   "Open SAP Cloud for Customer > E-Mail Integration > Sync Settings > E-Mail Configuration, enter the new password and click Save.",
			FirstSeen:     ts,
			LastSeen:      ts,
			Occurrences:   1,
			Runs:          []string{"7f3a9c"},
			SampleRecords: []string{},
			Details:       map[string]any{},
			Evidence: []schemas.Evidence{{
				Producer: "ExchangeConnector",
				Time:     ts,
				Message:  "Authentication error",
				Origin:   "sync.exchange-connector/0/1841",
			}},
		},
	}
}

// testEvents returns n distinct valid events (sync errors and sync
// issues alternating), each checked against the schema: every event a
// test of this package writes comes from here or from fixedEvent.
func testEvents(t testing.TB, n int) []schemas.IncidentEvent {
	t.Helper()
	events := make([]schemas.IncidentEvent, n)
	for i := range events {
		e := fixedEvent()
		e.Data.IncidentID = fmt.Sprintf("inc-%012x", i+1)
		e.ID = fmt.Sprintf("%s-%d", e.Data.IncidentID, i%3+1)
		e.Data.Mailbox = fmt.Sprintf("user%d@contoso.com", i)
		e.Subject = e.Data.Tenant + "/" + e.Data.Mailbox
		e.Time.Time = e.Time.Add(time.Duration(i) * time.Second)
		if i%2 == 1 {
			e.Data.Kind = schemas.KindSyncIssue
			e.Data.Severity = schemas.SeverityWarning
			e.Data.Class = "record.too_large"
			e.Data.AffectedRecords = 2
			e.Data.SampleRecords = []string{"r-1", "r-2"}
		}
		require.NoError(t, schemas.ValidateEvent(e))
		events[i] = e
	}
	return events
}

// fixedDeadLetter is the dead letter of events.md, with a real raw entry.
func fixedDeadLetter() schemas.DeadLetter {
	return schemas.DeadLetter{
		Reason:    "logfmt: unclosed quote at byte 88",
		Origin:    "sync.engine/2/99120",
		Received:  schemas.Time{Time: time.Date(2026, 11, 24, 10, 17, 2, 0, time.UTC)},
		RawBase64: []byte(`ts=2026-11-24T10:17:02Z msg="unclosed`),
	}
}

// fixedDeadLetterLine is fixedDeadLetter as DeadLetterJSONL writes it.
const fixedDeadLetterLine = `{"reason":"logfmt: unclosed quote at byte 88","origin":"sync.engine/2/99120","received":"2026-11-24T10:17:02.000Z","raw_base64":"dHM9MjAyNi0xMS0yNFQxMDoxNzowMlogbXNnPSJ1bmNsb3NlZA=="}` + "\n"

// requireValidLines checks that out is a sequence of '\n'-terminated lines,
// each valid against the named schema, and returns the lines.
func requireValidLines(t *testing.T, schema string, out []byte) [][]byte {
	t.Helper()
	if len(out) == 0 {
		return nil
	}
	require.Equal(t, byte('\n'), out[len(out)-1], "output ends with a newline")
	lines := bytes.Split(out[:len(out)-1], []byte("\n"))
	for i, line := range lines {
		require.NoError(t, schemas.Validate(schema, line), "line %d", i+1)
	}
	return lines
}

// linesOf renders events as the JSON lines a sink writes.
func linesOf(t *testing.T, events []schemas.IncidentEvent) string {
	t.Helper()
	var b bytes.Buffer
	for _, e := range events {
		line, err := json.Marshal(e)
		require.NoError(t, err)
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.String()
}

var errInjected = errors.New("injected failure")

// fakeWriter is an io.WriteCloser with an optional Sync method's counters
// and injectable errors.
type fakeWriter struct {
	buf      bytes.Buffer
	writeErr error
	closeErr error
	syncErr  error
	writes   int
	syncs    int
	closes   int
}

func (w *fakeWriter) Write(p []byte) (int, error) {
	w.writes++
	if w.writeErr != nil {
		return 0, w.writeErr
	}
	return w.buf.Write(p)
}

func (w *fakeWriter) Sync() error {
	w.syncs++
	return w.syncErr
}

func (w *fakeWriter) Close() error {
	w.closes++
	return w.closeErr
}

// funcSink is a Sink made of functions, for Fanout tests.
type funcSink struct {
	write func(ctx context.Context, events []schemas.IncidentEvent) error
	close func(ctx context.Context) error
	name  string
}

var _ Sink = funcSink{}

func (s funcSink) Write(ctx context.Context, events []schemas.IncidentEvent) error {
	return s.write(ctx, events)
}

func (s funcSink) Close(ctx context.Context) error {
	if s.close == nil {
		return nil
	}
	return s.close(ctx)
}

func (s funcSink) String() string { return s.name }

// requireProblems checks the error of a config's Validate: nil when want
// is empty, else an error that reports every problem of want (each a
// substring naming its field) at once.
func requireProblems(t *testing.T, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		require.NoError(t, err)
		return
	}
	require.Error(t, err)
	for _, w := range want {
		require.Contains(t, err.Error(), w)
	}
	if len(want) > 1 {
		require.Contains(t, err.Error(), fmt.Sprintf("%d errors occurred", len(want)))
	}
}
