package redact

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
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

func BenchmarkString(b *testing.B) {
	n := 0
	for _, m := range benchMessages {
		n += len(m)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		for _, m := range benchMessages {
			_ = String(m)
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
			got := String(in)
			require.NotContains(t, got, secret)
			require.NotContains(t, strings.ToLower(got), strings.ToLower(secret))
			require.Contains(t, got, Placeholder)
			require.Equal(t, got, String(got), "idempotent")
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
			require.Equal(t, test.want, String(test.in))
		})
	}
}

func TestRedactLeavesOrdinaryMessages(t *testing.T) {
	for _, m := range benchMessages[:7] {
		require.Equal(t, m, String(m))
	}
}

func TestStringExamples(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"bearer", "request failed: Authorization: Bearer eyJhbGciOi.x.y", "request failed: Authorization: [REDACTED]"},
		{"password kv", "login with password=hunter2 failed", "login with password=[REDACTED] failed"},
		{"json token", `{"access_token":"abc.def","user":"x"}`, `{"access_token":"[REDACTED]","user":"x"}`},
		{"url userinfo", "GET https://bob:s3cret@mail.contoso.com/ews failed", "GET https://[REDACTED]@mail.contoso.com/ews failed"},
		{"query token", "GET https://x.io/a?token=abc&b=1", "GET https://x.io/a?token=[REDACTED]&b=1"},
		{"nothing secret", "Authentication error", "Authentication error"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			got := String(test.in)
			require.Equal(t, test.want, got)
		})
	}
}

func TestURL(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"userinfo", "https://bob:pw@mail.contoso.com/EWS/Exchange.asmx", "https://%5BREDACTED%5D@mail.contoso.com/EWS/Exchange.asmx"},
		{"secret query parameter", "https://x.io/a?b=1&token=abc", "https://x.io/a?b=1&token=%5BREDACTED%5D"},
		{"nothing secret", "https://mail.contoso.com/EWS/Exchange.asmx", "https://mail.contoso.com/EWS/Exchange.asmx"},
		{"not a URL", "http://a b password=x", "http://a b password=[REDACTED]"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			require.Equal(t, test.want, URL(test.in))
		})
	}
}
