package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/kfakebroker"
)

// TestAPIConfigValidate: every problem of the live view's settings at
// once, each naming its key.
func TestAPIConfigValidate(t *testing.T) {
	cfg := defaultConfig()
	cfg.Brokers = stringList{"k:9092"}
	cfg.API = APIConfig{Addr: "nohost", TLSKeyFile: "/no/such/key.pem", TokenFile: "/no/such/token", KeepResolved: -time.Hour}
	err := cfg.Validate(false)
	require.Error(t, err)
	for _, want := range []string{
		`api.addr: "nohost": not host:port`,
		"api.tls_cert_file, api.tls_key_file: both are required",
		"api.token_file: stat /no/such/token",
		"api.tls_key_file: stat /no/such/key.pem",
		"api.keep_resolved: must be positive",
		"api.max_mb: must be at least 1",
	} {
		require.ErrorContains(t, err, want)
	}
	cfg.API = APIConfig{TLSCertFile: "c", TLSKeyFile: "k", KeepResolved: time.Hour, MaxMB: 1}
	require.ErrorContains(t, cfg.Validate(false), "api.addr: HTTPS (api.tls_*) needs the API's own address")
	cfg.API = APIConfig{Addr: "off"}
	require.NoError(t, cfg.Validate(false), "off: nothing else is checked")
	cfg.API = defaultConfig().API
	cfg.MetricsAddr = "off"
	require.NoError(t, cfg.Validate(false), "on metrics_addr, off with it")
}

// TestLiveViewToken: with a token, the live view's paths need it and
// the operational ones (/metrics, /healthz, /readyz) do not; the token
// read from the environment is never part of the printed config.
func TestLiveViewToken(t *testing.T) {
	b, err := kfakebroker.Start(kfakebroker.Config{})
	require.NoError(t, err)
	t.Cleanup(b.Close)
	dir := t.TempDir()
	tokFile := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(tokFile, []byte("tok-123\n"), 0o600))
	cfg := defaultConfig()
	cfg.Brokers = b.Addrs()
	cfg.API.TokenFile = tokFile
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	lv, err := startLiveView(ctx, cfg, nil, log)
	require.NoError(t, err)
	defer lv.stop(context.Background())
	mux := newMetrics().handler()
	lv.mount(mux, "test", log)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	status := func(path, token string) int {
		req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusUnauthorized, status("/api/v1/incidents", ""))
	require.Equal(t, http.StatusUnauthorized, status("/api/v1/incidents", "wrong"))
	require.Equal(t, http.StatusOK, status("/api/v1/incidents", "tok-123"))
	require.Equal(t, http.StatusOK, status("/healthz", ""))
	require.Equal(t, http.StatusOK, status("/metrics", ""))
	require.Eventually(t, lv.tail.CaughtUp, 10*time.Second, 50*time.Millisecond, "a topic that does not exist yet holds nothing: caught up")

	cfg.API.Token = "env-secret-token"
	printed := strings.Join(strings.Fields(strings.ReplaceAll(func() string {
		var sb strings.Builder
		slog.New(slog.NewTextHandler(&sb, nil)).Info("config", "cfg", cfg.redacted())
		return sb.String()
	}(), "\n", " ")), " ")
	require.NotContains(t, printed, "env-secret-token")
}

// TestValidateLoadsCatalog: ingest validate reports a broken --catalog,
// as starting (or a reload) would refuse it.
func TestValidateLoadsCatalog(t *testing.T) {
	t.Setenv("SYNCWATCH_CONFIG", "")
	dir := t.TempDir()
	bad := filepath.Join(dir, "catalog.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("entries: [this is: not: yaml"), 0o600))
	var out, errOut strings.Builder
	require.Equal(t, exitUsage, run(context.Background(), []string{"validate", "--brokers", "k:9092", "--catalog", bad}, &out, &errOut))
	require.Contains(t, errOut.String(), "catalog:")
	require.NotContains(t, out.String(), "configuration OK")
	out.Reset()
	errOut.Reset()
	require.Equal(t, exitOK, run(context.Background(), []string{"validate", "--brokers", "k:9092"}, &out, &errOut), errOut.String())
}
