package parse

import "bytes"

// JSON envelopes: one event per message (or archive line) of the shippers
// that write JSON. Their default shapes, with the fields that tell them
// apart (docs/shippers.md has the sources):
//
//	Filebeat, Elastic Agent  {"@timestamp":"…Z","@metadata":{"beat":"filebeat",…},"message":"…","log":{"offset":0,"file":{"path":"…"}},"host":{"name":"…"},"agent":{…},"ecs":{…},"input":{…}}
//	Logstash (json codec)    {"@timestamp":"…","@version":"1","message":"…","event":{"original":"…"},"host":{"name":"…"},"log":{"file":{"path":"…"}}}
//	Fluent Bit               {"@timestamp":1795515362.123457,"log":"…"}
//	Fluentd (out_kafka2)     {"message":"…"}
//	Vector                   {"file":"…","host":"…","message":"…","source_type":"file","timestamp":"…Z"}
//
// Other shippers put the line under other names: GELF "short_message",
// Splunk's HTTP Event Collector "event", journald's JSON export "MESSAGE",
// NXLog "Message", a collector's "body", a JSON logger's "msg". Rather
// than a list that is never complete, an object whose known fields hold no
// entry, and which is no C4CC entry itself, is an envelope when one of its
// top-level members parses as a log entry (anyEntryMember).
//
// A C4CC Connector entry is a JSON object too, and has "message" and
// "@timestamp" as well: what tells it from an envelope are its own fields
// (tenant, mailbox, runId, level, logger, recordId, recordType, http),
// which no shipper writes, against the shippers' (@metadata, @version,
// source_type, agent, ecs, input, a "log" field, host, file, path).

// jsonMarker is what a top-level key says about an object.
type jsonMarker uint8

const (
	markNeutral  jsonMarker = iota // both have it: message, @timestamp, ...
	markC4CC                       // a C4CC Connector entry's own field
	markEnvelope                   // a field shippers write, and a C4CC entry might carry as an extra
	markShipper                    // a field only shippers write
)

// jsonKeyMarkers classifies top-level keys; a key not listed is neutral.
// A C4CC field makes an object a C4CC entry unless a shipper-only field
// is there too (an envelope whose event got a "level" from a processor).
var jsonKeyMarkers = map[string]jsonMarker{
	"tenant": markC4CC, "mailbox": markC4CC, "runId": markC4CC, "run": markC4CC, "run_id": markC4CC,
	"level": markC4CC, "logger": markC4CC, "recordId": markC4CC, "recordType": markC4CC, "http": markC4CC,
	"@metadata": markShipper, "@version": markShipper, "source_type": markShipper, "agent": markShipper,
	"ecs": markShipper, "input": markShipper, "data_stream": markShipper,
	"log": markEnvelope, "host": markEnvelope, "file": markEnvelope, "path": markEnvelope, "filename": markEnvelope,
	"event": markEnvelope, "fields": markEnvelope, "tags": markEnvelope, "kubernetes": markEnvelope, "container": markEnvelope,
}

// jsonEvent is what an envelope's fields say, as spans of the message.
type jsonEvent struct {
	message, log, original jsonValue // the entry's candidates, in this order
	host, file             jsonValue // strings
	shipper                string
	c4cc, envelope, strong bool        // markers seen (strong: a shipper-only one)
	numericTime            bool        // "@timestamp" is a number (Fluent Bit)
	others                 int         // keys that are neither timestamps nor the entry
	cands                  []jsonValue // the top-level strings and objects
	c4ccRequired           uint8       // which of a C4CC entry's required fields it has
}

// json takes the entry out of a JSON envelope. ok is false, with no error,
// when msg is not one (a C4CC Connector entry, or not JSON at all: the
// parsers say what is wrong with it); forced makes a JSON object without a
// shipper's marker count as an envelope too. An envelope without an entry
// field is an error.
func (u *Unwrapper) json(msg []byte, depth int, forced bool) (Unwrapped, bool, error) {
	b := trimSpace(msg)
	p := jsonParser{b: b}
	ev := jsonEvent{cands: u.cands[:0]}
	ok := p.event(&ev)
	u.cands = ev.cands
	if !ok {
		return Unwrapped{}, false, nil
	}
	entry := ev.message
	switch {
	case entry.kind != '"' && ev.log.kind == '"':
		entry = ev.log
	case entry.kind != '"' && ev.original.kind == '"':
		entry = ev.original
	}
	// An object with a C4CC entry's own fields is one, unless a
	// shipper-only field says otherwise and what it holds is a log entry;
	// with neither kind of field, it is an envelope when what it holds is
	// a log entry (Fluentd's {"message": ...}, or any JSON shipper).
	entryLike := func() bool {
		return entry.kind == '"' && DetectFormat(p.unescaped(entry, nil)) != FormatUnknown
	}
	var envelope bool
	switch {
	case ev.c4cc:
		envelope = ev.strong && entryLike()
	case ev.envelope:
		envelope = true
	default:
		envelope = entryLike()
	}
	if !envelope || entry.kind != '"' {
		if m, ok := u.anyEntryMember(&p, &ev); ok {
			entry, envelope = m, true
		}
	}
	if !envelope && !forced {
		return Unwrapped{}, false, nil
	}
	shipper := ev.shipper
	if shipper == "" {
		shipper = "json"
	}
	if entry.kind != '"' && entry.kind != '{' {
		return Unwrapped{}, false, envelopeErr(shipper, "no message field")
	}
	u.bufs[depth] = p.unescaped(entry, u.bufs[depth][:0])
	return Unwrapped{
		Entry:   u.bufs[depth],
		Shipper: shipper,
		Host:    p.textOf(ev.host),
		File:    p.textOf(ev.file),
	}, true, nil
}

// anyEntryMember finds the entry of an envelope whose known fields hold
// none: of the object's top-level strings and objects, the longest that
// parses as a log entry (ties: the first). An object with the fields a
// C4CC Connector entry cannot do without (a timestamp, tenant, mailbox),
// or that parses as one (its keys in another case), is one, or a broken
// one, and has none. When no member parses, an
// object without any of a C4CC entry's fields takes its longest string
// that looks like an entry (DetectFormat), so that the parser says what
// is wrong with it, or like a stack trace's line (IsContinuation), so
// that it is joined to its entry. The choice depends on the message alone, never on the
// messages before it.
func (u *Unwrapper) anyEntryMember(p *jsonParser, ev *jsonEvent) (jsonValue, bool) {
	if ev.c4ccRequired == c4ccTime|c4ccTenant|c4ccMailbox || Entry(p.b, &u.rec) == nil {
		return jsonValue{}, false // an entry (its keys in any case: parseC4CCJSON)
	}
	var best, looks jsonValue
	for _, v := range ev.cands {
		if v.e-v.s <= best.e-best.s {
			continue
		}
		u.probe = p.unescaped(v, u.probe[:0])
		if DetectFormat(u.probe) == FormatUnknown {
			if v.kind == '"' && IsContinuation(u.probe) && v.e-v.s > looks.e-looks.s {
				looks = v // a stack trace's line sent alone
			}
			continue
		}
		if Entry(u.probe, &u.rec) == nil {
			best = v
		} else if v.kind == '"' && v.e-v.s > looks.e-looks.s {
			looks = v
		}
	}
	switch {
	case best.kind != 0:
		return best, true
	case looks.kind != 0 && !ev.c4cc:
		return looks, true
	}
	return jsonValue{}, false
}

// The fields a C4CC Connector entry cannot do without (parseC4CCJSON), as
// bits of jsonEvent.c4ccRequired.
const (
	c4ccTime uint8 = 1 << iota
	c4ccTenant
	c4ccMailbox
)

// maxEntryCandidates bounds the members anyEntryMember considers.
const maxEntryCandidates = 32

// event reads the top-level fields of the object in p into ev. It reports
// false when p does not hold one JSON object.
func (p *jsonParser) event(ev *jsonEvent) bool {
	it, err := p.object(0, 0)
	if err != nil {
		return false
	}
	for {
		key, v, ok, err := it.next()
		if err != nil {
			return false
		}
		if !ok {
			break
		}
		k := string(key) // no allocation: a map index and a switch
		if (v.kind == '"' || v.kind == '{') && len(ev.cands) < maxEntryCandidates {
			ev.cands = append(ev.cands, v)
		}
		switch jsonKeyMarkers[k] {
		case markC4CC:
			ev.c4cc = true
		case markEnvelope:
			ev.envelope = true
		case markShipper:
			ev.envelope, ev.strong = true, true
		}
		switch k {
		case "message":
			ev.message = v
			continue
		case "@timestamp", "timestamp", "time":
			ev.numericTime = ev.numericTime || k == "@timestamp" && v.kind == 'n'
			ev.c4ccRequired |= c4ccTime
			continue
		case "tenant":
			ev.c4ccRequired |= c4ccTenant
		case "mailbox":
			ev.c4ccRequired |= c4ccMailbox
		case "@metadata":
			p.beatsMetadata(v, ev)
		case "@version":
			ev.shipper = "logstash"
		case "source_type":
			ev.shipper = "vector"
		case "agent":
			if t := p.member(v, "type"); t.kind == '"' && ev.shipper == "" {
				ev.shipper = p.textOf(t)
			}
		case "log":
			if v.kind == '"' {
				ev.log = v
				continue
			}
			if f := p.member(p.member(v, "file"), "path"); f.kind == '"' {
				ev.file = f
			}
		case "event":
			ev.original = p.member(v, "original")
		case "host":
			switch v.kind {
			case '"':
				ev.host = v
			case '{':
				ev.host = p.member(v, "name")
			}
		case "file", "path", "filename":
			if v.kind == '"' && ev.file.kind != '"' {
				ev.file = v
			}
		// other shippers' names for them: GELF, journald, NXLog, a
		// collector's flattened attributes, Splunk HEC (whose "source"
		// is often a path, but may be any name)
		case "hostname", "_HOSTNAME", "Hostname", "host.name":
			if v.kind == '"' && ev.host.kind != '"' {
				ev.host = v
			}
		case "_file", "FileName", "log.file.path", "log.file.name", "filepath", "file_path", "source":
			if v.kind == '"' && ev.file.kind != '"' && (k != "source" || bytes.ContainsAny(p.b[v.s:v.e], `/\`)) {
				ev.file = v
			}
		}
		ev.others++
	}
	if p.ws(it.i) < len(p.b) {
		return false
	}
	if ev.shipper == "" {
		switch {
		case ev.numericTime && ev.log.kind == '"':
			ev.shipper = "fluent-bit"
		case ev.envelope:
		case ev.message.kind == '"' && ev.others == 0:
			ev.shipper = "fluentd"
		}
	}
	return true
}

// beatsMetadata reads the shipper's name from Filebeat's "@metadata".
func (p *jsonParser) beatsMetadata(v jsonValue, ev *jsonEvent) {
	if b := p.member(v, "beat"); b.kind == '"' {
		ev.shipper = p.textOf(b)
	}
}

// member returns the value of key in the object v, or a zero jsonValue
// when v is not an object or has no such key.
func (p *jsonParser) member(v jsonValue, key string) jsonValue {
	if v.kind != '{' {
		return jsonValue{}
	}
	it, err := p.object(v.s, 1)
	if err != nil {
		return jsonValue{}
	}
	for {
		k, m, ok, err := it.next()
		if err != nil || !ok {
			return jsonValue{}
		}
		if string(k) == key {
			return m
		}
	}
}

// unescaped appends the decoded string v to dst.
func (p *jsonParser) unescaped(v jsonValue, dst []byte) []byte {
	if !v.esc {
		return append(dst, p.b[v.s:v.e]...)
	}
	return appendJSONUnescaped(dst, p.b[v.s:v.e])
}

// textOf is the decoded string v, or "" when v is not a string.
func (p *jsonParser) textOf(v jsonValue) string {
	if v.kind != '"' {
		return ""
	}
	if v.esc {
		return jsonUnescape(p.b[v.s:v.e])
	}
	return string(p.b[v.s:v.e])
}
