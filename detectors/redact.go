package detectors

import (
	"net/url"
	"strings"
)

// Redacted replaces every secret that Redact removes.
const Redacted = "[REDACTED]"

// secretKeys are names whose value is a secret, wherever they appear as
// key=value, key: value or "key":"value".
var secretKeys = []string{
	"password", "passwd", "pwd", "secret", "client_secret", "access_token",
	"refresh_token", "id_token", "token", "api_key", "apikey", "sig", "signature",
	"authorization", "cookie", "set-cookie",
}

// Redact removes secrets from a log message: Authorization and Bearer/Basic
// credentials, passwords and tokens written as key=value or key: value,
// credentials in URLs (user:pass@) and secret query parameters. It is used
// on everything that leaves syncwatch (evidence, templates, logs).
func Redact(s string) string {
	if s == "" {
		return s
	}
	low := strings.ToLower(s)
	if !mayHoldSecret(low) {
		return s
	}
	s = redactSchemes(s)
	s = redactKeyValues(s)
	s = redactURLsIn(s)
	return s
}

func mayHoldSecret(low string) bool {
	for _, k := range []string{"bearer", "basic ", "@", "=", ":"} {
		if strings.Contains(low, k) {
			return true
		}
	}
	return false
}

// redactSchemes blanks the credential after "Bearer " / "Basic ".
func redactSchemes(s string) string {
	for _, scheme := range []string{"bearer ", "basic "} {
		from := 0
		for {
			low := strings.ToLower(s)
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
			s = s[:i] + Redacted + s[j:]
			from = i + len(Redacted)
		}
	}
	return s
}

// redactKeyValues blanks values of secret keys: key=value, key: value,
// "key":"value".
func redactKeyValues(s string) string {
	for _, k := range secretKeys {
		from := 0
		for from < len(s) {
			low := strings.ToLower(s)
			i := strings.Index(low[from:], k)
			if i < 0 {
				break
			}
			i += from
			j := i + len(k)
			// the key must stand alone: not part of a longer word
			if i > 0 && isWordByte(low[i-1]) || j < len(low) && isWordByte(low[j]) && low[j] != '"' {
				from = j
				continue
			}
			// skip a closing quote, spaces, then = or :
			p := j
			if p < len(s) && (s[p] == '"' || s[p] == '\'') {
				p++
			}
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
			quote := byte(0)
			if p < len(s) && (s[p] == '"' || s[p] == '\'') {
				quote = s[p]
				p++
			}
			q := p
			if quote != 0 {
				for q < len(s) && s[q] != quote {
					q++
				}
			} else if k == "authorization" {
				// "Authorization: Bearer xyz": the scheme word stays, the credential goes
				for q < len(s) && s[q] != '\n' && s[q] != '&' && s[q] != ',' && s[q] != ';' {
					q++
				}
			} else {
				for q < len(s) && !isSpaceOrQuote(s[q]) && s[q] != '&' && s[q] != ',' && s[q] != ';' {
					q++
				}
			}
			if q == p || s[p:q] == Redacted {
				from = q + 1
				continue
			}
			s = s[:p] + Redacted + s[q:]
			from = p + len(Redacted)
		}
	}
	return s
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
		low := strings.ToLower(s)
		i := strings.Index(low[from:], "://")
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
			s = s[:i] + Redacted + s[i+at:]
			j = i + len(Redacted) + (j - (i + at))
		}
		from = j
	}
}

// redactURL redacts credentials and secret query parameters of one URL.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return Redact(raw)
	}
	if u.User != nil {
		u.User = url.User(Redacted)
	}
	q := u.Query()
	changed := false
	for k := range q {
		lk := strings.ToLower(k)
		for _, s := range secretKeys {
			if lk == s {
				q.Set(k, Redacted)
				changed = true
			}
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}
