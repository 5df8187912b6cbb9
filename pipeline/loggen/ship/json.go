package ship

import (
	"unicode/utf8"
)

// jsonStyle is how one shipper's JSON encoder writes a string. Every
// style writes `"` and `\` escaped, "\n", "\r" and "\t" as two-character
// escapes, other C0 control characters as \u00XX, '/' as is, and invalid
// UTF-8 as U+FFFD, one per bad byte.
type jsonStyle struct {
	// html escapes < > & as \u003c \u003e \u0026 and U+2028, U+2029 as
	// \u2028, \u2029 (Go's encoding/json and Filebeat's codec, whose
	// EscapeHTML defaults to true).
	html bool
	// shortBF writes \b and \f as such rather than \u0008, \u000c.
	shortBF bool
	// ascii writes every non-ASCII character as \uXXXX (UTF-16
	// surrogates above U+FFFF): Fluent Bit's flb_utils_write_str.
	ascii bool
	// upper writes \u escapes in upper-case hex (Jackson).
	upper bool
}

// The styles of the shippers' encoders ([INF] where the package
// documentation says so).
var (
	goJSON      = jsonStyle{html: true}                 // Filebeat: go-structform, EscapeHTML true
	jacksonJSON = jsonStyle{shortBF: true, upper: true} // Logstash: Jackson (JrJackson)
	flbJSON     = jsonStyle{shortBF: true, ascii: true} // Fluent Bit: flb_utils_write_str
	rubyJSON    = jsonStyle{shortBF: true}              // Fluentd: Oj compat mode / JSON gem
	serdeJSON   = jsonStyle{shortBF: true}              // Vector: serde_json
)

// appendString appends s as a JSON string in style st.
func (st jsonStyle) appendString(b []byte, s []byte) []byte {
	hex := "0123456789abcdef"
	if st.upper {
		hex = "0123456789ABCDEF"
	}
	u := func(b []byte, r rune) []byte {
		return append(b, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
	}
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c == '\b' && st.shortBF:
				b = append(b, '\\', 'b')
			case c == '\f' && st.shortBF:
				b = append(b, '\\', 'f')
			case c < 0x20:
				b = u(b, rune(c))
			case st.html && (c == '<' || c == '>' || c == '&'):
				b = u(b, rune(c))
			default:
				b = append(b, c)
			}
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		switch {
		case st.ascii && r > 0xffff:
			r1, r2 := utf16Surrogates(r)
			b = u(u(b, r1), r2)
		case st.ascii:
			b = u(b, r) // includes U+FFFD for a bad byte
		case st.html && (r == '\u2028' || r == '\u2029'):
			b = u(b, r)
		case r == utf8.RuneError && n == 1:
			b = append(b, "\ufffd"...)
		default:
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}

// utf16Surrogates returns the surrogate pair of r > U+FFFF.
func utf16Surrogates(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}
