package parse

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/syncwatch/syncwatch/schemas"
)

// Typical entries of each producer, as the sample corpora have them.
var (
	benchLog4netLines = [][]byte{
		[]byte("2026-11-24 00:01:28,296 [35] INFO  ExchangeConnector.SyncWorker - [t-1035/m.rossi3@fabrikam.com/run:2ec8e6] item MAIL-19313 synced"),
		[]byte("2026-11-24 00:02:50,008 [16] WARN  ExchangeConnector.EwsClient - [t-1042/s.ali25@adatum.com/run:85b8b4] Server busy (429), retrying after 2000 ms"),
		[]byte("2026-11-24 03:46:58,120 [29] ERROR ExchangeConnector.SyncWorker - [t-1021/d.okafor19@northwind.com/run:f906e0] item CONT-67474 failed: The specified object was not found in the store."),
	}
	benchLogfmtLines = [][]byte{
		[]byte("ts=2026-11-24T00:01:29.322Z level=info component=sync-engine tenant=t-1035 mailbox=m.rossi3@fabrikam.com run=2ec8e6 event=record_synced record=CONT-58651"),
		[]byte("ts=2026-11-24T00:01:30.179Z level=info component=sync-engine tenant=t-1035 mailbox=m.rossi3@fabrikam.com run=2ec8e6 event=run_finished synced=12 failed=0 duration_ms=2179"),
		[]byte(`ts=2026-11-24T10:17:02.220Z level=warn component=sync-engine tenant=t-77 mailbox=li.wei@northwind.com run=c0ffee event=record_failed record=APPT-88120 msg="Mandatory field Subject is missing"`),
	}
	benchJSONLines = [][]byte{
		[]byte(`{"@timestamp":"2026-11-24T00:01:28.363Z","level":"INFO","logger":"C4CC.Connector.Push","tenant":"t-1035","mailbox":"m.rossi3@fabrikam.com","runId":"2ec8e6","recordType":"Task","recordId":"TASK-77247","http":{"method":"POST","url":"https://my1035.crm.ondemand.com/sap/c4c/odata/v1/c4codataapi/TaskCollection","status":201},"message":"record pushed"}`),
		[]byte(`{"@timestamp":"2026-11-24T00:32:33.896Z","level":"ERROR","logger":"C4CC.Connector.Push","tenant":"t-1028","mailbox":"anna.berg26@adatum.com","runId":"04997d","recordType":"Task","recordId":"CONT-84323","http":{"method":"POST","url":"https://my1028.crm.ondemand.com/sap/c4c/odata/v1/c4codataapi/TaskCollection","status":500},"message":"Remote server returned an error: (500) Internal server error"}`),
	}
)

func benchParser(b *testing.B, lines [][]byte, parse func([]byte, *schemas.LogRecord) error) {
	total := 0
	for _, l := range lines {
		total += len(l)
	}
	var rec schemas.LogRecord
	b.SetBytes(int64(total / len(lines)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := parse(lines[i%len(lines)], &rec); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLog4net(b *testing.B) { benchParser(b, benchLog4netLines, as(FormatLog4net)) }

func BenchmarkLogfmt(b *testing.B) { benchParser(b, benchLogfmtLines, as(FormatLogfmt)) }

func BenchmarkC4CCJSON(b *testing.B) { benchParser(b, benchJSONLines, as(FormatJSON)) }

func BenchmarkEntry(b *testing.B) {
	var all [][]byte
	all = append(all, benchLog4netLines...)
	all = append(all, benchLogfmtLines...)
	all = append(all, benchJSONLines...)
	benchParser(b, all, Entry)
}

// BenchmarkEntryText is BenchmarkEntry with each entry also given as a
// string (as replay gives a chunk's entries, one string for the chunk):
// the parse path allocates nothing.
func BenchmarkEntryText(b *testing.B) {
	var all [][]byte
	all = append(all, benchLog4netLines...)
	all = append(all, benchLogfmtLines...)
	all = append(all, benchJSONLines...)
	texts := map[*byte]string{}
	for _, l := range all {
		texts[&l[0]] = string(l)
	}
	benchParser(b, all, func(entry []byte, rec *schemas.LogRecord) error {
		return EntryText(entry, texts[&entry[0]], rec)
	})
}

func BenchmarkScanner(b *testing.B) {
	var buf bytes.Buffer
	stack := "\r\nSystem.Net.WebException: The remote server returned an error: (404) Not Found.\r\n   at System.Net.HttpWebRequest.GetResponse()\r\n   at Microsoft.Exchange.WebServices.Data.EwsHttpWebRequest.GetResponse()"
	for buf.Len() < 1<<20 {
		for _, l := range benchLog4netLines {
			buf.Write(l)
			buf.WriteString("\r\n")
		}
		buf.Write(benchLog4netLines[1])
		buf.WriteString(stack + "\r\n\r\n")
		for _, l := range benchLogfmtLines {
			buf.Write(l)
			buf.WriteByte('\n')
		}
		for _, l := range benchJSONLines {
			buf.Write(l)
			buf.WriteByte('\n')
		}
	}
	data := buf.Bytes()
	r := bytes.NewReader(data)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.Reset(data)
		s := NewScanner(r, 0)
		for s.Scan() {
		}
		if s.Err() != nil {
			b.Fatal(s.Err())
		}
	}
}

// BenchmarkUnwrap: the cost of looking for an envelope (EnvelopeAuto) on
// raw entries of each format, which carry none, and of unwrapping the
// shippers' envelopes around them.
func BenchmarkUnwrap(b *testing.B) {
	filebeat := func(line []byte) []byte {
		var e bytes.Buffer
		e.WriteString(`{"@timestamp":"2026-11-24T00:01:29.400Z","@metadata":{"beat":"filebeat","type":"_doc","version":"8.15.0"},"log":{"offset":1234,"file":{"path":"/var/log/c4c/exchange.log"}},"message":`)
		q, _ := json.Marshal(string(line))
		e.Write(q)
		e.WriteString(`,"input":{"type":"filestream"},"ecs":{"version":"8.0.0"},"host":{"name":"conn01"},"agent":{"type":"filebeat","version":"8.15.0"}}`)
		return e.Bytes()
	}
	gelf := func(line []byte) []byte { // an entry's field with a name not in the list
		q, _ := json.Marshal(string(line))
		return fmt.Appendf(nil, `{"version":"1.1","host":"conn01","short_message":%s,"timestamp":1795515362.123,"level":6,"_file":"/var/log/c4c/exchange.log"}`, q)
	}
	rsyslog := func(line []byte) []byte {
		return append([]byte("2026-12-02T01:43:34.128667+00:00 conn01 exchange "), line...)
	}
	for _, tt := range []struct {
		name  string
		lines [][]byte
	}{
		{"raw log4net", benchLog4netLines},
		{"raw logfmt", benchLogfmtLines},
		{"raw json", benchJSONLines},
		{"filebeat json", [][]byte{filebeat(benchJSONLines[0]), filebeat(benchJSONLines[1])}},
		{"filebeat log4net", [][]byte{filebeat(benchLog4netLines[0]), filebeat(benchLog4netLines[2])}},
		{"rsyslog log4net", [][]byte{rsyslog(benchLog4netLines[0]), rsyslog(benchLog4netLines[2])}},
		{"gelf log4net", [][]byte{gelf(benchLog4netLines[0]), gelf(benchLog4netLines[2])}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			var u Unwrapper
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				ws, err := u.Unwrap(tt.lines[i%len(tt.lines)])
				if err != nil || len(ws) != 1 {
					b.Fatal(ws, err)
				}
			}
		})
	}
}
