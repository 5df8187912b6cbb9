package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ingest.yaml")
	require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	return p
}

// TestConfigFileMistakes: keys written as flags, typos and bad addresses
// get every problem at once, at the file's line, with the key meant.
func TestConfigFileMistakes(t *testing.T) {
	path := writeConfig(t, `brokers: a:9092,b:9092
metrics-addr: 127.0.0.1:9108
sasl_mechanism: PLAIN
tls:
  ca_flie: /etc/ca.pem
lateness: soon
`)
	var cfg Config
	err := loadFile(path, &cfg)
	require.Error(t, err)
	msg := err.Error()
	for _, want := range []string{
		path + ":2: unknown key metrics-addr (keys use _: metrics_addr)",
		path + ":3: unknown key sasl_mechanism (nested: sasl: {mechanism: ...})",
		path + ":5: unknown key tls.ca_flie (did you mean ca_file?)",
		path + ":6: cannot unmarshal",
	} {
		require.Contains(t, msg, want)
	}
	require.NotContains(t, msg, "main.Config", "no Go type names")

	// the flag's form of a list, and addresses checked
	cfg = defaultConfig()
	require.NoError(t, loadFile(writeConfig(t, "brokers: a:9092, b:9092\nmetrics_addr: 127.0.0.1:99999\nalertmanager:\n  url: alertmanager:9093\n"), &cfg))
	require.Equal(t, stringList{"a:9092", "b:9092"}, cfg.Brokers)
	err = cfg.Validate(false)
	require.Error(t, err)
	require.Contains(t, err.Error(), `metrics_addr: "127.0.0.1:99999": port 99999 is not a number from 1 to 65535`)
	require.Contains(t, err.Error(), `alertmanager.url: "alertmanager:9093" is not an absolute http or https URL (a scheme is missing? http://alertmanager:9093)`)
}

// TestConfigExample: ingest config example names every key with its flag
// and environment variable, and, with brokers set, is a valid config
// whose values are the defaults.
func TestConfigExample(t *testing.T) {
	var out, errOut bytes.Buffer
	require.Equal(t, exitOK, run(context.Background(), []string{"config", "example"}, &out, &errOut), errOut.String())
	text := out.String()
	for _, want := range []string{"# --metrics-addr, SYNCWATCH_METRICS_ADDR\nmetrics_addr: 127.0.0.1:9108", "# --tls, SYNCWATCH_TLS\n  enabled: false",
		"# --sasl-mechanism, SYNCWATCH_SASL_MECHANISM\n  mechanism: \"\"", "quiet_after: 30s", "routing: {}",
		"# --watch-config, SYNCWATCH_WATCH_CONFIG\nwatch_config: false"} {
		require.Contains(t, text, want)
	}
	path := writeConfig(t, strings.Replace(text, "brokers: []", "brokers: [kafka:9092]", 1))
	cfg := defaultConfig()
	require.NoError(t, loadFile(path, &cfg), "the example is a config file")
	require.NoError(t, cfg.Validate(false))
	want := defaultConfig()
	want.Brokers = stringList{"kafka:9092"}
	require.Equal(t, want, cfg, "its values are the defaults")
}
