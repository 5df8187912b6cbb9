package ship

import (
	"bytes"
	"unicode"
)

// How each shipper's file reader cuts an entry into events (see the
// package documentation, "Lines"):
//
//   - crStrip: the reader strips the "\r" of a CRLF line ending from every
//     physical line (Filebeat line_terminator auto, Fluent Bit tail,
//     Fluentd in_tail line.chomp!); otherwise the "\r" stays in the
//     message (Logstash file input and Vector file source split on "\n"
//     only).
//   - Fluentd's multiline parser joins the raw lines, "\r\n" included, and
//     chomps the whole event: only the last line loses its "\r".
//   - the OpenTelemetry filelog receiver trims leading and trailing white
//     space of every token (preserve_leading_whitespaces and
//     preserve_trailing_whitespaces default false): a stack-trace line
//     "   at X" is sent as "at X"; with a multiline rule only the ends of
//     the whole entry are trimmed.
//   - empty events are dropped by Filebeat (filestream skips empty
//     messages) and the filelog receiver; the others send them.
type lineRules struct {
	crStrip   bool
	chompAll  bool // multiline: join raw, strip the final "\r" only (Fluentd)
	trim      bool
	dropEmpty bool
}

func (k Kind) rules() lineRules {
	switch k {
	case Filebeat:
		return lineRules{crStrip: true, dropEmpty: true}
	case FluentBit, FluentBitGELF:
		return lineRules{crStrip: true}
	case Fluentd:
		return lineRules{crStrip: true, chompAll: true}
	case OTLPProto, OTLPJSON:
		return lineRules{trim: true, dropEmpty: true}
	}
	return lineRules{} // Logstash, Vector
}

// tokens appends to dst the events k reads from one entry raw (its
// physical lines separated by "\n", no trailing newline) that starts at
// byte offset off of its file.
func (k Kind) tokens(dst []token, raw []byte, off int64, multiline bool) []token {
	r := k.rules()
	lines := bytes.Split(raw, []byte{'\n'})
	if !multiline || len(lines) == 1 {
		for _, l := range lines {
			t := r.line(l)
			if len(t) > 0 || !r.dropEmpty {
				dst = append(dst, token{text: t, offset: off, lines: 1})
			}
			off += int64(len(l)) + 1
		}
		return dst
	}
	var t []byte
	switch {
	case r.trim:
		t = bytes.TrimFunc(raw, unicode.IsSpace)
	case r.chompAll:
		t = bytes.TrimSuffix(raw, []byte{'\r'})
	case r.crStrip:
		t = make([]byte, 0, len(raw))
		for i, l := range lines {
			if i > 0 {
				t = append(t, '\n')
			}
			t = append(t, bytes.TrimSuffix(l, []byte{'\r'})...)
		}
	default:
		t = raw
	}
	if len(t) > 0 || !r.dropEmpty {
		dst = append(dst, token{text: t, offset: off, lines: len(lines)})
	}
	return dst
}

// line returns the event text of one physical line.
func (r lineRules) line(l []byte) []byte {
	switch {
	case r.trim:
		return bytes.TrimFunc(l, unicode.IsSpace)
	case r.crStrip:
		return bytes.TrimSuffix(l, []byte{'\r'})
	}
	return l
}
