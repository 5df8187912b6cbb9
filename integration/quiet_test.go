package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
)

// TestIngestQuietFlush produces a corpus in two halves cut at an event
// time, with no later "tick" entry behind either: the input simply stops,
// as a landscape's logs do at night. After each half, ingest
// (--quiet-after 2s) must commit every input offset (the group shows no
// lag, which Burrow would report as a stalled consumer) and publish
// exactly the events a replay of the logs so far gives; after the second
// half, a replay of the whole. Before the quiet flush, the records held
// for ordering stayed uncommitted, and the decisions waiting for more
// event time never fired.
func TestIngestQuietFlush(t *testing.T) {
	kcat := requireTool(t, "kcat")
	broker := startBroker(t)
	start, err := time.Parse(time.RFC3339, loggen.DefaultStart)
	require.NoError(t, err)
	cfg := loggen.Config{Seed: 71, Mailboxes: 30, Start: start, Duration: 24 * time.Hour}
	cut := start.Add(cfg.Duration / 2)
	halves := splitCorpus(t, cfg, cut)
	require.Len(t, halves, 2)

	p := startFaultIngest(t, "ingest", broker.Addrs(), "syncwatch-quiet", true, "--quiet-after", "2s")
	for i, h := range halves {
		h.produce(t, kcat, broker.Addrs())
		// replay of everything produced so far
		out, stderr, code := runReplay(t, append([]string{"--quiet"}, replayFiles(halves[:i+1])...)...)
		require.Equal(t, 0, code, "%s", stderr)
		want := withoutOrigins(t, decodeEvents(t, out))
		require.NotEmpty(t, want)

		waitAllCommitted(t, broker.Addrs(), "syncwatch-quiet", 60*time.Second)
		got := withoutOrigins(t, readIncidents(t, kcat, broker.Addrs()))
		require.Equal(t, want, got, "half %d: the events of a quiet input are replay's of the logs so far", i+1)
		_, body := faultGet(p.metrics, "/metrics")
		n, ok := metricSum(body, "syncwatch_quiet_flushes_total")
		require.True(t, ok, "syncwatch_quiet_flushes_total is exported")
		require.GreaterOrEqual(t, n, float64(i+1))
		t.Logf("half %d: every offset committed; %d events = replay's; %v quiet flushes", i+1, len(got), n)
	}
	require.True(t, p.logContains("input quiet"), "the flush is logged")
	p.stop(t, 30*time.Second)
}

// corpusPart is one part of a corpus: kcat input files per topic (keyed
// by tenant/mailbox) and the same entries as files for replay.
type corpusPart struct {
	kcat   map[string]string
	replay []string
}

// splitCorpus generates cfg's corpus and splits its entries at the event
// times cuts (ascending): part i holds the entries from cuts[i-1] to
// before cuts[i]. Every part must hold entries.
func splitCorpus(t *testing.T, cfg loggen.Config, cuts ...time.Time) []corpusPart {
	t.Helper()
	dir := t.TempDir()
	type bufs struct{ kcat, lines bytes.Buffer }
	parts := make([]map[string]*bufs, len(cuts)+1)
	for i := range parts {
		parts[i] = map[string]*bufs{}
	}
	_, _, err := loggen.Generate(cfg, func(e loggen.Entry) error {
		h := 0
		for h < len(cuts) && !e.Time.Before(cuts[h]) {
			h++
		}
		tp := topicOf[e.Producer]
		b := parts[h][tp]
		if b == nil {
			b = &bufs{}
			parts[h][tp] = b
		}
		fmt.Fprintf(&b.kcat, "%s\x1f%s\x1e", e.Key, e.Raw)
		b.lines.Write(e.Raw)
		b.lines.WriteByte('\n')
		return nil
	})
	require.NoError(t, err)
	out := make([]corpusPart, len(parts))
	for i, m := range parts {
		out[i].kcat = map[string]string{}
		for tp, b := range m {
			k := filepath.Join(dir, fmt.Sprintf("%s.%d.kcat", tp, i))
			require.NoError(t, os.WriteFile(k, b.kcat.Bytes(), 0o644))
			out[i].kcat[tp] = k
			r := filepath.Join(dir, fmt.Sprintf("%s.%d.log", tp, i))
			require.NoError(t, os.WriteFile(r, b.lines.Bytes(), 0o644))
			out[i].replay = append(out[i].replay, r)
		}
		require.NotEmpty(t, out[i].kcat, "part %d is empty", i+1)
	}
	return out
}

// produce produces the part's entries with kcat, keyed.
func (p corpusPart) produce(t *testing.T, kcat string, brokers []string) {
	t.Helper()
	for tp, file := range p.kcat {
		out, err := exec.Command(kcat, "-b", strings.Join(brokers, ","), "-P", "-t", tp, "-D", "\x1e", "-K", "\x1f", "-l", file).CombinedOutput()
		require.NoError(t, err, "kcat -P %s: %s", tp, out)
	}
}

// replayFiles is the replay input of parts.
func replayFiles(parts []corpusPart) []string {
	var files []string
	for _, p := range parts {
		files = append(files, p.replay...)
	}
	return files
}

// waitAllCommitted waits until the group (which may not exist yet) has
// committed every input offset.
func waitAllCommitted(t *testing.T, brokers []string, group string, limit time.Duration) {
	t.Helper()
	waitCommittedBut(t, brokers, group, 0, limit)
}

// waitCommittedBut waits until the group (which may not exist yet) has
// committed every input offset but left of them.
func waitCommittedBut(t *testing.T, brokers []string, group string, left int64, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		committed, end, err := groupOffsets(brokers, group)
		if err == nil && committed >= end-left {
			return
		}
		require.True(t, time.Now().Before(deadline), "after %s, %d of %d input offsets committed, want all but %d (%v)", limit, committed, end, left, err)
		time.Sleep(300 * time.Millisecond)
	}
}
