package parse

import (
	"bufio"
	"bytes"
	"io"
)

// DefaultMaxEntry is the Scanner's entry size limit when none is given: 1 MiB.
const DefaultMaxEntry = 1 << 20

// scannerBufSize is the read buffer of a Scanner.
const scannerBufSize = 64 << 10

// Scanner splits a byte stream (a log file) into log entries: one per line,
// ended by "\n" or "\r\n" (the "\r" is dropped), except that the lines that
// follow an ExchangeConnector (log4net) entry and start with a space or tab
// (as "   at ..." does) or with "System." or "Microsoft." (exception type
// names) are continuation lines of that entry, joined to it with "\n".
// Blank lines (empty or only blanks) are skipped, counted, and end a
// continued entry.
//
// To know where an entry ends the Scanner reads the line after it, so a
// Scan may block on the reader for one line more than the entry it returns.
// Memory is bounded by the entry limit: a longer line is cut, never
// buffered whole. A Scanner is not safe for concurrent use.
type Scanner struct {
	r   *bufio.Reader
	max int

	entry    []byte
	oversize bool
	line     int

	// the look-ahead line, when it starts the next entry
	next     []byte
	nextOver bool
	nextLine int
	hasNext  bool

	lines int // lines read so far
	blank int
	eof   bool
	err   error
}

// NewScanner returns a Scanner reading r. maxEntry limits the size of an
// entry; maxEntry <= 0 means DefaultMaxEntry.
func NewScanner(r io.Reader, maxEntry int) *Scanner {
	if maxEntry <= 0 {
		maxEntry = DefaultMaxEntry
	}
	return &Scanner{r: bufio.NewReaderSize(r, scannerBufSize), max: maxEntry}
}

// Scan advances to the next entry, which Entry then returns. It returns
// false at the end of the input or on a read error (see Err). It blocks
// while reading from the underlying reader.
func (s *Scanner) Scan() bool {
	for {
		if s.hasNext {
			s.entry, s.next = s.next, s.entry
			s.oversize, s.line, s.hasNext = s.nextOver, s.nextLine, false
		} else {
			var ok bool
			if s.entry, s.oversize, ok = s.readLine(s.entry); !ok {
				s.entry, s.oversize = s.entry[:0], false
				return false
			}
			s.line = s.lines
		}
		if !s.oversize && isBlankLine(s.entry) {
			s.blank++
			continue
		}
		break
	}
	if DetectFormat(s.entry) != FormatLog4net {
		return true
	}
	for {
		var ok bool
		if s.next, s.nextOver, ok = s.readLine(s.next); !ok {
			return true
		}
		s.nextLine = s.lines
		if !s.nextOver && isBlankLine(s.next) {
			s.blank++
			return true
		}
		if !IsContinuation(s.next) {
			s.hasNext = true
			return true
		}
		if s.oversize {
			continue // the entry is already cut: skip the rest of it
		}
		if room := s.max - len(s.entry); s.nextOver || 1+len(s.next) > room {
			s.oversize = true
			if room > 0 {
				s.entry = append(s.entry, '\n')
				s.entry = append(s.entry, s.next[:min(room-1, len(s.next))]...)
			}
			continue
		}
		s.entry = append(s.entry, '\n')
		s.entry = append(s.entry, s.next...)
	}
}

// readLine reads one line into dst (reusing its storage), without its
// "\n" / "\r\n". A line longer than the limit is cut to the limit (over is
// true) and the rest of it is read and thrown away. ok is false when there
// was no line left (end of input or a read error).
func (s *Scanner) readLine(dst []byte) (line []byte, over, ok bool) {
	dst = dst[:0]
	if s.eof || s.err != nil {
		return dst, false, false
	}
	limit := s.max + 2 // room for "\r\n", so that a line of exactly max bytes is not cut
	total := 0
	for {
		chunk, err := s.r.ReadSlice('\n')
		total += len(chunk)
		if room := limit - len(dst); room > 0 {
			dst = append(dst, chunk[:min(room, len(chunk))]...)
		}
		if err == nil {
			break
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			s.eof = true
		} else {
			s.err = err
		}
		if total == 0 {
			return dst, false, false
		}
		break
	}
	s.lines++
	n := len(dst)
	if total == n { // the whole line is in dst
		if n > 0 && dst[n-1] == '\n' {
			n--
		}
		if n > 0 && dst[n-1] == '\r' {
			n--
		}
	}
	if n > s.max {
		return dst[:s.max], true, true
	}
	return dst[:n], false, true
}

// Entry returns the current entry. It is valid until the next Scan.
func (s *Scanner) Entry() []byte { return s.entry }

// Line returns the 1-based line number at which the current entry starts.
func (s *Scanner) Line() int { return s.line }

// Oversize reports whether the current entry was longer than the limit:
// Entry then holds its first maxEntry bytes and the rest of it was skipped.
func (s *Scanner) Oversize() bool { return s.oversize }

// Blank returns how many blank lines were skipped so far.
func (s *Scanner) Blank() int { return s.blank }

// Err returns the first read error, or nil at a clean end of input.
func (s *Scanner) Err() error { return s.err }

// isBlankLine reports whether a line holds nothing but blanks.
func isBlankLine(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// isContinuationLine reports whether a line continues a log4net entry: an
// indented line (stack frame "   at ...") or an exception type name.
// IsContinuation reports whether line continues the entry before it rather
// than starting one: the lines of an ExchangeConnector stack trace start
// with whitespace ("   at System.Net.HttpWebRequest.GetResponse()"), with
// a frame whose indent a shipper trimmed ("at System.Net.X.Y()"), with
// "System." or "Microsoft.", or with an exception's type name
// ("Newtonsoft.Json.JsonReaderException: ..."), or are .NET's "--- End of
// inner exception stack trace ---". It does not allocate.
func IsContinuation(line []byte) bool {
	if len(line) == 0 {
		return false
	}
	switch {
	case line[0] == ' ' || line[0] == '\t':
		return true
	case bytes.HasPrefix(line, []byte("System.")) || bytes.HasPrefix(line, []byte("Microsoft.")):
		return true
	case bytes.HasPrefix(line, []byte("--- ")):
		return bytes.HasPrefix(line, []byte("--- End of "))
	case bytes.HasPrefix(line, []byte("at ")):
		return isFrame(line[len("at "):])
	}
	return isExceptionType(line)
}

// isFrame reports whether b starts like a stack frame's method,
// "Namespace.Type.Method(".
func isFrame(b []byte) bool {
	i := bytes.IndexByte(b, '(')
	return i > 0 && i < 512 && bytes.IndexByte(b[:i], '.') > 0 && bytes.IndexByte(b[:i], ' ') < 0
}

// isExceptionType reports whether line starts with a dotted .NET type name
// ending in "Exception" and a colon or its end.
func isExceptionType(line []byte) bool {
	i, dots := 0, 0
	for ; i < len(line) && i < 256; i++ {
		c := line[i]
		if c == '.' && i > 0 && line[i-1] != '.' {
			dots++
			continue
		}
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || i > 0 && isDigit(c)) {
			break
		}
	}
	return dots > 0 && bytes.HasSuffix(line[:i], []byte("Exception")) && (i == len(line) || line[i] == ':')
}
