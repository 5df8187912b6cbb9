package detectors

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/schemas"
)

// benchMessages are typical failure messages: most hold no secret, some
// hold one of each kind.
var benchMessages = []string{
	"Authentication error",
	"Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found.",
	"Remote server returned an error: (500) Internal server error",
	"A limit on the number of snapshot records is exceeded (10000/10040/0)",
	"item AAMkADk3ZjE4NDQ1LTk2 synced",
	"Mandatory field Subject is missing",
	"Cannot reach https://mail.contoso.com/EWS/Exchange.asmx: timeout after 100000 ms",
	"Login for EWS impersonation failed: password=Hunter2pw rejected",
	"Request rejected (401). Request headers: Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig",
	`Token response rejected: {"access_token":"at-123","refresh_token":"rt-456","token_type":"Bearer"}`,
	"Autodiscover redirect to https://bob:pw@mail.contoso.com/ews?access_token=abc&sig=def failed",
}

func BenchmarkRedact(b *testing.B) {
	n := 0
	for _, m := range benchMessages {
		n += len(m)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		for _, m := range benchMessages {
			_ = Redact(m)
		}
	}
}

func TestRedactPlantedSecrets(t *testing.T) {
	const secret = "Pl4nted-S3cret.x_Y"
	tests := []struct{ name, in string }{
		{"password kv", "login failed: password=%s for svc-sync"},
		{"password upper case", "PASSWORD=%s"},
		{"password json", `{"user":"svc","password":"%s"}`},
		{"password json, spaced", `{"password" : "%s"}`},
		{"password quoted with spaces", `password="%s and more" next`},
		{"pwd in a connection string", "Server=mail;User Id=svc;pwd=%s;Timeout=30"},
		{"passwd colon", "passwd:%s"},
		{"escaped json in a message", `upstream said "{\"password\":\"%s\"}"`},
		{"escaped json, single quotes", `\'client_secret\': \'%s\'`},
		{"oauth access token json", `{"access_token":"%s","token_type":"Bearer","expires_in":3599}`},
		{"oauth refresh token form", "grant_type=refresh_token&refresh_token=%s&client_id=c4c"},
		{"camel-case refresh token", "RefreshToken=%s"},
		{"authorization bearer", "Request headers: Authorization: Bearer %s"},
		{"authorization basic", "Authorization: Basic %s"},
		{"authorization json", `{"Authorization":"Bearer %s"}`},
		{"bare bearer", "sent bearer %s to EWS"},
		{"url userinfo", "GET https://svc:%s@mail.contoso.com/EWS/Exchange.asmx failed"},
		{"url query token and sig", "GET https://mail.contoso.com/ews?access_token=%s&sig=x failed"},
		{"url query sig", "GET https://x.blob.core.windows.net/c?sv=2020&sig=%s failed"},
		{"client secret form", "client_id=4f1c&client_secret=%s&scope=x"},
		{"camel-case client secret", "ClientSecret=%s"},
		{"api key header", "X-API-Key: %s"},
		{"cookie", "Set-Cookie: session=%s; Path=/"},
		{"after text whose lower case is longer", "Postfach İlker (ẞtraße) ȺȺȺ: password=%s"},
		{"url after such text", "ȺȺȺȺȺȺ https://svc:%s@mail.contoso.com/"},
		{"bearer after such text", "İİİİ Authorization: Bearer %s"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			in := fmt.Sprintf(test.in, secret)
			got := Redact(in)
			require.NotContains(t, got, secret)
			require.NotContains(t, strings.ToLower(got), strings.ToLower(secret))
			require.Contains(t, got, Redacted)
			require.Equal(t, got, Redact(got), "idempotent")
		})
	}
}

func TestRedactExact(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"escaped json keeps its escapes", `said "{\"password\":\"x1\",\"u\":\"y\"}"`, `said "{\"password\":\"[REDACTED]\",\"u\":\"y\"}"`},
		{"non-ASCII before the key", "İlker: password=hunter2 now", "İlker: password=[REDACTED] now"},
		{"non-ASCII before a URL", "Ⱥ https://bob:pw@h/x", "Ⱥ https://[REDACTED]@h/x"},
		{"a longer word is no key", "passwordless=true tokens=3 mysecret=x", "passwordless=true tokens=3 mysecret=x"},
		{"no value", "password= ", "password= "},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			require.Equal(t, test.want, Redact(test.in))
		})
	}
}

func TestRedactLeavesOrdinaryMessages(t *testing.T) {
	for _, m := range benchMessages[:7] {
		require.Equal(t, m, Redact(m))
	}
}

// TestExtractNonASCII: the extractors sliced the message with indexes into
// its strings.ToLower, which is longer than the message when it holds "Ⱥ"
// or "İ": wrong text, or a panic that stopped the pipeline.
func TestExtractNonASCII(t *testing.T) {
	cat, err := DefaultCatalog()
	require.NoError(t, err)
	// "Ⱥ" lower-cases to a longer rune, "İ" to a shorter one
	for _, pad := range []string{strings.Repeat("Ⱥ", 20) + " ", strings.Repeat("İ", 20) + " "} {
		sig, ok := cat.Match(schemas.ProducerExchange, 0, pad+"The remote server returned an error: (404) Not Found. https://mail.contoso.com/EWS/Exchange.asmx")
		require.True(t, ok)
		require.Equal(t, "exchange.ews.not_found", sig.Class)
		require.Equal(t, "https://mail.contoso.com/EWS/Exchange.asmx", sig.Details["url"])

		require.Equal(t, "Kerio Connect 9.0.3", serverProduct(pad+"Unsupported property. Server: Kerio Connect 9.0.3"))
		require.Equal(t, "Subject", fieldName(pad+"Mandatory field Subject is missing"))
		require.Equal(t, "Contoso/EMEA", organization(pad+`Organization "Contoso/EMEA" is marked for removal`))
	}
}

func TestExtractedDetailsRedacted(t *testing.T) {
	cat, err := DefaultCatalog()
	require.NoError(t, err)
	sig, ok := cat.Match(schemas.ProducerExchange, 0, "Organization svc password=Hunter2pw is marked for removal")
	require.True(t, ok)
	require.Equal(t, "svc password=[REDACTED]", sig.Details["organization"])
}
