package parse

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/schemas"
)

func TestC4CCJSON(t *testing.T) {
	const url = "https://my3310.crm.ondemand.com/sap/c4c/odata/v1/c4codataapi/AppointmentCollection"
	tests := []struct {
		name  string
		entry string
		want  schemas.LogRecord
	}{
		{
			name:  "failed push (500)",
			entry: `{"@timestamp":"2026-11-24T10:20:11.517Z","level":"ERROR","logger":"C4CC.Connector.Push","tenant":"t-3310","mailbox":"sales@adatum.com","runId":"9b2e41","recordType":"Appointment","recordId":"APPT-1177","http":{"method":"POST","url":"` + url + `","status":500},"message":"Remote server returned an error: (500) Internal server error"}`,
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 20, 11, 517), Severity: schemas.SeverityError, SeverityText: "ERROR",
				Tenant: "t-3310", Mailbox: "sales@adatum.com", RunID: "9b2e41", RecordID: "APPT-1177", RecordType: "Appointment",
				Event: schemas.EventRecordFailed, HTTPStatus: 500, Logger: "C4CC.Connector.Push",
				Body:       "Remote server returned an error: (500) Internal server error",
				Attributes: schemas.AttrsFrom(map[string]string{"http.method": "POST", "http.url": url}),
			},
		},
		{
			name:  "pushed (201), lower-case level, unknown field kept, CRLF",
			entry: `{"@timestamp":"2026-11-24T10:20:12.002Z","level":"info","logger":"C4CC.Connector.Push","tenant":"t-3310","mailbox":"sales@adatum.com","runId":"9b2e41","recordType":"Appointment","recordId":"APPT-1178","http":{"method":"POST","url":"https://x/","status":201},"message":"record pushed","threadId":43}` + "\r\n",
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 20, 12, 2), Severity: schemas.SeverityInfo, SeverityText: "INFO",
				Tenant: "t-3310", Mailbox: "sales@adatum.com", RunID: "9b2e41", RecordID: "APPT-1178", RecordType: "Appointment",
				Event: schemas.EventRecordSynced, HTTPStatus: 201, Logger: "C4CC.Connector.Push", Body: "record pushed",
				Attributes: schemas.AttrsFrom(map[string]string{"http.method": "POST", "http.url": "https://x/", "threadId": "43"}),
			},
		},
		{
			name:  "400 at INFO is failed; keys in any order; timestamp key, no millis, +02:00",
			entry: `{"message":"bad request","recordId":"R1","http":{"status":400},"mailbox":"m","tenant":"t","timestamp":"2026-11-24T12:00:00+02:00","run_id":"r1"}`,
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 0, 0, 0), Severity: schemas.SeverityInfo, SeverityText: "INFO",
				Tenant: "t", Mailbox: "m", RunID: "r1", RecordID: "R1", Event: schemas.EventRecordFailed, HTTPStatus: 400, Body: "bad request",
			},
		},
		{
			name:  "ERROR without status is failed",
			entry: `{"time":"2026-11-24T10:00:00Z","level":"Error","tenant":"t","mailbox":"m","run":"r","recordId":"R2"}`,
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 0, 0, 0), Severity: schemas.SeverityError, SeverityText: "ERROR",
				Tenant: "t", Mailbox: "m", RunID: "r", RecordID: "R2", Event: schemas.EventRecordFailed,
			},
		},
		{
			name:  "3xx with record is a message",
			entry: `{"@timestamp":"2026-11-24T10:00:00Z","tenant":"t","mailbox":"m","recordId":"R3","http.status":302}`,
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 0, 0, 0), Severity: schemas.SeverityInfo, SeverityText: "INFO",
				Tenant: "t", Mailbox: "m", RecordID: "R3", Event: schemas.EventMessage, HTTPStatus: 302,
			},
		},
		{
			name:  "error without record is a message",
			entry: `{"@timestamp":"2026-11-24T10:00:00Z","level":"FATAL","tenant":"t","mailbox":"m","message":"connector down","http":{"status":"503"}}`,
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 0, 0, 0), Severity: schemas.SeverityFatal, SeverityText: "FATAL",
				Tenant: "t", Mailbox: "m", Event: schemas.EventMessage, HTTPStatus: 503, Body: "connector down",
			},
		},
		{
			name: "unknown fields of every kind kept as JSON text",
			entry: `{ "@timestamp" : "2026-11-24T10:00:00Z" , "tenant":"t","mailbox":"m","n":-1.5e3,"b":true,"z":null,` +
				`"o":{"a":[1,{"b":"c"}]},"arr":[ ],"s":"x\ty","http":{"method":"GET","headers":{"x":1},"retry":2},"level":"verbose+","lvl":7}`,
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 0, 0, 0), Severity: schemas.SeverityInfo, SeverityText: "INFO",
				Tenant: "t", Mailbox: "m", Event: schemas.EventMessage,
				Attributes: schemas.AttrsFrom(map[string]string{
					"n": "-1.5e3", "b": "true", "z": "null", "o": `{"a":[1,{"b":"c"}]}`, "arr": "[ ]", "s": "x\ty",
					"http.method": "GET", "http.headers": `{"x":1}`, "http.retry": "2", "level": "verbose+", "lvl": "7",
				}),
			},
		},
		{
			name:  "escapes decoded, invalid UTF-8 kept",
			entry: `{"@timestamp":"2026-11-24T10:00:00Z","tenant":"t\u002d1","mailbox":"m\/x","message":"caf\u00e9 \ud83d\ude00 \ud800 \"q\" ` + "\xff\xfe" + `","k\u0065y":"v"}`,
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 0, 0, 0), Severity: schemas.SeverityInfo, SeverityText: "INFO",
				Tenant: "t-1", Mailbox: "m/x", Event: schemas.EventMessage, Body: "café 😀 \uFFFD \"q\" \xff\xfe",
				Attributes: schemas.AttrsFrom(map[string]string{"key": "v"}),
			},
		},
		{
			name:  "Unix seconds with a fraction; keys in another case or with other separators",
			entry: `{"@timestamp":1795515611.517,"Level":"ERROR","TENANT":"t","mailBox":"m","runID":"r1","record_type":"Task","Record-Id":"R9","http_status":404,"Message":"not found"}`,
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 20, 11, 517), Severity: schemas.SeverityError, SeverityText: "ERROR",
				Tenant: "t", Mailbox: "m", RunID: "r1", RecordID: "R9", RecordType: "Task", Event: schemas.EventRecordFailed, HTTPStatus: 404, Body: "not found",
			},
		},
		{
			name:  "Unix milliseconds",
			entry: `{"time":1795515611517,"tenant":"t","mailbox":"m"}`,
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 20, 11, 517), Severity: schemas.SeverityInfo, SeverityText: "INFO",
				Tenant: "t", Mailbox: "m", Event: schemas.EventMessage,
			},
		},
		{
			name:  "Unix microseconds",
			entry: `{"time":1795515611517000,"tenant":"t","mailbox":"m"}`,
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 20, 11, 517), Severity: schemas.SeverityInfo, SeverityText: "INFO",
				Tenant: "t", Mailbox: "m", Event: schemas.EventMessage,
			},
		},
		{
			name:  "Unix nanoseconds",
			entry: `{"time":1795515611517000000,"tenant":"t","mailbox":"m"}`,
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 20, 11, 517), Severity: schemas.SeverityInfo, SeverityText: "INFO",
				Tenant: "t", Mailbox: "m", Event: schemas.EventMessage,
			},
		},
		{
			name:  "Unix whole seconds",
			entry: `{"time":1795515611,"tenant":"t","mailbox":"m"}`,
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 20, 11, 0), Severity: schemas.SeverityInfo, SeverityText: "INFO",
				Tenant: "t", Mailbox: "m", Event: schemas.EventMessage,
			},
		},
		{
			name:  "http not an object, null fields",
			entry: `{"@timestamp":"2026-11-24T10:00:00Z","tenant":"t","mailbox":"m","http":"n/a","runId":null,"recordId":null,"http.status":"x"}`,
			want: schemas.LogRecord{
				Time: at(2026, 11, 24, 10, 0, 0, 0), Severity: schemas.SeverityInfo, SeverityText: "INFO",
				Tenant: "t", Mailbox: "m", Event: schemas.EventMessage,
				Attributes: schemas.AttrsFrom(map[string]string{"http": "n/a", "http.status": "x"}),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec schemas.LogRecord
			require.NoError(t, entryAs(FormatJSON, []byte(tt.entry), &rec))
			tt.want.Producer = schemas.ProducerC4CC
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

func TestC4CCJSONErrors(t *testing.T) {
	const head = `{"@timestamp":"2026-11-24T10:00:00Z","tenant":"t","mailbox":"m"`
	tests := []struct {
		name       string
		entry      string
		wantReason string
	}{
		{name: "cut in half", entry: `{"@timestamp":"2026-11-24T10:00:00Z","level":`, wantReason: "json: unexpected end of input at byte 45"},
		{name: "cut inside a string", entry: `{"@timestamp":"2026-11-24T10`, wantReason: "json: unexpected end of input at byte 28"},
		{name: "cut inside an escape", entry: head + `,"x":"\u00`, wantReason: "json: unexpected end of input at byte 73"},
		{name: "cut after a number", entry: head + `,"x":12`, wantReason: "json: unexpected end of input at byte 70"},
		{name: "cut inside a literal", entry: head + `,"x":tr`, wantReason: "json: unexpected end of input at byte 70"},
		{name: "not an object", entry: `{`, wantReason: "json: unexpected end of input at byte 1"},
		{name: "trailing data", entry: head + `} {}`, wantReason: "json: data after object, found '{' at byte 65"},
		{name: "missing colon", entry: `{"a" 1}`, wantReason: "json: expected ':', found '1' at byte 5"},
		{name: "missing comma", entry: `{"a":1 "b":2}`, wantReason: "json: expected ',' or '}', found '\"' at byte 7"},
		{name: "trailing comma", entry: `{"a":1,}`, wantReason: "json: expected string key, found '}' at byte 7"},
		{name: "bad array", entry: `{"a":[1 2]}`, wantReason: "json: expected ',' or ']', found '2' at byte 8"},
		{name: "bad literal", entry: `{"a":nul}`, wantReason: "json: unexpected '}' at byte 8"},
		{name: "bad number", entry: `{"a":-x}`, wantReason: "json: invalid number at byte 6"},
		{name: "bad fraction", entry: `{"a":1.}`, wantReason: "json: invalid number at byte 7"},
		{name: "bad escape", entry: `{"a":"\x"}`, wantReason: "json: invalid escape at byte 6"},
		{name: "bad unicode escape", entry: `{"a":"\u12g4"}`, wantReason: "json: invalid escape at byte 6"},
		{name: "bad value", entry: `{"a":'x'}`, wantReason: `json: unexpected '\x27' at byte 5`},
		{name: "deeply nested", entry: `{"a":` + strings.Repeat("[", 100000), wantReason: "json: nesting deeper than 64, found '[' at byte 68"},
		{name: "deeply nested objects", entry: strings.Repeat(`{"a":`, 100000), wantReason: "json: nesting deeper than 64, found '{' at byte 320"},
		{name: "object for tenant", entry: `{"tenant":{}}`, wantReason: "json: field tenant is not a scalar at byte 10"},
		{name: "missing timestamp", entry: `{"tenant":"t","mailbox":"m"}`, wantReason: "missing field @timestamp"},
		{name: "null timestamp", entry: `{"@timestamp":null,"tenant":"t","mailbox":"m"}`, wantReason: "missing field @timestamp"},
		{name: "numeric timestamp in 1970", entry: `{"@timestamp":1764000,"tenant":"t","mailbox":"m"}`, wantReason: `invalid timestamp "1764000"`},
		{name: "numeric timestamp with an exponent", entry: `{"@timestamp":1.764e9,"tenant":"t","mailbox":"m"}`, wantReason: `invalid timestamp "1.764e9"`},
		{name: "numeric timestamp, negative", entry: `{"@timestamp":-1764000000,"tenant":"t","mailbox":"m"}`, wantReason: `invalid timestamp "-1764000000"`},
		{name: "milliseconds with a fraction", entry: `{"@timestamp":1764000000000.5,"tenant":"t","mailbox":"m"}`, wantReason: `invalid timestamp "1764000000000.5"`},
		{name: "invalid timestamp", entry: `{"@timestamp":"2026-02-30T00:00:00Z","tenant":"t","mailbox":"m"}`, wantReason: `invalid timestamp "2026-02-30T00:00:00Z"`},
		{name: "missing tenant", entry: `{"@timestamp":"2026-11-24T10:00:00Z","mailbox":"m"}`, wantReason: "missing field tenant"},
		{name: "empty mailbox", entry: `{"@timestamp":"2026-11-24T10:00:00Z","tenant":"t","mailbox":""}`, wantReason: "missing field mailbox"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := schemas.LogRecord{Tenant: "stale"}
			err := entryAs(FormatJSON, []byte(tt.entry), &rec)
			var pe *Error
			require.True(t, errors.As(err, &pe), "want *Error, got %v", err)
			require.Equal(t, FormatJSON, pe.Format)
			require.Equal(t, tt.wantReason, pe.Reason)
			require.Empty(t, rec.Tenant)
			require.Equal(t, schemas.ProducerC4CC, rec.Producer)
		})
	}
}
