package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Planted secrets: none of them may appear in anything ingest prints.
const (
	plantedSASLPassword  = "sasl-pw-PLANTED-5b1f0c"
	plantedWebhookSecret = "hook-secret-PLANTED-93c2aa"
	plantedURLPassword   = "url-pw-PLANTED-71d0"
	plantedURLToken      = "url-tok-PLANTED-e44b"
)

var planted = []string{plantedSASLPassword, plantedWebhookSecret, plantedURLPassword, plantedURLToken}

func requireNoSecret(t *testing.T, what string, out string) {
	t.Helper()
	for _, s := range planted {
		require.NotContains(t, out, s, "%s leaks a secret", what)
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func TestSecretsNeverPrinted(t *testing.T) {
	t.Setenv("SYNCWATCH_SASL_PASSWORD", plantedSASLPassword)
	t.Setenv("SYNCWATCH_WEBHOOK_SECRET", plantedWebhookSecret)
	secretURL := "https://bob:" + plantedURLPassword + "@hooks.example.com/in?token=" + plantedURLToken
	hookSecretFile := writeFile(t, "hook.secret", plantedWebhookSecret+"\n")
	saslFile := writeFile(t, "sasl.pw", plantedSASLPassword+"\n")

	good := writeFile(t, "good.yaml", fmt.Sprintf(`brokers: [kafka-1:9092]
sasl: {mechanism: SCRAM-SHA-512, username: syncwatch, password: %s}
webhook: {url: %q, secret: %s, timeout: 5s}
`, plantedSASLPassword, secretURL, plantedWebhookSecret))
	// every field wrong that can be, with the secrets set alongside
	bad := writeFile(t, "bad.yaml", fmt.Sprintf(`brokers: [not-an-address]
sasl: {mechanism: PLAIN, password: %s, password_file: /nonexistent/sasl.pw}
webhook: {url: %q, secret: %s, ca_file: /nonexistent/ca.pem, timeout: -1s}
`, plantedSASLPassword, strings.Replace(secretURL, "https:", "ftp:", 1), plantedWebhookSecret))
	// a decoding error on the line after a secret
	undecodable := writeFile(t, "undecodable.yaml", fmt.Sprintf(`webhook:
  secret: %s
  timeout: soon
`, plantedWebhookSecret))

	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string // in stdout+stderr: the output is not vacuous
	}{
		{"help", []string{"--help"}, exitOK, []string{"-webhook-secret-file", "SYNCWATCH_WEBHOOK_SECRET", "-sasl-password-file"}},
		{"validate help", []string{"validate", "--help"}, exitOK, []string{"-webhook-url"}},
		{"validate a good file", []string{"validate", "--config", good}, exitOK, []string{"configuration OK"}},
		{"validate secrets from files", []string{"validate", "--config", good, "--webhook-secret-file", hookSecretFile, "--sasl-password-file", saslFile}, exitOK, []string{"configuration OK"}},
		{"validate a bad file", []string{"validate", "--config", bad}, exitUsage, []string{
			`brokers: "not-an-address"`, "sasl.username: required", "sasl.password_file:", "webhook.url:",
			`"ftp://hooks.example.com/in"`, "webhook.ca_file:", "webhook.timeout: must be positive",
		}},
		{"undecodable file", []string{"validate", "--config", undecodable}, exitUsage, []string{"decoding config"}},
		{"start-up with a bad configuration", []string{"--config", bad}, exitUsage, []string{"invalid configuration", "webhook.url:"}},
		{"webhook secret file missing", []string{"validate", "--webhook-url", secretURL, "--webhook-secret-file", "/nonexistent/hook.secret", "--brokers", "k:9092"}, exitUsage, []string{"webhook.secret_file:"}},
		{"a secret passed as a flag is refused", []string{"--webhook-secret", plantedWebhookSecret}, exitUsage, []string{"flag provided but not defined: -webhook-secret"}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), test.args, &stdout, &stderr)
			out := stdout.String() + stderr.String()
			require.Equal(t, test.wantCode, code, "output: %s", out)
			for _, w := range test.want {
				require.Contains(t, out, w)
			}
			if test.name == "a secret passed as a flag is refused" {
				// the flag package echoes the bad arguments' names, not
				// their values; the value must not be echoed either
				requireNoSecret(t, test.name, strings.ReplaceAll(out, "-webhook-secret", ""))
				return
			}
			requireNoSecret(t, test.name, out)
		})
	}
}

func TestSecretsResolvedButRedacted(t *testing.T) {
	f := newFlags(&bytes.Buffer{})
	require.NoError(t, f.fs.Parse([]string{"--brokers", "k:9092", "--webhook-url", "https://bob:" + plantedURLPassword + "@h.example.com/in?token=" + plantedURLToken}))
	env := map[string]string{"SYNCWATCH_SASL_PASSWORD": plantedSASLPassword, "SYNCWATCH_WEBHOOK_SECRET": plantedWebhookSecret}
	cfg, err := f.resolve(func(k string) string { return env[k] })
	require.NoError(t, err)
	// the environment reaches the configuration...
	require.Equal(t, plantedSASLPassword, cfg.SASL.Password)
	require.Equal(t, plantedWebhookSecret, cfg.Webhook.Secret)
	secret, err := cfg.Webhook.secret()
	require.NoError(t, err)
	require.Equal(t, plantedWebhookSecret, string(secret))
	// ...and a printable copy holds none of it
	printed := fmt.Sprintf("%+v", cfg.redacted())
	requireNoSecret(t, "redacted config", printed)
	require.Contains(t, printed, "h.example.com/in")
}

func TestWebhookSecretFileWinsAndIsTrimmed(t *testing.T) {
	w := WebhookConfig{Secret: "from-env", SecretFile: writeFile(t, "s", "from-file\r\n")}
	s, err := w.secret()
	require.NoError(t, err)
	require.Equal(t, "from-file", string(s))

	w.SecretFile = writeFile(t, "empty", "\n")
	_, err = w.secret()
	require.ErrorContains(t, err, "empty")
}
