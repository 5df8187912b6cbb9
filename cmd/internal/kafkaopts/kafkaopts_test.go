package kafkaopts

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func problems(s Security) []string {
	var out []string
	s.Validate(func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) })
	return out
}

// TestValidate reports every problem at once, naming the YAML key.
func TestValidate(t *testing.T) {
	require.Empty(t, problems(Security{}), "plaintext without SASL is valid")
	require.Empty(t, problems(Security{SASL: SASL{Mechanism: "scram-sha-512", Username: "u", Password: "p"}}))
	got := problems(Security{
		SASL: SASL{Mechanism: "SCRAM-SHA-1", PasswordFile: "/nonexistent/pw"},
		TLS:  TLS{Enabled: true, CAFile: "/nonexistent/ca.pem", CertFile: "/nonexistent/cert.pem"},
	})
	joined := strings.Join(got, "\n")
	for _, want := range []string{"sasl.mechanism", "sasl.password_file", "tls.ca_file", "tls.cert_file", "give both or neither"} {
		require.Contains(t, joined, want)
	}
	got = problems(Security{SASL: SASL{Mechanism: "PLAIN"}})
	require.Len(t, got, 2, "user name and password are both required: %v", got)
	require.Contains(t, got[1], PasswordEnv)
}

// TestDialerAndTransport: the password comes from the file, a TLS
// config from the CA file, errors name the key.
func TestDialerAndTransport(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	require.NoError(t, os.WriteFile(pw, []byte("s3cret\n"), 0o600))
	s := Security{SASL: SASL{Mechanism: "PLAIN", Username: "u", PasswordFile: pw}}
	d, err := s.Dialer()
	require.NoError(t, err)
	require.NotNil(t, d.SASLMechanism)
	require.Nil(t, d.TLS)
	tr, err := s.Transport()
	require.NoError(t, err)
	require.Equal(t, ClientID, tr.ClientID)

	bad := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(bad, []byte("not a certificate"), 0o600))
	s = Security{TLS: TLS{Enabled: true, CAFile: bad}}
	_, err = s.Dialer()
	require.ErrorContains(t, err, "tls.ca_file: no PEM certificates")
	s = Security{SASL: SASL{Mechanism: "SCRAM-SHA-256", Username: "u", PasswordFile: filepath.Join(dir, "missing")}}
	_, err = s.Transport()
	require.ErrorContains(t, err, "sasl.password_file")
}

// TestFlagsAndEnv: every flag in Flags is defined, and the password comes
// from the environment; Redacted blanks it.
func TestFlagsAndEnv(t *testing.T) {
	var s Security
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	s.RegisterFlags(fs)
	for _, name := range Flags {
		require.NotNil(t, fs.Lookup(name), name)
	}
	require.NoError(t, fs.Parse([]string{"--tls", "--sasl-mechanism", "PLAIN", "--sasl-username", "u"}))
	s.PasswordFromEnv(func(k string) string { return map[string]string{PasswordEnv: "from-env"}[k] })
	require.True(t, s.TLS.Enabled)
	require.Equal(t, "from-env", s.SASL.Password)
	require.Equal(t, "[REDACTED]", s.Redacted().SASL.Password)
	require.Equal(t, "from-env", s.SASL.Password, "Redacted returns a copy")
}
