package parse

import "bytes"

// Batches: a message that carries several entries, and is no envelope as
// a whole. A producer or a bridge that batches sends several lines in one
// message, a JSON shipper's batch is its events one per line (NDJSON) or
// a JSON array of them. Taken as one entry, a batch of logfmt lines parses
// as one record whose keys the last line set (the others lost without a
// trace), and a batch of JSON events as a C4CC record that does not parse.

// RawEntry and RawEntryText report false for a message with more than one
// piece (pieces), so that Unwrap splits it.

// batch fills u.out with the entries of msg when it is a batch: a JSON
// array (of events, entries or lines), or lines of more than one entry as
// a file's lines split (splitPieces). Each piece is unwrapped on its own,
// as a message; a piece that is an envelope without an entry is kept as it
// is, for the parser to reject. It reports false, with u.out untouched,
// when msg is not a batch.
func (u *Unwrapper) batch(msg []byte) bool {
	if u.Envelope != EnvelopeAuto && u.Envelope != EnvelopeJSON {
		return false
	}
	b := trimSpace(msg)
	u.pieces = u.pieces[:0]
	if len(b) > 0 && b[0] == '[' {
		elems, ok := arrayElems(b, u.elems[:0])
		u.elems = elems
		if !ok {
			return false
		}
		p := jsonParser{b: b}
		for _, v := range elems {
			if v.kind == '"' {
				u.pieces = append(u.pieces, p.unescaped(v, nil))
			} else {
				u.pieces = append(u.pieces, b[v.s:v.e])
			}
		}
	} else if !multiLine(msg) || len(b) > 0 && b[0] == '{' && oneJSONValue(b) {
		return false // one line, or one object over several lines
	} else if u.pieces = splitPieces(msg, u.pieces); len(u.pieces) < 2 {
		return false
	}
	u.out = u.out[:0]
	u.enveloped = false
	for _, piece := range u.pieces {
		w, err := u.unwrap(piece, 0, u.Envelope)
		if err != nil || w.Shipper == "" {
			u.out = append(u.out, Unwrapped{Entry: piece})
			continue
		}
		u.enveloped = true
		n := len(u.out)
		u.out = appendEntries(u.out, w)
		for i := n; i < len(u.out); i++ {
			// in the buffers the next piece's unwrapping reuses
			u.out[i].Entry = bytes.Clone(u.out[i].Entry)
		}
	}
	return true
}

// hasPieces reports whether msg holds more than one entry as a file's
// lines split (splitPieces): a batch.
func hasPieces(msg []byte) bool {
	if !multiLine(msg) {
		return false // one line: the common case
	}
	var buf [2][]byte
	return len(splitPieces(msg, buf[:0])) > 1
}

// multiLine reports whether msg has a line after its first (line breaks
// at its end aside).
func multiLine(msg []byte) bool {
	i := bytes.IndexByte(msg, '\n')
	for i >= 0 && i < len(msg) && (msg[i] == '\n' || msg[i] == '\r') {
		i++
	}
	return i >= 0 && i < len(msg)
}

// oneJSONValue reports whether b (trimmed) is exactly one JSON value.
func oneJSONValue(b []byte) bool {
	p := jsonParser{b: b}
	_, next, err := p.value(0, 0)
	return err == nil && p.ws(next) == len(b)
}

// arrayElems appends the elements of the JSON array b (trimmed) to dst;
// ok is false when b is not one JSON array.
func arrayElems(b []byte, dst []jsonValue) (_ []jsonValue, ok bool) {
	p := jsonParser{b: b}
	if len(b) == 0 || b[0] != '[' {
		return dst, false
	}
	j := p.ws(1)
	if j < len(b) && b[j] == ']' {
		return dst, p.ws(j+1) == len(b)
	}
	for {
		v, next, err := p.value(j, 1)
		if err != nil {
			return dst, false
		}
		dst = append(dst, v)
		if j = p.ws(next); j >= len(b) {
			return dst, false
		}
		switch b[j] {
		case ',':
			j = p.ws(j + 1)
		case ']':
			return dst, p.ws(j+1) == len(b)
		default:
			return dst, false
		}
	}
}
