package parse

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/schemas"
)

// at builds a UTC time with milliseconds.
func at(y int, mo time.Month, d, h, mi, s, ms int) time.Time {
	return time.Date(y, mo, d, h, mi, s, ms*int(time.Millisecond), time.UTC)
}

func TestLog4net(t *testing.T) {
	const stack = "System.Net.WebException: The remote server returned an error: (404) Not Found.\n" +
		"   at System.Net.HttpWebRequest.GetResponse()\n" +
		"   at Microsoft.Exchange.WebServices.Data.EwsHttpWebRequest.GetResponse()"
	tests := []struct {
		name  string
		entry string
		want  schemas.LogRecord
	}{
		{
			name:  "error with context",
			entry: "2026-11-24 10:15:32,123 [12] ERROR ExchangeConnector.SyncWorker - [t-1042/anna.berg@contoso.com/run:7f3a9c] Authentication error",
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 15, 32, 123), Severity: schemas.SeverityError, SeverityText: "ERROR",
				Tenant: "t-1042", Mailbox: "anna.berg@contoso.com", RunID: "7f3a9c", Event: schemas.EventMessage,
				Logger: "ExchangeConnector.SyncWorker", Body: "Authentication error",
				Attributes: schemas.AttrsFrom(map[string]string{"thread": "12"}),
			},
		},
		{
			name:  "level padded with spaces, CRLF",
			entry: "2026-11-24 10:15:32,125 [12] WARN  ExchangeConnector.SyncWorker - [t-1042/anna.berg@contoso.com/run:7f3a9c] Synchronization was disabled due to restricted access to your mailbox.\r\n",
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 15, 32, 125), Severity: schemas.SeverityWarn, SeverityText: "WARN",
				Tenant: "t-1042", Mailbox: "anna.berg@contoso.com", RunID: "7f3a9c", Event: schemas.EventMessage,
				Logger: "ExchangeConnector.SyncWorker", Body: "Synchronization was disabled due to restricted access to your mailbox.",
				Attributes: schemas.AttrsFrom(map[string]string{"thread": "12"}),
			},
		},
		{
			name:  "multi-line with stack trace and (404)",
			entry: "2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found.\n" + stack,
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 16, 1, 900), Severity: schemas.SeverityError, SeverityText: "ERROR",
				Tenant: "t-2001", Mailbox: "ops@fabrikam.com", RunID: "a11c02", Event: schemas.EventMessage, HTTPStatus: 404,
				Logger: "ExchangeConnector.EwsClient", Body: "Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found.",
				Attributes: schemas.AttrsFrom(map[string]string{"thread": "7", "stack": stack}),
			},
		},
		{
			name: "multi-line with CRLF inside",
			entry: "2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] failed (404)\r\n" +
				"System.Net.WebException: The remote server returned an error: (404) Not Found.\r\n" +
				"   at System.Net.HttpWebRequest.GetResponse()\r\n" +
				"   at Microsoft.Exchange.WebServices.Data.EwsHttpWebRequest.GetResponse()\r\n",
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 16, 1, 900), Severity: schemas.SeverityError, SeverityText: "ERROR",
				Tenant: "t-2001", Mailbox: "ops@fabrikam.com", RunID: "a11c02", Event: schemas.EventMessage, HTTPStatus: 404,
				Logger: "ExchangeConnector.EwsClient", Body: "failed (404)",
				Attributes: schemas.AttrsFrom(map[string]string{"thread": "7", "stack": stack}),
			},
		},
		{
			name:  "item synced",
			entry: "2026-11-24 10:16:05,002 [7] INFO  ExchangeConnector.SyncWorker - [t-2001/ops@fabrikam.com/run:a11c02] item AAMkAD3= synced",
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 16, 5, 2), Severity: schemas.SeverityInfo, SeverityText: "INFO",
				Tenant: "t-2001", Mailbox: "ops@fabrikam.com", RunID: "a11c02", Event: schemas.EventRecordSynced, RecordID: "AAMkAD3=",
				Logger: "ExchangeConnector.SyncWorker", Body: "item AAMkAD3= synced",
				Attributes: schemas.AttrsFrom(map[string]string{"thread": "7"}),
			},
		},
		{
			name:  "item failed",
			entry: "2026-11-24 03:46:58,120 [29] ERROR ExchangeConnector.SyncWorker - [t-1021/d.okafor19@northwind.com/run:f906e0] item CONT-67474 failed:  The specified object was not found in the store. ",
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 3, 46, 58, 120), Severity: schemas.SeverityError, SeverityText: "ERROR",
				Tenant: "t-1021", Mailbox: "d.okafor19@northwind.com", RunID: "f906e0", Event: schemas.EventRecordFailed, RecordID: "CONT-67474",
				Logger: "ExchangeConnector.SyncWorker", Body: "The specified object was not found in the store.",
				Attributes: schemas.AttrsFrom(map[string]string{"thread": "29"}),
			},
		},
		{
			name:  "item failed without message, other case",
			entry: "2026-11-24 03:46:58,120 [29] error ExchangeConnector.SyncWorker - [t-1021/d.okafor19@northwind.com/run:f906e0] Item CONT-1 FAILED",
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 3, 46, 58, 120), Severity: schemas.SeverityError, SeverityText: "ERROR",
				Tenant: "t-1021", Mailbox: "d.okafor19@northwind.com", RunID: "f906e0", Event: schemas.EventRecordFailed, RecordID: "CONT-1",
				Logger: "ExchangeConnector.SyncWorker", Body: "Item CONT-1 FAILED",
				Attributes: schemas.AttrsFrom(map[string]string{"thread": "29"}),
			},
		},
		{
			name:  "record synchronized successfully",
			entry: "2026-11-24 10:16:05,002 [7] INFO  ExchangeConnector.SyncWorker - [t-2001/ops@fabrikam.com/run:a11c02] Record APPT-9 synchronized successfully.",
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 16, 5, 2), Severity: schemas.SeverityInfo, SeverityText: "INFO",
				Tenant: "t-2001", Mailbox: "ops@fabrikam.com", RunID: "a11c02", Event: schemas.EventRecordSynced, RecordID: "APPT-9",
				Logger: "ExchangeConnector.SyncWorker", Body: "Record APPT-9 synchronized successfully.",
				Attributes: schemas.AttrsFrom(map[string]string{"thread": "7"}),
			},
		},
		{
			name:  "item failed to sync, a dash before the message",
			entry: "2026-11-24 03:46:58,120 [29] ERROR ExchangeConnector.SyncWorker - [t-1/m@x.com/run:1] item CONT-1 failed to sync - Update conflict",
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 3, 46, 58, 120), Severity: schemas.SeverityError, SeverityText: "ERROR",
				Tenant: "t-1", Mailbox: "m@x.com", RunID: "1", Event: schemas.EventRecordFailed, RecordID: "CONT-1",
				Logger: "ExchangeConnector.SyncWorker", Body: "Update conflict",
				Attributes: schemas.AttrsFrom(map[string]string{"thread": "29"}),
			},
		},
		{
			name:  "item failed verification is a message",
			entry: "2026-11-24 03:46:58,120 [29] WARN ExchangeConnector.SyncWorker - [t-1/m@x.com/run:1] item CONT-1 failed verification",
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 3, 46, 58, 120), Severity: schemas.SeverityWarn, SeverityText: "WARN",
				Tenant: "t-1", Mailbox: "m@x.com", RunID: "1", Event: schemas.EventMessage,
				Logger: "ExchangeConnector.SyncWorker", Body: "item CONT-1 failed verification",
				Attributes: schemas.AttrsFrom(map[string]string{"thread": "29"}),
			},
		},
		{
			name:  "item with other wording is a message",
			entry: "2026-11-24 03:46:58,120 [29] INFO ExchangeConnector.SyncWorker - [t-1/m@x.com/run:1] item CONT-1 skipped",
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 3, 46, 58, 120), Severity: schemas.SeverityInfo, SeverityText: "INFO",
				Tenant: "t-1", Mailbox: "m@x.com", RunID: "1", Event: schemas.EventMessage,
				Logger: "ExchangeConnector.SyncWorker", Body: "item CONT-1 skipped",
				Attributes: schemas.AttrsFrom(map[string]string{"thread": "29"}),
			},
		},
		{
			name:  "(429) status, no millis, dot millis, +02:00",
			entry: "2026-11-24 02:02:50.008+02:00 [16] WARN  ExchangeConnector.EwsClient - [t-1042/s.ali25@adatum.com/run:85b8b4] Server busy (429), retrying after 2000 ms (12345)",
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 0, 2, 50, 8), Severity: schemas.SeverityWarn, SeverityText: "WARN",
				Tenant: "t-1042", Mailbox: "s.ali25@adatum.com", RunID: "85b8b4", Event: schemas.EventMessage, HTTPStatus: 429,
				Logger: "ExchangeConnector.EwsClient", Body: "Server busy (429), retrying after 2000 ms (12345)",
				Attributes: schemas.AttrsFrom(map[string]string{"thread": "16"}),
			},
		},
		{
			name:  "no millis, Z, not a status",
			entry: "2026-11-24 00:01:31Z [16] INFO  ExchangeConnector.SyncWorker - [t-1007/p.nowak5@tailspin.io/run:ba8cb0] limit (10000/10040/0) and (600) and (99)",
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 0, 1, 31, 0), Severity: schemas.SeverityInfo, SeverityText: "INFO",
				Tenant: "t-1007", Mailbox: "p.nowak5@tailspin.io", RunID: "ba8cb0", Event: schemas.EventMessage,
				Logger: "ExchangeConnector.SyncWorker", Body: "limit (10000/10040/0) and (600) and (99)",
				Attributes: schemas.AttrsFrom(map[string]string{"thread": "16"}),
			},
		},
		{
			name:  "context without run",
			entry: "2026-11-24 00:01:31 [16] DEBUG ExchangeConnector.SyncWorker - [t-1007/p.nowak5@tailspin.io] Fetching changes",
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 0, 1, 31, 0), Severity: schemas.SeverityDebug, SeverityText: "DEBUG",
				Tenant: "t-1007", Mailbox: "p.nowak5@tailspin.io", Event: schemas.EventMessage,
				Logger: "ExchangeConnector.SyncWorker", Body: "Fetching changes",
				Attributes: schemas.AttrsFrom(map[string]string{"thread": "16"}),
			},
		},
		{
			name:  "context with blanks, run written otherwise",
			entry: "2026-11-24 00:01:31,200 [16] ERROR ExchangeConnector.SyncWorker - [ t-1007 / p.nowak5@tailspin.io / Run: ba8cb0 ] Authentication error",
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 0, 1, 31, 200), Severity: schemas.SeverityError, SeverityText: "ERROR",
				Tenant: "t-1007", Mailbox: "p.nowak5@tailspin.io", RunID: "ba8cb0", Event: schemas.EventMessage,
				Logger: "ExchangeConnector.SyncWorker", Body: "Authentication error",
				Attributes: schemas.AttrsFrom(map[string]string{"thread": "16"}),
			},
		},
		{
			name:  "context with a bare run id",
			entry: "2026-11-24 00:01:31,200 [16] INFO  X - [t-1007/p.nowak5@tailspin.io/runner-7] started",
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 0, 1, 31, 200), Severity: schemas.SeverityInfo, SeverityText: "INFO",
				Tenant: "t-1007", Mailbox: "p.nowak5@tailspin.io", RunID: "runner-7", Event: schemas.EventMessage,
				Logger: "X", Body: "started", Attributes: schemas.AttrsFrom(map[string]string{"thread": "16"}),
			},
		},
		{
			name:  "no thread, no logger, empty message",
			entry: "2026-11-24 00:01:31 FATAL - [t-1007/p.nowak5@tailspin.io/run:ba8cb0]",
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 0, 1, 31, 0), Severity: schemas.SeverityFatal, SeverityText: "FATAL",
				Tenant: "t-1007", Mailbox: "p.nowak5@tailspin.io", RunID: "ba8cb0", Event: schemas.EventMessage,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec schemas.LogRecord
			require.NoError(t, entryAs(FormatLog4net, []byte(tt.entry), &rec))
			tt.want.Producer = schemas.ProducerExchange
			if tt.want.Attributes == nil {
				tt.want.Attributes = rec.Attributes // nil or empty
			}
			require.Equal(t, tt.want, rec)

			var viaEntry schemas.LogRecord
			require.NoError(t, Entry([]byte(tt.entry), &viaEntry))
			require.Equal(t, rec, viaEntry)
		})
	}
}

func TestLog4netErrors(t *testing.T) {
	tests := []struct {
		name       string
		entry      string
		wantReason string
	}{
		{name: "missing context", entry: "2026-11-24 10:15:32,123 [12] ERROR ExchangeConnector.SyncWorker - Authentication error", wantReason: "log4net: missing [tenant/mailbox/run:ID] context"},
		{name: "context without slash", entry: "2026-11-24 10:15:32,123 [12] ERROR ExchangeConnector.SyncWorker - [Worker] Authentication error", wantReason: "log4net: missing [tenant/mailbox/run:ID] context"},
		{name: "unclosed context", entry: "2026-11-24 10:15:32,123 [12] ERROR ExchangeConnector.SyncWorker - [t-1/m@x.com/run:1 Authentication error", wantReason: "log4net: missing [tenant/mailbox/run:ID] context"},
		{name: "empty tenant", entry: "2026-11-24 10:15:32,123 [12] ERROR X - [/m@x.com/run:1] m", wantReason: "missing field tenant"},
		{name: "empty mailbox", entry: "2026-11-24 10:15:32,123 [12] ERROR X - [t-1//run:1] m", wantReason: "missing field mailbox"},
		{name: "unknown level", entry: "2026-11-24 10:15:32,123 [12] NOTALEVEL X - [t-1/m@x.com/run:1] m", wantReason: `log4net: unknown level "NOTALEVEL" at byte 29`},
		{name: "missing level", entry: "2026-11-24 10:15:32,123 [12]", wantReason: "log4net: missing level at byte 28"},
		{name: "unclosed thread", entry: "2026-11-24 10:15:32,123 [12 INFO X - t/m m", wantReason: "log4net: unclosed [thread] at byte 24"},
		{name: "missing dash", entry: "2026-11-24 10:15:32,123 [12] INFO X [t-1/m@x.com/run:1] m", wantReason: `log4net: missing " - " after logger at byte 36`},
		{name: "month 13", entry: "2026-13-24 10:15:32,123 [12] INFO X - [t/m] m", wantReason: `invalid timestamp "2026-13-24 10:15:32,123"`},
		{name: "garbage after time", entry: "2026-11-24 10:15:32,12x [12] INFO X - [t/m] m", wantReason: `invalid timestamp "2026-11-24 10:15:32,12x"`},
		{name: "not log4net at all", entry: "ts=2026-11-24T10:15:30.001Z", wantReason: `invalid timestamp "ts=2026-11-24T10:15:30.001Z"`},
		{name: "stack frame alone", entry: "   at System.Net.HttpWebRequest.GetResponse()", wantReason: `invalid timestamp "at System.Net.HttpWebRequest."`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := schemas.LogRecord{Tenant: "stale"}
			err := entryAs(FormatLog4net, []byte(tt.entry), &rec)
			var pe *Error
			require.True(t, errors.As(err, &pe), "want *Error, got %v", err)
			require.Equal(t, FormatLog4net, pe.Format)
			require.Equal(t, tt.wantReason, pe.Reason)
			require.Empty(t, rec.Tenant)
			require.Equal(t, schemas.ProducerExchange, rec.Producer)
		})
	}
}
