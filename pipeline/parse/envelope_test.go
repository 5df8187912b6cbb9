package parse

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/syncwatch/syncwatch/schemas"
)

// The entries of the three formats, as the connectors write them.
const (
	log4netLine = `2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found.`
	logfmtLine  = `ts=2026-11-24T10:15:31.410Z level=error component=sync-engine tenant=t-1042 mailbox=anna.berg@contoso.com run=7f3a9c event=run_failed msg="A limit on the number of snapshot records is exceeded (10000/10040/0)"`
	c4ccLine    = `{"@timestamp":"2026-11-24T10:20:11.517Z","level":"ERROR","logger":"C4CC.Connector.Push","tenant":"t-3310","mailbox":"sales@adatum.com","runId":"9b2e41","recordType":"Appointment","recordId":"APPT-1177","http":{"method":"POST","status":500},"message":"Remote server returned an error: (500) Internal server error"}`
	stackLine1  = `System.Net.WebException: The remote server returned an error: (404) Not Found.`
	stackLine2  = `   at System.Net.HttpWebRequest.GetResponse()`
)

// jsonString is s as a JSON string literal, escaped as Filebeat escapes
// it (< as \u003c); other bytes, invalid UTF-8 too, are written as they
// are, as shippers pass them on.
func jsonString(s string) string {
	b := []byte{'"'}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '<':
			b = append(b, `\u003c`...)
		case c < 0x20:
			b = append(b, fmt.Sprintf(`\u%04x`, c)...)
		default:
			b = append(b, c)
		}
	}
	return string(append(b, '"'))
}

func otlpBatch(t *testing.T, json bool, lines ...string) []byte {
	t.Helper()
	logs := plog.NewLogs()
	rl := logs.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("host.name", "conn01")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for _, l := range lines {
		lr := lrs.AppendEmpty()
		lr.Body().SetStr(l)
		lr.Attributes().PutStr("log.file.name", "exchange.log")
	}
	var (
		b   []byte
		err error
	)
	if json {
		b, err = (&plog.JSONMarshaler{}).MarshalLogs(logs)
	} else {
		b, err = (&plog.ProtoMarshaler{}).MarshalLogs(logs)
	}
	require.NoError(t, err)
	return b
}

func TestUnwrap(t *testing.T) {
	type want struct{ entry, shipper, host, file string }
	tests := []struct {
		name string
		msg  string
		mode Envelope
		want []want
		err  string
	}{
		// raw entries stay as they are
		{name: "raw log4net", msg: log4netLine, want: []want{{entry: log4netLine}}},
		{name: "raw log4net with a stack trace", msg: log4netLine + "\n" + stackLine1 + "\n" + stackLine2, want: []want{{entry: log4netLine + "\n" + stackLine1 + "\n" + stackLine2}}},
		{name: "raw logfmt", msg: logfmtLine, want: []want{{entry: logfmtLine}}},
		{name: "raw C4CC record", msg: c4ccLine, want: []want{{entry: c4ccLine}}},
		{name: "C4CC record with a host field of its own", msg: `{"@timestamp":"2026-11-24T10:20:11.517Z","tenant":"t-1","mailbox":"m@x","host":"c4c-7","message":"record pushed"}`,
			want: []want{{entry: `{"@timestamp":"2026-11-24T10:20:11.517Z","tenant":"t-1","mailbox":"m@x","host":"c4c-7","message":"record pushed"}`}}},
		{name: "C4CC record that lost its own fields", msg: `{"@timestamp":"2026-11-24T10:20:11.517Z","message":"record pushed"}`,
			want: []want{{entry: `{"@timestamp":"2026-11-24T10:20:11.517Z","message":"record pushed"}`}}},
		{name: "garbage", msg: "\x00\x01binary", want: []want{{entry: "\x00\x01binary"}}},
		{name: "broken JSON", msg: `{"@timestamp":"2026-11-24T10:20:11.517Z","message":"cut`, want: []want{{entry: `{"@timestamp":"2026-11-24T10:20:11.517Z","message":"cut`}}},

		// a shipper's multiline rule glued lines that are not the entry's
		{name: "rsyslog multiline, another producer's line glued on", msg: "2026-11-24T10:16:02.123456+00:00 conn01 ExchangeConnector " + log4netLine + "\r" + `\n` + stackLine1 + "\r" + `\n` + logfmtLine + "\n",
			want: []want{{log4netLine + "\r\n" + stackLine1 + "\r\n", "rsyslog", "conn01", "ExchangeConnector"}, {logfmtLine, "rsyslog", "conn01", "ExchangeConnector"}}},
		{name: "syslog-ng multiline, garbage and a blank line glued on", msg: "2026-11-24T10:16:02+00:00 conn01 " + log4netLine + "\n" + stackLine2 + "\n\x01\x02garbage\n\n" + log4netLine,
			want: []want{{log4netLine + "\n" + stackLine2 + "\n", "syslog-ng", "conn01", ""}, {"\x01\x02garbage\n", "syslog-ng", "conn01", ""}, {log4netLine, "syslog-ng", "conn01", ""}}},
		{name: "a JSON object over several lines stays whole", msg: "{\"@timestamp\":\"2026-11-24T10:20:11.517Z\",\n  \"tenant\":\"t-1\",\n  \"mailbox\":\"m@x\"\n}",
			want: []want{{entry: "{\"@timestamp\":\"2026-11-24T10:20:11.517Z\",\n  \"tenant\":\"t-1\",\n  \"mailbox\":\"m@x\"\n}"}}},

		// JSON shippers
		{name: "filebeat", msg: `{"@timestamp":"2026-11-24T10:16:02.123Z","@metadata":{"beat":"filebeat","type":"_doc","version":"8.15.0"},"log":{"offset":0,"file":{"path":"/var/log/c4c/exchange.log","device_id":"64769","inode":"1048601"}},"message":` + jsonString(log4netLine) + `,"input":{"type":"filestream"},"ecs":{"version":"8.0.0"},"host":{"name":"conn01"},"agent":{"name":"conn01","type":"filebeat","version":"8.15.0"}}`,
			want: []want{{log4netLine, "filebeat", "conn01", "/var/log/c4c/exchange.log"}}},
		{name: "filebeat, a C4CC record inside", msg: `{"@timestamp":"2026-11-24T10:16:02.123Z","@metadata":{"beat":"filebeat","type":"_doc","version":"8.15.0"},"message":` + jsonString(c4ccLine) + `,"log":{"file":{"path":"/var/log/c4c/c4cc.jsonl"}},"host":{"name":"conn01"}}`,
			want: []want{{c4ccLine, "filebeat", "conn01", "/var/log/c4c/c4cc.jsonl"}}},
		{name: "logstash json, ECS", msg: `{"@timestamp":"2026-11-24T10:16:02.123456Z","@version":"1","message":` + jsonString(logfmtLine) + `,"event":{"original":` + jsonString(logfmtLine) + `},"host":{"name":"conn01"},"log":{"file":{"path":"/var/log/c4c/engine.log"}}}`,
			want: []want{{logfmtLine, "logstash", "conn01", "/var/log/c4c/engine.log"}}},
		{name: "logstash json, legacy", msg: `{"@timestamp":"2026-11-24T10:16:02.123Z","@version":"1","message":` + jsonString(log4netLine) + `,"host":"conn01","path":"/var/log/c4c/exchange.log"}`,
			want: []want{{log4netLine, "logstash", "conn01", "/var/log/c4c/exchange.log"}}},
		{name: "logstash json, event.original only", msg: `{"@timestamp":"2026-11-24T10:16:02.123Z","@version":"1","event":{"original":` + jsonString(log4netLine) + `}}`,
			want: []want{{log4netLine, "logstash", "", ""}}},
		{name: "fluent bit", msg: `{"@timestamp":1795515362.123457,"log":` + jsonString(log4netLine) + `}`, want: []want{{log4netLine, "fluent-bit", "", ""}}},
		{name: "fluentd", msg: `{"message":` + jsonString(logfmtLine) + `}`, want: []want{{logfmtLine, "fluentd", "", ""}}},
		{name: "fluentd, a C4CC record inside", msg: `{"message":` + jsonString(c4ccLine) + `}`, want: []want{{c4ccLine, "fluentd", "", ""}}},
		{name: "vector", msg: `{"file":"/var/log/c4c/exchange.log","host":"conn01","message":` + jsonString(log4netLine) + `,"source_type":"file","timestamp":"2026-11-24T10:16:02.123456789Z"}`,
			want: []want{{log4netLine, "vector", "conn01", "/var/log/c4c/exchange.log"}}},
		{name: "filebeat, one line of a stack trace", msg: `{"@timestamp":"2026-11-24T10:16:02.123Z","@metadata":{"beat":"filebeat"},"message":` + jsonString(stackLine2) + `,"log":{"file":{"path":"/x.log"}},"host":{"name":"h"}}`,
			want: []want{{stackLine2, "filebeat", "h", "/x.log"}}},
		{name: "multi-line entry, JSON-escaped", msg: `{"@timestamp":"2026-11-24T10:16:02.123Z","@metadata":{"beat":"filebeat"},"message":` + jsonString(log4netLine+"\n"+stackLine1+"\n"+stackLine2) + `}`,
			want: []want{{entry: log4netLine + "\n" + stackLine1 + "\n" + stackLine2, shipper: "filebeat"}}},
		// JSON shippers that name the entry's field otherwise: the member that parses
		{name: "GELF", msg: `{"version":"1.1","host":"conn01","short_message":` + jsonString(log4netLine) + `,"timestamp":1795515362.123,"level":6,"_file":"/var/log/c4c/exchange.log"}`,
			want: []want{{log4netLine, "json", "conn01", "/var/log/c4c/exchange.log"}}},
		{name: "Splunk HEC, the line as the event", msg: `{"time":1795515362.123,"host":"conn01","source":"/var/log/c4c/engine.log","sourcetype":"c4c:engine","event":` + jsonString(logfmtLine) + `}`,
			want: []want{{logfmtLine, "json", "conn01", "/var/log/c4c/engine.log"}}},
		{name: "Splunk HEC, a JSON event", msg: `{"time":1795515362.123,"host":"conn01","source":"c4cc","event":` + c4ccLine + `}`,
			want: []want{{c4ccLine, "json", "conn01", ""}}},
		{name: "journald JSON export", msg: `{"__REALTIME_TIMESTAMP":"1795515362123456","_HOSTNAME":"conn01","SYSLOG_IDENTIFIER":"sync-engine","PRIORITY":"6","MESSAGE":` + jsonString(logfmtLine) + `}`,
			want: []want{{logfmtLine, "json", "conn01", ""}}},
		{name: "NXLog to_json, a time that looks like an entry's", msg: `{"EventReceivedTime":"2026-11-24 10:16:03","SourceModuleName":"c4c","SourceModuleType":"im_file","FileName":"C:\\c4c\\exchange.log","Message":` + jsonString(log4netLine+"\n"+stackLine1) + `}`,
			want: []want{{log4netLine + "\n" + stackLine1, "json", "", `C:\c4c\exchange.log`}}},
		{name: "a JSON logger's msg, with a level of its own", msg: `{"level":30,"time":1795515362123,"pid":1,"hostname":"conn01","msg":` + jsonString(logfmtLine) + `}`,
			want: []want{{logfmtLine, "json", "conn01", ""}}},
		{name: "a collector's body", msg: `{"body":` + jsonString(c4ccLine) + `,"attributes":{"log.file.name":"c4cc.jsonl"},"log.file.path":"/var/log/c4c/c4cc.jsonl"}`,
			want: []want{{c4ccLine, "json", "", "/var/log/c4c/c4cc.jsonl"}}},
		{name: "the longest member that parses", msg: `{"a":` + jsonString(logfmtLine) + `,"b":` + jsonString(log4netLine) + `,"c":"ts=2026-11-24T10:15:31.410Z tenant=t mailbox=m"}`,
			want: []want{{logfmtLine, "json", "", ""}}},
		{name: "no member parses: the longest that looks like an entry, for the parser to reject", msg: `{"id":7,"when":"2026-11-24 10:16:03","line":"2026-11-24 10:16:01,900 [7] cut short"}`,
			want: []want{{"2026-11-24 10:16:01,900 [7] cut short", "json", "", ""}}},
		{name: "GELF, a stack trace's line sent alone", msg: `{"version":"1.1", "short_message":` + jsonString(stackLine2) + `, "timestamp":1795515362.123456}`,
			want: []want{{stackLine2, "json", "", ""}}},
		{name: "C4CC record quoting an entry stays a record", msg: `{"@timestamp":"2026-11-24T10:20:11.517Z","tenant":"t-1","mailbox":"m@x","message":` + jsonString(logfmtLine) + `}`,
			want: []want{{entry: `{"@timestamp":"2026-11-24T10:20:11.517Z","tenant":"t-1","mailbox":"m@x","message":` + jsonString(logfmtLine) + `}`}}},
		{name: "broken C4CC record keeps its own fields for the parser", msg: `{"@timestamp":"2026-11-24T10:20:11.517Z","tenant":"t-1","when":"2026-11-24 10:16:03","message":"record pushed"}`,
			want: []want{{entry: `{"@timestamp":"2026-11-24T10:20:11.517Z","tenant":"t-1","when":"2026-11-24 10:16:03","message":"record pushed"}`}}},
		{name: "a tenant field a shipper added", msg: `{"tenant":"t-1042","message":` + jsonString(logfmtLine) + `}`,
			want: []want{{logfmtLine, "json", "", ""}}},
		// batches: several entries in a message that is no envelope as a whole
		{name: "lines of several entries", msg: logfmtLine + "\n" + log4netLine + "\n" + stackLine1 + "\n" + stackLine2 + "\n" + c4ccLine + "\n",
			want: []want{{entry: logfmtLine + "\n"}, {entry: log4netLine + "\n" + stackLine1 + "\n" + stackLine2 + "\n"}, {entry: c4ccLine + "\n"}}},
		{name: "JSON events one per line", msg: `{"@metadata":{"beat":"filebeat"},"message":` + jsonString(logfmtLine) + `,"host":{"name":"h1"}}` + "\n" + `{"@metadata":{"beat":"filebeat"},"message":` + jsonString(c4ccLine) + `,"host":{"name":"h2"}}`,
			want: []want{{logfmtLine, "filebeat", "h1", ""}, {c4ccLine, "filebeat", "h2", ""}}},
		{name: "JSON array of events", msg: `[{"message":` + jsonString(log4netLine+"\n"+stackLine2) + `,"host":"h1","file":"/x/exchange.log"}, {"message":` + jsonString(logfmtLine) + `,"host":"h1","file":"/x/engine.log"}]`,
			want: []want{{log4netLine + "\n" + stackLine2, "json", "h1", "/x/exchange.log"}, {logfmtLine, "json", "h1", "/x/engine.log"}}},
		{name: "JSON array of lines and a C4CC record", msg: `[` + jsonString(logfmtLine) + `,` + c4ccLine + `]`,
			want: []want{{entry: logfmtLine}, {entry: c4ccLine}}},
		{name: "empty JSON array", msg: ` [ ] `, want: []want{}},
		{name: "a JSON entry over lines, an object of an array on a line of its own, stays whole",
			msg:  "{\"@timestamp\":\"2026-11-24T10:20:11.517Z\",\"tenant\":\"t-1\",\"mailbox\":\"m@x\",\"items\":[\n  {\"id\":1},\n  {\"id\":2}\n]}",
			want: []want{{entry: "{\"@timestamp\":\"2026-11-24T10:20:11.517Z\",\"tenant\":\"t-1\",\"mailbox\":\"m@x\",\"items\":[\n  {\"id\":1},\n  {\"id\":2}\n]}"}}},
		{name: "a batch's envelope without a message is kept for the parser", msg: `{"@metadata":{"beat":"filebeat"},"host":{"name":"h"}}` + "\n" + logfmtLine,
			want: []want{{entry: `{"@metadata":{"beat":"filebeat"},"host":{"name":"h"}}` + "\n"}, {entry: logfmtLine}}},
		{name: "broken JSON array is one entry", msg: `[{"message":` + jsonString(logfmtLine) + `}`, want: []want{{entry: `[{"message":` + jsonString(logfmtLine) + `}`}}},
		{name: "envelope without a message", msg: `{"@timestamp":"2026-11-24T10:16:02.123Z","@metadata":{"beat":"filebeat"},"host":{"name":"h"}}`, err: "filebeat envelope: no message field"},

		// syslog-style text headers
		{name: "rsyslog omkafka default", msg: "2026-11-24T10:16:02.123456+00:00 conn01 ExchangeConnector " + log4netLine + "\n",
			want: []want{{log4netLine, "rsyslog", "conn01", "ExchangeConnector"}}},
		{name: "rsyslog, tag with a colon", msg: "2026-11-24T10:16:02.123456+00:00 conn01 SyncEngine: " + logfmtLine + "\n",
			want: []want{{logfmtLine, "rsyslog", "conn01", "SyncEngine"}}},
		{name: "rsyslog, JSON after the header", msg: "2026-11-24T10:16:02.123456+00:00 conn01 c4cc " + c4ccLine + "\n",
			want: []want{{c4ccLine, "rsyslog", "conn01", "c4cc"}}},
		{name: "rsyslog startmsg.regex: \\n between lines", msg: "2026-11-24T10:16:02.123456+00:00 conn01 ExchangeConnector " + log4netLine + `\n` + stackLine1 + `\n` + stackLine2 + "\n",
			want: []want{{log4netLine + "\n" + stackLine1 + "\n" + stackLine2, "rsyslog", "conn01", "ExchangeConnector"}}},
		{name: "rsyslog readMode 2: #012 between lines", msg: "2026-11-24T10:16:02.123456+00:00 conn01 ExchangeConnector " + log4netLine + "#012" + stackLine1 + "#012" + stackLine2 + "\n",
			want: []want{{log4netLine + "\n" + stackLine1 + "\n" + stackLine2, "rsyslog", "conn01", "ExchangeConnector"}}},
		{name: "rsyslog: a connector's own backslash-n and #012 stay", msg: "2026-11-24T10:16:02.123456+00:00 h X ts=2026-11-24T10:15:31.410Z tenant=t mailbox=m msg=\"C:\\new ticket #0123\"\n",
			want: []want{{`ts=2026-11-24T10:15:31.410Z tenant=t mailbox=m msg="C:\new ticket #0123"`, "rsyslog", "h", "X"}}},
		{name: "rsyslog, a stack trace line sent alone", msg: "2026-11-24T10:16:02.123456+00:00 conn01 ExchangeConnector " + stackLine1 + "\n",
			want: []want{{stackLine1, "rsyslog", "conn01", "ExchangeConnector"}}},
		{name: "rsyslog, an indented stack trace line sent alone", msg: "2026-11-24T10:16:02.123456+00:00 conn01 ExchangeConnector" + stackLine2 + "\n",
			want: []want{{stackLine2, "rsyslog", "conn01", "ExchangeConnector"}}},
		{name: "rsyslog, an empty message", msg: "2026-12-02T04:12:57.880852+00:00 vm exchange-connector:\n",
			want: []want{{"", "rsyslog", "vm", "exchange-connector"}}},
		{name: "rsyslog forward format", msg: "<133>2026-11-24T10:16:02.123456+00:00 conn01 ExchangeConnector " + log4netLine,
			want: []want{{log4netLine, "rsyslog", "conn01", "ExchangeConnector"}}},
		{name: "RFC 5424", msg: "<133>1 2026-11-24T10:16:02.123456+00:00 conn01 ExchangeConnector - - - " + log4netLine + "\n",
			want: []want{{log4netLine, "rfc5424", "conn01", "ExchangeConnector"}}},
		{name: "RFC 5424 with structured data", msg: `<133>1 2026-11-24T10:16:02Z conn01 app 42 ID7 [origin ip="10.0.0.1" note="a \] b"][x@1 y="z"] ` + logfmtLine,
			want: []want{{logfmtLine, "rfc5424", "conn01", "app"}}},
		{name: "RFC 3164", msg: "<133>Nov 24 10:16:02 conn01 ExchangeConnector: " + log4netLine,
			want: []want{{log4netLine, "rfc3164", "conn01", "ExchangeConnector"}}},
		{name: "rsyslog traditional file format", msg: "Nov  4 10:16:02 conn01 SyncEngine " + logfmtLine + "\n",
			want: []want{{logfmtLine, "rfc3164", "conn01", "SyncEngine"}}},
		{name: "syslog-ng kafka-c, flags(no-parse)", msg: "2026-11-24T10:16:02+00:00 conn01 " + log4netLine,
			want: []want{{log4netLine, "syslog-ng", "conn01", ""}}},
		{name: "syslog-ng, multi-line with raw line breaks", msg: "2026-11-24T10:16:02+00:00 conn01 " + log4netLine + "\n" + stackLine1 + "\n\tat Foo.Bar()",
			want: []want{{log4netLine + "\n" + stackLine1 + "\n\tat Foo.Bar()", "syslog-ng", "conn01", ""}}},
		{name: "syslog-ng, a stack trace line sent alone", msg: "2026-11-24T10:16:02+00:00 conn01 " + stackLine2,
			want: []want{{stackLine2, "syslog-ng", "conn01", ""}}},
		{name: "syslog-ng default file(): the entry's timestamp taken", msg: "2026-11-24T10:16:01+00:00 conn01 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error",
			want: []want{{"2026-11-24 10:16:01,000 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error", "syslog-ng", "conn01", ""}}},
		{name: "syslog-ng default file() with program-override", msg: "2026-11-24T10:16:01+00:00 conn01 ExchangeConnector[7]: ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Authentication error",
			want: []want{{"2026-11-24 10:16:01,000 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Authentication error", "syslog-ng", "conn01", "ExchangeConnector"}}},
		{name: "logstash plain codec, ECS host", msg: "2026-11-24T10:16:02.123456Z {name=conn01} " + log4netLine,
			want: []want{{log4netLine, "logstash", "conn01", ""}}},
		{name: "logstash plain codec, legacy host", msg: "2026-11-24T10:16:02.123Z conn01 " + logfmtLine,
			want: []want{{logfmtLine, "logstash", "conn01", ""}}},

		{name: "journalctl -o short-iso", msg: "2026-11-24T10:16:02+0000 conn01 exchange-connector[4242]: " + log4netLine,
			want: []want{{log4netLine, "syslog-ng", "conn01", "exchange-connector"}}},
		{name: "kubectl logs --timestamps, log4net", msg: "2026-12-03T06:00:00.123456789Z " + log4netLine,
			want: []want{{log4netLine, "timestamp", "", ""}}},
		{name: "docker logs -t, logfmt", msg: "2026-12-03T06:00:00.123456789Z " + logfmtLine + "\n",
			want: []want{{logfmtLine, "timestamp", "", ""}}},
		{name: "kubectl logs --timestamps, JSON", msg: "2026-12-03T06:00:00.123Z " + c4ccLine,
			want: []want{{c4ccLine, "timestamp", "", ""}}},
		{name: "kubectl logs --timestamps, a stack trace line", msg: "2026-12-03T06:00:00.123456789Z " + stackLine2,
			want: []want{{stackLine2, "timestamp", "", ""}}},

		{name: "schema registry framing, an envelope", msg: "\x00\x00\x00\x01\x2a" + `{"message":` + jsonString(logfmtLine) + `,"host":"conn01"}`,
			want: []want{{logfmtLine, "json", "conn01", ""}}},
		{name: "schema registry framing, a C4CC record", msg: "\x00\x00\x00\x00\x07" + c4ccLine, want: []want{{entry: c4ccLine}}},
		{name: "Kafka Connect JsonConverter with schemas", msg: `{"schema":{"type":"string","optional":false},"payload":` + jsonString(log4netLine) + `}`,
			want: []want{{log4netLine, "json", "", ""}}},

		// envelopes inside envelopes, and forced modes
		{name: "filebeat tailing rsyslog's file", msg: `{"@timestamp":"2026-11-24T10:16:02.123Z","@metadata":{"beat":"filebeat"},"message":` + jsonString("2026-11-24T10:16:02.123456+00:00 conn07 ExchangeConnector "+log4netLine) + `,"host":{"name":"relay"},"log":{"file":{"path":"/var/log/remote.log"}}}`,
			want: []want{{log4netLine, "filebeat/rsyslog", "conn07", "ExchangeConnector"}}},
		{name: "rsyslog forwarding a filebeat event", msg: "2026-11-24T10:16:02.123456+00:00 relay fb " + `{"@metadata":{"beat":"filebeat"},"message":` + jsonString(logfmtLine) + `,"host":{"name":"conn01"}}` + "\n",
			want: []want{{logfmtLine, "rsyslog/filebeat", "conn01", ""}}},
		{name: "forced raw keeps an envelope", mode: EnvelopeRaw, msg: `{"message":` + jsonString(logfmtLine) + `}`, want: []want{{entry: `{"message":` + jsonString(logfmtLine) + `}`}}},
		{name: "forced json takes any object", mode: EnvelopeJSON, msg: `{"tenant":"x","message":"hello"}`, want: []want{{"hello", "json", "", ""}}},
		{name: "any JSON holding an entry", msg: `{"msg_id":7,"message":` + jsonString(logfmtLine) + `}`, want: []want{{logfmtLine, "json", "", ""}}},
		{name: "C4CC record with a shipper's field, holding no entry", msg: `{"@timestamp":"2026-11-24T10:20:11.517Z","tenant":"t-1","mailbox":"m@x","agent":"Outlook","message":"record pushed"}`,
			want: []want{{entry: `{"@timestamp":"2026-11-24T10:20:11.517Z","tenant":"t-1","mailbox":"m@x","agent":"Outlook","message":"record pushed"}`}}},
		{name: "filebeat event that got a level field", msg: `{"@metadata":{"beat":"filebeat"},"level":"info","message":` + jsonString(logfmtLine) + `}`, want: []want{{logfmtLine, "filebeat", "", ""}}},
		{name: "forced json on text", mode: EnvelopeJSON, msg: log4netLine, err: "json envelope: not a JSON event with a message"},
		{name: "forced syslog on a raw entry", mode: EnvelopeSyslog, msg: log4netLine, err: "syslog envelope: no syslog header"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			u := Unwrapper{Envelope: test.mode}
			got, err := u.Unwrap([]byte(test.msg))
			if test.err != "" {
				require.EqualError(t, err, test.err)
				return
			}
			require.Equal(t, strings.HasPrefix(test.name, "syslog-ng default file()"), len(got) > 0 && got[0].SecondsOnly, "seconds only")
			require.NoError(t, err)
			require.Len(t, got, len(test.want))
			for i, w := range test.want {
				require.Equal(t, w.entry, string(got[i].Entry), "entry %d", i)
				require.Equal(t, w.shipper, got[i].Shipper, "shipper %d", i)
				require.Equal(t, w.host, got[i].Host, "host %d", i)
				require.Equal(t, w.file, got[i].File, "file %d", i)
			}
		})
	}
}

// TestUnwrapOTLP decodes batches the collector's own marshalers made, in
// both encodings, and an empty batch.
func TestUnwrapOTLP(t *testing.T) {
	for _, json := range []bool{false, true} {
		var u Unwrapper
		got, err := u.Unwrap(otlpBatch(t, json, log4netLine, logfmtLine, c4ccLine, stackLine2))
		require.NoError(t, err)
		require.Len(t, got, 4)
		for i, want := range []string{log4netLine, logfmtLine, c4ccLine, stackLine2} {
			require.Equal(t, want, string(got[i].Entry))
			require.Equal(t, "otlp", got[i].Shipper)
			require.Equal(t, "conn01", got[i].Host)
			require.Equal(t, "exchange.log", got[i].File)
		}
		got, err = u.Unwrap(otlpBatch(t, json))
		require.NoError(t, err)
		require.Empty(t, got)
	}
	var u Unwrapper
	_, err := u.Unwrap([]byte{0x0A, 0x7F, 0x01})
	require.ErrorContains(t, err, "otlp envelope: not an OTLP logs batch")
	got, err := (&Unwrapper{Envelope: EnvelopeOTLP}).Unwrap(otlpBatch(t, false, logfmtLine))
	require.NoError(t, err)
	require.Equal(t, logfmtLine, string(got[0].Entry))
}

// TestUnwrappedEntriesParse: what comes out of an envelope parses as the
// connector's entry did.
func TestUnwrappedEntriesParse(t *testing.T) {
	for _, line := range []string{log4netLine, logfmtLine, c4ccLine} {
		var want, got schemas.LogRecord
		require.NoError(t, Entry([]byte(line), &want))
		var u Unwrapper
		ws, err := u.Unwrap([]byte(`{"@timestamp":"2026-11-24T10:16:02.123Z","@metadata":{"beat":"filebeat"},"message":` + jsonString(line) + `}`))
		require.NoError(t, err)
		require.NoError(t, Entry(ws[0].Entry, &got))
		require.Equal(t, want, got)
	}
}

func TestParseEnvelope(t *testing.T) {
	for in, want := range map[string]Envelope{"": EnvelopeAuto, "auto": EnvelopeAuto, "RAW": EnvelopeRaw, "filebeat": EnvelopeJSON,
		"vector": EnvelopeJSON, "rsyslog": EnvelopeSyslog, "syslog-ng": EnvelopeSyslog, "otlp": EnvelopeOTLP, "otel": EnvelopeOTLP} {
		got, err := ParseEnvelope(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	_, err := ParseEnvelope("splunk")
	require.ErrorContains(t, err, `unknown envelope "splunk"`)
	for e := EnvelopeAuto; e <= EnvelopeOTLP; e++ {
		got, err := ParseEnvelope(e.String())
		require.NoError(t, err)
		require.Equal(t, e, got)
	}
}

func TestIsContinuation(t *testing.T) {
	for line, want := range map[string]bool{
		stackLine1: true, stackLine2: true, "\tat Foo()": true,
		"Newtonsoft.Json.JsonReaderException: Unexpected character": true,
		"Contoso.Sync.SyncException":                                true,
		"--- End of inner exception stack trace ---":                true,
		"at System.Net.HttpWebRequest.GetResponse()":                true,
		"at last: a sentence":                                       false,
		log4netLine:                                                 false, logfmtLine: false, c4ccLine: false, "": false,
		"--- something else":                    false,
		"Foo.Bar: not an exception":             false,
		"Exception: no namespace":               false,
		"Contoso.Sync.SyncExceptionHandler ran": false,
	} {
		require.Equal(t, want, IsContinuation([]byte(line)), line)
	}
}

func TestRawEntryLeavesBatchesToUnwrap(t *testing.T) {
	var rec schemas.LogRecord
	for _, msg := range []string{
		log4netLine, log4netLine + "\n" + stackLine1 + "\n" + stackLine2 + "\r\n", logfmtLine + "\n", c4ccLine,
	} {
		var u Unwrapper
		require.True(t, u.RawEntry([]byte(msg), &rec), "%q is one entry", msg)
	}
	// parsed whole, the second line's keys would overwrite the first's
	batch := logfmtLine + "\n" + strings.Replace(logfmtLine, "anna.berg@contoso.com", "other@contoso.com", 1)
	var u Unwrapper
	require.NoError(t, Entry([]byte(batch), &rec))
	require.False(t, u.RawEntry([]byte(batch), &rec))
	ws, err := u.Unwrap([]byte(batch))
	require.NoError(t, err)
	require.Len(t, ws, 2)
	var first, second schemas.LogRecord
	require.NoError(t, Entry(ws[0].Entry, &first))
	require.NoError(t, Entry(ws[1].Entry, &second))
	require.Equal(t, "anna.berg@contoso.com", first.Mailbox)
	require.Equal(t, "other@contoso.com", second.Mailbox)
}
