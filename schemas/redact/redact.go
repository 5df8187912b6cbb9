package redact

import (
	"net/url"
	"strings"
)

// Placeholder replaces every secret that String removes.
const Placeholder = "[REDACTED]"

// secretKeys are names whose value is a secret, wherever they appear as
// key=value, key: value or "key":"value" (matched ASCII case-insensitively,
// standing alone: "secret" does not match inside "client_secret", which is
// listed on its own).
var secretKeys = []string{
	"password", "passwd", "pwd", "secret", "client_secret", "client-secret", "clientsecret",
	"access_token", "access-token", "accesstoken", "refresh_token", "refresh-token", "refreshtoken",
	"id_token", "token", "api_key", "api-key", "apikey", "x-api-key", "sig", "signature",
	"authorization", "cookie", "set-cookie",
}

// redactedLower is Placeholder as lowerASCII writes it.
const redactedLower = "[redacted]"

// String removes secrets from a log message: Authorization and Bearer/Basic
// credentials, passwords and tokens written as key=value, key: value or
// JSON (escaped JSON too), credentials in URLs (user:pass@) and secret
// query parameters. It is used on everything that leaves syncwatch
// (evidence, templates, logs, dead-letter reasons). String(String(s)) ==
// String(s).
func String(s string) string {
	if s == "" {
		return s
	}
	// Keys and schemes are ASCII: an ASCII-only lower-casing keeps every
	// byte where it is, so that an index into low is one into s (unlike
	// strings.ToLower, which changes the length of "İ" or "ẞ").
	low := lowerASCII(s)
	if !mayHoldSecret(low) {
		return s
	}
	s, low = redactSchemes(s, low)
	s, _ = redactKeyValues(s, low)
	return redactURLsIn(s)
}

func mayHoldSecret(low string) bool {
	return strings.ContainsAny(low, "=:@") || strings.Contains(low, "bearer") || strings.Contains(low, "basic ")
}

// lowerASCII lower-cases the ASCII letters of s and leaves every other
// byte alone; it allocates only when s has an upper-case ASCII letter.
func lowerASCII(s string) string {
	i := 0
	for i < len(s) && (s[i] < 'A' || s[i] > 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// splice replaces s[i:j], and the same bytes of its lower-cased twin, by
// Placeholder.
func splice(s, low string, i, j int) (string, string) {
	return s[:i] + Placeholder + s[j:], low[:i] + redactedLower + low[j:]
}

// redactSchemes blanks the credential after "Bearer " / "Basic ".
func redactSchemes(s, low string) (string, string) {
	for _, scheme := range []string{"bearer ", "basic "} {
		from := 0
		for {
			i := strings.Index(low[from:], scheme)
			if i < 0 {
				break
			}
			i += from + len(scheme)
			j := i
			for j < len(s) && !isSpaceOrQuote(s[j]) {
				j++
			}
			if j == i {
				from = i
				continue
			}
			s, low = splice(s, low, i, j)
			from = i + len(Placeholder)
		}
	}
	return s, low
}

// redactKeyValues blanks values of secret keys: key=value, key: value,
// "key":"value", and \"key\":\"value\" (JSON inside a JSON string).
func redactKeyValues(s, low string) (string, string) {
	for _, k := range secretKeys {
		from := 0
		for from < len(s) {
			i := strings.Index(low[from:], k)
			if i < 0 {
				break
			}
			i += from
			j := i + len(k)
			// the key must stand alone: not part of a longer word
			if i > 0 && isWordByte(low[i-1]) || j < len(low) && isWordByte(low[j]) {
				from = j
				continue
			}
			// skip a closing quote (escaped or not), spaces, then = or :
			p := j + quoteLen(s, j)
			for p < len(s) && s[p] == ' ' {
				p++
			}
			if p >= len(s) || (s[p] != '=' && s[p] != ':') {
				from = j
				continue
			}
			p++
			for p < len(s) && s[p] == ' ' {
				p++
			}
			ql := quoteLen(s, p)
			quote := byte(0)
			if ql > 0 {
				quote = s[p+ql-1]
				p += ql
			}
			q := p
			switch {
			case quote != 0:
				for q < len(s) && s[q] != quote {
					q++
				}
				if ql == 2 && q > p && s[q-1] == '\\' {
					q-- // the value ends where its escaped quote does
				}
			case k == "authorization":
				// "Authorization: Bearer xyz": the scheme word goes too
				for q < len(s) && s[q] != '\n' && s[q] != '&' && s[q] != ',' && s[q] != ';' {
					q++
				}
			default:
				for q < len(s) && !isSpaceOrQuote(s[q]) && s[q] != '&' && s[q] != ',' && s[q] != ';' {
					q++
				}
			}
			if q == p || s[p:q] == Placeholder {
				from = q + 1
				continue
			}
			s, low = splice(s, low, p, q)
			from = p + len(Placeholder)
		}
	}
	return s, low
}

// quoteLen returns the length of the quote at s[i]: 1 for " or ', 2 for
// an escaped one (\" or \'), else 0.
func quoteLen(s string, i int) int {
	switch {
	case i < len(s) && (s[i] == '"' || s[i] == '\''):
		return 1
	case i+1 < len(s) && s[i] == '\\' && (s[i+1] == '"' || s[i+1] == '\''):
		return 2
	}
	return 0
}

func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}

func isSpaceOrQuote(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' || c == '\''
}

// redactURLsIn redacts user:password@ in every URL of s.
func redactURLsIn(s string) string {
	from := 0
	for {
		i := strings.Index(s[from:], "://")
		if i < 0 {
			return s
		}
		i += from + 3
		j := i
		for j < len(s) && !isSpaceOrQuote(s[j]) && s[j] != '/' {
			j++
		}
		at := strings.LastIndexByte(s[i:j], '@')
		if at >= 0 {
			s = s[:i] + Placeholder + s[i+at:]
			j = i + len(Placeholder) + (j - (i + at))
		}
		from = j
	}
}

// URL redacts the credentials (user:pass@) and secret query parameters
// of one URL; what does not parse as a URL is redacted as String does.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return String(raw)
	}
	if u.User != nil {
		u.User = url.User(Placeholder)
	}
	q := u.Query()
	changed := false
	for k := range q {
		lk := strings.ToLower(k)
		for _, s := range secretKeys {
			if lk == s {
				q.Set(k, Placeholder)
				changed = true
			}
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}
