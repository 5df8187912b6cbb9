package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/detectors"
	"github.com/syncwatch/syncwatch/schemas"
	"github.com/syncwatch/syncwatch/sinks"
)

const frobMsg = "Quux frobnicator jammed on the gateway"

// frobCatalog is a catalog file that knows frobMsg as class.
func frobCatalog(class string) string {
	return fmt.Sprintf(`version: 1
classes:
  - class: %s
    scope: total
    title: Frobnicator jammed
    remediation: Unjam the frobnicator.
    match:
      - [frobnicator jammed]
`, class)
}

// brokenCatalog has a problem in every entry, and two in one.
const brokenCatalog = `version: 1
classes:
  - class: custom.gizmo
    scope: sometimes
    match:
      - [gizmo broke]
  - class: custom.widget
    title: Widget
    http_status: [999]
`

// reloadConfig is a config file naming catalog, routing to the
// Alertmanager sink, with extra appended.
func reloadConfig(catalog, brokers, extra string) string {
	return fmt.Sprintf(`brokers: [%s]
catalog: %s
alertmanager: {url: "http://127.0.0.1:1"}
routing:
  routes:
    - {name: all, sinks: [alertmanager]}
%s`, brokers, catalog, extra)
}

// rewrite replaces the file at path as editors do: a new file renamed
// over it.
func rewrite(t *testing.T, path, text string) {
	t.Helper()
	tmp := path + ".tmp"
	require.NoError(t, os.WriteFile(tmp, []byte(text), 0o644))
	require.NoError(t, os.Rename(tmp, path))
}

// reloadRig is a reloader over a config file and a catalog file, as
// consumeKafka starts it, with a router of one memory sink.
type reloadRig struct {
	cfgPath, catPath string
	live             *detectors.LiveCatalog
	dets             []detectors.Detector
	router           *sinks.Router
	mem              *sinks.Memory
	rl               *reloader
	logs             *syncWriter
}

func newReloadRig(t *testing.T, watch bool) *reloadRig {
	t.Helper()
	dir := t.TempDir()
	g := &reloadRig{cfgPath: filepath.Join(dir, "ingest.yaml"), catPath: filepath.Join(dir, "catalog.yaml"), logs: &syncWriter{}}
	require.NoError(t, os.WriteFile(g.catPath, []byte(frobCatalog("custom.frob_v1")), 0o644))
	extra := ""
	if watch {
		extra = "watch_config: true\n"
	}
	require.NoError(t, os.WriteFile(g.cfgPath, []byte(reloadConfig(g.catPath, "kafka-1:9092", extra)), 0o644))
	f := newFlags(&bytes.Buffer{})
	require.NoError(t, f.parse([]string{"--config", g.cfgPath}))
	getenv := func(string) string { return "" }
	cfg, err := f.resolve(getenv)
	require.NoError(t, err)
	require.NoError(t, cfg.Validate(false))
	require.Equal(t, watch, cfg.WatchConfig)
	cfg.source = f.source(getenv)
	g.dets, g.live, err = liveDetectors(cfg.Catalog)
	require.NoError(t, err)
	g.mem = sinks.NewMemory()
	g.router, err = sinks.NewRouter(cfg.Routing, map[string]sinks.Sink{sinkAlertmanager: g.mem})
	require.NoError(t, err)
	log := slog.New(slog.NewTextHandler(g.logs, nil))
	g.rl = startReloader(context.Background(), cfg, g.live, g.router, log)
	t.Cleanup(g.rl.stop)
	return g
}

// class is the class the detectors give an ERROR line of frobMsg.
func (g *reloadRig) class() string {
	rec := schemas.LogRecord{Producer: schemas.ProducerExchange, Severity: schemas.SeverityError, Body: frobMsg}
	for _, d := range g.dets {
		if sig, ok := d.Detect(&rec); ok {
			return sig.Class
		}
	}
	return ""
}

// route writes an opened event of tenant through the router and says
// whether the sink got it.
func (g *reloadRig) route(t *testing.T, tenant string) bool {
	t.Helper()
	before := len(g.mem.Events())
	ev := notifyEvent(fmt.Sprintf("inc-%012x", before+len(g.router.Stats())*1000), schemas.TypeOpened, schemas.KindSyncError, "m1", 0)
	ev.Data.Tenant = tenant
	require.NoError(t, g.router.Write(context.Background(), []schemas.IncidentEvent{ev}))
	return len(g.mem.Events()) > before
}

func (g *reloadRig) scrape(t *testing.T) string {
	t.Helper()
	m := newMetrics()
	m.reloads = g.rl.stats
	rr := httptest.NewRecorder()
	m.handler().ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return rr.Body.String()
}

// TestReloadSIGHUP sends ingest's process SIGHUP (the handler is
// installed by startReloader, so the signal does not end the test
// binary): a new catalog classifies at once, a new mute holds events
// back, a changed broker is named and kept; broken files are refused with
// every problem, the running catalog and routing kept; the reloads
// counter moves by result.
func TestReloadSIGHUP(t *testing.T) {
	g := newReloadRig(t, false)
	require.Equal(t, "custom.frob_v1", g.class())
	require.True(t, g.route(t, "t-1"))
	hup := func() { require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP)) }

	rewrite(t, g.catPath, frobCatalog("custom.frob_v2"))
	rewrite(t, g.cfgPath, reloadConfig(g.catPath, "kafka-2:9092", "  mutes:\n    - {tenants: [t-1]}\n"))
	hup()
	require.Eventually(t, func() bool { return g.rl.stats().successes == 1 }, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, "custom.frob_v2", g.class(), "the next classification uses the new catalog")
	require.False(t, g.route(t, "t-1"), "muted by the reloaded routing")
	require.True(t, g.route(t, "t-2"))
	logs := g.logs.String()
	require.Contains(t, logs, "level=WARN")
	require.Contains(t, logs, `keys=brokers`, "the broker change is named, not applied")
	require.Contains(t, logs, `msg="reloaded the catalog and the routing" trigger=SIGHUP`)

	// a catalog with three problems and a config with two: all refused
	rewrite(t, g.catPath, brokenCatalog)
	rewrite(t, g.cfgPath, reloadConfig(g.catPath, "kafka-2:9092", "  mutes:\n    - {tenants: [t-2]}\n    - {classes: [\"exchange.[auth\"]}\n")+"lateness: soon\n")
	hup()
	require.Eventually(t, func() bool { return g.rl.stats().failures == 1 }, 5*time.Second, 10*time.Millisecond)
	logs = g.logs.String()
	require.Contains(t, logs, "level=ERROR")
	for _, want := range []string{
		"problems=4",
		g.cfgPath + ":10: cannot unmarshal", // lateness: soon
		":3: class custom.gizmo: scope: unknown scope",
		":3: class custom.gizmo: title: must not be empty",
		":7: class custom.widget: http_status[0]: 999 is not an HTTP status",
	} {
		require.Contains(t, logs, want)
	}
	// the config's decoding failed: its routing was not even read; with
	// the duration fixed, the glob is caught
	rewrite(t, g.cfgPath, reloadConfig(g.catPath, "kafka-2:9092", "  mutes:\n    - {tenants: [t-2]}\n    - {classes: [\"exchange.[auth\"]}\n"))
	err := g.rl.reload("test")
	require.Error(t, err)
	for _, want := range []string{`mutes[1].classes: "exchange.[auth" is not a valid glob`, "class custom.gizmo: scope: unknown scope", "class custom.widget: http_status[0]"} {
		require.ErrorContains(t, err, want)
	}
	require.Equal(t, "custom.frob_v2", g.class(), "the running catalog still classifies")
	require.False(t, g.route(t, "t-1"), "the running routing still mutes t-1")
	require.True(t, g.route(t, "t-2"), "the refused mute of t-2 is not applied")

	body := g.scrape(t)
	for _, want := range []string{
		`syncwatch_config_reloads_total{result="success"} 1`,
		`syncwatch_config_reloads_total{result="failure"} 2`,
		"syncwatch_config_last_reload_successful 0",
		"syncwatch_config_last_reload_success_timestamp_seconds ",
	} {
		require.Contains(t, body, want)
	}

	// fixed: applied again
	rewrite(t, g.catPath, frobCatalog("custom.frob_v3"))
	rewrite(t, g.cfgPath, reloadConfig(g.catPath, "kafka-2:9092", "  mutes:\n    - {tenants: [t-2]}\n"))
	hup()
	require.Eventually(t, func() bool { return g.rl.stats().successes == 2 }, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, "custom.frob_v3", g.class())
	require.False(t, g.route(t, "t-2"), "the mute of t-2, now valid, applies")
	require.Contains(t, g.scrape(t), "syncwatch_config_last_reload_successful 1")
}

// TestReloadWatch: with watch_config, rewriting a file reloads within a
// few polls, once; the same content written again reloads nothing; a
// broken file fails once, not at every poll. Without it, nothing moves.
func TestReloadWatch(t *testing.T) {
	defer func(d time.Duration) { watchInterval = d }(watchInterval)
	watchInterval = 50 * time.Millisecond

	idle := newReloadRig(t, false)
	rewrite(t, idle.catPath, frobCatalog("custom.frob_v2"))
	time.Sleep(10 * watchInterval)
	require.Equal(t, "custom.frob_v1", idle.class(), "no watching without watch_config")
	require.Zero(t, idle.rl.stats().successes)

	g := newReloadRig(t, true)
	require.Contains(t, g.logs.String(), "watching the configuration files")
	start := time.Now()
	rewrite(t, g.catPath, frobCatalog("custom.frob_v2"))
	require.Eventually(t, func() bool { return g.class() == "custom.frob_v2" }, 5*time.Second, 10*time.Millisecond)
	t.Logf("reloaded %v after the rewrite", time.Since(start).Round(time.Millisecond))
	require.Eventually(t, func() bool { return g.rl.stats().successes == 1 }, 5*time.Second, 10*time.Millisecond)
	require.Contains(t, g.logs.String(), "trigger=\"file change\"")

	rewrite(t, g.catPath, frobCatalog("custom.frob_v2")) // same content, new inode and mtime
	time.Sleep(10 * watchInterval)
	require.Equal(t, int64(1), g.rl.stats().successes, "a rewrite with the same content reloads nothing")

	rewrite(t, g.catPath, brokenCatalog)
	require.Eventually(t, func() bool { return g.rl.stats().failures == 1 }, 5*time.Second, 10*time.Millisecond)
	time.Sleep(10 * watchInterval)
	require.Equal(t, int64(1), g.rl.stats().failures, "a broken file is reported once, not at every poll")
	require.Equal(t, "custom.frob_v2", g.class())

	// fixed, then the config file changes too: its mute applies
	rewrite(t, g.catPath, frobCatalog("custom.frob_v3"))
	require.Eventually(t, func() bool { return g.class() == "custom.frob_v3" }, 5*time.Second, 10*time.Millisecond)
	require.True(t, g.route(t, "t-1"))
	rewrite(t, g.cfgPath, reloadConfig(g.catPath, "kafka-1:9092", "  mutes:\n    - {tenants: [t-1]}\nwatch_config: true\n"))
	require.Eventually(t, func() bool { return g.rl.stats().successes == 3 }, 5*time.Second, 10*time.Millisecond)
	require.False(t, g.route(t, "t-1"))
	require.NotContains(t, g.logs.String(), "level=WARN", "nothing but catalog and routing changed")
	body := g.scrape(t)
	require.Contains(t, body, `syncwatch_config_reloads_total{result="success"} 3`)
	require.Contains(t, body, `syncwatch_config_reloads_total{result="failure"} 1`)
}

// TestReloadRestartOnlyKeys: every key but catalog and routing is named
// when it changes, nested ones by their path; values are never printed.
func TestReloadRestartOnlyKeys(t *testing.T) {
	a := defaultConfig()
	b := defaultConfig()
	b.Brokers = stringList{"k:9092"}
	b.Webhook.URL = "https://user:" + plantedURLPassword + "@hooks.example.com/"
	b.SASL.Password = plantedSASLPassword
	b.Lateness = time.Hour
	b.Catalog = "other.yaml"
	b.Routing.Inhibit = true
	b.WatchConfig = true
	r := &reloader{running: a, router: &sinks.Router{}}
	keys := r.restartOnly(b)
	require.Equal(t, []string{"brokers", "watch_config", "lateness", "sasl.password", "webhook.url"}, keys)
	requireNoSecret(t, "restart-only keys", strings.Join(keys, " "))
	r.router = nil
	require.Contains(t, r.restartOnly(b), "routing (no notification sink runs)")
}

// TestWatchConfigSources: watch_config is set, like every setting, by
// the file, SYNCWATCH_WATCH_CONFIG or --watch-config, in that order of
// precedence.
func TestWatchConfigSources(t *testing.T) {
	path := writeConfig(t, "brokers: [k:9092]\nwatch_config: true\n")
	for _, tt := range []struct {
		name string
		args []string
		env  string
		want bool
	}{
		{"default", nil, "", false},
		{"file", []string{"--config", path}, "", true},
		{"environment", nil, "true", true},
		{"environment over file", []string{"--config", path}, "false", false},
		{"flag over environment", []string{"--watch-config"}, "false", true},
		{"flag false over file", []string{"--config", path, "--watch-config=false"}, "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFlags(&bytes.Buffer{})
			require.NoError(t, f.parse(tt.args))
			cfg, err := f.resolve(func(k string) string {
				if k == "SYNCWATCH_WATCH_CONFIG" {
					return tt.env
				}
				return ""
			})
			require.NoError(t, err)
			require.Equal(t, tt.want, cfg.WatchConfig)
		})
	}
}

// TestReloadNewSinkRefused: a sink cannot be added live, so routes to a
// sink the file adds are refused, naming the running sinks; without such
// routes the new sink's URL is only named as applying at the next start.
func TestReloadNewSinkRefused(t *testing.T) {
	g := newReloadRig(t, false)
	hook := "webhook: {url: \"http://127.0.0.1:2/hook\", secret: s3cr3t}\n"
	rewrite(t, g.cfgPath, reloadConfig(g.catPath, "kafka-1:9092", "    - {name: hooks, sinks: [webhook]}\n")+hook)
	err := g.rl.reload("test")
	require.ErrorContains(t, err, `routing, against the running notification sinks [alertmanager]: 1 error occurred:`)
	require.ErrorContains(t, err, `routes[1].sinks: "webhook" is not a configured sink (have [alertmanager])`)

	rewrite(t, g.cfgPath, reloadConfig(g.catPath, "kafka-1:9092", "")+hook)
	require.NoError(t, g.rl.reload("test"))
	require.Contains(t, g.logs.String(), "keys=\"webhook.url, webhook.secret\"")
	require.NotContains(t, g.logs.String(), "s3cr3t")
}
