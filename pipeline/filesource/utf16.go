package filesource

import (
	"bufio"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// Text encodings. The ExchangeConnector runs on Windows, where a log file
// (or one a Windows tool re-saved, as Notepad and PowerShell's Out-File
// do) may be UTF-16 with a byte order mark. Read as bytes, every other
// byte is NUL and every entry is binary data. A file (or a decompressed
// .gz) that starts with a UTF-16 byte order mark is decoded to UTF-8.

// decodeText returns br's text as UTF-8: br itself, or a decoder of the
// UTF-16 its byte order mark announces (the mark dropped).
func decodeText(br *bufio.Reader) io.Reader {
	b, _ := br.Peek(2)
	switch {
	case len(b) < 2:
	case b[0] == 0xff && b[1] == 0xfe:
		br.Discard(2)
		return &utf16Reader{r: br}
	case b[0] == 0xfe && b[1] == 0xff:
		br.Discard(2)
		return &utf16Reader{r: br, bigEndian: true}
	}
	return br
}

// utf16Reader decodes UTF-16 into UTF-8; an unpaired surrogate becomes
// U+FFFD, as does an odd byte at the end.
type utf16Reader struct {
	r         io.Reader
	bigEndian bool
	in        [32 << 10]byte
	n         int    // bytes of in not decoded yet
	buf, out  []byte // decoded; out: what Read has not returned yet
	high      rune   // a high surrogate waiting for its pair; 0: none
	err       error
}

func (u *utf16Reader) Read(p []byte) (int, error) {
	for len(u.out) == 0 {
		if u.err != nil {
			return 0, u.err
		}
		m, err := u.r.Read(u.in[u.n:])
		u.n += m
		u.err = err
		u.decode(err != nil)
	}
	n := copy(p, u.out)
	u.out = u.out[n:]
	return n, nil
}

// decode decodes the whole code units of u.in into u.out; at the end (no
// more input) a lone byte or high surrogate left is U+FFFD.
func (u *utf16Reader) decode(end bool) {
	buf := u.buf[:0]
	k := u.n &^ 1
	for i := 0; i < k; i += 2 {
		c := rune(u.in[i]) | rune(u.in[i+1])<<8
		if u.bigEndian {
			c = rune(u.in[i])<<8 | rune(u.in[i+1])
		}
		switch {
		case c >= 0xd800 && c < 0xdc00: // high surrogate
			if u.high != 0 {
				buf = utf8.AppendRune(buf, utf8.RuneError)
			}
			u.high = c
			continue
		case c >= 0xdc00 && c < 0xe000: // low surrogate
			if u.high != 0 {
				c = utf16.DecodeRune(u.high, c)
			} else {
				c = utf8.RuneError
			}
		case u.high != 0:
			buf = utf8.AppendRune(buf, utf8.RuneError)
		}
		u.high = 0
		buf = utf8.AppendRune(buf, c)
	}
	u.n = copy(u.in[:], u.in[k:u.n])
	if end && (u.n > 0 || u.high != 0) {
		buf = utf8.AppendRune(buf, utf8.RuneError)
		u.n, u.high = 0, 0
	}
	u.buf, u.out = buf, buf
}
