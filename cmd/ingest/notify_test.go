package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/schemas"
	"github.com/syncwatch/syncwatch/sinks"
)

const plantedRoutingKey = "PDKEYPLANTED0123456789abcdef0123"

// recorder answers 202 to every POST and keeps the bodies by path.
type recorder struct {
	mu     sync.Mutex
	bodies map[string][]string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.bodies[req.URL.Path] = append(r.bodies[req.URL.Path], string(b))
	r.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	w.Write([]byte(`{"status":"success","message":"Event processed","dedup_key":"x"}`))
}

func notifyEvent(id, typ, kind, mailbox string, at time.Duration) schemas.IncidentEvent {
	t := schemas.Time{Time: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC).Add(at)}
	sev, class := schemas.SeverityCritical, "exchange.auth.password"
	if kind == schemas.KindSyncIssue {
		sev, class = schemas.SeverityWarning, "record.too_large"
	}
	status := schemas.StatusOpen
	if typ == schemas.TypeResolved {
		status = schemas.StatusResolved
	}
	return schemas.IncidentEvent{
		SpecVersion: schemas.SpecVersion, ID: id + "-1", Source: "syncwatch/ingest", Type: typ, Subject: "t-1/" + mailbox, Time: t,
		DataContentType: schemas.DataContentType,
		Data: schemas.IncidentData{
			IncidentID: id, Kind: kind, Class: class, Status: status, Severity: sev, Tenant: "t-1", Mailbox: mailbox,
			Producer: "ExchangeConnector", Title: "Authentication error", FirstSeen: t, LastSeen: t, Occurrences: 1,
			Runs: []string{}, SampleRecords: []string{}, Details: map[string]any{}, Evidence: []schemas.Evidence{},
		},
	}
}

// TestNotifySinksFromYAML configures Alertmanager, PagerDuty and routing
// in a YAML file, builds the sinks as ingest does and checks where events
// land, that the suppression counter is exported, and that the routing
// key is never printed.
func TestNotifySinksFromYAML(t *testing.T) {
	rec := &recorder{bodies: map[string][]string{}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	t.Setenv("SYNCWATCH_PAGERDUTY_ROUTING_KEY", plantedRoutingKey)
	path := writeFile(t, "notify.yaml", fmt.Sprintf(`brokers: [k:9092]
alertmanager: {url: %q, resend_interval: 1h}
pagerduty: {url: %q}
routing:
  inhibit: true
  routes:
    - {name: page-errors, match: {kinds: [sync_error]}, sinks: [pagerduty], continue: true}
    - {name: everything, sinks: [alertmanager]}
  mutes:
    - {tenants: [t-muted]}
`, srv.URL, srv.URL+"/v2/enqueue"))

	var stdout, stderr bytes.Buffer
	require.Equal(t, exitOK, run(context.Background(), []string{"validate", "--config", path}, &stdout, &stderr), stderr.String())
	require.NotContains(t, stdout.String()+stderr.String(), plantedRoutingKey)

	f := newFlags(&bytes.Buffer{})
	require.NoError(t, f.fs.Parse([]string{"--config", path}))
	cfg, err := f.resolve(func(k string) string {
		if k == "SYNCWATCH_PAGERDUTY_ROUTING_KEY" {
			return plantedRoutingKey
		}
		return ""
	})
	require.NoError(t, err)
	require.NoError(t, cfg.Validate(false))
	require.NotContains(t, fmt.Sprintf("%+v", cfg.redacted()), plantedRoutingKey)

	dead := sinks.NewMemory()
	router, err := cfg.notifySinks(dead, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	require.NotNil(t, router)
	events := []schemas.IncidentEvent{
		notifyEvent("inc-00000000000a", schemas.TypeOpened, schemas.KindSyncError, "m1", 0),
		notifyEvent("inc-00000000000b", schemas.TypeOpened, schemas.KindSyncIssue, "m1", time.Minute), // inhibited
		notifyEvent("inc-00000000000c", schemas.TypeOpened, schemas.KindSyncIssue, "m2", time.Minute),
	}
	require.NoError(t, router.Write(context.Background(), events))
	require.NoError(t, router.Close(context.Background()))
	require.Empty(t, dead.DeadLetters())

	rec.mu.Lock()
	pd, am := rec.bodies["/v2/enqueue"], rec.bodies["/api/v2/alerts"]
	rec.mu.Unlock()
	require.Len(t, pd, 1, "only the sync error pages")
	require.Contains(t, pd[0], `"dedup_key":"inc-00000000000a"`)
	require.Len(t, am, 1, "one POST of the alerts")
	var alerts []map[string]any
	require.NoError(t, json.Unmarshal([]byte(am[0]), &alerts))
	require.Len(t, alerts, 2, "the error and m2's issue; m1's issue is inhibited")

	m := newMetrics()
	m.routes = router.Stats
	rr := httptest.NewRecorder()
	m.handler().ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rr.Body.String()
	for _, want := range []string{
		`syncwatch_events_routed_total{route="page-errors"} 1`,
		`syncwatch_events_routed_total{route="everything"} 2`,
		`syncwatch_events_suppressed_total{reason="inhibited",route="everything"} 1`,
	} {
		require.Contains(t, body, want)
	}
}

func TestNotifyConfigValidate(t *testing.T) {
	cfg := defaultConfig()
	cfg.Brokers = []string{"k:9092"}
	cfg.Alertmanager = AlertmanagerConfig{URL: "ftp://am", ResendInterval: 0, Timeout: time.Second}
	cfg.PagerDuty = PagerDutyConfig{RoutingKey: plantedRoutingKey, RoutingKeyFile: "/nonexistent/pd.key", Timeout: time.Second}
	cfg.Routing = sinks.RouterConfig{Routes: []sinks.Route{{Name: "r", Sinks: []string{"opsgenie"}}}}
	err := cfg.Validate(false)
	require.Error(t, err)
	for _, want := range []string{"alertmanager.url:", "alertmanager.resend_interval", "pagerduty.routing_key_file:", `"opsgenie" is not a configured sink`} {
		require.Contains(t, err.Error(), want)
	}
	require.NotContains(t, err.Error(), plantedRoutingKey)

	none := defaultConfig()
	none.Brokers = []string{"k:9092"}
	none.Routing.Mutes = []sinks.Mute{{Tenants: []string{"t"}}}
	require.ErrorContains(t, none.Validate(false), "no notification sink")
	none.Routing = sinks.RouterConfig{}
	require.NoError(t, none.Validate(false))
	r, err := none.notifySinks(sinks.NewMemory(), slog.Default())
	require.NoError(t, err)
	require.Nil(t, r, "no notification sink, no router")
	require.False(t, strings.Contains(fmt.Sprint(none.notifyNames()), "pagerduty"))
}
