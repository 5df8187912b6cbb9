package parse

import "bytes"

// Syslog-style envelopes: a text header before the entry. The shapes, with
// the shippers' defaults (docs/shippers.md has the sources):
//
//	rsyslog omkafka (RSYSLOG_FileFormat)  2026-11-24T10:16:02.123456+00:00 conn01 ExchangeConnector 2026-11-24 10:16:01,900 [7] ERROR …\n
//	rsyslog RSYSLOG_ForwardFormat         <133>2026-11-24T10:16:02.123456+00:00 conn01 ExchangeConnector 2026-11-24 …
//	syslog-ng kafka-c() ($ISODATE $HOST $MSGHDR$MSG)
//	                                      2026-11-24T10:16:02+00:00 conn01 2026-11-24 10:16:01,900 [7] ERROR …
//	Logstash (plain codec)                2026-11-24T10:16:02.123456Z {name=conn01} 2026-11-24 10:16:01,900 [7] ERROR …
//	RFC 3164                              <133>Nov 24 10:16:02 conn01 ExchangeConnector: 2026-11-24 …
//	RFC 5424                              <133>1 2026-11-24T10:16:02.123456+00:00 conn01 ExchangeConnector - - - 2026-11-24 …
//
// The tag (program) is told from the entry by what follows the host: an
// entry starts like one of the three formats (DetectFormat) or, when a
// shipper sent a stack trace's lines one by one, like a continuation line;
// anything else before the entry is the tag.
//
// rsyslog escapes line breaks inside a message: imfile with startmsg.regex
// joins lines with the two characters `\n`, with readMode 1 or 2 with
// "#012"; syslog-ng keeps them raw. A `\n` or "#012" is undone only where
// a continuation line follows it, so that a connector's own "C:\new" or
// "#0123" stays as written.

// syslog takes the entry out of a syslog-style header. ok is false when msg
// has none.
func (u *Unwrapper) syslog(msg []byte, depth int) (Unwrapped, bool) {
	b := trimSpace(msg)
	i := 0
	if len(b) > 0 && b[0] == '<' { // <PRI>
		j := 1
		for j < len(b) && j < 5 && isDigit(b[j]) {
			j++
		}
		if j == 1 || j >= len(b) || b[j] != '>' {
			return Unwrapped{}, false
		}
		i = j + 1
		if i+1 < len(b) && b[i] == '1' && b[i+1] == ' ' {
			return u.rfc5424(b, i+2, depth)
		}
	}
	shipper := "rfc3164"
	ts, n := rfc3164Time(b[i:])
	if n == 0 {
		var ok bool
		if ts, n, shipper, ok = rfc3339Time(b[i:]); !ok {
			return Unwrapped{}, false
		}
	}
	i += n
	if i >= len(b) || b[i] != ' ' {
		return Unwrapped{}, false
	}
	if rest := b[i+1:]; entryWithoutHost(rest) {
		// a line behind a timestamp only: kubectl logs --timestamps,
		// docker logs -t
		return u.syslogEntry("timestamp", nil, nil, rest, depth), true
	}
	host, i := hostToken(b, i+1)
	if host == nil || i >= len(b) || b[i] != ' ' {
		return Unwrapped{}, false
	}
	rest := b[i+1:]
	tag, entry := splitTag(rest)
	e, recovered := recoverLog4net(ts, tag, entry)
	if recovered {
		// syslog-ng's file() source parsed the ExchangeConnector line as
		// syslog and took its timestamp (see recoverLog4net)
		entry = e
	}
	w := u.syslogEntry(shipper, host, tag, entry, depth)
	w.SecondsOnly = recovered
	return w, true
}

// rfc5424 reads an RFC 5424 header from b[i:] (after "<PRI>1 "): TIMESTAMP
// HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG].
func (u *Unwrapper) rfc5424(b []byte, i, depth int) (Unwrapped, bool) {
	var tok [5][]byte // timestamp, host, app, procid, msgid
	for k := range tok {
		j := bytes.IndexByte(b[i:], ' ')
		if j <= 0 {
			return Unwrapped{}, false
		}
		tok[k], i = b[i:i+j], i+j+1
	}
	if i >= len(b) {
		return Unwrapped{}, false
	}
	// STRUCTURED-DATA: "-" or one or more [id param="value" ...]
	if b[i] == '-' {
		i++
	} else {
		for i < len(b) && b[i] == '[' {
			j := sdElementEnd(b, i)
			if j < 0 {
				return Unwrapped{}, false
			}
			i = j
		}
	}
	var msg []byte
	if i < len(b) {
		if b[i] != ' ' {
			return Unwrapped{}, false
		}
		msg = b[i+1:]
	}
	host, app := tok[1], tok[2]
	if string(host) == "-" {
		host = nil
	}
	if string(app) == "-" {
		app = nil
	}
	return u.syslogEntry("rfc5424", host, app, msg, depth), true
}

// sdElementEnd returns the index after the SD-ELEMENT "[...]" at b[i], or
// -1 when it does not end: inside its quoted values `\]`, `\"` and `\\`
// are escapes.
func sdElementEnd(b []byte, i int) int {
	quoted := false
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '\\' && quoted:
			j++
		case c == '"':
			quoted = !quoted
		case c == ']' && !quoted:
			return j + 1
		}
	}
	return -1
}

// syslogEntry builds the Unwrapped of a syslog-style envelope, its
// entry's escapes undone.
func (u *Unwrapper) syslogEntry(shipper string, host, tag, entry []byte, depth int) Unwrapped {
	if len(entry) > 0 && entry[len(entry)-1] == '\n' { // RSYSLOG_FileFormat ends in LF
		entry = entry[:len(entry)-1]
		if len(entry) > 0 && entry[len(entry)-1] == '\r' {
			entry = entry[:len(entry)-1]
		}
	}
	if bytes.IndexByte(entry, '\\') >= 0 || bytes.IndexByte(entry, '#') >= 0 {
		u.bufs[depth] = unescapeSyslog(u.bufs[depth][:0], entry)
		entry = u.bufs[depth]
	}
	return Unwrapped{Entry: entry, Shipper: shipper, Host: string(host), File: string(programOf(tag))}
}

// rfc3339Time reads an RFC 3339 timestamp with a 'T' (a raw log4net
// entry's has a space) at the start of b, and names the shipper its form
// suggests: rsyslog writes microseconds and a numeric offset, syslog-ng
// seconds and a numeric offset, Logstash a 'Z'.
func rfc3339Time(b []byte) (ts []byte, n int, shipper string, ok bool) {
	if len(b) < 20 || b[10] != 'T' {
		return nil, 0, "", false
	}
	_, n, ok = parseLogTime(b)
	zoned := n >= 20 && (b[n-1] == 'Z' || b[n-1] == 'z' ||
		n >= 25 && b[n-3] == ':' && (b[n-6] == '+' || b[n-6] == '-') || // +00:00
		n >= 24 && (b[n-5] == '+' || b[n-5] == '-')) // +0000: journalctl -o short-iso
	if !ok || !zoned {
		return nil, 0, "", false // no zone: not a shipper's stamp
	}
	switch {
	case b[n-1] == 'Z':
		shipper = "logstash"
	case b[19] == '.':
		shipper = "rsyslog"
	default:
		shipper = "syslog-ng"
	}
	return b[:19], n, shipper, true
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// rfc3164Time reads an RFC 3164 timestamp, "Nov 24 10:16:02" or "Nov  4
// 10:16:02", at the start of b and returns it and its length (0: none).
func rfc3164Time(b []byte) ([]byte, int) {
	const n = len("Nov 24 10:16:02")
	if len(b) < n || b[3] != ' ' || b[6] != ' ' || b[9] != ':' || b[12] != ':' {
		return nil, 0
	}
	known := false
	for _, m := range months {
		if string(b[:3]) == m {
			known = true
			break
		}
	}
	if !known || !(b[4] == ' ' || isDigit(b[4])) || !isDigit(b[5]) {
		return nil, 0
	}
	for _, k := range [...]int{7, 8, 10, 11, 13, 14} {
		if !isDigit(b[k]) {
			return nil, 0
		}
	}
	return b[:n], n
}

// entryWithoutHost reports whether what follows a header's timestamp is
// the entry itself, with no host before it: it starts like a log4net or
// logfmt entry (no host name does), like a JSON object with a quoted key
// (Logstash's rendering of a host object, "{name=conn01}", has none), or
// with blanks and then a continuation line.
func entryWithoutHost(rest []byte) bool {
	if len(rest) == 0 {
		return false
	}
	switch DetectFormat(rest) {
	case FormatLog4net, FormatLogfmt:
		return true
	case FormatJSON:
		inner := trimSpace(rest[1:])
		return len(inner) > 0 && inner[0] == '"'
	}
	return (rest[0] == ' ' || rest[0] == '\t') && IsContinuation(rest)
}

// hostToken reads the host at b[i:]: a word, or Logstash's rendering of an
// ECS host object, "{name=conn01}" (balanced braces, spaces allowed). It
// returns the host and the index after it; nil when there is none.
func hostToken(b []byte, i int) ([]byte, int) {
	if i >= len(b) || b[i] == ' ' {
		return nil, i
	}
	if b[i] == '{' {
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '{':
				depth++
			case '}':
				if depth--; depth == 0 {
					host := b[i : j+1]
					if k := bytes.Index(host, []byte("name=")); k >= 0 {
						name := host[k+len("name="):]
						if e := bytes.IndexAny(name, ",}"); e >= 0 {
							name = name[:e]
						}
						host = name
					}
					return host, j + 1
				}
			}
		}
		return nil, i
	}
	j := bytes.IndexByte(b[i:], ' ')
	if j < 0 {
		return nil, len(b)
	}
	return b[i : i+j], i + j
}

// splitTag splits what follows the host into the tag (program), if any,
// and the entry. There is no tag when the text starts like an entry or a
// continuation line. After a tag, rsyslog adds a space only when the
// message does not start with one.
func splitTag(rest []byte) (tag, entry []byte) {
	if len(rest) == 0 || DetectFormat(rest) != FormatUnknown || IsContinuation(rest) {
		return nil, rest
	}
	j := bytes.IndexByte(rest, ' ')
	if j < 0 {
		if rest[len(rest)-1] == ':' { // a tag and an empty message
			return rest, nil
		}
		return nil, rest
	}
	tag, entry = rest[:j], rest[j:]
	if len(entry) > 1 && entry[1] != ' ' {
		entry = entry[1:]
	}
	return tag, entry
}

// programOf is the program name of a tag: "ExchangeConnector" of
// "ExchangeConnector:", "ExchangeConnector[7]:" or "ExchangeConnector".
func programOf(tag []byte) []byte {
	tag = bytes.TrimSuffix(tag, []byte(":"))
	if i := bytes.IndexByte(tag, '['); i >= 0 {
		tag = tag[:i]
	}
	return tag
}

// recoverLog4net rebuilds an ExchangeConnector entry that syslog-ng's
// file() source parsed as a syslog message (its default without
// flags(no-parse)): it takes the entry's "2026-11-24 10:16:01,900" as the
// message's timestamp, so the header reads "2026-11-24T10:16:01+00:00
// HOST" and what follows is "[7] ERROR …", or, with program-override(),
// "ExchangeConnector[7]: ERROR …". The entry is the timestamp's date and
// time as written (the milliseconds are lost: ",000") and the rest, the
// thread from the tag's pid when the tag has one.
func recoverLog4net(ts, tag, entry []byte) ([]byte, bool) {
	if len(ts) != 19 || ts[10] != 'T' || DetectFormat(entry) != FormatUnknown {
		return nil, false
	}
	thread := []byte(nil)
	switch {
	case len(tag) > 2 && tag[0] == '[' && tag[len(tag)-1] == ']': // "[7]" taken for the tag
		thread = tag
	case bytes.HasSuffix(tag, []byte("]:")):
		if i := bytes.IndexByte(tag, '['); i >= 0 {
			thread = tag[i : len(tag)-1]
		}
	}
	if thread == nil || !startsWithLevel(entry) {
		return nil, false
	}
	out := make([]byte, 0, 24+len(thread)+1+len(entry))
	out = append(out, ts[:10]...)
	out = append(out, ' ')
	out = append(out, ts[11:19]...)
	out = append(out, ",000 "...)
	out = append(out, thread...)
	out = append(out, ' ')
	return append(out, entry...), true
}

// startsWithLevel reports whether b starts with a log4net level and a
// space.
func startsWithLevel(b []byte) bool {
	for _, l := range [...]string{"debug ", "info ", "warn ", "error ", "fatal "} {
		if len(b) >= len(l) && asciiEqualFold(b[:len(l)-1], l[:len(l)-1]) && b[len(l)-1] == ' ' {
			return true
		}
	}
	return false
}

// unescapeSyslog appends entry to dst with rsyslog's escapes undone: `\n`
// and "#012" where a line follows (startsLine: a line break imfile
// escaped), "#011" not followed by a digit (a tab).
func unescapeSyslog(dst, entry []byte) []byte {
	for i := 0; i < len(entry); i++ {
		c := entry[i]
		switch {
		case c == '\\' && i+1 < len(entry) && entry[i+1] == 'n' && startsLine(entry[i+2:]):
			dst = append(dst, '\n')
			i++
		case c == '#' && i+3 < len(entry) && entry[i+1] == '0' && entry[i+2] == '1' && entry[i+3] == '2' && startsLine(entry[i+4:]):
			dst = append(dst, '\n')
			i += 3
		case c == '#' && i+3 < len(entry) && entry[i+1] == '0' && entry[i+2] == '1' && entry[i+3] == '1' &&
			(i+4 == len(entry) || !isDigit(entry[i+4])):
			dst = append(dst, '\t')
			i += 3
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// startsLine reports whether b starts like a line that a multiline rule
// joins to an entry: a continuation line, or an entry of any format.
func startsLine(b []byte) bool {
	return IsContinuation(b) || DetectFormat(b) != FormatUnknown
}
