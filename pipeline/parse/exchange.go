package parse

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/syncwatch/syncwatch/schemas"
)

// parseLog4net parses an ExchangeConnector entry (already trimmed by
// prepareEntry; off is its offset in the caller's entry):
//
//	2026-11-24 10:15:32,123 [12] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] message
//	System.Net.WebException: ...
//	   at ...
//
// The first line is the entry proper; every line after the first "\n" goes
// to Attributes["stack"].
func parseLog4net(b []byte, off int, text string, rec *schemas.LogRecord) error {
	const f = FormatLog4net
	txt := entryText{b: b, s: text}

	end := len(b) // end of the first line
	restStart := -1
	if nl := bytes.IndexByte(b, '\n'); nl >= 0 {
		end, restStart = nl, nl+1
	}
	for end > 0 && isEntrySpace(b[end-1]) {
		end--
	}
	line := b[:end]

	// timestamp
	t, i, ok := parseLogTime(line)
	if !ok || i < len(line) && line[i] != ' ' && line[i] != '\t' {
		return invalidTimestamp(f, off, log4netTimeSnippet(line))
	}
	rec.Time = t
	i = skipBlanks(line, i)

	// [thread], optional
	if i < len(line) && line[i] == '[' {
		j := bytes.IndexByte(line[i:], ']')
		if j < 0 {
			return syntaxErr(f, off+i, "unclosed [thread]")
		}
		rec.SetAttr("thread", txt.sub(i+1, i+j))
		i = skipBlanks(line, i+j+1)
	}

	// LEVEL: structural, so an unknown one is an error
	ls := i
	i = tokenEnd(line, i, len(line))
	if i == ls {
		return syntaxErr(f, off+ls, "missing level")
	}
	sev, ok := schemas.ParseSeverity(line[ls:i])
	if !ok {
		return parseErr(f, off+ls, "log4net: unknown level "+quoteSnippet(line[ls:i])+" at byte "+strconv.Itoa(off+ls))
	}
	rec.Severity, rec.SeverityText = sev, sev.String()
	i = skipBlanks(line, i)

	// logger, then " - "
	if !isDashSep(line, i) {
		gs := i
		i = tokenEnd(line, i, len(line))
		rec.Logger = txt.sub(gs, i)
		i = skipBlanks(line, i)
		if !isDashSep(line, i) {
			return syntaxErr(f, off+i, `missing " - " after logger`)
		}
	}
	i = skipBlanks(line, i+1)

	// [tenant/mailbox/run:ID]
	if i >= len(line) || line[i] != '[' {
		return parseErr(f, off+i, "log4net: missing [tenant/mailbox/run:ID] context")
	}
	j := bytes.IndexByte(line[i:], ']')
	if j < 0 {
		return parseErr(f, off+i, "log4net: missing [tenant/mailbox/run:ID] context")
	}
	ctx := line[i+1 : i+j]
	slash := bytes.IndexByte(ctx, '/')
	if slash < 0 {
		return parseErr(f, off+i, "log4net: missing [tenant/mailbox/run:ID] context")
	}
	tenant, mailbox, run := ctx[:slash], ctx[slash+1:], []byte(nil)
	if k := bytes.LastIndexByte(mailbox, '/'); k >= 0 {
		mailbox, run = mailbox[:k], runID(mailbox[k+1:])
	}
	tenant, mailbox = trimSpace(tenant), trimSpace(mailbox)
	if len(tenant) == 0 {
		return missingField(f, "tenant")
	}
	if len(mailbox) == 0 {
		return missingField(f, "mailbox")
	}
	rec.Tenant, rec.Mailbox, rec.RunID = txt.subOf(tenant), txt.subOf(mailbox), txt.subOf(run)

	// message
	ms := skipBlanks(line, i+j+1)
	msg := line[ms:]
	rec.Body = txt.sub(ms, len(line))
	rec.Event = schemas.EventMessage
	classifyItem(rec, &txt, msg, ms)
	if st, ok := findParenStatus(msg); ok {
		rec.HTTPStatus = st
	}

	// continuation lines
	if restStart >= 0 && restStart < len(b) {
		if bytes.IndexByte(b[restStart:], '\r') >= 0 {
			rec.SetAttr("stack", dropCR(b[restStart:]))
		} else {
			rec.SetAttr("stack", txt.sub(restStart, len(b)))
		}
	}
	return nil
}

// classifyItem reads a per-record line: "item ID synced" or "item ID
// failed: MESSAGE", also worded otherwise ("record ID synchronized",
// "item ID failed to sync - MESSAGE", ...: itemSynced, itemFailed). Any
// other line about an item is a message.
func classifyItem(rec *schemas.LogRecord, txt *entryText, msg []byte, ms int) {
	var is int
	switch {
	case len(msg) >= 5 && asciiEqualFold(msg[:5], "item "):
		is = 5
	case len(msg) >= 7 && asciiEqualFold(msg[:7], "record "):
		is = 7
	default:
		return
	}
	is = skipBlanks(msg, is)
	ie := tokenEnd(msg, is, len(msg))
	if ie == is {
		return
	}
	ts := skipBlanks(msg, ie)
	tail := msg[ts:]
	trimmed := bytes.TrimRight(tail, ". ")
	for _, p := range itemSynced {
		if asciiEqualFold(trimmed, p) {
			rec.Event = schemas.EventRecordSynced
			rec.RecordID = txt.sub(ms+is, ms+ie)
			return
		}
	}
	for _, p := range itemFailed {
		if len(tail) < len(p) || !asciiEqualFold(tail[:len(p)], p) {
			continue
		}
		bs := len(p)
		if bs < len(tail) {
			// the message follows ":" or " - ", after blanks
			bs = skipBlanks(tail, bs)
			if bs == len(tail) || (tail[bs] != ':' && tail[bs] != '-') {
				continue // "item X failed verification": a message
			}
			bs = skipBlanks(tail, bs+1)
		}
		rec.Event = schemas.EventRecordFailed
		rec.RecordID = txt.sub(ms+is, ms+ie)
		if bs < len(tail) {
			rec.Body = txt.sub(ms+ts+bs, ms+len(msg))
		}
		return
	}
}

// itemSynced and itemFailed are the wordings of a per-record line's
// outcome, in lower case.
var (
	itemSynced = [...]string{"synced", "synchronized", "synchronised", "synced successfully",
		"synchronized successfully", "successfully synced", "successfully synchronized",
		"was synced", "was synchronized", "has been synced", "has been synchronized"}
	itemFailed = [...]string{"failed", "sync failed", "synchronization failed", "failed to sync",
		"failed to synchronize", "could not be synced", "could not be synchronized", "was not synced",
		"not synced"}
)

// findParenStatus finds the first "(NNN)" with NNN an HTTP status 100-599.
func findParenStatus(msg []byte) (int, bool) {
	for i := 0; ; {
		k := bytes.IndexByte(msg[i:], '(')
		if k < 0 {
			return 0, false
		}
		i += k + 1
		if i+4 <= len(msg) && msg[i+3] == ')' {
			if st, ok := parseHTTPStatus(msg[i : i+3]); ok {
				return st, true
			}
		}
	}
}

// isDashSep reports whether b[i] is the "-" between logger and message.
func isDashSep(b []byte, i int) bool {
	return i < len(b) && b[i] == '-' && (i+1 == len(b) || b[i+1] == ' ' || b[i+1] == '\t')
}

// skipBlanks returns the index of the first non-blank byte of b at or after i.
func skipBlanks(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	return i
}

// tokenEnd returns the end of the token of b that starts at i: the next
// blank, len(b), or limit, whichever comes first.
func tokenEnd(b []byte, i, limit int) int {
	if limit > len(b) {
		limit = len(b)
	}
	for i < limit && b[i] != ' ' && b[i] != '\t' {
		i++
	}
	return i
}

// dropCR returns b as a string without the "\r" of its "\r\n" line ends.
func dropCR(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b))
	for i, c := range b {
		if c == '\r' && i+1 < len(b) && b[i+1] == '\n' {
			continue
		}
		sb.WriteByte(c)
	}
	return sb.String()
}

// asciiEqualFold compares b with the lower-case ASCII word s, ignoring case.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// log4netTimeSnippet is the part of a line that should have been its
// timestamp, for an error reason.
func log4netTimeSnippet(line []byte) []byte {
	n := min(len(line), 29)
	if k := bytes.IndexByte(line[:n], '['); k >= 0 {
		n = k
	}
	return bytes.TrimRight(line[:n], " \t")
}

// runID is the run id of a context's last part: "run:ID", also written
// "run: ID", "Run=ID" or with blanks around it.
func runID(b []byte) []byte {
	b = trimSpace(b)
	if len(b) > 3 && b[0]|0x20 == 'r' && b[1]|0x20 == 'u' && b[2]|0x20 == 'n' {
		if rest := trimSpace(b[3:]); len(rest) > 0 && (rest[0] == ':' || rest[0] == '=') {
			return trimSpace(rest[1:])
		}
	}
	return b
}
