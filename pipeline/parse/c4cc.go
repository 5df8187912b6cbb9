package parse

import (
	"bytes"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/syncwatch/syncwatch/schemas"
)

// jsonMaxDepth bounds the nesting of JSON values: deeper input is an error,
// so the (recursive) value scanner never uses more than jsonMaxDepth frames.
const jsonMaxDepth = 64

// jsonParser is an allocation-free JSON scanner over one entry. It
// validates the syntax of everything it reads and reports values as spans
// of the entry; strings are only decoded when they are kept. Nesting is
// bounded by jsonMaxDepth, and every loop is linear in the entry's size.
// It was measured against github.com/valyala/fastjson doing the same work
// (pooled parser, values copied out into the record): on typical C4CC lines
// this scanner was slightly faster and allocates once per entry instead of
// three times, and it reports byte offsets in its errors.
type jsonParser struct {
	b   []byte
	off int // offset of b in the caller's entry, for error offsets
	txt entryText
}

// jsonValue is where a JSON value is in the entry.
type jsonValue struct {
	s, e int  // b[s:e]: the value's text; for a string, the bytes between the quotes
	kind byte // '"' string, 'n' number, 't' true, 'f' false, '0' null, '{' object, '[' array
	esc  bool // a string with backslash escapes
}

// parseC4CCJSON parses a C4CC Connector entry (already trimmed by
// prepareEntry; off is its offset in the caller's entry): one JSON object.
// Known fields fill rec, every other field is kept in Attributes (strings
// decoded, other values as their JSON text). A key given twice keeps its
// last value.
func parseC4CCJSON(b []byte, off int, text string, rec *schemas.LogRecord) error {
	const f = FormatJSON
	p := jsonParser{b: b, off: off, txt: entryText{b: b, s: text}}
	var ts, level jsonValue
	var tsSet, levelSet bool
	status := 0
	var fieldErr error

	it, err := p.object(0, 0)
	if err != nil {
		return err
	}
	for {
		key, v, ok, err := it.next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
	dispatch:
		switch string(key) {
		case "@timestamp", "timestamp", "time":
			ts, tsSet = v, true
		case "level":
			level, levelSet = v, true
		case "logger":
			rec.Logger, err = p.scalarText(v, "logger")
		case "tenant":
			rec.Tenant, err = p.scalarText(v, "tenant")
		case "mailbox":
			rec.Mailbox, err = p.scalarText(v, "mailbox")
		case "runId", "run", "run_id":
			rec.RunID, err = p.scalarText(v, "runId")
		case "recordType":
			rec.RecordType, err = p.scalarText(v, "recordType")
		case "recordId":
			rec.RecordID, err = p.scalarText(v, "recordId")
		case "message":
			rec.Body, err = p.scalarText(v, "message")
		case "http":
			if v.kind != '{' {
				rec.SetAttr("http", p.text(v))
				break
			}
			status, err = p.http(v, rec, status)
		case "http.status":
			status = p.status(v, "http.status", rec, status)
		case "http.method":
			rec.SetAttr("http.method", p.text(v))
		case "http.url":
			rec.SetAttr("http.url", p.text(v))
		default:
			if known := c4ccKeyFolded(key); known != "" && known != string(key) {
				key = []byte(known) // runID, record_id, Mailbox, http_status, ...
				goto dispatch
			}
			rec.SetAttr(internBytes(key), p.text(v))
		}
		if err != nil && fieldErr == nil {
			fieldErr = err // reported once the syntax is known to be good
		}
	}
	if i := p.ws(it.i); i < len(b) {
		return p.unexpected(i, "data after object")
	}
	if fieldErr != nil {
		return fieldErr
	}

	if !tsSet || ts.kind == '0' {
		return missingField(f, "@timestamp")
	}
	raw := p.raw(ts)
	var (
		t  time.Time
		n  int
		ok bool
	)
	if ts.kind == 'n' {
		t, ok = parseEpoch(raw)
		n = len(raw)
	} else {
		t, n, ok = parseLogTime(raw)
	}
	if ts.kind != '"' && ts.kind != 'n' || !ok || n != len(raw) {
		return invalidTimestamp(f, off+ts.s, raw)
	}
	rec.Time = t
	if rec.Tenant == "" {
		return missingField(f, "tenant")
	}
	if rec.Mailbox == "" {
		return missingField(f, "mailbox")
	}
	levelRaw := []byte(nil)
	if levelSet && level.kind == '"' {
		levelRaw = p.raw(level)
	}
	setLevel(rec, levelRaw, levelSet && level.kind != '0', func() string { return p.text(level) })

	rec.HTTPStatus = status
	rec.Event = schemas.EventMessage
	if rec.RecordID != "" {
		switch {
		case status >= 200 && status < 300:
			rec.Event = schemas.EventRecordSynced
		case status >= 400 || rec.Severity >= schemas.SeverityError:
			rec.Event = schemas.EventRecordFailed
		}
	}
	return nil
}

// c4ccKeyFolded returns the field a key names in another case or with
// other separators (runID, run_id, RecordId, record-type, Mailbox,
// http_status), as parseC4CCJSON knows it; "" for any other key.
func c4ccKeyFolded(key []byte) string {
	var buf [24]byte
	switch string(foldKey(key, &buf)) {
	case "timestamp", "time":
		return "@timestamp"
	case "level":
		return "level"
	case "logger":
		return "logger"
	case "tenant":
		return "tenant"
	case "mailbox":
		return "mailbox"
	case "runid":
		return "runId"
	case "run":
		return "run"
	case "recordtype":
		return "recordType"
	case "recordid":
		return "recordId"
	case "message":
		return "message"
	case "http":
		return "http"
	case "httpstatus":
		return "http.status"
	case "httpmethod":
		return "http.method"
	case "httpurl":
		return "http.url"
	}
	return ""
}

// parseEpoch reads a JSON number as a Unix time: seconds (with a
// fraction), or whole milliseconds, microseconds or nanoseconds, told
// apart by their number of digits (a time between 1973 and 2286).
func parseEpoch(b []byte) (time.Time, bool) {
	i := 0
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	if i == 0 || i > 19 {
		return time.Time{}, false
	}
	var whole int64
	for _, c := range b[:i] {
		if whole > (math.MaxInt64-9)/10 {
			return time.Time{}, false
		}
		whole = whole*10 + int64(c-'0')
	}
	frac := b[i:]
	var t time.Time
	switch {
	case i <= 10:
		nsec := 0
		if len(frac) > 0 {
			if frac[0] != '.' || len(frac) == 1 {
				return time.Time{}, false
			}
			scale := 100000000
			for _, c := range frac[1:] {
				if !isDigit(c) {
					return time.Time{}, false
				}
				nsec += int(c-'0') * scale
				scale /= 10
			}
		}
		t = time.Unix(whole, int64(nsec))
	case len(frac) > 0:
		return time.Time{}, false
	case i <= 13:
		t = time.UnixMilli(whole)
	case i <= 16:
		t = time.UnixMicro(whole)
	default:
		t = time.Unix(0, whole)
	}
	if t.Year() < 1973 || t.Year() > 2286 {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// http reads the nested "http" object: method, url and status; its other
// members go to Attributes as "http.<key>".
func (p *jsonParser) http(obj jsonValue, rec *schemas.LogRecord, status int) (int, error) {
	it, err := p.object(obj.s, 1)
	if err != nil {
		return status, err
	}
	for {
		key, v, ok, err := it.next()
		if err != nil || !ok {
			return status, err
		}
		switch string(key) {
		case "status":
			status = p.status(v, "http.status", rec, status)
		case "method":
			rec.SetAttr("http.method", p.text(v))
		case "url":
			rec.SetAttr("http.url", p.text(v))
		default:
			rec.SetAttr(internPrefixed("http.", key), p.text(v))
		}
	}
}

// status reads an HTTP status (a number or a numeric string); anything else
// is kept as attribute name and leaves the status as it was.
func (p *jsonParser) status(v jsonValue, name string, rec *schemas.LogRecord, old int) int {
	if v.kind == 'n' || v.kind == '"' {
		if st, ok := parseHTTPStatus(p.raw(v)); ok {
			return st
		}
	}
	rec.SetAttr(name, p.text(v))
	return old
}

// jsonObjectIter walks the members of one object.
type jsonObjectIter struct {
	p     *jsonParser
	i     int // next byte to read; after the last member, just past the '}'
	depth int
	done  bool
	first bool
}

// object starts walking the object whose '{' is at or after i (after
// whitespace); depth is the object's nesting depth.
func (p *jsonParser) object(i, depth int) (jsonObjectIter, error) {
	i = p.ws(i)
	if i >= len(p.b) {
		return jsonObjectIter{}, p.eof()
	}
	if p.b[i] != '{' {
		return jsonObjectIter{}, p.unexpected(i, "expected object")
	}
	return jsonObjectIter{p: p, i: i + 1, depth: depth, first: true}, nil
}

// next returns the next member: its key (decoded if it had escapes) and its
// value. ok is false after the last member.
func (it *jsonObjectIter) next() (key []byte, v jsonValue, ok bool, err error) {
	if it.done {
		return nil, jsonValue{}, false, nil
	}
	p, b := it.p, it.p.b
	i := p.ws(it.i)
	if i >= len(b) {
		return nil, v, false, p.eof()
	}
	switch {
	case b[i] == '}' && it.first:
		it.i, it.done = i+1, true
		return nil, v, false, nil
	case !it.first && b[i] == ',':
		i = p.ws(i + 1)
	case !it.first && b[i] == '}':
		it.i, it.done = i+1, true
		return nil, v, false, nil
	case !it.first:
		return nil, v, false, p.unexpected(i, "expected ',' or '}'")
	}
	it.first = false
	if i >= len(b) {
		return nil, v, false, p.eof()
	}
	if b[i] != '"' {
		return nil, v, false, p.unexpected(i, "expected string key")
	}
	k, i, err := p.str(i)
	if err != nil {
		return nil, v, false, err
	}
	if i = p.ws(i); i >= len(b) {
		return nil, v, false, p.eof()
	}
	if b[i] != ':' {
		return nil, v, false, p.unexpected(i, "expected ':'")
	}
	v, it.i, err = p.value(p.ws(i+1), it.depth+1)
	if err != nil {
		return nil, v, false, err
	}
	key = b[k.s:k.e]
	if k.esc {
		key = []byte(jsonUnescape(key))
	}
	return key, v, true, nil
}

// value scans the value at i (after whitespace) and returns it and the index
// just past it. depth is the value's nesting depth (the top object is 0).
func (p *jsonParser) value(i, depth int) (jsonValue, int, error) {
	b := p.b
	if i >= len(b) {
		return jsonValue{}, i, p.eof()
	}
	switch c := b[i]; c {
	case '"':
		v, next, err := p.str(i)
		return v, next, err
	case '{', '[':
		if depth >= jsonMaxDepth {
			return jsonValue{}, i, p.unexpected(i, "nesting deeper than 64")
		}
		return p.container(i, depth)
	case 't':
		return p.literal(i, "true", 't')
	case 'f':
		return p.literal(i, "false", 'f')
	case 'n':
		return p.literal(i, "null", '0')
	default:
		if c == '-' || isDigit(c) {
			return p.number(i)
		}
		return jsonValue{}, i, p.unexpected(i, "")
	}
}

// container scans an object or array at i, validating its members.
func (p *jsonParser) container(i, depth int) (jsonValue, int, error) {
	b := p.b
	open := b[i]
	if open == '{' {
		it := jsonObjectIter{p: p, i: i + 1, depth: depth, first: true}
		for {
			_, _, ok, err := it.next()
			if err != nil {
				return jsonValue{}, i, err
			}
			if !ok {
				return jsonValue{s: i, e: it.i, kind: '{'}, it.i, nil
			}
		}
	}
	j := p.ws(i + 1)
	if j < len(b) && b[j] == ']' {
		return jsonValue{s: i, e: j + 1, kind: '['}, j + 1, nil
	}
	for {
		_, next, err := p.value(j, depth+1)
		if err != nil {
			return jsonValue{}, i, err
		}
		j = p.ws(next)
		if j >= len(b) {
			return jsonValue{}, i, p.eof()
		}
		switch b[j] {
		case ',':
			j = p.ws(j + 1)
		case ']':
			return jsonValue{s: i, e: j + 1, kind: '['}, j + 1, nil
		default:
			return jsonValue{}, i, p.unexpected(j, "expected ',' or ']'")
		}
	}
}

// str scans the string whose opening quote is at i, validating escapes.
// Raw control characters and invalid UTF-8 are let through as they are.
// It finds quotes and backslashes with bytes.IndexByte, remembering the
// next quote so that a string full of escapes stays linear.
func (p *jsonParser) str(i int) (jsonValue, int, error) {
	b := p.b
	v := jsonValue{s: i + 1, kind: '"'}
	j := i + 1
	for end := min(j+32, len(b)); j < end; j++ { // short strings: a plain loop is faster
		if c := b[j]; c == '"' {
			v.e = j
			return v, j + 1, nil
		} else if c == '\\' {
			break
		}
	}
	q := -1 // index of the next '"' at or after j
	for {
		if q < j {
			k := bytes.IndexByte(b[j:], '"')
			if k < 0 {
				return v, len(b), p.eof()
			}
			q = j + k
		}
		k := bytes.IndexByte(b[j:q], '\\')
		if k < 0 {
			v.e = q
			return v, q + 1, nil
		}
		j += k
		v.esc = true
		if j+1 >= len(b) {
			return v, j, p.eof()
		}
		switch b[j+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			j += 2
		case 'u':
			if j+6 > len(b) {
				return v, j, p.eof()
			}
			for k := j + 2; k < j+6; k++ {
				if !isHex(b[k]) {
					return v, j, p.syntax(j, "invalid escape")
				}
			}
			j += 6
		default:
			return v, j, p.syntax(j, "invalid escape")
		}
	}
}

// number scans a number at i: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *jsonParser) number(i int) (jsonValue, int, error) {
	b := p.b
	j := i
	if b[j] == '-' {
		j++
	}
	digitsFrom := func(j int) int {
		for j < len(b) && isDigit(b[j]) {
			j++
		}
		return j
	}
	switch {
	case j >= len(b):
		return jsonValue{}, j, p.eof()
	case b[j] == '0':
		j++
	case isDigit(b[j]):
		j = digitsFrom(j)
	default:
		return jsonValue{}, j, p.syntax(j, "invalid number")
	}
	if j < len(b) && b[j] == '.' {
		k := digitsFrom(j + 1)
		if k == j+1 {
			if k >= len(b) {
				return jsonValue{}, k, p.eof()
			}
			return jsonValue{}, k, p.syntax(k, "invalid number")
		}
		j = k
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		k := digitsFrom(j)
		if k == j {
			if k >= len(b) {
				return jsonValue{}, k, p.eof()
			}
			return jsonValue{}, k, p.syntax(k, "invalid number")
		}
		j = k
	}
	return jsonValue{s: i, e: j, kind: 'n'}, j, nil
}

func (p *jsonParser) literal(i int, lit string, kind byte) (jsonValue, int, error) {
	b := p.b
	for k := 0; k < len(lit); k++ {
		if i+k >= len(b) {
			return jsonValue{}, i + k, p.eof()
		}
		if b[i+k] != lit[k] {
			return jsonValue{}, i + k, p.unexpected(i+k, "")
		}
	}
	return jsonValue{s: i, e: i + len(lit), kind: kind}, i + len(lit), nil
}

func (p *jsonParser) ws(i int) int {
	for i < len(p.b) {
		switch p.b[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

func (p *jsonParser) eof() error {
	return syntaxErr(FormatJSON, p.off+len(p.b), "unexpected end of input")
}

func (p *jsonParser) syntax(i int, what string) error {
	return syntaxErr(FormatJSON, p.off+i, what)
}

// unexpected reports the byte at i; what says what was expected instead.
func (p *jsonParser) unexpected(i int, what string) error {
	msg := "unexpected " + quoteByte(p.b[i])
	if what != "" {
		msg = what + ", found " + quoteByte(p.b[i])
	}
	return syntaxErr(FormatJSON, p.off+i, msg)
}

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f && c != '\'' && c != '\\' {
		return "'" + string(rune(c)) + "'"
	}
	const hex = "0123456789abcdef"
	return `'\x` + string(hex[c>>4]) + string(hex[c&15]) + "'"
}

// raw returns a scalar value's bytes, strings decoded.
func (p *jsonParser) raw(v jsonValue) []byte {
	if v.esc {
		return []byte(jsonUnescape(p.b[v.s:v.e]))
	}
	return p.b[v.s:v.e]
}

// text returns a value as a string: strings decoded, anything else as its
// JSON text. It shares the entry's single copy when it can.
func (p *jsonParser) text(v jsonValue) string {
	if v.esc {
		return jsonUnescape(p.b[v.s:v.e])
	}
	return p.txt.sub(v.s, v.e)
}

// scalarText is text for a field that must be a scalar: null gives "", an
// object or array is an error.
func (p *jsonParser) scalarText(v jsonValue, name string) (string, error) {
	switch v.kind {
	case '0':
		return "", nil
	case '{', '[':
		return "", p.syntax(v.s, "field "+name+" is not a scalar")
	}
	return p.text(v), nil
}

// internPrefixed interns prefix+key without allocating on a hit.
func internPrefixed(prefix string, key []byte) string {
	var buf [internMaxLen]byte
	if len(prefix)+len(key) > len(buf) {
		return prefix + string(key)
	}
	n := copy(buf[:], prefix)
	n += copy(buf[n:], key)
	return internBytes(buf[:n])
}

func isHex(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func hexVal(b []byte) rune {
	var r rune
	for _, c := range b {
		r <<= 4
		switch {
		case isDigit(c):
			r |= rune(c - '0')
		case 'a' <= c && c <= 'f':
			r |= rune(c - 'a' + 10)
		default:
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}

// jsonUnescape decodes the escapes of a string that str validated. Bytes
// that are not valid UTF-8 are kept as they are; a lone surrogate becomes
// U+FFFD.
func jsonUnescape(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b))
	unescapeJSON(&sb, b)
	return sb.String()
}

// appendJSONUnescaped appends b, unescaped as jsonUnescape does, to dst.
func appendJSONUnescaped(dst, b []byte) []byte {
	buf := bytes.NewBuffer(dst)
	unescapeJSON(buf, b)
	return buf.Bytes()
}

// unescapeJSON writes b with its escapes decoded to w.
func unescapeJSON[W interface {
	WriteByte(byte) error
	WriteRune(rune) (int, error)
}](w W, b []byte) {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' || i+1 >= len(b) {
			w.WriteByte(c)
			continue
		}
		i++
		switch b[i] {
		case 'b':
			w.WriteByte('\b')
		case 'f':
			w.WriteByte('\f')
		case 'n':
			w.WriteByte('\n')
		case 'r':
			w.WriteByte('\r')
		case 't':
			w.WriteByte('\t')
		case 'u':
			if i+5 > len(b) {
				w.WriteRune(utf8.RuneError)
				i = len(b)
				continue
			}
			r := hexVal(b[i+1 : i+5])
			i += 4
			if 0xD800 <= r && r < 0xDC00 && i+7 <= len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
				if lo := hexVal(b[i+3 : i+7]); 0xDC00 <= lo && lo < 0xE000 {
					r = (r-0xD800)<<10 + (lo - 0xDC00) + 0x10000
					i += 6
				}
			}
			if 0xD800 <= r && r < 0xE000 {
				r = utf8.RuneError
			}
			w.WriteRune(r)
		default: // '"', '\\', '/'
			w.WriteByte(b[i])
		}
	}
}
