package parse

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/syncwatch/syncwatch/schemas"
)

// Envelope is how log entries arrive: as the connectors wrote them (raw),
// or wrapped by the log shipper that tailed their files and produced them
// to Kafka or archived them.
type Envelope uint8

// Envelopes.
const (
	// EnvelopeAuto recognises the envelope of each message from its shape:
	// the default.
	EnvelopeAuto Envelope = iota
	// EnvelopeRaw is no envelope: a message (a line of a file) is one log
	// entry.
	EnvelopeRaw
	// EnvelopeJSON is a JSON event of a shipper: Filebeat and Elastic
	// Agent, Logstash's json codec, Fluent Bit, Fluentd, Vector. The entry
	// is in "message" (or "log", or "event.original").
	EnvelopeJSON
	// EnvelopeSyslog is a syslog-style text header before the entry:
	// rsyslog's omkafka (RSYSLOG_FileFormat by default), syslog-ng's
	// kafka-c(), RFC 3164, RFC 5424, Logstash's plain codec.
	EnvelopeSyslog
	// EnvelopeOTLP is an OpenTelemetry collector's batch of log records,
	// otlp_proto (its Kafka exporter's default) or otlp_json: one message
	// carries many entries, each a record's body.
	EnvelopeOTLP
)

var envelopeNames = [...]string{"auto", "raw", "json", "syslog", "otlp"}

// String returns the envelope's name, as ParseEnvelope reads it.
func (e Envelope) String() string {
	if int(e) < len(envelopeNames) {
		return envelopeNames[e]
	}
	return fmt.Sprintf("Envelope(%d)", int(e))
}

// envelopeAliases are the shipper names ParseEnvelope accepts besides the
// envelopes' own names.
var envelopeAliases = map[string]Envelope{
	"filebeat": EnvelopeJSON, "elastic-agent": EnvelopeJSON, "logstash": EnvelopeJSON,
	"fluent-bit": EnvelopeJSON, "fluentbit": EnvelopeJSON, "fluentd": EnvelopeJSON, "vector": EnvelopeJSON,
	"rsyslog": EnvelopeSyslog, "syslog-ng": EnvelopeSyslog, "rfc3164": EnvelopeSyslog, "rfc5424": EnvelopeSyslog,
	"logstash-plain": EnvelopeSyslog,
	"otel":           EnvelopeOTLP, "otlp_proto": EnvelopeOTLP, "otlp_json": EnvelopeOTLP,
}

// ParseEnvelope reads an envelope's name (auto, raw, json, syslog, otlp)
// or a shipper's (filebeat, logstash, fluent-bit, fluentd, vector,
// rsyslog, syslog-ng, rfc5424, otel, ...), case-insensitively. The empty
// string is EnvelopeAuto.
func ParseEnvelope(s string) (Envelope, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return EnvelopeAuto, nil
	}
	for i, n := range envelopeNames {
		if s == n {
			return Envelope(i), nil
		}
	}
	if e, ok := envelopeAliases[s]; ok {
		return e, nil
	}
	return EnvelopeAuto, fmt.Errorf("unknown envelope %q: want auto, raw, json, syslog or otlp (or a shipper: filebeat, logstash, fluent-bit, fluentd, vector, rsyslog, syslog-ng, otel)", s)
}

// Unwrapped is one log entry taken out of a message.
type Unwrapped struct {
	// Entry is the log entry as the connector wrote it: the shipper's
	// escapes undone (JSON string escapes; rsyslog's "\n" and "#012" line
	// breaks), its framing (a syslog header, a trailing newline) removed.
	// It points into the message or into the Unwrapper's buffers, and is
	// valid until the Unwrapper's next call.
	Entry []byte
	// Shipper names who wrapped the entry ("filebeat", "logstash",
	// "fluent-bit", "fluentd", "vector", "otlp", "rsyslog", "syslog-ng",
	// "syslog"; "json" for a shipper not told apart); "" for a raw entry.
	// An envelope inside another gives both, "filebeat/rsyslog".
	Shipper string
	// Host and File are where the shipper read the entry, as far as its
	// envelope says ("" when it does not). With the shipper they identify
	// the stream the entry belongs to, to which continuation lines sent
	// as messages of their own are joined.
	Host, File string
	// SecondsOnly is set when the entry's timestamp was rebuilt from the
	// envelope's, which has whole seconds: syslog-ng's default file()
	// source took the ExchangeConnector entry's own timestamp as the
	// message's and dropped its milliseconds. The entries of one second
	// then keep the order they came in (see pipeline's NormalizeStage).
	SecondsOnly bool
}

// maxEnvelopeDepth bounds envelopes inside envelopes (Filebeat tailing a
// file rsyslog wrote): deeper nesting is left for the parser to reject.
const maxEnvelopeDepth = 3

// Unwrapper takes log entries out of their shippers' envelopes. Its
// buffers are reused from call to call: it is not safe for concurrent use
// (use one per goroutine), and what Unwrap returns is valid until its next
// call.
type Unwrapper struct {
	// Envelope is the envelope to expect. Default: EnvelopeAuto.
	Envelope Envelope

	out  []Unwrapped
	bufs [maxEnvelopeDepth][]byte // decoded entries, one per nesting level
	// for an envelope whose entry field has an unknown name (see
	// Unwrapper.anyEntryMember): its members, a decoded one, a record
	cands []jsonValue
	probe []byte
	rec   schemas.LogRecord
	// a batch's pieces (Unwrapper.batch)
	pieces [][]byte
	elems  []jsonValue
	// enveloped: the last message Unwrap read was in an envelope (RawEntry
	// then expects the next one to be too)
	enveloped bool
}

// RawEntry parses msg when it is a producer's entry of its own, in no
// envelope, and reports whether it was: what Unwrap (with EnvelopeAuto)
// and then Entry would give, read once instead of twice. An entry that
// parses is in no envelope, unless it is a JSON object with a
// shipper-only field (an envelope with a C4CC entry's fields, which a
// processor added); syslog headers and the other shippers' JSON do not
// parse as entries. When RawEntry reports false, rec holds nothing
// useful: use Unwrap and Entry. After a message Unwrap found in an
// envelope, it reports false at once (a topic or file that carries
// envelopes carries them throughout), so that enveloped input is not
// parsed twice either.
func (u *Unwrapper) RawEntry(msg []byte, rec *schemas.LogRecord) bool {
	return u.RawEntryText(msg, "", rec)
}

// RawEntryText is RawEntry for a message also held as a string, text ==
// string(msg): see EntryText.
func (u *Unwrapper) RawEntryText(msg []byte, text string, rec *schemas.LogRecord) bool {
	if u.enveloped || u.Envelope != EnvelopeAuto {
		return false
	}
	if EntryText(msg, text, rec) != nil {
		return false
	}
	if rec.Producer != schemas.ProducerC4CC && hasPieces(msg) {
		return false // lines of several entries (a JSON entry is one object)
	}
	if rec.Producer == schemas.ProducerC4CC {
		for _, a := range rec.Attributes {
			if jsonKeyMarkers[a.Key] == markShipper {
				return false
			}
		}
	}
	return true
}

// Unwrap returns the log entries msg carries: msg itself for a raw entry,
// the entry inside for a shipper's envelope (unwrapped again when it is
// itself an envelope), every record's entry for an OpenTelemetry batch
// (none for an empty one), and each entry of a batch that is no envelope
// as a whole: entries one per line, JSON events one per line, or a JSON
// array of events or lines (see batch). It does not block.
//
// An error (an *Error whose Reason names the envelope) means msg is an
// envelope that carries no entry: an event without a message field, an
// OTLP batch that does not decode. An entry that is not a log entry is not
// an error here: parsing it (Entry) says why.
func (u *Unwrapper) Unwrap(msg []byte) ([]Unwrapped, error) {
	u.out = u.out[:0]
	switch u.Envelope {
	case EnvelopeRaw:
		u.out = append(u.out, Unwrapped{Entry: msg})
		return u.out, nil
	case EnvelopeOTLP:
		return u.otlp(msg)
	}
	if u.Envelope == EnvelopeAuto || u.Envelope == EnvelopeJSON {
		msg = withoutSchemaID(msg)
	}
	if u.Envelope == EnvelopeAuto && looksLikeOTLP(msg) {
		u.enveloped = true
		return u.otlp(msg)
	}
	w, err := u.unwrap(msg, 0, u.Envelope)
	if (err != nil || w.Shipper == "") && u.batch(msg) {
		return u.out, nil
	}
	if err != nil {
		u.enveloped = true // an envelope without an entry
		return nil, err
	}
	u.enveloped = w.Shipper != ""
	if !u.enveloped {
		u.out = append(u.out, w) // a producer's own message: one entry
	} else {
		u.out = appendEntries(u.out, w)
	}
	return u.out, nil
}

// withoutSchemaID returns msg without the header a schema registry's
// serializer puts before a JSON value (Confluent's wire format: a zero
// byte and a 4-byte schema id), as Kafka Connect's JsonSchemaConverter
// and the JSON Schema serializers write it; msg itself when it has none.
// (Avro and Protobuf values cannot be read without their schema.)
func withoutSchemaID(msg []byte) []byte {
	if len(msg) > 5 && msg[0] == 0 && (msg[5] == '{' || msg[5] == '[') {
		return msg[5:]
	}
	return msg
}

// appendEntries appends w, an entry out of an envelope, to dst, split
// where a shipper's multiline rule glued lines that are not the entry's
// (splitPieces).
func appendEntries(dst []Unwrapped, w Unwrapped) []Unwrapped {
	if bytes.IndexByte(bytes.TrimRight(w.Entry, "\r\n"), '\n') < 0 {
		return append(dst, w) // one line: the common case
	}
	var buf [8][]byte
	for _, piece := range splitPieces(w.Entry, buf[:0]) {
		w.Entry = piece
		dst = append(dst, w)
	}
	return dst
}

// splitPieces appends to dst the entries of b, lines of one or more
// entries, split as a file's lines are (Scanner): after the first line of
// an ExchangeConnector entry only its continuation lines (IsContinuation)
// belong to it; a line that starts an entry of any format starts one (a
// shipper's multiline rule that joins every line not starting with a
// date glues another producer's line, or garbage, onto the entry before
// it; a producer batches lines into one message); the lines after the
// first of an entry of another format that start none belong to it (a
// JSON object over lines); and a blank line ends the entry and is
// dropped.
func splitPieces(b []byte, dst [][]byte) [][]byte {
	start := -1 // where the entry being collected starts; -1: none
	log4net := false
	for pos := 0; pos < len(b); {
		end, next := len(b), len(b)
		if i := bytes.IndexByte(b[pos:], '\n'); i >= 0 {
			end, next = pos+i, pos+i+1
		}
		line := b[pos:end]
		switch {
		case isBlankLine(line):
			if start >= 0 {
				dst = appendPiece(dst, b[start:pos])
				start = -1
			}
		case start >= 0 && (log4net && IsContinuation(line) || !log4net && DetectFormat(line) == FormatUnknown):
			// an ExchangeConnector entry's stack trace, or the rest of
			// an entry of another format (a JSON object over lines)
		default:
			if start >= 0 {
				dst = appendPiece(dst, b[start:pos])
			}
			start, log4net = pos, DetectFormat(line) == FormatLog4net
		}
		pos = next
	}
	if start >= 0 {
		dst = appendPiece(dst, b[start:])
	}
	return dst
}

// appendPiece appends a piece of an entry, unless it is blank.
func appendPiece(dst [][]byte, piece []byte) [][]byte {
	if isBlankLine(piece) {
		return dst
	}
	return append(dst, piece)
}

// unwrap takes one entry out of msg, at nesting level depth; force, if not
// EnvelopeAuto, is the envelope msg must have.
func (u *Unwrapper) unwrap(msg []byte, depth int, force Envelope) (Unwrapped, error) {
	var (
		w   Unwrapped
		ok  bool
		err error
	)
	switch force {
	case EnvelopeJSON:
		w, ok, err = u.json(msg, depth, true)
		if !ok && err == nil {
			err = envelopeErr("json", "not a JSON event with a message")
		}
	case EnvelopeSyslog:
		if w, ok = u.syslog(msg, depth); !ok {
			err = envelopeErr("syslog", "no syslog header")
		}
	default:
		switch b := trimSpace(msg); {
		case len(b) == 0:
		case b[0] == '{':
			w, ok, err = u.json(msg, depth, false)
		default:
			w, ok = u.syslog(msg, depth)
		}
	}
	if err != nil || !ok {
		return Unwrapped{Entry: msg}, err
	}
	if depth+1 < maxEnvelopeDepth {
		inner, ierr := u.unwrap(w.Entry, depth+1, EnvelopeAuto)
		if ierr == nil && inner.Shipper != "" {
			inner.Shipper = w.Shipper + "/" + inner.Shipper
			if inner.Host == "" && inner.File == "" {
				inner.Host, inner.File = w.Host, w.File
			}
			return inner, nil
		}
	}
	return w, nil
}

// envelopeErr is the error of an envelope that carries no entry.
func envelopeErr(shipper, what string) *Error {
	return &Error{Format: FormatUnknown, Reason: shipper + " envelope: " + what, Offset: -1}
}

// trimSpace returns b without leading and trailing entry whitespace.
func trimSpace(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && isEntrySpace(b[i]) {
		i++
	}
	for j > i && isEntrySpace(b[j-1]) {
		j--
	}
	return b[i:j]
}
