package detectors

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/syncwatch/syncwatch/schemas/redact"
)

// extractDetails pulls the class-specific facts named by extractors out of
// a message. It never fails: a fact that is not there is left out.
func extractDetails(extractors []string, status int, msg string) map[string]any {
	d := map[string]any{}
	for _, x := range extractors {
		switch x {
		case "snapshot_figures":
			if a, b, c, ok := figures3(msg); ok {
				d["limit"], d["actual"], d["other"] = a, b, c
			}
		case "http_status":
			if status == 0 {
				status = statusInText(msg)
			}
			if status != 0 {
				d["http_status"] = status
			}
		case "url":
			if u := firstURL(msg); u != "" {
				d["url"] = redact.URL(u)
			}
		// text cut out of the message may hold a secret as the evidence
		// may: it is redacted the same way
		case "organization":
			if o := organization(msg); o != "" {
				d["organization"] = redact.String(o)
			}
		case "server":
			if s := serverProduct(msg); s != "" {
				d["server"] = redact.String(s)
			}
		case "field":
			if f := fieldName(msg); f != "" {
				d["field"] = redact.String(f)
			}
		}
	}
	return d
}

// figures3 finds the first "a/b/c" of three integers, as in
// "(10000/10040/0)".
func figures3(s string) (a, b, c int, ok bool) {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) || (i > 0 && isDigit(s[i-1])) {
			continue
		}
		var v [3]int
		j := i
		n := 0
		for n < 3 {
			k := j
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			if k == j || k-j > 12 {
				break
			}
			v[n], _ = strconv.Atoi(s[j:k])
			n++
			if n == 3 {
				j = k
				break
			}
			if k >= len(s) || s[k] != '/' {
				break
			}
			j = k + 1
		}
		if n == 3 {
			return v[0], v[1], v[2], true
		}
	}
	return 0, 0, 0, false
}

// statusInText finds an HTTP error status (400-599) written as "(404)",
// "HTTP 404", "status 404" or "404 Not Found".
func statusInText(s string) int {
	for i := 0; i+3 <= len(s); i++ {
		if !isDigit(s[i]) || (i > 0 && isDigit(s[i-1])) || (i+3 < len(s) && isDigit(s[i+3])) {
			continue
		}
		if !isDigit(s[i+1]) || !isDigit(s[i+2]) {
			continue
		}
		v := int(s[i]-'0')*100 + int(s[i+1]-'0')*10 + int(s[i+2]-'0')
		if v < 400 || v > 599 {
			continue
		}
		before := strings.ToLower(s[max(0, i-8):i])
		after := ""
		if i+4 <= len(s) {
			after = s[i+3 : min(len(s), i+5)]
		}
		if strings.HasSuffix(before, "(") || strings.Contains(before, "http") || strings.Contains(before, "status") ||
			strings.Contains(before, "error") || strings.HasPrefix(after, " ") || strings.HasPrefix(after, ")") {
			return v
		}
	}
	return 0
}

// firstURL returns the first http(s) URL in s, without trailing punctuation.
func firstURL(s string) string {
	// lowerASCII, not strings.ToLower: an index into the lowered text must
	// be one into s (ToLower changes the length of "Ⱥ"; slicing s with its
	// index panicked)
	i := strings.Index(lowerASCII(s), "http")
	for i >= 0 {
		rest := s[i:]
		low := lowerASCII(rest)
		if strings.HasPrefix(low, "http://") || strings.HasPrefix(low, "https://") {
			end := strings.IndexAny(rest, " \t\r\n\"'<>")
			if end < 0 {
				end = len(rest)
			}
			return strings.TrimRight(rest[:end], ".,;:)]")
		}
		j := strings.Index(lowerASCII(s[i+4:]), "http")
		if j < 0 {
			return ""
		}
		i += 4 + j
	}
	return ""
}

// organization returns the quoted name after "Organization", as in
// `Organization "X/Y" is marked for removal`, or the words before
// "is marked" when nothing is quoted.
func organization(s string) string {
	low := lowerASCII(s)
	i := strings.Index(low, "organization")
	if i < 0 {
		return ""
	}
	rest := s[i+len("organization"):]
	if q := strings.IndexAny(rest, "\"'“"); q >= 0 && q < 4 {
		open := rest[q:]
		_, size := utf8.DecodeRuneInString(open) // a quote IndexAny found: valid UTF-8
		body := open[size:]
		if e := strings.IndexAny(body, "\"'”"); e >= 0 {
			return strings.TrimSpace(body[:e])
		}
	}
	if m := strings.Index(lowerASCII(rest), " is marked"); m > 0 {
		return strings.Trim(strings.TrimSpace(rest[:m]), ":")
	}
	return ""
}

// serverProduct returns what follows "Server:" (e.g. "Kerio Connect 9.0.3"),
// or "Kerio Connect <version>" wherever it stands.
func serverProduct(s string) string {
	low := lowerASCII(s)
	if i := strings.Index(low, "server:"); i >= 0 {
		v := strings.TrimSpace(s[i+len("server:"):])
		if e := strings.IndexAny(v, ",;()\"\r\n"); e >= 0 {
			v = v[:e]
		}
		v = strings.TrimRight(strings.TrimSpace(v), ".")
		if v != "" {
			return v
		}
	}
	if i := strings.Index(low, "kerio connect"); i >= 0 {
		v := s[i:]
		words := strings.Fields(v)
		if len(words) >= 3 && isDigit(words[2][0]) {
			return strings.TrimRight(strings.Join(words[:3], " "), ".,;)")
		}
		return strings.Join(words[:2], " ")
	}
	return ""
}

// fieldName returns the field in "Mandatory field <Name> is missing".
func fieldName(s string) string {
	low := lowerASCII(s)
	i := strings.Index(low, "field ")
	if i < 0 {
		return ""
	}
	words := strings.Fields(s[i+len("field "):])
	if len(words) == 0 {
		return ""
	}
	w := strings.Trim(words[0], "\"'.,:;()")
	switch strings.ToLower(w) {
	case "is", "was", "missing", "required", "":
		return ""
	}
	return w
}

// lowerASCII lower-cases the ASCII letters of s and leaves every other
// byte alone, so that an index into the result is one into s (unlike
// strings.ToLower, which changes the length of "Ⱥ" or "İ"); it allocates
// only when s has an upper-case ASCII letter.
func lowerASCII(s string) string {
	i := 0
	for i < len(s) && (s[i] < 'A' || s[i] > 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if c := b[i]; 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
