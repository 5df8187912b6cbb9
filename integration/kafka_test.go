package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/kafkasource"
	"github.com/syncwatch/syncwatch/pipeline/kfakebroker"
	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/schemas"
)

const partitions = 3

var topicOf = map[schemas.Producer]string{
	schemas.ProducerExchange: "sync.exchange-connector",
	schemas.ProducerEngine:   "sync.engine",
	schemas.ProducerC4CC:     "sync.c4cc-connector",
}

// kafkaCorpus generates a corpus, writes its entries per topic as
// \x1e-delimited files for kcat (entries may span lines), each keyed by
// tenant/mailbox (key and value split by \x1f), and appends to
// every partition one "tick" entry an hour after the corpus ends, so that
// the live watermark passes every decision (a live system keeps logging).
// It also writes the same entries as files for replay.
type kafkaCorpus struct {
	dir      string
	truth    []loggen.Truth
	topics   map[string]string // topic -> kcat input file
	replay   []string          // files for replay, same entries
	entries  int
	tickLine string
}

func newKafkaCorpus(t *testing.T, cfg loggen.Config) *kafkaCorpus {
	t.Helper()
	dir := t.TempDir()
	bufs := map[string]*bytes.Buffer{}
	lines := map[string]*bytes.Buffer{}
	kc := &kafkaCorpus{dir: dir, topics: map[string]string{}}
	var last time.Time
	truth, _, err := loggen.Generate(cfg, func(e loggen.Entry) error {
		tp := topicOf[e.Producer]
		if bufs[tp] == nil {
			bufs[tp], lines[tp] = &bytes.Buffer{}, &bytes.Buffer{}
		}
		bufs[tp].WriteString(e.Key) // keyed by mailbox, as producers must
		bufs[tp].WriteByte(0x1f)
		bufs[tp].Write(e.Raw)
		bufs[tp].WriteByte(0x1e)
		lines[tp].Write(e.Raw)
		lines[tp].WriteByte('\n')
		kc.entries++
		if e.Time.After(last) {
			last = e.Time
		}
		return nil
	})
	require.NoError(t, err)
	kc.truth = truth
	for tp, b := range bufs {
		p := filepath.Join(dir, tp+".kcat")
		require.NoError(t, os.WriteFile(p, b.Bytes(), 0o644))
		kc.topics[tp] = p
		r := filepath.Join(dir, tp+".log")
		require.NoError(t, os.WriteFile(r, lines[tp].Bytes(), 0o644))
		kc.replay = append(kc.replay, r)
	}
	tick := last.Add(time.Hour).UTC().Format("2006-01-02T15:04:05.000Z")
	kc.tickLine = fmt.Sprintf("ts=%s level=info component=sync-engine tenant=t-tick mailbox=tick@syncwatch.invalid run=tick event=run_started", tick)
	tickFile := filepath.Join(dir, "tick.log")
	require.NoError(t, os.WriteFile(tickFile, []byte(kc.tickLine+"\n"), 0o644))
	kc.replay = append(kc.replay, tickFile)
	return kc
}

func (kc *kafkaCorpus) produce(t *testing.T, kcat string, brokers []string) {
	t.Helper()
	kc.produceTopics(t, kcat, brokers, nil)
}

// produceTopics produces the corpus of the topics keep accepts (all when
// nil), with their tick entries.
func (kc *kafkaCorpus) produceTopics(t *testing.T, kcat string, brokers []string, keep func(string) bool) {
	t.Helper()
	for tp, file := range kc.topics {
		if keep != nil && !keep(tp) {
			continue
		}
		out, err := exec.Command(kcat, "-b", strings.Join(brokers, ","), "-P", "-t", tp, "-D", "\x1e", "-K", "\x1f", "-l", file).CombinedOutput()
		require.NoError(t, err, "kcat -P %s: %s", tp, out)
	}
	for tp := range topicOf {
		if keep != nil && !keep(topicOf[tp]) {
			continue
		}
		for p := 0; p < partitions; p++ {
			cmd := exec.Command(kcat, "-b", strings.Join(brokers, ","), "-P", "-t", topicOf[tp], "-p", fmt.Sprint(p))
			cmd.Stdin = strings.NewReader(kc.tickLine + "\n")
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "kcat tick: %s", out)
		}
	}
}

// readIncidents reads the whole incidents topic with kcat.
func readIncidents(t *testing.T, kcat string, brokers []string) []schemas.IncidentEvent {
	t.Helper()
	cmd := exec.Command(kcat, "-b", strings.Join(brokers, ","), "-C", "-t", "sync.incidents", "-o", "beginning", "-e", "-q", "-f", "%s\n")
	out, err := cmd.Output()
	if err != nil {
		return nil // the topic may not exist yet
	}
	return decodeEvents(t, out)
}

func startBroker(t *testing.T) *kfakebroker.Broker {
	t.Helper()
	topics := append([]string{"sync.incidents", "sync.deadletter"}, kafkasource.DefaultTopics...)
	b, err := kfakebroker.Start(kfakebroker.Config{Topics: topics, Partitions: partitions})
	require.NoError(t, err)
	t.Cleanup(b.Close)
	return b
}

func startIngest(t *testing.T, brokers []string, group string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin("ingest"), "--brokers", strings.Join(brokers, ","), "--group", group, "--metrics-addr", "off", "--log-level", "warn")
	cmd.Stderr = os.Stderr
	startCmd(t, cmd)
	return cmd
}

// startCmd starts cmd and kills it when the test ends, unless the test
// waited for it.
func startCmd(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
}

// waitFor polls the incidents topic until every expected event id is there.
func waitFor(t *testing.T, kcat string, brokers []string, want map[string]string, limit time.Duration) []schemas.IncidentEvent {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		got := readIncidents(t, kcat, brokers)
		seen := map[string]bool{}
		for _, e := range got {
			seen[e.ID] = true
		}
		missing := 0
		for id := range want {
			if !seen[id] {
				missing++
			}
		}
		if missing == 0 {
			return got
		}
		if time.Now().After(deadline) {
			logMissing(t, got, want, 10)
			t.Fatalf("after %s, %d of %d expected events are missing from sync.incidents", limit, missing, len(want))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func expectedFromReplay(t *testing.T, kc *kafkaCorpus) ([]schemas.IncidentEvent, map[string]string) {
	t.Helper()
	out, stderr, code := runReplay(t, append([]string{"--quiet"}, kc.replay...)...)
	require.Equal(t, 0, code, "%s", stderr)
	evs := decodeEvents(t, out)
	require.NotEmpty(t, evs)
	return evs, withoutOrigins(t, evs)
}

func TestIngestKcatRoundTrip(t *testing.T) {
	kcat := requireTool(t, "kcat")
	broker := startBroker(t)
	kc := newKafkaCorpus(t, loggen.Config{Seed: 31, Mailboxes: 20, Duration: 12 * time.Hour, Dirty: true})
	kc.produce(t, kcat, broker.Addrs())
	want, wantData := expectedFromReplay(t, kc)

	cmd := startIngest(t, broker.Addrs(), "syncwatch-roundtrip")
	got := waitFor(t, kcat, broker.Addrs(), wantData, 90*time.Second)

	// graceful stop
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "ingest must exit 0 on SIGTERM")
	case <-time.After(40 * time.Second):
		t.Fatal("ingest did not stop within 40s of SIGTERM")
	}

	gotData := withoutOrigins(t, got)
	for id, w := range wantData {
		require.Equal(t, w, gotData[id], "event %s differs between replay and live", id)
	}
	require.Len(t, gotData, len(wantData), "live published events replay does not have")
	p, r := f1(kc.truth, got)
	t.Logf("%d entries via kcat; %d events live = replay; precision %.3f recall %.3f", kc.entries, len(want), p, r)
	require.GreaterOrEqual(t, p, 0.99)
	require.GreaterOrEqual(t, r, 0.99)
}

func TestIngestKill9Restart(t *testing.T) {
	kcat := requireTool(t, "kcat")
	broker := startBroker(t)
	kc := newKafkaCorpus(t, loggen.Config{Seed: 41, Mailboxes: 80, Duration: 48 * time.Hour})
	kc.produce(t, kcat, broker.Addrs())
	_, wantData := expectedFromReplay(t, kc)

	// kill -9 as soon as the first incidents are out, then restart
	cmd := startIngest(t, broker.Addrs(), "syncwatch-kill9")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for len(readIncidents(t, kcat, broker.Addrs())) == 0 {
		require.NoError(t, ctx.Err(), "no incident published within 60s")
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	cmd.Wait()
	before := len(readIncidents(t, kcat, broker.Addrs()))

	startIngest(t, broker.Addrs(), "syncwatch-kill9")
	got := waitFor(t, kcat, broker.Addrs(), wantData, 120*time.Second)
	byID := map[string]string{}
	dups := 0
	for id, data := range withoutOrigins(t, got) {
		byID[id] = data
	}
	seen := map[string]int{}
	for _, e := range got {
		seen[e.ID]++
		if seen[e.ID] > 1 {
			dups++
		}
	}
	for id, w := range wantData {
		require.Equal(t, w, byID[id], "event %s", id)
	}
	require.Len(t, byID, len(wantData), "every published id must be one replay has")
	t.Logf("killed after %d events; after restart %d events on the topic for %d distinct ids: %d duplicates (identical ids), 0 missing",
		before, len(got), len(byID), dups)
}

// TestIngestSkewedTopics produces two producers' topics first and the sync
// engine's only seconds later (a producer catching up after downtime): the
// watermark holds the run decisions until the engine's partitions catch up,
// so live still gives exactly replay's events.
func TestIngestSkewedTopics(t *testing.T) {
	kcat := requireTool(t, "kcat")
	broker := startBroker(t)
	kc := newKafkaCorpus(t, loggen.Config{Seed: 51, Mailboxes: 20, Duration: 12 * time.Hour, Dirty: true})
	_, wantData := expectedFromReplay(t, kc)
	engine := func(tp string) bool { return tp == "sync.engine" }
	kc.produceTopics(t, kcat, broker.Addrs(), func(tp string) bool { return !engine(tp) })
	startIngest(t, broker.Addrs(), "syncwatch-skew")
	time.Sleep(3 * time.Second) // the other topics are consumed meanwhile
	kc.produceTopics(t, kcat, broker.Addrs(), engine)
	got := waitFor(t, kcat, broker.Addrs(), wantData, 90*time.Second)
	gotData := withoutOrigins(t, got)
	for id, w := range wantData {
		require.Equal(t, w, gotData[id], "event %s differs between replay and live", id)
	}
	require.Len(t, gotData, len(wantData), "live published events replay does not have")
}

// logMissing logs up to n expected events missing from got, each with the
// events got has of the same mailbox, kind and class: what tells a late
// decision from an incident opened under another id.
func logMissing(t *testing.T, got []schemas.IncidentEvent, want map[string]string, n int) {
	t.Helper()
	seen := map[string]bool{}
	for _, e := range got {
		seen[e.ID] = true
	}
	for id, w := range want {
		if seen[id] {
			continue
		}
		if n--; n < 0 {
			return
		}
		var e schemas.IncidentEvent
		require.NoError(t, json.Unmarshal([]byte(w), &e))
		var same []string
		for _, g := range got {
			if g.Data.Mailbox == e.Data.Mailbox && g.Data.Kind == e.Data.Kind && g.Data.Class == e.Data.Class {
				same = append(same, fmt.Sprintf("%s %s at %s", g.Type, g.Data.IncidentID, g.Time.Format(time.RFC3339Nano)))
			}
		}
		t.Logf("missing %s %s %s/%s %s at %s; the topic has of it: %v", e.Type, e.Data.IncidentID, e.Data.Kind, e.Data.Class, e.Data.Mailbox, e.Time.Format(time.RFC3339Nano), same)
	}
}
