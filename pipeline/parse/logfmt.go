package parse

import (
	"strings"

	"github.com/syncwatch/syncwatch/schemas"
)

// lfValue is where a logfmt value is in the entry text.
type lfValue struct {
	s, e int  // value bytes b[s:e], without quotes
	esc  bool // quoted with backslash escapes
	set  bool // the key was present
}

// parseLogfmt parses a sync engine entry (already trimmed by prepareEntry;
// off is its offset in the caller's entry): space-separated key=value pairs
// in any order, values bare or double-quoted with \" and \\ escapes. A key
// given twice keeps its last value.
func parseLogfmt(b []byte, off int, text string, rec *schemas.LogRecord) error {
	const f = FormatLogfmt
	txt := entryText{b: b, s: text}
	var ts, level, event, synced, failed, status lfValue
	statusKey := ""
	n := len(b)
	for i := 0; ; {
		for i < n && isLogfmtSpace(b[i]) {
			i++
		}
		if i >= n {
			break
		}
		ks := i
		for i < n && !lfKeyStop[b[i]] {
			i++
		}
		if i < n && b[i] == '"' {
			return syntaxErr(f, off+i, "unexpected quote in key")
		}
		key := b[ks:i]
		if len(key) == 0 {
			return syntaxErr(f, off+i, "missing key")
		}
		v := lfValue{s: i, e: i, set: true}
		if i < n && b[i] == '=' {
			i++
			if i < n && b[i] == '"' {
				q := i
				for i++; i < n && b[i] != '"'; i++ {
					if b[i] == '\\' {
						v.esc = true
						i++
					}
				}
				if i >= n {
					return syntaxErr(f, off+q, "unclosed quote")
				}
				v.s, v.e = q+1, i
				i++
				if i < n && !isLogfmtSpace(b[i]) {
					return syntaxErr(f, off+i, "unexpected byte after quoted value")
				}
			} else {
				v.s = i
				for i < n && !lfSpace[b[i]] {
					i++
				}
				v.e = i
			}
		}
	dispatch:
		switch string(key) {
		case "ts":
			ts = v
		case "level":
			level = v
		case "component":
			rec.Logger = lfText(&txt, v)
		case "tenant":
			rec.Tenant = lfText(&txt, v)
		case "mailbox":
			rec.Mailbox = lfText(&txt, v)
		case "run":
			rec.RunID = lfText(&txt, v)
		case "event":
			event = v
		case "record":
			rec.RecordID = lfText(&txt, v)
		case "record_type":
			rec.RecordType = lfText(&txt, v)
		case "msg":
			rec.Body = lfText(&txt, v)
		case "synced":
			synced = v
		case "failed":
			failed = v
		case "status", "http_status":
			status = v
			statusKey = internBytes(key)
		default:
			if known := logfmtKeyFolded(key); known != "" && known != string(key) {
				key = []byte(known) // time, runId, record_id, message, TENANT, ...
				goto dispatch
			}
			rec.SetAttr(internBytes(key), lfText(&txt, v))
		}
	}

	if ts.s == ts.e {
		return missingField(f, "ts")
	}
	raw := lfRaw(b, ts)
	t, tn, ok := parseLogTime(raw)
	if !ok || tn != len(raw) {
		return invalidTimestamp(f, off+ts.s, raw)
	}
	rec.Time = t
	if rec.Tenant == "" {
		return missingField(f, "tenant")
	}
	if rec.Mailbox == "" {
		return missingField(f, "mailbox")
	}

	setLevel(rec, lfRaw(b, level), level.set, func() string { return lfText(&txt, level) })

	if event.set {
		raw := lfRaw(b, event)
		rec.Event = schemas.EventMessage
		if ev, ok := lookupEvent(raw); ok {
			rec.Event = ev
		} else {
			rec.SetAttr("event", lfText(&txt, event))
		}
	}
	for _, c := range [...]struct {
		v    lfValue
		name string
		dst  *int
	}{{synced, "synced", &rec.Synced}, {failed, "failed", &rec.Failed}} {
		if !c.v.set {
			continue
		}
		raw := lfRaw(b, c.v)
		n, ok := parseInt(raw)
		if !ok {
			return parseErr(f, off+c.v.s, "invalid "+c.name+" count "+quoteSnippet(raw))
		}
		*c.dst = n
	}
	rec.HasCounts = rec.Event == schemas.EventRunFinished || synced.set || failed.set
	if status.set {
		if st, ok := parseHTTPStatus(lfRaw(b, status)); ok {
			rec.HTTPStatus = st
		} else {
			rec.SetAttr(statusKey, lfText(&txt, status))
		}
	}
	return nil
}

// logfmtKeyFolded returns the key a sync engine entry's key stands for
// when it is written in another case, with other separators, or with the
// name other logfmt loggers give the field (time, message, lvl); "" for
// any other key.
func logfmtKeyFolded(key []byte) string {
	var buf [24]byte
	switch string(foldKey(key, &buf)) {
	case "ts", "time", "timestamp":
		return "ts"
	case "level", "lvl":
		return "level"
	case "component":
		return "component"
	case "tenant":
		return "tenant"
	case "mailbox":
		return "mailbox"
	case "run", "runid":
		return "run"
	case "event":
		return "event"
	case "record", "recordid":
		return "record"
	case "recordtype":
		return "record_type"
	case "msg", "message":
		return "msg"
	case "synced":
		return "synced"
	case "failed":
		return "failed"
	case "status":
		return "status"
	case "httpstatus":
		return "http_status"
	}
	return ""
}

func isLogfmtSpace(c byte) bool { return lfSpace[c] }

// lfSpace marks the bytes that separate pairs; lfKeyStop those that end a key.
var lfSpace, lfKeyStop = func() (sp, ks [256]bool) {
	for _, c := range []byte(" \t\r\n") {
		sp[c], ks[c] = true, true
	}
	ks['='], ks['"'] = true, true
	return sp, ks
}()

// lookupEvent maps an engine event name onto an Event without allocating:
// the contract's names, or the same events named otherwise (eventAliases).
func lookupEvent(b []byte) (schemas.Event, bool) {
	for e := schemas.EventRunStarted; e <= schemas.EventRunFinished; e++ {
		if e.String() == string(b) {
			return e, true
		}
	}
	if string(b) == schemas.EventMessage.String() {
		return schemas.EventMessage, true
	}
	var buf [24]byte
	e, ok := eventAliases[string(foldKey(b, &buf))]
	return e, ok
}

// eventAliases are other names of the engine's events (folded: lower
// case, letters and digits only), as another version or logger writes
// them: run_completed, RunFinished, record_error, ...
var eventAliases = map[string]schemas.Event{
	"runstarted": schemas.EventRunStarted, "runstart": schemas.EventRunStarted, "runbegin": schemas.EventRunStarted,
	"syncstarted":  schemas.EventRunStarted,
	"recordsynced": schemas.EventRecordSynced, "recordsync": schemas.EventRecordSynced, "recordsuccess": schemas.EventRecordSynced,
	"recordsucceeded": schemas.EventRecordSynced, "recordsynchronized": schemas.EventRecordSynced, "itemsynced": schemas.EventRecordSynced,
	"recordfailed": schemas.EventRecordFailed, "recordfailure": schemas.EventRecordFailed, "recorderror": schemas.EventRecordFailed,
	"itemfailed": schemas.EventRecordFailed, "recordsyncfailed": schemas.EventRecordFailed,
	"runfailed": schemas.EventRunFailed, "runfailure": schemas.EventRunFailed, "runerror": schemas.EventRunFailed,
	"runaborted": schemas.EventRunFailed, "syncfailed": schemas.EventRunFailed,
	"runfinished": schemas.EventRunFinished, "runfinish": schemas.EventRunFinished, "runcompleted": schemas.EventRunFinished,
	"runcomplete": schemas.EventRunFinished, "runend": schemas.EventRunFinished, "runended": schemas.EventRunFinished,
	"syncfinished": schemas.EventRunFinished, "synccompleted": schemas.EventRunFinished,
}

// lfRaw returns a value's bytes, unescaped if need be.
func lfRaw(b []byte, v lfValue) []byte {
	if v.esc {
		return []byte(lfUnescape(b[v.s:v.e]))
	}
	return b[v.s:v.e]
}

// lfText returns a value as a string sharing the entry's copy (or a new
// string when it had escapes).
func lfText(txt *entryText, v lfValue) string {
	if v.esc {
		return lfUnescape(txt.b[v.s:v.e])
	}
	return txt.sub(v.s, v.e)
}

// lfUnescape decodes \" \\ \n \r \t in a quoted value; any other backslash
// is kept as it is.
func lfUnescape(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == '\\' && i+1 < len(b) {
			switch b[i+1] {
			case '"', '\\':
				c = b[i+1]
				i++
			case 'n':
				c = '\n'
				i++
			case 'r':
				c = '\r'
				i++
			case 't':
				c = '\t'
				i++
			}
		}
		sb.WriteByte(c)
	}
	return sb.String()
}
