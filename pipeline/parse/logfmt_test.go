package parse

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/schemas"
)

func TestLogfmt(t *testing.T) {
	tests := []struct {
		name  string
		entry string
		want  schemas.LogRecord
	}{
		{
			name:  "run_started with extra key",
			entry: "ts=2026-11-24T10:15:30.001Z level=info component=sync-engine tenant=t-1042 mailbox=anna.berg@contoso.com run=7f3a9c event=run_started direction=both",
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 15, 30, 1), Severity: schemas.SeverityInfo, SeverityText: "INFO",
				Tenant: "t-1042", Mailbox: "anna.berg@contoso.com", RunID: "7f3a9c", Event: schemas.EventRunStarted,
				Logger: "sync-engine", Attributes: schemas.AttrsFrom(map[string]string{"direction": "both"}),
			},
		},
		{
			name:  "run_failed with quoted msg",
			entry: `ts=2026-11-24T10:15:31.410Z level=error component=sync-engine tenant=t-1042 mailbox=anna.berg@contoso.com run=7f3a9c event=run_failed msg="A limit on the number of snapshot records is exceeded (10000/10040/0)"`,
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 15, 31, 410), Severity: schemas.SeverityError, SeverityText: "ERROR",
				Tenant: "t-1042", Mailbox: "anna.berg@contoso.com", RunID: "7f3a9c", Event: schemas.EventRunFailed,
				Logger: "sync-engine", Body: "A limit on the number of snapshot records is exceeded (10000/10040/0)",
			},
		},
		{
			name:  "record_failed, keys in another order, upper-case level, CRLF",
			entry: `record=APPT-88120 msg="Mandatory field Subject is missing" level=WARN mailbox=li.wei@northwind.com event=record_failed tenant=t-77 ts=2026-11-24T10:17:02.220Z run=c0ffee component=sync-engine record_type=Appointment` + "\r\n",
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 17, 2, 220), Severity: schemas.SeverityWarn, SeverityText: "WARN",
				Tenant: "t-77", Mailbox: "li.wei@northwind.com", RunID: "c0ffee", Event: schemas.EventRecordFailed,
				RecordID: "APPT-88120", RecordType: "Appointment", Logger: "sync-engine", Body: "Mandatory field Subject is missing",
			},
		},
		{
			name:  "keys as other loggers write them",
			entry: `time=2026-11-24T10:17:02.220Z LEVEL=warn Component=sync-engine tenant=t-77 mailBox=li.wei@northwind.com runId=c0ffee event=record_failed record_id=APPT-88120 recordType=Appointment message="Mandatory field Subject is missing" httpStatus=422`,
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 17, 2, 220), Severity: schemas.SeverityWarn, SeverityText: "WARN",
				Tenant: "t-77", Mailbox: "li.wei@northwind.com", RunID: "c0ffee", Event: schemas.EventRecordFailed,
				RecordID: "APPT-88120", RecordType: "Appointment", Logger: "sync-engine", Body: "Mandatory field Subject is missing",
				HTTPStatus: 422,
			},
		},
		{
			name:  "an event named otherwise",
			entry: "ts=2026-11-24T10:17:09.000Z level=info tenant=t-77 mailbox=m run=c0ffee event=RunCompleted synced=41 failed=1",
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 17, 9, 0), Severity: schemas.SeverityInfo, SeverityText: "INFO",
				Tenant: "t-77", Mailbox: "m", RunID: "c0ffee", Event: schemas.EventRunFinished, Synced: 41, Failed: 1, HasCounts: true,
			},
		},
		{
			name:  "run_finished with counts",
			entry: "ts=2026-11-24T10:17:09.000Z level=info component=sync-engine tenant=t-77 mailbox=li.wei@northwind.com run=c0ffee event=run_finished synced=41 failed=1 duration_ms=7812",
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 17, 9, 0), Severity: schemas.SeverityInfo, SeverityText: "INFO",
				Tenant: "t-77", Mailbox: "li.wei@northwind.com", RunID: "c0ffee", Event: schemas.EventRunFinished,
				Synced: 41, Failed: 1, HasCounts: true, Logger: "sync-engine", Attributes: schemas.AttrsFrom(map[string]string{"duration_ms": "7812"}),
			},
		},
		{
			name:  "run_finished without counts still has counts",
			entry: "ts=2026-11-24T10:17:09Z tenant=t-77 mailbox=m run=c0ffee event=run_finished",
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 17, 9, 0), Severity: schemas.SeverityInfo, SeverityText: "INFO",
				Tenant: "t-77", Mailbox: "m", RunID: "c0ffee", Event: schemas.EventRunFinished, HasCounts: true,
			},
		},
		{
			name:  "+02:00 offset, no millis, counts without run_finished",
			entry: "ts=2026-11-24T02:02:02+02:00 level=info tenant=t-1028 mailbox=m.rossi12@litware.de run=8c9242 synced=3",
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 0, 2, 2, 0), Severity: schemas.SeverityInfo, SeverityText: "INFO",
				Tenant: "t-1028", Mailbox: "m.rossi12@litware.de", RunID: "8c9242", Event: schemas.EventMessage,
				Synced: 3, HasCounts: true,
			},
		},
		{
			name:  "escapes in quoted values, quoted tenant",
			entry: `ts=2026-11-24T10:00:00Z tenant="t 1" mailbox=m msg="say \"hi\" to C:\\temp\n" note="a\qb"`,
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 0, 0, 0), Severity: schemas.SeverityInfo, SeverityText: "INFO",
				Tenant: "t 1", Mailbox: "m", Event: schemas.EventMessage, Body: "say \"hi\" to C:\\temp\n",
				Attributes: schemas.AttrsFrom(map[string]string{"note": `a\qb`}),
			},
		},
		{
			name:  "missing level is INFO, unknown level kept",
			entry: "ts=2026-11-24T10:00:00Z level=loud tenant=t mailbox=m",
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 0, 0, 0), Severity: schemas.SeverityInfo, SeverityText: "INFO",
				Tenant: "t", Mailbox: "m", Event: schemas.EventMessage, Attributes: schemas.AttrsFrom(map[string]string{"level": "loud"}),
			},
		},
		{
			name:  "unknown event kept",
			entry: "ts=2026-11-24T10:00:00Z level=debug tenant=t mailbox=m event=run_paused",
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 0, 0, 0), Severity: schemas.SeverityDebug, SeverityText: "DEBUG",
				Tenant: "t", Mailbox: "m", Event: schemas.EventMessage, Attributes: schemas.AttrsFrom(map[string]string{"event": "run_paused"}),
			},
		},
		{
			name:  "duplicate keys: last wins",
			entry: "ts=bad ts=2026-11-24T10:00:00Z tenant=a tenant=b mailbox=m x=1 x=2 level=error level=info",
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 0, 0, 0), Severity: schemas.SeverityInfo, SeverityText: "INFO",
				Tenant: "b", Mailbox: "m", Event: schemas.EventMessage, Attributes: schemas.AttrsFrom(map[string]string{"x": "2"}),
			},
		},
		{
			name:  "status and http_status",
			entry: "ts=2026-11-24T10:00:00Z tenant=t mailbox=m status=503",
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 0, 0, 0), Severity: schemas.SeverityInfo, SeverityText: "INFO",
				Tenant: "t", Mailbox: "m", Event: schemas.EventMessage, HTTPStatus: 503,
			},
		},
		{
			name:  "non-numeric http_status kept as attribute",
			entry: "ts=2026-11-24T10:00:00Z tenant=t mailbox=m http_status=teapot",
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 0, 0, 0), Severity: schemas.SeverityInfo, SeverityText: "INFO",
				Tenant: "t", Mailbox: "m", Event: schemas.EventMessage, Attributes: schemas.AttrsFrom(map[string]string{"http_status": "teapot"}),
			},
		},
		{
			name:  "bare key, empty value, tabs",
			entry: "ts=2026-11-24T10:00:00Z\ttenant=t mailbox=m  flag empty= ",
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 0, 0, 0), Severity: schemas.SeverityInfo, SeverityText: "INFO",
				Tenant: "t", Mailbox: "m", Event: schemas.EventMessage, Attributes: schemas.AttrsFrom(map[string]string{"flag": "", "empty": ""}),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec schemas.LogRecord
			require.NoError(t, entryAs(FormatLogfmt, []byte(tt.entry), &rec))
			tt.want.Producer = schemas.ProducerEngine
			if tt.want.Attributes == nil {
				tt.want.Attributes = rec.Attributes
			}
			require.Equal(t, tt.want, rec)

			var viaEntry schemas.LogRecord
			require.NoError(t, Entry([]byte(tt.entry), &viaEntry))
			require.Equal(t, rec, viaEntry)
		})
	}
}

func TestLogfmtErrors(t *testing.T) {
	tests := []struct {
		name       string
		entry      string
		wantReason string
		wantOffset int
	}{
		{name: "unclosed quote", entry: `ts=2026-11-24T10:00:00Z level=info msg="unclosed`, wantReason: "logfmt: unclosed quote at byte 39", wantOffset: 39},
		{name: "unclosed quote ending in backslash", entry: `ts=2026-11-24T10:00:00Z tenant=t mailbox=m msg="x\`, wantReason: "logfmt: unclosed quote at byte 47", wantOffset: 47},
		{name: "escaped quote does not close", entry: `ts=2026-11-24T10:00:00Z tenant=t mailbox=m msg="x\"`, wantReason: "logfmt: unclosed quote at byte 47", wantOffset: 47},
		{name: "text after closing quote", entry: `ts=2026-11-24T10:00:00Z tenant=t mailbox=m msg="x"y`, wantReason: "logfmt: unexpected byte after quoted value at byte 50", wantOffset: 50},
		{name: "quote in key", entry: `ts=2026-11-24T10:00:00Z a"b=c`, wantReason: "logfmt: unexpected quote in key at byte 25", wantOffset: 25},
		{name: "missing key", entry: `ts=2026-11-24T10:00:00Z =c`, wantReason: "logfmt: missing key at byte 24", wantOffset: 24},
		{name: "missing ts", entry: "level=info tenant=t mailbox=m", wantReason: "missing field ts", wantOffset: -1},
		{name: "empty ts", entry: "ts= tenant=t mailbox=m", wantReason: "missing field ts", wantOffset: -1},
		{name: "missing tenant", entry: "ts=2026-11-24T10:00:00Z mailbox=m", wantReason: "missing field tenant", wantOffset: -1},
		{name: "missing mailbox", entry: "ts=2026-11-24T10:00:00Z tenant=t mailbox=", wantReason: "missing field mailbox", wantOffset: -1},
		{name: "invalid timestamp", entry: "ts=2026-11-24T25:00:00Z tenant=t mailbox=m", wantReason: `invalid timestamp "2026-11-24T25:00:00Z"`, wantOffset: 3},
		{name: "timestamp with trailing garbage", entry: "ts=2026-11-24T10:00:00Zjunk tenant=t mailbox=m", wantReason: `invalid timestamp "2026-11-24T10:00:00Zjunk"`, wantOffset: 3},
		{name: "invalid count", entry: "ts=2026-11-24T10:00:00Z tenant=t mailbox=m synced=-1", wantReason: `invalid synced count "-1"`, wantOffset: 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := schemas.LogRecord{Tenant: "stale"}
			err := entryAs(FormatLogfmt, []byte(tt.entry), &rec)
			var pe *Error
			require.True(t, errors.As(err, &pe), "want *Error, got %v", err)
			require.Equal(t, FormatLogfmt, pe.Format)
			require.Equal(t, tt.wantReason, pe.Reason)
			require.Equal(t, tt.wantOffset, pe.Offset)
			require.Empty(t, rec.Tenant)
			require.Equal(t, schemas.ProducerEngine, rec.Producer)
		})
	}
}
