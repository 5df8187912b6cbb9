package parse

import (
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"
)

type scannedEntry struct {
	entry    string
	line     int
	oversize bool
}

func scanAll(t *testing.T, r io.Reader, maxEntry int) ([]scannedEntry, *Scanner) {
	t.Helper()
	s := NewScanner(r, maxEntry)
	var got []scannedEntry
	for s.Scan() {
		got = append(got, scannedEntry{entry: string(s.Entry()), line: s.Line(), oversize: s.Oversize()})
	}
	return got, s
}

func TestScanner(t *testing.T) {
	const (
		l4a   = "2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: (404) Not Found."
		l4b   = "2026-11-24 10:16:05,002 [7] INFO  ExchangeConnector.SyncWorker - [t-2001/ops@fabrikam.com/run:a11c02] item AAMkAD3= synced"
		exc   = "System.Net.WebException: The remote server returned an error: (404) Not Found."
		at1   = "   at System.Net.HttpWebRequest.GetResponse()"
		at2   = "\tat Microsoft.Exchange.WebServices.Data.EwsHttpWebRequest.GetResponse()"
		msEx  = "Microsoft.Exchange.WebServices.Data.ServiceRequestException: failed"
		lf    = "ts=2026-11-24T10:15:30.001Z level=info tenant=t mailbox=m"
		js    = `{"@timestamp":"2026-11-24T10:20:11.517Z","tenant":"t","mailbox":"m"}`
		lfLen = len(lf)
	)
	tests := []struct {
		name      string
		input     string
		maxEntry  int
		want      []scannedEntry
		wantBlank int
	}{
		{name: "empty input"},
		{name: "only blank lines", input: "\n\r\n  \n\t\r\n", wantBlank: 4},
		{
			name:  "LF and CRLF, last line without newline",
			input: lf + "\r\n" + js + "\n" + l4b,
			want:  []scannedEntry{{entry: lf, line: 1}, {entry: js, line: 2}, {entry: l4b, line: 3}},
		},
		{
			name:  "stack trace continues a log4net entry",
			input: l4a + "\r\n" + exc + "\r\n" + at1 + "\r\n" + at2 + "\r\n" + l4b + "\r\n",
			want:  []scannedEntry{{entry: l4a + "\n" + exc + "\n" + at1 + "\n" + at2, line: 1}, {entry: l4b, line: 5}},
		},
		{
			name:  "Microsoft. exception name continues",
			input: l4a + "\n" + msEx + "\n" + at1 + "\n" + lf + "\n",
			want:  []scannedEntry{{entry: l4a + "\n" + msEx + "\n" + at1, line: 1}, {entry: lf, line: 4}},
		},
		{
			name:  "continuation at end of input",
			input: l4a + "\n" + exc,
			want:  []scannedEntry{{entry: l4a + "\n" + exc, line: 1}},
		},
		{
			name:  "indented lines after logfmt and JSON are entries of their own",
			input: lf + "\n" + at1 + "\n" + js + "\n" + exc + "\n",
			want:  []scannedEntry{{entry: lf, line: 1}, {entry: at1, line: 2}, {entry: js, line: 3}, {entry: exc, line: 4}},
		},
		{
			name:  "orphan stack lines at the start",
			input: at1 + "\n" + at2 + "\n" + l4b + "\n",
			want:  []scannedEntry{{entry: at1, line: 1}, {entry: at2, line: 2}, {entry: l4b, line: 3}},
		},
		{
			name:      "blank lines are counted and end a continued entry",
			input:     "\n" + l4a + "\n" + exc + "\n\r\n" + at1 + "\n\n" + lf + "\n\n",
			want:      []scannedEntry{{entry: l4a + "\n" + exc, line: 2}, {entry: at1, line: 5}, {entry: lf, line: 7}},
			wantBlank: 4,
		},
		{
			name:     "line of exactly maxEntry with CRLF is not cut",
			input:    lf + "\r\n" + lf + "x\n" + js + "\n",
			maxEntry: lfLen,
			want:     []scannedEntry{{entry: lf, line: 1}, {entry: lf, line: 2, oversize: true}, {entry: js[:lfLen], line: 3, oversize: true}},
		},
		{
			name:     "oversize line is cut and the rest skipped",
			input:    strings.Repeat("a", 100) + "\n" + "short\n",
			maxEntry: 10,
			want:     []scannedEntry{{entry: "aaaaaaaaaa", line: 1, oversize: true}, {entry: "short", line: 2}},
		},
		{
			name:     "continued entry over the limit is cut and its other lines skipped",
			input:    l4a + "\n" + exc + "\n" + at1 + "\n" + at2 + "\n" + l4b[:20] + "\n",
			maxEntry: len(l4a) + 10,
			want:     []scannedEntry{{entry: l4a + "\n" + exc[:9], line: 1, oversize: true}, {entry: l4b[:20], line: 5}},
		},
		{
			name:     "oversize continuation line cuts the entry",
			input:    l4b + "\n" + "  " + strings.Repeat("x", 300) + "\n" + lf + "\n",
			maxEntry: 200,
			want:     []scannedEntry{{entry: l4b + "\n  " + strings.Repeat("x", 200-len(l4b)-3), line: 1, oversize: true}, {entry: lf, line: 3}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, reader := range []struct {
				name string
				wrap func(io.Reader) io.Reader
			}{
				{name: "whole", wrap: func(r io.Reader) io.Reader { return r }},
				{name: "one byte at a time", wrap: iotest.OneByteReader},
			} {
				got, s := scanAll(t, reader.wrap(strings.NewReader(tt.input)), tt.maxEntry)
				require.Equal(t, tt.want, got, reader.name)
				require.Equal(t, tt.wantBlank, s.Blank(), reader.name)
				require.NoError(t, s.Err(), reader.name)
			}
		})
	}
}

// TestScannerManyContinuationLines joins a long stack trace (linear: each
// line is appended once).
func TestScannerManyContinuationLines(t *testing.T) {
	const frame = "   at Frame.Method()"
	head := "2026-11-24 10:16:01,900 [7] ERROR X - [t/m/run:1] boom"
	input := head + "\n" + strings.Repeat(frame+"\r\n", 40000) + "ts=2026-11-24T10:15:30.001Z tenant=t mailbox=m\n"
	got, s := scanAll(t, strings.NewReader(input), 0)
	require.NoError(t, s.Err())
	require.Len(t, got, 2)
	require.True(t, head+strings.Repeat("\n"+frame, 40000) == got[0].entry, "joined entry differs")
	require.False(t, got[0].oversize)
	require.Equal(t, 40002, got[1].line)
}

// patternReader yields n bytes of a repeated pattern without holding them.
type patternReader struct {
	n       int64
	pattern byte
}

func (r *patternReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	for i := range p {
		p[i] = r.pattern
	}
	r.n -= int64(len(p))
	return len(p), nil
}

// TestScannerTenMegabyteLine checks that a 10 MB line is cut to the limit
// and skipped without being buffered.
func TestScannerTenMegabyteLine(t *testing.T) {
	const size = 10 << 20
	next := "ts=2026-11-24T10:15:30.001Z tenant=t mailbox=m"
	r := io.MultiReader(
		strings.NewReader("ts=2026-11-24T10:15:30.001Z msg="),
		&patternReader{n: size, pattern: 'x'},
		strings.NewReader("\r\n"+next+"\n"),
	)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got, s := scanAll(t, r, 0)
	runtime.ReadMemStats(&after)
	require.NoError(t, s.Err())
	require.Len(t, got, 2)
	require.True(t, got[0].oversize)
	require.Len(t, got[0].entry, DefaultMaxEntry)
	require.Equal(t, 1, got[0].line)
	require.Equal(t, scannedEntry{entry: next, line: 2}, got[1])
	// the entry buffers (two, at most DefaultMaxEntry+2 each, plus growth)
	// and the test's own copies; far below the 10 MB of the line.
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(8<<20))
}

// TestScannerReadError returns the entries read before a read error, then
// reports it.
func TestScannerReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("a=1\nb=2\n"), iotest.ErrReader(boom))
	got, s := scanAll(t, r, 0)
	require.Equal(t, []scannedEntry{{entry: "a=1", line: 1}, {entry: "b=2", line: 2}}, got)
	require.ErrorIs(t, s.Err(), boom)
	require.False(t, s.Scan())
}
