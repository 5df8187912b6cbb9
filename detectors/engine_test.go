package detectors

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/schemas"
)

var t0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

// script builds the records of a mailbox's runs.
type script struct {
	recs []schemas.LogRecord
	at   time.Time
}

func (s *script) add(p schemas.Producer, ev schemas.Event, sev schemas.Severity, run, rec, body string, mod ...func(*schemas.LogRecord)) *script {
	s.at = s.at.Add(100 * time.Millisecond)
	r := schemas.LogRecord{
		Time: s.at, Producer: p, Event: ev, Severity: sev, SeverityText: sev.String(),
		Tenant: "t-1", Mailbox: "anna@contoso.com", RunID: run, RecordID: rec, Body: body,
		Origin: fmt.Sprintf("test:%d", len(s.recs)+1),
	}
	for _, m := range mod {
		m(&r)
	}
	s.recs = append(s.recs, r)
	return s
}

func (s *script) start(run string) *script {
	s.at = s.at.Add(10 * time.Minute)
	return s.add(schemas.ProducerEngine, schemas.EventRunStarted, schemas.SeverityInfo, run, "", "")
}

func (s *script) synced(run, rec string) *script {
	return s.add(schemas.ProducerExchange, schemas.EventRecordSynced, schemas.SeverityInfo, run, rec, "item "+rec+" synced")
}

func (s *script) pushed(run, rec string, status int, msg string) *script {
	ev, sev := schemas.EventRecordSynced, schemas.SeverityInfo
	if status >= 400 {
		ev, sev = schemas.EventRecordFailed, schemas.SeverityError
	}
	return s.add(schemas.ProducerC4CC, ev, sev, run, rec, msg, func(r *schemas.LogRecord) { r.HTTPStatus = status; r.RecordType = "Task" })
}

func (s *script) exchErr(run, msg string) *script {
	return s.add(schemas.ProducerExchange, schemas.EventMessage, schemas.SeverityError, run, "", msg)
}

func (s *script) exchWarn(run, msg string) *script {
	return s.add(schemas.ProducerExchange, schemas.EventMessage, schemas.SeverityWarn, run, "", msg)
}

func (s *script) recFailed(run, rec, msg string) *script {
	return s.add(schemas.ProducerEngine, schemas.EventRecordFailed, schemas.SeverityWarn, run, rec, msg)
}

func (s *script) finished(run string, synced, failed int) *script {
	return s.add(schemas.ProducerEngine, schemas.EventRunFinished, schemas.SeverityInfo, run, "", "", func(r *schemas.LogRecord) {
		r.HasCounts, r.Synced, r.Failed = true, synced, failed
	})
}

func (s *script) runFailed(run, msg string) *script {
	return s.add(schemas.ProducerEngine, schemas.EventRunFailed, schemas.SeverityError, run, "", msg)
}

// ok appends a clean run that syncs records.
func (s *script) ok(run string) *script {
	return s.start(run).synced(run, "MAIL-1").synced(run, "MAIL-2").finished(run, 2, 0)
}

// lifecycle is "type kind class" per event, e.g. "opened sync_error exchange.auth.password".
func runScript(t *testing.T, s *script) ([]schemas.IncidentEvent, []string) {
	t.Helper()
	return runScriptWith(t, Config{}, s)
}

func runScriptWith(t *testing.T, cfg Config, s *script) ([]schemas.IncidentEvent, []string) {
	t.Helper()
	e, err := NewEngine(cfg)
	require.NoError(t, err)
	var out []schemas.IncidentEvent
	for i := range s.recs {
		out = e.Process(&s.recs[i], out)
	}
	out = e.Flush(out)
	var life []string
	for _, ev := range out {
		typ := ev.Type[len("com.syncwatch.incident."):]
		life = append(life, typ+" "+ev.Data.Kind+" "+ev.Data.Class)
	}
	return out, life
}

func TestEngineScenarios(t *testing.T) {
	tests := []struct {
		scenario string
		build    func(s *script)
		want     []string
	}{
		{
			scenario: "password auth error opens at once and resolves when a later run syncs",
			build: func(s *script) {
				s.ok("r1")
				s.start("r2").exchErr("r2", "Authentication error").
					exchWarn("r2", "Synchronization was disabled due to restricted access to your mailbox. Probably your e-mail password was changed").
					runFailed("r2", "Mailbox access denied by connector")
				s.at = s.at.Add(5 * time.Hour) // silence resolves nothing
				s.ok("r3")
			},
			want: []string{"opened sync_error exchange.auth.password", "resolved sync_error exchange.auth.password"},
		},
		{
			scenario: "oauth: the generic disabled warning does not make a password incident",
			build: func(s *script) {
				s.start("r1").exchErr("r1", "Authentication error – OAuthRefreshToken might have expired").
					exchWarn("r1", "Synchronization was disabled due to restricted access to your mailbox.").
					runFailed("r1", "Mailbox access denied by connector")
			},
			want: []string{"opened sync_error exchange.auth.oauth_expired"},
		},
		{
			scenario: "silence never resolves",
			build: func(s *script) {
				s.start("r1").exchErr("r1", "Unexpected Exchange error: Unsupported property field URI type. Server: Kerio Connect 9.0.3").runFailed("r1", "Exchange connector failed")
				s.at = s.at.Add(48 * time.Hour)
				s.start("r2").finished("r2", 0, 0) // an empty run is no evidence either
			},
			want: []string{"opened sync_error exchange.server.unsupported"},
		},
		{
			scenario: "snapshot limit from the engine, updated once per further run",
			build: func(s *script) {
				for _, r := range []string{"r1", "r2", "r3"} {
					s.start(r).runFailed(r, "A limit on the number of snapshot records is exceeded (10000/10040/0)")
				}
				s.ok("r4")
			},
			want: []string{"opened sync_error engine.snapshot_limit", "updated sync_error engine.snapshot_limit",
				"updated sync_error engine.snapshot_limit", "resolved sync_error engine.snapshot_limit"},
		},
		{
			scenario: "(500) on every record of two runs is a sync error",
			build: func(s *script) {
				for _, r := range []string{"r1", "r2"} {
					s.start(r).pushed(r, "T-1", 500, "Remote server returned an error: (500) Internal server error").
						pushed(r, "T-2", 500, "Remote server returned an error: (500) Internal server error").finished(r, 0, 2)
				}
				s.ok("r3")
			},
			want: []string{"opened sync_error c4c.server.internal_error", "resolved sync_error c4c.server.internal_error"},
		},
		{
			scenario: "(500) on two records out of forty is a sync issue",
			build: func(s *script) {
				s.start("r1").pushed("r1", "T-1", 500, "Remote server returned an error: (500) Internal server error").
					pushed("r1", "T-2", 201, "record pushed").pushed("r1", "T-3", 500, "Remote server returned an error: (500) Internal server error").
					finished("r1", 38, 2)
				s.ok("r2")
			},
			want: []string{"opened sync_issue c4c.server.internal_error", "resolved sync_issue c4c.server.internal_error"},
		},
		{
			scenario: "(500) on one record that succeeds when retried in the run is nothing",
			build: func(s *script) {
				s.start("r1").pushed("r1", "T-1", 500, "Remote server returned an error: (500) Internal server error").
					pushed("r1", "T-1", 201, "record pushed").finished("r1", 5, 0)
			},
			want: nil,
		},
		{
			scenario: "a single failed run of a run-dependent class is a blip",
			build: func(s *script) {
				s.ok("r1")
				s.start("r2").exchErr("r2", "Unexpected Exchange error: The remote server returned an error: (403) Forbidden.").finished("r2", 0, 1)
				s.ok("r3")
			},
			want: nil,
		},
		{
			scenario: "two consecutive forbidden runs open, a success resolves",
			build: func(s *script) {
				for _, r := range []string{"r1", "r2"} {
					s.start(r).exchErr(r, "Unexpected Exchange error: The remote server returned an error: (403) Forbidden.").finished(r, 0, 1)
				}
				s.ok("r3")
			},
			want: []string{"opened sync_error exchange.ews.forbidden", "resolved sync_error exchange.ews.forbidden"},
		},
		{
			scenario: "a success between two failures breaks the streak",
			build: func(s *script) {
				s.start("r1").exchErr("r1", "The XML document ended unexpectedly.").finished("r1", 0, 1)
				s.ok("r2")
				s.start("r3").exchErr("r3", "The XML document ended unexpectedly.").finished("r3", 0, 1)
			},
			want: nil,
		},
		{
			scenario: "unknown errors in two runs: one incident with its template",
			build: func(s *script) {
				for _, r := range []string{"r1", "r2"} {
					s.start(r).exchErr(r, "Unexpected Exchange error: Could not establish trust relationship for the SSL/TLS secure channel with authority 'mail"+r+".contoso.com'.").finished(r, 0, 3)
				}
				s.ok("r3")
			},
			want: []string{"opened sync_error unknown", "resolved sync_error unknown"},
		},
		{
			scenario: "the generic run_failed is the effect, not a second incident",
			build: func(s *script) {
				for _, r := range []string{"r1", "r2"} {
					s.start(r).exchErr(r, "The request failed. The remote server returned an error: (404) Not Found.").runFailed(r, "Exchange connector failed")
				}
			},
			want: []string{"opened sync_error exchange.ews.not_found", "updated sync_error exchange.ews.not_found"},
		},
		{
			scenario: "a generic run_failed alone twice is an unknown sync error",
			build: func(s *script) {
				for _, r := range []string{"r1", "r2"} {
					s.start(r).runFailed(r, "Exchange connector failed")
				}
			},
			want: []string{"opened sync_error unknown"},
		},
		{
			scenario: "per-record classes are sync issues, resolved by a clean run",
			build: func(s *script) {
				s.start("r1").synced("r1", "M-1").recFailed("r1", "A-1", "Mandatory field Subject is missing").
					recFailed("r1", "A-2", "Update conflict: the item was changed by another client").finished("r1", 1, 2)
				s.start("r2").synced("r2", "M-1").recFailed("r2", "A-1", "MANDATORY FIELD SUBJECT IS MISSING (request id 5f0c1e2a-1b2c-4d5e-8f90-123456789abc)").finished("r2", 1, 1)
				s.ok("r3")
			},
			want: []string{"opened sync_issue record.conflict", "opened sync_issue record.mandatory_field",
				"resolved sync_issue record.conflict", "updated sync_issue record.mandatory_field",
				"resolved sync_issue record.mandatory_field"},
		},
		{
			scenario: "an unknown per-record failure is record.unknown",
			build: func(s *script) {
				s.start("r1").synced("r1", "M-1").pushed("r1", "A-7", 400, "Invalid value for property StartDateTime: 2026-11-24T10:00:00").finished("r1", 1, 1)
			},
			want: []string{"opened sync_issue record.unknown"},
		},
		{
			scenario: "a run that never ends times out and still counts",
			build: func(s *script) {
				for _, r := range []string{"r1", "r2"} {
					s.start(r).exchErr(r, "The XML document ended unexpectedly")
				}
				s.at = s.at.Add(30 * time.Minute)
				s.ok("r3")
			},
			want: []string{"opened sync_error exchange.xml.truncated", "resolved sync_error exchange.xml.truncated"},
		},
	}
	for _, test := range tests {
		t.Run(test.scenario, func(t *testing.T) {
			s := &script{at: t0}
			test.build(s)
			evs, life := runScript(t, s)
			require.Equal(t, test.want, life)
			for _, ev := range evs {
				require.NoError(t, schemas.ValidateEvent(ev))
			}
		})
	}
}

func TestEngineDeterministicIDs(t *testing.T) {
	s := &script{at: t0}
	for _, r := range []string{"r1", "r2", "r3"} {
		s.start(r).runFailed(r, "A limit on the number of snapshot records is exceeded (10000/10040/0)")
	}
	s.ok("r4")
	a, _ := runScript(t, s)
	b, _ := runScript(t, s)
	require.Equal(t, a, b)
	require.Len(t, a, 4)
	id := a[0].Data.IncidentID
	for i, ev := range a {
		require.Equal(t, id, ev.Data.IncidentID)
		require.Equal(t, fmt.Sprintf("%s-%d", id, i+1), ev.ID)
	}
	require.Equal(t, map[string]any{"limit": 10000, "actual": 10040, "other": 0}, a[0].Data.Details)
	require.Equal(t, schemas.SeverityCritical, a[0].Data.Severity)
	require.Equal(t, schemas.StatusResolved, a[3].Data.Status)
	require.Equal(t, []string{"r1", "r2", "r3"}, a[2].Data.Runs)
}

func TestEngineDuplicatesAndLateLines(t *testing.T) {
	s := &script{at: t0}
	s.start("r1").synced("r1", "M-1").recFailed("r1", "A-1", "The item exceeds the maximum allowed size")
	s.recs = append(s.recs, s.recs[len(s.recs)-1]) // delivered twice upstream
	s.finished("r1", 1, 1)
	e, err := NewEngine(Config{})
	require.NoError(t, err)
	var out []schemas.IncidentEvent
	for i := range s.recs {
		out = e.Process(&s.recs[i], out)
	}
	// a line of r1 long after it was decided
	late := s.recs[1]
	late.Time = t0.Add(2 * time.Hour)
	later := late
	later.RunID = "r9"
	out = e.Process(&late, out)
	out = e.Flush(out)
	require.Len(t, out, 1)
	require.Equal(t, 1, out[0].Data.Occurrences)
	st := e.Stats()
	require.Equal(t, 1, st.Duplicates)
	require.Equal(t, 1, st.Late)
}

// TestEngineMaxSampleRecords: an event lists MaxSampleRecords record ids.
// The tracker kept at most 5 (the default, written as a literal), so a
// larger setting listed 5 all the same.
func TestEngineMaxSampleRecords(t *testing.T) {
	s := &script{at: t0}
	s.start("r1").synced("r1", "M-1")
	for i := range 9 {
		s.recFailed("r1", fmt.Sprintf("A-%d", i+1), "The item exceeds the maximum allowed size")
	}
	s.finished("r1", 1, 9)
	tests := []struct {
		name string
		max  int
		want []string
	}{
		{"default", 0, []string{"A-1", "A-2", "A-3", "A-4", "A-5"}},
		{"fewer", 2, []string{"A-1", "A-2"}},
		{"more than the default", 7, []string{"A-1", "A-2", "A-3", "A-4", "A-5", "A-6", "A-7"}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			out, life := runScriptWith(t, Config{MaxSampleRecords: test.max}, s)
			require.Equal(t, []string{"opened sync_issue record.too_large"}, life)
			require.Equal(t, test.want, out[0].Data.SampleRecords)
			require.Equal(t, 9, out[0].Data.AffectedRecords)
		})
	}
}

// TestEngineMaxMailboxes: at the cap, records of a new mailbox are counted
// and not judged; those of mailboxes with state still are.
func TestEngineMaxMailboxes(t *testing.T) {
	in := func(mailbox string) func(*schemas.LogRecord) {
		return func(r *schemas.LogRecord) { r.Mailbox = mailbox }
	}
	s := &script{at: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
	for _, m := range []string{"a@x", "b@x", "c@x", "a@x"} {
		s.add(schemas.ProducerEngine, schemas.EventRunStarted, schemas.SeverityInfo, "r-"+m, "", "", in(m))
		s.add(schemas.ProducerExchange, schemas.EventMessage, schemas.SeverityError, "r-"+m, "", "The remote server returned an error: (401) Unauthorized. Probably your e-mail password was changed", in(m))
	}
	e, err := NewEngine(Config{MaxMailboxes: 2, IdleEvict: time.Hour})
	require.NoError(t, err)
	var out []schemas.IncidentEvent
	for i := range s.recs {
		out = e.Process(&s.recs[i], out)
	}
	opened := map[string]bool{}
	for _, ev := range out {
		opened[ev.Data.Mailbox] = true
	}
	require.Equal(t, map[string]bool{"a@x": true, "b@x": true}, opened, "c@x is past the cap")
	require.Equal(t, 2, e.Stats().MailboxesCapped, "c@x's two records")
	require.Equal(t, 2, e.Stats().Mailboxes)
}
