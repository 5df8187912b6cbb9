package parse

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/schemas"
)

// The fuzz targets are seeded with fuzzSeeds (f.Add) and with the corpus
// files in testdata/fuzz/<FuzzName>/, which go test reads by itself and
// where `go test -fuzz` writes what it finds: a find kept there is a
// regression test from then on.

// fuzzSeeds are the nasty entries of log-formats.md "What real input
// contains", plus one good entry per format.
var fuzzSeeds = []string{
	"",
	" \t\r\n",
	"\x00\x01\x02garbage\xc3\xbf\r\n",
	"\xEF\xBB\xBF{}",
	"2026-11-24 10:15:32,123 [12] ERROR ExchangeConnector.SyncWorker - [t-1042/anna.berg@contoso.com/run:7f3a9c] Authentication error",
	"2026-11-24 10:15:32,125 [12] WARN  ExchangeConnector.SyncWorker - [t-1042/anna.berg@contoso.com/run:7f3a9c] Synchronization was disabled.\r\n",
	"2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: The remote server returned an error: (404) Not Found.\r\nSystem.Net.WebException: (404) Not Found.\r\n   at System.Net.HttpWebRequest.GetResponse()\r\n",
	"2026-11-24 10:16:05,002 [7] INFO  ExchangeConnector.SyncWorker - [t-2001/ops@fabrikam.com/run:a11c02] item AAMkAD3= synced",
	"2026-11-24 03:46:58 [29] ERROR ExchangeConnector.SyncWorker - [t-1021/d.okafor19@northwind.com] item CONT-67474 failed: The specified object was not found in the store.",
	"2026-11-24 05:38:53,418 [4] INFO  ExchangeConnector.SyncWorker -",
	"2026-11-24 02:02:50.008+02:00 [16] WARN  X - [t/m/run:1] Server busy (429)",
	"ts=2026-11-24T10:15:30.001Z level=info component=sync-engine tenant=t-1042 mailbox=anna.berg@contoso.com run=7f3a9c event=run_started direction=both",
	`ts=2026-11-24T10:15:31.410Z level=error component=sync-engine tenant=t-1042 mailbox=anna.berg@contoso.com run=7f3a9c event=run_failed msg="A limit (10000/10040/0)"`,
	"mailbox=li.wei@northwind.com synced=41 ts=2026-11-24T02:17:09+02:00 failed=1 event=run_finished tenant=t-77 level=WARN",
	`ts=2026-11-24T10:00:00Z level=info msg="unclosed` + "\r\n",
	`ts=2026-11-24T10:00:00Z tenant="t \"1\"" mailbox=m msg="x\\"`,
	"ts=2026-11-24T00:37:07.082Z run=ea4c36 component=sync-engine direction=bo",
	`{"@timestamp":"2026-11-24T10:20:11.517Z","level":"ERROR","logger":"C4CC.Connector.Push","tenant":"t-3310","mailbox":"sales@adatum.com","runId":"9b2e41","recordType":"Appointment","recordId":"APPT-1177","http":{"method":"POST","url":"https://x/","status":500},"message":"Remote server returned an error: (500) Internal server error","threadId":43}`,
	`{"@timestamp":"2026-11-24T10:00:00Z","level":` + "\r\n",
	`{"timestamp":"2026-11-24T12:00:00+02:00","tenant":"t\u002d1","mailbox":"m\/x","message":"\ud83d\ude00 \ud800 ` + "\xff" + `","o":{"a":[1,{"b":null}]},"n":-1.5e3}`,
	`{"a":` + strings.Repeat("[", 200),
	strings.Repeat(`{"a":`, 100),
}

// checkParsed holds the invariants of every parser's result.
func checkParsed(t *testing.T, entry []byte, rec *schemas.LogRecord, err error) {
	t.Helper()
	if err != nil {
		var pe *Error
		if !errors.As(err, &pe) {
			t.Fatalf("error %v (%T) is not a *Error", err, err)
		}
		if pe.Reason == "" || pe.Offset < -1 || pe.Offset > len(entry) {
			t.Fatalf("bad Error %+v for entry of %d bytes", pe, len(entry))
		}
		if rec.Tenant != "" || rec.Mailbox != "" || !rec.Time.IsZero() {
			t.Fatalf("record not reset after error: %+v", rec)
		}
		return
	}
	switch {
	case rec.Time.IsZero():
		t.Fatalf("zero time for %q", entry)
	case rec.Time.Location() != time.UTC:
		t.Fatalf("time %v not in UTC", rec.Time)
	case rec.Tenant == "" || rec.Mailbox == "":
		t.Fatalf("empty tenant or mailbox: %+v", rec)
	case rec.Producer == schemas.ProducerUnknown:
		t.Fatalf("no producer: %+v", rec)
	case rec.Severity == schemas.SeverityUnset || rec.SeverityText != rec.Severity.String():
		t.Fatalf("bad severity %d %q", rec.Severity, rec.SeverityText)
	case rec.HTTPStatus != 0 && (rec.HTTPStatus < 100 || rec.HTTPStatus > 599):
		t.Fatalf("bad http status %d", rec.HTTPStatus)
	case rec.Origin != "":
		t.Fatalf("origin set by the parser: %q", rec.Origin)
	}
}

func fuzzParser(f *testing.F, parse func([]byte, *schemas.LogRecord) error) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, entry []byte) {
		var rec schemas.LogRecord
		err := parse(entry, &rec)
		checkParsed(t, entry, &rec, err)
		// parsing again into the used record gives the same result
		again := rec
		again.Attributes = schemas.AttrsFrom(map[string]string{"stale": "x"})
		err2 := parse(entry, &again)
		if (err == nil) != (err2 == nil) || err == nil && (again.Tenant != rec.Tenant || again.Body != rec.Body || len(again.Attributes) != len(rec.Attributes)) {
			t.Fatalf("second parse differs: %v / %v", err, err2)
		}
	})
}

func FuzzEntry(f *testing.F) {
	fuzzParser(f, func(entry []byte, rec *schemas.LogRecord) error {
		err := Entry(entry, rec)
		// the same record from the entry's text (replay's chunk strings)
		var viaText schemas.LogRecord
		terr := EntryText(entry, string(entry), &viaText)
		a, b := *rec, viaText
		for _, r := range []*schemas.LogRecord{&a, &b} {
			if len(r.Attributes) == 0 {
				r.Attributes = nil // a reused or reset record: an empty slice
			}
		}
		if fmt.Sprint(terr) != fmt.Sprint(err) || !reflect.DeepEqual(a, b) {
			return fmt.Errorf("EntryText and Entry disagree: %v / %v\n%+v\n%+v", terr, err, viaText, *rec)
		}
		if err == nil {
			// Entry is the format's parser
			var direct schemas.LogRecord
			var derr error
			switch rec.Producer {
			case schemas.ProducerExchange:
				derr = entryAs(FormatLog4net, entry, &direct)
			case schemas.ProducerEngine:
				derr = entryAs(FormatLogfmt, entry, &direct)
			case schemas.ProducerC4CC:
				derr = entryAs(FormatJSON, entry, &direct)
			}
			if derr != nil || direct.Time != rec.Time || direct.Body != rec.Body || direct.Event != rec.Event {
				return errors.New("Entry and the format's parser disagree")
			}
		}
		return err
	})
}

func FuzzLogfmt(f *testing.F) { fuzzParser(f, as(FormatLogfmt)) }

func FuzzLog4net(f *testing.F) { fuzzParser(f, as(FormatLog4net)) }

func FuzzC4CCJSON(f *testing.F) {
	fuzzParser(f, func(entry []byte, rec *schemas.LogRecord) error {
		err := entryAs(FormatJSON, entry, rec)
		// differential check of the syntax against encoding/json, where
		// the two are meant to agree: no control characters inside (the
		// parser lets them through in strings, tabs and line breaks too;
		// prepareEntry calls some binary), shallow nesting (the parser
		// stops at 64 levels).
		trimmed := bytes.Trim(bytes.TrimPrefix(entry, utf8BOM), " \t\r\n")
		if len(trimmed) == 0 || trimmed[0] != '{' || len(entry) > maxEntrySize ||
			bytes.ContainsFunc(trimmed, func(r rune) bool { return r == 0x7f || r < 0x20 }) ||
			bytes.Count(trimmed, []byte("["))+bytes.Count(trimmed, []byte("{")) > 60 {
			return err
		}
		var pe *Error
		syntaxBad := errors.As(err, &pe) && strings.HasPrefix(pe.Reason, "json: ") && !strings.Contains(pe.Reason, "is not a scalar")
		if valid := json.Valid(trimmed); valid == syntaxBad {
			return fmt.Errorf("encoding/json says valid=%v, parser says %v", valid, err)
		}
		return err
	})
}

// FuzzParseLogTime checks the hand-written timestamp parser against
// time.Parse on RFC 3339 input.
func FuzzParseLogTime(f *testing.F) {
	for _, s := range []string{"2026-11-24T10:15:30.001Z", "2026-11-24T02:02:02+02:00", "2028-02-29T23:59:59.999999999-11:30", "2026-02-29T00:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, n, ok := parseLogTime([]byte(s))
		want, err := time.Parse(time.RFC3339Nano, s)
		strict := len(s) >= 19 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':'
		if z := s[max(0, len(s)-6):]; len(z) == 6 && (z[0] == '+' || z[0] == '-') && (z[1:3] > "23" || z[4:] > "59") {
			strict = false // time.Parse takes offsets such as +00:60, which are out of range
		}
		if err == nil && strict && want.Year() >= 1000 && strings.ToUpper(s) == s {
			if !ok || n != len(s) || !got.Equal(want) {
				t.Fatalf("%q: got %v %d %v, time.Parse %v", s, got, n, ok, want)
			}
		}
		if ok && (got.IsZero() || got.Location() != time.UTC || n > len(s)) {
			t.Fatalf("%q: got %v %d", s, got, n)
		}
	})
}

func FuzzScanner(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), 64)
	}
	f.Add([]byte(strings.Join(fuzzSeeds, "\n")), 0)
	f.Add([]byte(strings.Join(fuzzSeeds, "\r\n")), 100)
	f.Add([]byte("2026-11-24 10:15:32 [1] INFO X - [t/m] a\n   at B\nSystem.X\nMicrosoft.Y\n\n\tat C\n"), 20)
	f.Fuzz(func(t *testing.T, data []byte, maxEntry int) {
		// keep the limit small so that cutting is exercised
		maxEntry = 1 + (maxEntry%4096+4096)%4096
		s := NewScanner(bytes.NewReader(data), maxEntry)
		prevLine := 0
		total := 0
		for s.Scan() {
			e := s.Entry()
			total += len(e)
			if len(e) > maxEntry {
				t.Fatalf("entry of %d bytes > maxEntry %d", len(e), maxEntry)
			}
			if s.Line() <= prevLine {
				t.Fatalf("line %d after line %d", s.Line(), prevLine)
			}
			prevLine = s.Line()
			if !s.Oversize() && isBlankLine(e) {
				t.Fatalf("blank entry %q at line %d", e, s.Line())
			}
			if bytes.IndexByte(e, '\n') >= 0 && DetectFormat(e) != FormatLog4net {
				t.Fatalf("joined entry that is not log4net: %q", e)
			}
		}
		if s.Err() != nil {
			t.Fatalf("read error from a bytes.Reader: %v", s.Err())
		}
		if total > len(data) {
			t.Fatalf("entries hold %d bytes, input %d", total, len(data))
		}
		if s.Scan() {
			t.Fatal("Scan true after the end")
		}
	})
}

// as is the parser of format f.
func as(f Format) func([]byte, *schemas.LogRecord) error {
	return func(entry []byte, rec *schemas.LogRecord) error { return entryAs(f, entry, rec) }
}

// FuzzUnwrap: envelopes and raw entries are told apart. Unwrap does not
// panic and gives the same entries every time; an entry of the three
// formats is never taken for an envelope (unless it carries a shipper's
// own field and holds another entry: see json); and a parseable entry
// wrapped in each shipper's default envelope comes out as it went in.
func FuzzUnwrap(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	for _, s := range []string{log4netLine, logfmtLine, c4ccLine, stackLine1, stackLine2,
		"2026-11-24T10:16:02.123456+00:00 conn01 ExchangeConnector " + log4netLine + `\n` + stackLine1 + "\n",
		"<133>1 2026-11-24T10:16:02Z conn01 app - - [a b=\"]\"] " + logfmtLine,
		`{"@timestamp":1795515362.123457,"log":` + jsonString(log4netLine) + `}`,
		`{"message":` + jsonString(c4ccLine) + `}`,
		// a C4CC entry's fields with a shipper-only one (an envelope whose
		// event got fields from a processor), and without
		`{"@timestamp":"2026-11-24T10:16:02.123Z","tenant":"t-1","mailbox":"m@x.com","level":"INFO","agent":{"type":"filebeat"},"message":` + jsonString(log4netLine) + `}`,
		`{"@timestamp":"2026-11-24T10:16:02.123Z","tenant":"t-1","mailbox":"m@x.com","level":"INFO","host":{"name":"h"},"message":` + jsonString(log4netLine) + `}`,
		"\x0a\x03\x0a\x01\x00",
	} {
		f.Add([]byte(s))
	}
	shippers := map[string]func(inner string) string{
		"filebeat": func(s string) string {
			return `{"@timestamp":"2026-11-24T10:16:02.123Z","@metadata":{"beat":"filebeat"},"message":` + jsonString(s) + `,"host":{"name":"h"}}`
		},
		"vector":     func(s string) string { return `{"host":"h","message":` + jsonString(s) + `,"source_type":"file"}` },
		"fluent-bit": func(s string) string { return `{"@timestamp":1795515362.5,"log":` + jsonString(s) + `}` },
		"rsyslog":    func(s string) string { return "2026-11-24T10:16:02.123456+00:00 h Tag " + s + "\n" },
		"syslog-ng":  func(s string) string { return "2026-11-24T10:16:02+00:00 h " + s },
		"rfc5424":    func(s string) string { return "<133>1 2026-11-24T10:16:02Z h app - - - " + s },
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		var u Unwrapper
		got, err := u.Unwrap(msg)
		first := snapshot(got)
		again, err2 := u.Unwrap(msg)
		if (err == nil) != (err2 == nil) || snapshot(again) != first {
			t.Fatalf("Unwrap is not deterministic for %q", msg)
		}
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || !strings.Contains(pe.Reason, " envelope: ") {
				t.Fatalf("error %v does not name the envelope", err)
			}
		}
		// RawEntry, the shortcut for an entry of its own, agrees with
		// Unwrap and Entry
		var short schemas.LogRecord
		var fresh Unwrapper
		if fresh.RawEntry(msg, &short) {
			var rec schemas.LogRecord
			if err != nil || len(got) != 1 || got[0].Shipper != "" || Entry(got[0].Entry, &rec) != nil {
				t.Fatalf("RawEntry took %q for an entry of its own, Unwrap for an envelope: %+v %v", msg, got, err)
			}
			if !reflect.DeepEqual(rec, short) {
				t.Fatalf("RawEntry parsed %q as %+v, Entry as %+v", msg, short, rec)
			}
		}
		var rec schemas.LogRecord
		if Entry(msg, &rec) != nil {
			return
		}
		if hasPieces(msg) && rec.Producer != schemas.ProducerC4CC {
			// lines of several entries, as a file's lines split: a batch
			// (a JSON entry is one object, whatever its lines)
			if err != nil || len(got) < 2 {
				t.Fatalf("%q, entries as a file's lines split, came out as %+v, %v", msg, got, err)
			}
			return
		}
		// a raw entry stays raw...
		if !bytes.Contains(msg, []byte(`"@metadata"`)) && !bytes.Contains(msg, []byte(`"@version"`)) &&
			!bytes.Contains(msg, []byte(`"source_type"`)) && !bytes.Contains(msg, []byte(`"agent"`)) &&
			!bytes.Contains(msg, []byte(`"ecs"`)) && !bytes.Contains(msg, []byte(`"input"`)) &&
			!bytes.Contains(msg, []byte(`"data_stream"`)) {
			if err != nil || len(got) != 1 || got[0].Shipper != "" || !bytes.Equal(got[0].Entry, msg) {
				t.Fatalf("raw entry %q taken for an envelope: %+v %v", msg, got, err)
			}
		}
		if err != nil || len(got) != 1 || got[0].Shipper != "" {
			return // an envelope itself (with a shipper-only field)
		}
		// ...and comes out of every envelope as it went in
		inner := string(trimSpace(msg))
		if strings.Contains(inner, `\n`) || strings.Contains(inner, "#01") {
			return // rsyslog's escapes: undone where a continuation follows
		}
		if len(appendEntries(nil, Unwrapped{Entry: []byte(inner)})) != 1 {
			return // lines a multiline rule would have glued on: split off
		}
		for name, wrap := range shippers {
			ws, err := u.Unwrap([]byte(wrap(inner)))
			if err != nil || len(ws) != 1 || string(trimSpace(ws[0].Entry)) != inner {
				t.Fatalf("%s: %q came out as %+v, %v", name, inner, ws, err)
			}
		}
	})
}

// snapshot renders Unwrap's result, which the next call overwrites.
func snapshot(ws []Unwrapped) string {
	var b strings.Builder
	for _, w := range ws {
		fmt.Fprintf(&b, "%q|%s|%s|%s\n", w.Entry, w.Shipper, w.Host, w.File)
	}
	return b.String()
}
