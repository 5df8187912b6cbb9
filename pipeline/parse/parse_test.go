package parse

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/schemas"
)

func TestFormatString(t *testing.T) {
	tests := []struct {
		name string
		f    Format
		want string
	}{
		{name: "unknown", f: FormatUnknown, want: "unknown"},
		{name: "log4net", f: FormatLog4net, want: "log4net"},
		{name: "logfmt", f: FormatLogfmt, want: "logfmt"},
		{name: "json", f: FormatJSON, want: "json"},
		{name: "out of range", f: Format(9), want: "Format(9)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.f.String())
		})
	}
}

func TestDetectFormat(t *testing.T) {
	tests := []struct {
		name  string
		entry string
		want  Format
	}{
		{name: "log4net", entry: "2026-11-24 10:15:32,123 [12] ERROR X - [t/m/run:1] m", want: FormatLog4net},
		{name: "log4net without millis", entry: "2026-11-24 10:15:32 [12] INFO X - [t/m] m", want: FormatLog4net},
		{name: "logfmt ts first", entry: "ts=2026-11-24T10:15:30.001Z level=info", want: FormatLogfmt},
		{name: "logfmt other key first", entry: "level=info ts=2026-11-24T10:15:30.001Z", want: FormatLogfmt},
		{name: "json", entry: `{"@timestamp":"2026-11-24T10:20:11.517Z"}`, want: FormatJSON},
		{name: "json after blanks and BOM", entry: "\xEF\xBB\xBF  {}", want: FormatJSON},
		{name: "empty", entry: "", want: FormatUnknown},
		{name: "blank", entry: " \t\r\n", want: FormatUnknown},
		{name: "binary", entry: "\x00\x01\x02garbage\xc3\xbf", want: FormatUnknown},
		{name: "plain text", entry: "hello world", want: FormatUnknown},
		{name: "json array", entry: "[1,2]", want: FormatUnknown},
		{name: "date without time", entry: "2026-11-24 hello", want: FormatUnknown},
		{name: "stack frame", entry: "   at System.Net.HttpWebRequest.GetResponse()", want: FormatUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, DetectFormat([]byte(tt.entry)))
		})
	}
}

func TestErrorError(t *testing.T) {
	tests := []struct {
		name string
		err  Error
		want string
	}{
		{name: "reason names the format", err: Error{Format: FormatLogfmt, Reason: "logfmt: unclosed quote at byte 88"}, want: "logfmt: unclosed quote at byte 88"},
		{name: "reason without format", err: Error{Format: FormatJSON, Reason: "missing field mailbox"}, want: "json: missing field mailbox"},
		{name: "unknown format", err: Error{Reason: "binary data"}, want: "binary data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.err.Error())
		})
	}
}

func TestParseLogTime(t *testing.T) {
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			panic(err)
		}
		return v.UTC()
	}
	tests := []struct {
		name   string
		in     string
		want   time.Time
		wantN  int
		wantOK bool
	}{
		{name: "RFC3339 Z millis", in: "2026-11-24T10:15:30.001Z", want: utc("2026-11-24T10:15:30.001Z"), wantN: 24, wantOK: true},
		{name: "RFC3339 no millis", in: "2026-11-24T10:00:00Z", want: utc("2026-11-24T10:00:00Z"), wantN: 20, wantOK: true},
		{name: "offset +02:00", in: "2026-11-24T02:02:02.444+02:00", want: utc("2026-11-24T00:02:02.444Z"), wantN: 29, wantOK: true},
		{name: "offset -0530", in: "2026-11-24T02:02:02-0530", want: utc("2026-11-24T07:32:02Z"), wantN: 24, wantOK: true},
		{name: "offset crosses day", in: "2026-01-01T01:00:00+02:00", want: utc("2025-12-31T23:00:00Z"), wantN: 25, wantOK: true},
		{name: "nanoseconds", in: "2026-11-24T10:15:30.123456789Z", want: utc("2026-11-24T10:15:30.123456789Z"), wantN: 30, wantOK: true},
		{name: "log4net comma", in: "2026-11-24 10:15:32,123 [12]", want: utc("2026-11-24T10:15:32.123Z"), wantN: 23, wantOK: true},
		{name: "no zone is UTC", in: "2026-11-24 10:15:32", want: utc("2026-11-24T10:15:32Z"), wantN: 19, wantOK: true},
		{name: "leap day", in: "2028-02-29T00:00:00Z", want: utc("2028-02-29T00:00:00Z"), wantN: 20, wantOK: true},
		{name: "no leap day", in: "2026-02-29T00:00:00Z"},
		{name: "month 13", in: "2026-13-01T00:00:00Z"},
		{name: "month 0", in: "2026-00-01T00:00:00Z"},
		{name: "day 31 of november", in: "2026-11-31T00:00:00Z"},
		{name: "hour 24", in: "2026-11-24T24:00:00Z"},
		{name: "minute 60", in: "2026-11-24T10:60:00Z"},
		{name: "second 60", in: "2026-11-24T10:00:60Z"},
		{name: "year 0001 (zero time)", in: "0001-01-01T00:00:00Z"},
		{name: "letters", in: "2026-1a-24T10:00:00Z"},
		{name: "short", in: "2026-11-24T10:00"},
		{name: "bad separator", in: "2026-11-24X10:00:00Z"},
		{name: "empty fraction", in: "2026-11-24T10:00:00.Z"},
		{name: "bad offset", in: "2026-11-24T10:00:00+2:00"},
		{name: "offset hour 24", in: "2026-11-24T10:00:00+24:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n, ok := parseLogTime([]byte(tt.in))
			require.Equal(t, tt.wantOK, ok)
			if !tt.wantOK {
				return
			}
			require.Equal(t, tt.wantN, n)
			require.True(t, tt.want.Equal(got), "got %v want %v", got, tt.want)
			require.Equal(t, time.UTC, got.Location())
		})
	}
}

// TestEntryBadEntries covers the garbage of log-formats.md "What real
// input contains": each must be a *Error with the expected reason.
func TestEntryBadEntries(t *testing.T) {
	twoMB := append([]byte("ts=2026-11-24T10:15:30.001Z tenant=t mailbox=m msg="), bytes.Repeat([]byte("x"), 2<<20)...)
	tests := []struct {
		name       string
		entry      []byte
		wantFormat Format
		wantReason string
		wantOffset int
	}{
		{name: "empty", entry: nil, wantReason: "empty entry"},
		{name: "blank", entry: []byte(" \t\r\n"), wantReason: "empty entry"},
		{name: "binary garbage", entry: []byte("\x00\x01\x02garbage\xc3\xbf\r\n"), wantReason: "binary data"},
		{name: "NUL deep inside", entry: append(append([]byte("ts=2026-11-24T10:15:30.001Z tenant=t mailbox=m msg="), bytes.Repeat([]byte("a"), 100)...), 0), wantReason: "binary data", wantOffset: 151},
		{name: "control char", entry: []byte("ts=2026\x07beep"), wantReason: "binary data", wantOffset: 7},
		{name: "colours around a bad entry", entry: []byte("ts=2026\x1b[31m"), wantReason: "binary data", wantOffset: 7},
		{name: "unrecognized", entry: []byte("hello world"), wantReason: "unrecognized format"},
		{name: "2 MB line", entry: twoMB, wantReason: fmt.Sprintf("entry too large: %d bytes (limit 1048576)", len(twoMB)), wantOffset: maxEntrySize},
		{name: "json cut in half", entry: []byte(`{"@timestamp":"2026-11-24T10:00:00Z","level":` + "\r\n"), wantFormat: FormatJSON, wantReason: "json: unexpected end of input at byte 45", wantOffset: 45},
		{name: "logfmt unclosed quote", entry: []byte(`ts=2026-11-24T10:00:00Z level=info msg="unclosed` + "\r\n"), wantFormat: FormatLogfmt, wantReason: "logfmt: unclosed quote at byte 39", wantOffset: 39},
		{name: "truncated log4net", entry: []byte("2026-11-24 05:38:53,418 [4] INFO  ExchangeConnector.SyncWorker -"), wantFormat: FormatLog4net, wantReason: "log4net: missing [tenant/mailbox/run:ID] context", wantOffset: 64},
		{name: "truncated logfmt", entry: []byte("ts=2026-11-24T00:37:07.082Z run=ea4c36 component=sync-engine direction=bo"), wantFormat: FormatLogfmt, wantReason: "missing field tenant", wantOffset: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec schemas.LogRecord
			err := Entry(tt.entry, &rec)
			var pe *Error
			require.True(t, errors.As(err, &pe), "want *Error, got %v", err)
			require.Equal(t, tt.wantFormat, pe.Format)
			require.Equal(t, tt.wantReason, pe.Reason)
			require.Equal(t, tt.wantOffset, pe.Offset)
			require.Equal(t, tt.wantFormat.Producer(), rec.Producer)
			require.Empty(t, rec.Tenant)
		})
	}
}

// TestEntryDispatch checks that Entry picks the parser from the
// shape and sets the producer, but not the origin.
func TestEntryDispatch(t *testing.T) {
	tests := []struct {
		name  string
		entry string
		want  schemas.Producer
	}{
		{name: "log4net", entry: "2026-11-24 10:15:32,123 [12] ERROR ExchangeConnector.SyncWorker - [t-1042/anna.berg@contoso.com/run:7f3a9c] Authentication error", want: schemas.ProducerExchange},
		{name: "logfmt", entry: "ts=2026-11-24T10:15:30.001Z level=info component=sync-engine tenant=t-1042 mailbox=anna.berg@contoso.com run=7f3a9c event=run_started", want: schemas.ProducerEngine},
		{name: "json", entry: `{"@timestamp":"2026-11-24T10:20:11.517Z","tenant":"t-1042","mailbox":"anna.berg@contoso.com","runId":"7f3a9c"}`, want: schemas.ProducerC4CC},
		{name: "BOM and CRLF", entry: "\xEF\xBB\xBFts=2026-11-24T10:15:30.001Z tenant=t-1042 mailbox=anna.berg@contoso.com run=7f3a9c\r\n", want: schemas.ProducerEngine},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := schemas.LogRecord{Origin: "stale", Attributes: schemas.AttrsFrom(map[string]string{"stale": "x"})}
			require.NoError(t, Entry([]byte(tt.entry), &rec))
			require.Equal(t, tt.want, rec.Producer)
			require.Equal(t, "t-1042", rec.Tenant)
			require.Equal(t, "anna.berg@contoso.com", rec.Mailbox)
			require.Equal(t, "7f3a9c", rec.RunID)
			require.Empty(t, rec.Origin)
			require.NotContains(t, rec.Attributes, "stale")
		})
	}
}

// TestEntryConcurrent runs the parsers from several goroutines over the
// same entries (run with -race): results must not depend on sharing the
// intern cache.
func TestEntryConcurrent(t *testing.T) {
	var entries [][]byte
	entries = append(entries, benchLog4netLines...)
	entries = append(entries, benchLogfmtLines...)
	entries = append(entries, benchJSONLines...)
	want := make([]schemas.LogRecord, len(entries))
	for i, e := range entries {
		require.NoError(t, Entry(e, &want[i]))
	}
	const workers = 4
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var rec schemas.LogRecord
			for n := 0; n < 200; n++ {
				i := (n + w) % len(entries)
				if err := Entry(entries[i], &rec); err != nil {
					errs <- err
					return
				}
				if rec.Tenant != want[i].Tenant || rec.Mailbox != want[i].Mailbox || rec.RunID != want[i].RunID || rec.Logger != want[i].Logger {
					errs <- fmt.Errorf("entry %d: got %+v want %+v", i, rec, want[i])
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func TestControlByte(t *testing.T) {
	for n := 0; n <= 40; n++ {
		for pos := -1; pos < n; pos++ {
			for _, bad := range []byte{0, 1, 0x1f, 0x7f} {
				b := bytes.Repeat([]byte("aZ \t\r\n~\x80\xff"), 5)[:n]
				want := -1
				if pos >= 0 {
					b = append([]byte{}, b...)
					b[pos] = bad
					want = pos
					for i := range pos { // an earlier control byte wins
						if c := b[i]; c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
							want = i
							break
						}
					}
				}
				require.Equal(t, want, controlByte(b), "n=%d pos=%d bad=%#x %q", n, pos, bad, b)
			}
		}
	}
}

// TestEntryConsoleColours: an entry captured from a terminal, its level or
// timestamp coloured, parses as the entry without the escape sequences.
func TestEntryConsoleColours(t *testing.T) {
	for _, tt := range []struct{ coloured, plain string }{
		{"\x1b[2m2026-11-24 10:15:32,123\x1b[0m [12] \x1b[1;31mERROR\x1b[0m ExchangeConnector.SyncWorker - [t-1042/anna.berg@contoso.com/run:7f3a9c] Authentication error",
			"2026-11-24 10:15:32,123 [12] ERROR ExchangeConnector.SyncWorker - [t-1042/anna.berg@contoso.com/run:7f3a9c] Authentication error"},
		{"ts=2026-11-24T10:15:31.410Z level=\x1b[31merror\x1b[0m tenant=t-1 mailbox=m run=r event=run_failed msg=\"x\"",
			"ts=2026-11-24T10:15:31.410Z level=error tenant=t-1 mailbox=m run=r event=run_failed msg=\"x\""},
		{"\x1b[38;5;196m{\"@timestamp\":\"2026-11-24T10:20:11.517Z\",\"tenant\":\"t\",\"mailbox\":\"m\",\"message\":\"boom\"}\x1b[m",
			`{"@timestamp":"2026-11-24T10:20:11.517Z","tenant":"t","mailbox":"m","message":"boom"}`},
	} {
		var got, want schemas.LogRecord
		require.NoError(t, Entry([]byte(tt.plain), &want))
		require.NoError(t, Entry([]byte(tt.coloured), &got), "%q", tt.coloured)
		require.Equal(t, want, got)
	}
	var rec schemas.LogRecord
	for _, bad := range []string{"ts=2026-11-24T10:15:31.410Z tenant=t mailbox=m \x1bX", "\x1b[31", "\x1b"} {
		require.Error(t, Entry([]byte(bad), &rec), "%q", bad)
	}
}
