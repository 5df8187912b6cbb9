package parse

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"time"

	"github.com/syncwatch/syncwatch/schemas"
	"github.com/syncwatch/syncwatch/schemas/redact"
)

// Format is an entry's shape: which of the three producer formats it is
// written in. It is recognised from the entry itself (DetectFormat), never
// from where the entry came from.
type Format uint8

// Entry formats.
const (
	FormatUnknown Format = iota // not recognised
	FormatLog4net               // ExchangeConnector, log4net-style text
	FormatLogfmt                // sync engine, logfmt
	FormatJSON                  // C4CC Connector, one JSON object
)

var formatNames = [...]string{"unknown", "log4net", "logfmt", "json"}

// String returns the format's name: "unknown", "log4net", "logfmt" or "json".
func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// Producer maps a format onto the Producer that writes it.
func (f Format) Producer() schemas.Producer {
	switch f {
	case FormatLog4net:
		return schemas.ProducerExchange
	case FormatLogfmt:
		return schemas.ProducerEngine
	case FormatJSON:
		return schemas.ProducerC4CC
	}
	return schemas.ProducerUnknown
}

// maxEntrySize is the largest entry the parsers accept; a longer one is a
// *Error ("entry too large") without being looked at. It equals
// DefaultMaxEntry, so an entry that a default Scanner cut (Oversize) is
// still parsed as far as it goes: callers that want oversize entries
// dead-lettered must check Scanner.Oversize themselves.
const maxEntrySize = DefaultMaxEntry

// binaryProbe is how many leading bytes of an entry are checked for control
// characters (NUL is looked for in the whole entry).
const binaryProbe = 64

// Error says why an entry could not be normalized. Callers get it with
// errors.As; Reason is what goes into a dead letter.
type Error struct {
	// Format is the format the entry was recognised as (FormatUnknown when
	// it was not recognised at all).
	Format Format
	// Reason is short and specific, e.g. "logfmt: unclosed quote at byte 88",
	// "missing field mailbox", "binary data", "empty entry". Syntax errors
	// carry the format as a prefix and the byte offset in the text.
	Reason string
	// Offset is the byte offset in the entry (as passed in) where the
	// problem was found, or -1 when it is not at one place (a missing field).
	Offset int
}

// Error returns the reason, prefixed by the format when the reason does not
// already name it.
func (e *Error) Error() string {
	if e.Format == FormatUnknown {
		return e.Reason
	}
	name := e.Format.String()
	if len(e.Reason) > len(name) && e.Reason[:len(name)] == name && e.Reason[len(name)] == ':' {
		return e.Reason
	}
	return name + ": " + e.Reason
}

func parseErr(f Format, off int, reason string) *Error {
	return &Error{Format: f, Reason: reason, Offset: off}
}

// syntaxErr builds "<format>: <what> at byte <off>".
func syntaxErr(f Format, off int, what string) *Error {
	return &Error{Format: f, Reason: f.String() + ": " + what + " at byte " + strconv.Itoa(off), Offset: off}
}

func missingField(f Format, name string) *Error {
	return &Error{Format: f, Reason: "missing field " + name, Offset: -1}
}

// quoteSnippet quotes at most 40 bytes of b for an error reason, secrets
// redacted: the reason goes into dead letters and logs. Redaction comes
// before the cut, so a secret's key is seen even when its value would be
// cut; only the first KiB is looked at, to bound the cost.
func quoteSnippet(b []byte) string {
	const max = 40
	s := redact.String(string(b[:min(len(b), 1<<10)]))
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}

func invalidTimestamp(f Format, off int, b []byte) *Error {
	return &Error{Format: f, Reason: "invalid timestamp " + quoteSnippet(b), Offset: off}
}

// DetectFormat recognises an entry's format from its shape: a JSON object
// ("{"), logfmt ("key=value ..." starting with an identifier key, normally
// ts=), or log4net ("yyyy-MM-dd HH:mm:ss ..."). Leading whitespace and a
// UTF-8 byte order mark are skipped. It only looks at the first bytes, does
// not allocate, and returns FormatUnknown for anything else.
func DetectFormat(entry []byte) Format {
	b := entry
	b = bytes.TrimPrefix(b, utf8BOM)
	for len(b) > 0 && isEntrySpace(b[0]) {
		b = b[1:]
	}
	if len(b) == 0 {
		return FormatUnknown
	}
	switch c := b[0]; {
	case c == '{':
		return FormatJSON
	case isDigit(c):
		if looksLikeLog4netTime(b) {
			return FormatLog4net
		}
	case isIdentStart(c):
		for i := 1; i < len(b) && i < 128; i++ {
			if b[i] == '=' {
				return FormatLogfmt
			}
			if !isIdentByte(b[i]) {
				break
			}
		}
	}
	return FormatUnknown
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// looksLikeLog4netTime reports whether b starts with "dddd-dd-dd dd:dd:dd".
func looksLikeLog4netTime(b []byte) bool {
	const shape = "dddd-dd-dd dd:dd:dd"
	if len(b) < len(shape) {
		return false
	}
	for i := 0; i < len(shape); i++ {
		if shape[i] == 'd' {
			if !isDigit(b[i]) {
				return false
			}
		} else if b[i] != shape[i] {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isIdentStart(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '@'
}
func isIdentByte(c byte) bool {
	return isIdentStart(c) || isDigit(c) || c == '.' || c == '-'
}

// isEntrySpace is the whitespace trimmed around an entry.
func isEntrySpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// Entry parses one log entry into rec, whatever its format (see
// DetectFormat). An entry is one line, except that an ExchangeConnector
// entry may carry continuation (stack trace) lines after embedded "\n";
// a trailing "\r" or "\r\n" is ignored.
//
// rec is reset first; Entry sets rec.Producer from the format but never
// rec.Origin, which is the caller's. On failure it returns an *Error,
// and rec is reset except for Producer (set when the format was recognised).
//
// Entry does not block and is safe for
// concurrent use. Strings that repeat from entry to entry (tenant, mailbox,
// run id, logger, record type, attribute keys) come from a small, bounded,
// process-wide intern cache, so that a typical entry costs a single
// allocation when rec is reused (its Attributes map is kept by Reset): the
// other strings of rec (Body, RecordID, attribute values) are slices of one
// copy of the entry, which therefore stays in memory as long as any of them
// does. The entry itself is not retained.
func Entry(entry []byte, rec *schemas.LogRecord) error {
	return EntryText(entry, "", rec)
}

// EntryText is Entry for an entry the caller also holds as an immutable
// string, text == string(entry), typically a slice of one string made for
// many entries (a chunk read from a file): the record's strings are
// slices of text, so parsing allocates nothing. The record's strings then
// keep text's whole backing string in memory while any of them is. With
// text empty, or not as long as entry, it is Entry.
func EntryText(entry []byte, text string, rec *schemas.LogRecord) error {
	rec.Reset()
	b, off, err := prepareEntry(entry, FormatUnknown)
	if err != nil {
		if plain, ok := stripANSI(entry); ok && EntryText(plain, "", rec) == nil {
			return nil // a console's colours, not binary data
		}
		rec.Reset()
		return err
	}
	if len(text) == len(entry) && text != "" {
		text = text[off : off+len(b)]
	} else {
		text = ""
	}
	f := DetectFormat(b)
	switch f {
	case FormatLog4net:
		err = parseLog4net(b, off, text, rec)
	case FormatLogfmt:
		err = parseLogfmt(b, off, text, rec)
	case FormatJSON:
		err = parseC4CCJSON(b, off, text, rec)
	default:
		return parseErr(FormatUnknown, 0, "unrecognized format")
	}
	return finish(f, rec, err)
}

// entryAs parses entry as format f, whatever it looks like: the format's
// own parser, for tests that hold Entry to it. See Entry for the contract.
func entryAs(f Format, entry []byte, rec *schemas.LogRecord) error {
	switch f {
	case FormatLog4net:
		return parseAs(f, entry, rec, parseLog4net)
	case FormatLogfmt:
		return parseAs(f, entry, rec, parseLogfmt)
	case FormatJSON:
		return parseAs(f, entry, rec, parseC4CCJSON)
	}
	return Entry(entry, rec)
}

func parseAs(f Format, entry []byte, rec *schemas.LogRecord, parse func([]byte, int, string, *schemas.LogRecord) error) error {
	rec.Reset()
	b, off, err := prepareEntry(entry, f)
	if err != nil {
		rec.Producer = f.Producer()
		return err
	}
	return finish(f, rec, parse(b, off, "", rec))
}

// finish sets the producer, and on error resets the half-filled record.
func finish(f Format, rec *schemas.LogRecord, err error) error {
	if err != nil {
		rec.Reset()
	}
	rec.Producer = f.Producer()
	return err
}

// prepareEntry checks an entry's size and content and trims it: it returns
// the entry without BOM and surrounding whitespace, and the offset of that
// slice in entry (for error offsets).
func prepareEntry(entry []byte, f Format) ([]byte, int, error) {
	if len(entry) > maxEntrySize {
		return nil, 0, parseErr(f, maxEntrySize, "entry too large: "+strconv.Itoa(len(entry))+" bytes (limit "+strconv.Itoa(maxEntrySize)+")")
	}
	off := 0
	if bytes.HasPrefix(entry, utf8BOM) {
		off = len(utf8BOM)
	}
	for off < len(entry) && isEntrySpace(entry[off]) {
		off++
	}
	end := len(entry)
	for end > off && isEntrySpace(entry[end-1]) {
		end--
	}
	b := entry[off:end]
	if len(b) == 0 {
		return nil, 0, parseErr(f, 0, "empty entry")
	}
	if i := controlByte(b[:min(len(b), binaryProbe)]); i >= 0 {
		return nil, 0, parseErr(f, off+i, "binary data")
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return nil, 0, parseErr(f, off+i, "binary data")
	}
	return b, off, nil
}

// foldKey writes key into buf in lower case, its letters and digits only
// ("Record-Id" and "record_id" are "recordid"), and returns it; nil when
// it does not fit (no known key is that long).
func foldKey(key []byte, buf *[24]byte) []byte {
	n := 0
	for _, c := range key {
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		default:
			continue
		}
		if n == len(buf) {
			return nil
		}
		buf[n] = c
		n++
	}
	return buf[:n]
}

// stripANSI returns entry without the terminal escape sequences a
// console's colours and styles are (ESC [ parameters final byte, as
// "\x1b[31mERROR\x1b[0m"), and false when it has none or keeps another
// escape: logs captured from a terminal, or written by a logger that
// colours its output whatever it writes to.
func stripANSI(entry []byte) ([]byte, bool) {
	i := bytes.IndexByte(entry, 0x1b)
	if i < 0 {
		return nil, false
	}
	out := make([]byte, 0, len(entry))
	for i >= 0 {
		out = append(out, entry[:i]...)
		j := i + 1
		if j >= len(entry) || entry[j] != '[' {
			return nil, false
		}
		j++
		for j < len(entry) && entry[j] >= 0x30 && entry[j] <= 0x3f { // parameters
			j++
		}
		for j < len(entry) && entry[j] >= 0x20 && entry[j] <= 0x2f { // intermediates
			j++
		}
		if j >= len(entry) || entry[j] < 0x40 || entry[j] > 0x7e {
			return nil, false
		}
		entry = entry[j+1:]
		i = bytes.IndexByte(entry, 0x1b)
	}
	return append(out, entry...), true
}

// controlByte returns the index of the first control character of b other
// than tab, LF and CR (DEL included), or -1. It tests 8 bytes at a time:
// the words of a text line have none of the bytes looked for, and only a
// word that may have one is looked at byte by byte.
func controlByte(b []byte) int {
	const (
		ones = 0x0101010101010101
		high = 0x8080808080808080
	)
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		del := x ^ 0x7f7f7f7f7f7f7f7f
		// a high bit set where a byte is < 0x20, or is 0x7f (exact as to
		// whether any is; the position is found below)
		if ((x-0x20*ones)&^x|(del-ones)&^del)&high == 0 {
			continue
		}
		if j := controlByteSlow(b[i : i+8]); j >= 0 {
			return i + j
		}
	}
	if j := controlByteSlow(b[i:]); j >= 0 {
		return i + j
	}
	return -1
}

func controlByteSlow(b []byte) int {
	for i, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			return i
		}
	}
	return -1
}

// entryText hands out strings that are slices of one copy of the entry,
// made on first use, so that all of a record's non-interned strings cost a
// single allocation.
type entryText struct {
	b []byte
	s string
}

// sub returns b[i:j] as a string sharing the entry's single copy.
func (t *entryText) sub(i, j int) string {
	if i >= j {
		return ""
	}
	if t.s == "" {
		t.s = string(t.b)
	}
	return t.s[i:j]
}

// subOf returns s, a subslice of t.b, as a string sharing the entry's
// copy. (Its offset in t.b is the difference of their capacities.)
func (t *entryText) subOf(s []byte) string {
	i := cap(t.b) - cap(s)
	if len(s) == 0 || i < 0 || i+len(s) > len(t.b) {
		return string(s) // not a subslice of t.b (or empty)
	}
	return t.sub(i, i+len(s))
}

// parseInt reads a non-negative decimal integer of at most 9 digits.
func parseInt(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// parseHTTPStatus reads a 3-digit status between 100 and 599.
func parseHTTPStatus(b []byte) (int, bool) {
	if len(b) != 3 || b[0] < '1' || b[0] > '5' {
		return 0, false
	}
	return parseInt(b)
}

// parseLogTime reads a timestamp at the start of b:
//
//	yyyy-MM-dd(T|t| )HH:mm:ss[(.|,)fraction][Z|z|±hh:mm|±hhmm]
//
// A missing zone means UTC. It validates every field's range and returns the
// time in UTC and how many bytes it read; ok is false on anything else. It
// is hand-written because time.Parse is too slow for every entry.
func parseLogTime(b []byte) (t time.Time, n int, ok bool) {
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, 0, false
	}
	if c := b[10]; c != 'T' && c != 't' && c != ' ' {
		return time.Time{}, 0, false
	}
	year, ok1 := digits(b[0:4])
	month, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	hour, ok4 := digits(b[11:13])
	minute, ok5 := digits(b[14:16])
	sec, ok6 := digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return time.Time{}, 0, false
	}
	if year < 1000 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, 0, false
	}
	n = 19
	nsec := 0
	if n < len(b) && (b[n] == '.' || b[n] == ',') {
		n++
		start := n
		scale := 100000000
		for n < len(b) && isDigit(b[n]) {
			nsec += int(b[n]-'0') * scale
			scale /= 10
			n++
		}
		if n == start {
			return time.Time{}, 0, false
		}
	}
	offset := 0
	if n < len(b) {
		switch b[n] {
		case 'Z', 'z':
			n++
		case '+', '-':
			sign := 1
			if b[n] == '-' {
				sign = -1
			}
			z := b[n+1:]
			var oh, om int
			var okh, okm bool
			switch {
			case len(z) >= 5 && z[2] == ':':
				oh, okh = digits(z[0:2])
				om, okm = digits(z[3:5])
				n += 6
			case len(z) >= 4:
				oh, okh = digits(z[0:2])
				om, okm = digits(z[2:4])
				n += 5
			}
			if !okh || !okm || oh > 23 || om > 59 {
				return time.Time{}, 0, false
			}
			offset = sign * (oh*3600 + om*60)
		}
	}
	t = time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if offset != 0 {
		t = t.Add(-time.Duration(offset) * time.Second)
	}
	return t, n, true
}

// digits reads a short all-digit number.
func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// setLevel sets rec's severity from a logfmt or JSON level: missing or
// unknown means INFO, and an unknown level's text is kept as attribute
// "level".
func setLevel(rec *schemas.LogRecord, raw []byte, present bool, text func() string) {
	sev, ok := schemas.ParseSeverity(raw)
	if !ok {
		sev = schemas.SeverityInfo
		if present {
			rec.SetAttr("level", text())
		}
	}
	rec.Severity = sev
	rec.SeverityText = sev.String()
}
