package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/schemas"
	"github.com/syncwatch/syncwatch/sinks"
)

// alertmanagerBinary finds Alertmanager: upstream names it alertmanager,
// Debian's prometheus-alertmanager package prometheus-alertmanager.
func alertmanagerBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("alertmanager"); err == nil {
		return p
	}
	return requireTool(t, "prometheus-alertmanager")
}

// startAlertmanager runs a real Alertmanager on a free loopback port, with
// one receiver that notifies nobody, its storage in a temp dir and
// clustering off, and returns its base URL once it is ready.
func startAlertmanager(t *testing.T) string {
	t.Helper()
	binary := alertmanagerBinary(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertmanager.yml")
	require.NoError(t, os.WriteFile(cfg, []byte("route:\n  receiver: \"null\"\nreceivers:\n  - name: \"null\"\n"), 0o644))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	var logs bytes.Buffer
	cmd := exec.Command(binary, "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=warn")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("alertmanager output:\n%s", logs.String())
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("alertmanager at %s not ready after 20s (%v); output:\n%s", addr, err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// gettableAlert is the part of Alertmanager's GET /api/v2/alerts answer
// the test reads.
type gettableAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
	Status      struct {
		State string `json:"state"`
	} `json:"status"`
}

// activeAlerts returns Alertmanager's active alerts by incident id. The
// API leaves out alerts whose endsAt has passed (resolved ones).
func activeAlerts(t *testing.T, base string) map[string]gettableAlert {
	t.Helper()
	resp, err := http.Get(base + "/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var alerts []gettableAlert
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&alerts))
	out := map[string]gettableAlert{}
	for _, a := range alerts {
		id := a.Annotations["incident_id"]
		_, dup := out[id]
		require.False(t, dup, "incident %s has two alerts", id)
		out[id] = a
	}
	return out
}

// TestAlertmanagerShowsExactlyOpenIncidents replays a generated corpus,
// posts its events to a real Alertmanager through the sink, and checks
// that Alertmanager's active alerts are exactly the incidents left open;
// that the resend loop keeps them firing past the endsAt of their first
// post; and that without it (the sink closed) Alertmanager resolves them.
func TestAlertmanagerShowsExactlyOpenIncidents(t *testing.T) {
	base := startAlertmanager(t)
	dir, _ := corpus(t, loggen.Config{Seed: 81, Mailboxes: 40, Duration: 24 * time.Hour})
	out, stderr, code := runReplay(t, "--quiet",
		filepath.Join(dir, "exchange.log"), filepath.Join(dir, "engine.log"), filepath.Join(dir, "c4cc.jsonl"))
	require.Equal(t, 0, code, "stderr: %s", stderr)
	evs := decodeEvents(t, out)

	require.NotEmpty(t, evs)

	const resend = time.Second
	am, err := sinks.NewAlertmanager(sinks.AlertmanagerConfig{URL: base, ResendInterval: resend, BatchSize: 100, RetryBudget: 10 * time.Second})
	require.NoError(t, err)
	defer am.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// Two phases: the first ends where the most incidents are open at
	// once, and the second resolves most of them, so Alertmanager sees
	// alerts go from firing to resolved.
	cut, n, most := 0, 0, 0
	for i, e := range evs {
		switch e.Type {
		case schemas.TypeOpened:
			n++
		case schemas.TypeResolved:
			n--
		}
		if n > most {
			cut, most = i+1, n
		}
	}
	var open, resolved []string
	last := map[string]schemas.IncidentEvent{}
	check := func(when string) {
		t.Helper()
		got := activeAlerts(t, base)
		ids := make([]string, 0, len(got))
		for id := range got {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		require.Equal(t, open, ids, "%s: active alerts must be exactly the open incidents", when)
		for _, id := range resolved {
			require.NotContains(t, got, id, "%s: resolved incident still active", when)
		}
		for _, id := range open {
			a, e := got[id], last[id]
			require.Equal(t, "active", a.Status.State, id)
			require.Equal(t, e.Data.Class, a.Labels["alertname"], id)
			require.Equal(t, e.Data.Kind, a.Labels["kind"], id)
			require.Equal(t, e.Data.Tenant, a.Labels["tenant"], id)
			require.Equal(t, e.Data.Mailbox, a.Labels["mailbox"], id)
			require.Equal(t, e.Data.Severity, a.Labels["severity"], id)
			require.Equal(t, e.Data.Remediation, a.Annotations["remediation"], id)
			require.True(t, e.Data.FirstSeen.Equal(a.StartsAt), "%s startsAt %v, first_seen %v", id, a.StartsAt, e.Data.FirstSeen)
		}
	}
	for phase, batch := range [][]schemas.IncidentEvent{evs[:cut], evs[cut:]} {
		require.NoError(t, am.Write(ctx, batch))
		for _, e := range batch {
			last[e.Data.IncidentID] = e
		}
		open, resolved = nil, nil
		for id, e := range last {
			if e.Type == schemas.TypeResolved {
				resolved = append(resolved, id)
			} else {
				open = append(open, id)
			}
		}
		sort.Strings(open)
		t.Logf("phase %d: %d incidents: %d open, %d resolved", phase+1, len(last), len(open), len(resolved))
		require.NotEmpty(t, open, "the corpus must leave incidents open")
		require.NotEmpty(t, resolved, "the corpus must resolve incidents")
		require.Equal(t, open, am.Open())
		check(fmt.Sprintf("after phase %d", phase+1))
	}

	// The first post said endsAt = now + 4s; only resends keep them active.
	time.Sleep(4*resend + 2*time.Second)
	check("after 4 resend intervals")

	require.NoError(t, am.Close(context.Background()))
	time.Sleep(4*resend + 2*time.Second)
	require.Empty(t, activeAlerts(t, base), "with the sink closed Alertmanager must resolve the silent alerts")
	t.Logf("alertmanager: %d open alerts matched, %d resolved absent", len(open), len(resolved))
}

// TestIngestAlertmanager runs ingest with --alertmanager-url against a
// real Alertmanager: once ingest has published every event replay
// computes, Alertmanager's active alerts are exactly the incidents replay
// leaves open.
func TestIngestAlertmanager(t *testing.T) {
	kcat := requireTool(t, "kcat")
	base := startAlertmanager(t)
	broker := startBroker(t)
	kc := newKafkaCorpus(t, loggen.Config{Seed: 84, Mailboxes: 20, Duration: 12 * time.Hour})
	kc.produce(t, kcat, broker.Addrs())
	evs, wantData := expectedFromReplay(t, kc)
	last := map[string]schemas.IncidentEvent{}
	for _, e := range evs {
		last[e.Data.IncidentID] = e
	}
	var open []string
	for id, e := range last {
		if e.Type != schemas.TypeResolved {
			open = append(open, id)
		}
	}
	sort.Strings(open)
	require.NotEmpty(t, open, "the corpus must leave incidents open")

	cmd := exec.Command(bin("ingest"), "--brokers", strings.Join(broker.Addrs(), ","), "--group", "syncwatch-am",
		"--metrics-addr", "off", "--log-level", "warn", "--alertmanager-url", base, "--alertmanager-resend-interval", "2s")
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	waitFor(t, kcat, broker.Addrs(), wantData, 90*time.Second)

	var ids []string
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := activeAlerts(t, base)
		ids = ids[:0]
		for id := range got {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		if slices.Equal(open, ids) || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	require.Equal(t, open, ids, "Alertmanager's active alerts must be exactly the incidents left open")
	t.Logf("%d events, %d incidents: %d open alerts in Alertmanager", len(evs), len(last), len(open))
}
