package detectors

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/syncwatch/syncwatch/schemas"
	"github.com/syncwatch/syncwatch/schemas/redact"
)

// FuzzCatalogMatch is seeded with fuzzSeeds (f.Add) and with the corpus
// files in testdata/fuzz/FuzzCatalogMatch/, which go test reads by itself
// and where `go test -fuzz` writes what it finds.

// plantForms are the ways a credential is written in connector logs; %s is
// the secret. FuzzCatalogMatch plants one in every message.
var plantForms = []string{
	"password=%s",
	`"password":"%s"`,
	`\"password\": \"%s\"`,
	"pwd=%s;",
	`{"access_token":"%s","token_type":"Bearer"}`,
	"grant_type=refresh_token&refresh_token=%s",
	"Authorization: Bearer %s",
	"Authorization: Basic %s",
	"Bearer %s",
	"https://svc:%s@mail.contoso.com/EWS/Exchange.asmx",
	"https://mail.contoso.com/ews?access_token=%s&sig=x",
	"client_id=c4c&client_secret=%s",
	"Set-Cookie: session=%s",
}

// fuzzSeeds are catalog messages and the dirt around them: a prefix, the
// secret, a suffix, the form (bit 8: written upper-case) and the HTTP
// status.
var fuzzSeeds = []struct {
	prefix, secret, suffix string
	form, status           int
}{
	{"Authentication error:", "Hunter2pw", "", 0, 0},
	{"Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found. URL", "eyJhbGciOiJIUzI1NiJ9.e30.sig", "", 9, 404},
	{"Remote server returned an error: (500) Internal server error", "c2VjcmV0LXRva2Vu", "", 6, 500},
	{"Organization \"Contoso/EMEA\"", "rt-0.AVYA", "is marked for removal.", 5, 0},
	{"Unexpected Exchange error: Unsupported property field URI type. Server: Kerio Connect 9.0.3", "p4ss-w0rd", "", 1, 0},
	{"Mandatory field Subject is missing", "Zm9vOmJhcg", "", 7 | 256, 400},
	{"A limit on the number of snapshot records is exceeded (10000/10040/0)", "abc.DEF_123~x", "", 10, 0},
	{"Postfach İlker.Yılmaz (ẞtraße) İİİİİİİİ", "Hunter2pw", "Anmeldung fehlgeschlagen", 0, 401},
	{"Authentication error – OAuthRefreshToken might have expired", "0.AAAA-refresh", "", 11 | 256, 0},
	{"\xff\xfe\x00 \"unclosed 'quote", "secretvalue1", "\"", 2, 599},
	{"Autodiscover https://", "tok3n-val", "?x=1&sig=", 12, 429},
}

// tokenOf keeps the bytes of s that a token is made of, padded to 8: what
// a credential looks like, and what Redact must remove whole.
func tokenOf(s string) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < 64; i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '~' || c == '-' {
			b.WriteByte(c)
		}
	}
	if b.Len() < 8 {
		b.WriteString("K7mQ2vX9"[:8-b.Len()])
	}
	return b.String()
}

// FuzzCatalogMatch plants a secret in a message of arbitrary bytes and
// checks what the catalog matcher and the unknown-template path make of
// it: no panic; Redact removes the secret and is idempotent; templateOf is
// bounded and holds no secret; Match is deterministic, its signal well
// formed and its details free of the secret.
func FuzzCatalogMatch(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s.prefix, s.secret, s.suffix, s.form, s.status)
	}
	cat, err := DefaultCatalog()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, prefix, rawSecret, suffix string, form, status int) {
		secret := tokenOf(rawSecret)
		literal := plantForms[uint(form)%uint(len(plantForms))]
		if form&256 != 0 {
			literal = strings.ToUpper(literal[:strings.Index(literal, "%s")]) + "%s" + strings.ToUpper(literal[strings.Index(literal, "%s")+2:])
		}
		msg := prefix + " " + fmt.Sprintf(literal, secret) + " " + suffix
		// The secret must be the only way its text gets into msg, and must
		// not be a piece of what redaction writes.
		lowSecret := strings.ToLower(secret)
		for _, s := range []string{prefix, suffix, literal, redact.Placeholder} {
			if strings.Contains(strings.ToLower(s), lowSecret) {
				t.Skip("the secret's text is also elsewhere")
			}
		}

		red := redact.String(msg)
		if strings.Contains(red, secret) {
			t.Fatalf("redact.String(%q) = %q keeps the secret %q", msg, red, secret)
		}
		if again := redact.String(red); again != red {
			t.Fatalf("Redact is not idempotent:\n%q\n%q", red, again)
		}
		if again := redact.String(msg); again != red {
			t.Fatalf("Redact is not deterministic: %q, then %q", red, again)
		}
		for _, in := range []string{msg, red} {
			if tpl := templateOf(in); len(tpl) > maxTemplateLen+8 {
				t.Fatalf("templateOf of %d bytes is %d bytes long", len(in), len(tpl))
			}
		}
		if tpl := templateOf(red); strings.Contains(tpl, lowSecret) {
			t.Fatalf("templateOf(%q) = %q keeps the secret", red, tpl)
		}

		producer := schemas.Producer(uint(status) % 4)
		sig, ok := cat.Match(producer, status, msg)
		sig2, ok2 := cat.Match(producer, status, msg)
		if ok != ok2 || !reflect.DeepEqual(sig, sig2) {
			t.Fatalf("Match is not deterministic: %+v / %+v", sig, sig2)
		}
		if !ok {
			return
		}
		if sig.Class == "" || sig.Title == "" || sig.Specificity < 100 {
			t.Fatalf("malformed signal %+v", sig)
		}
		for k, v := range sig.Details {
			if s, isString := v.(string); isString && strings.Contains(s, secret) {
				t.Fatalf("details[%s] = %q keeps the secret (message %q)", k, s, msg)
			}
		}
	})
}
