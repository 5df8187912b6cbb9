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

	p := startFaultIngest(t, "ingest", broker.Addrs(), "syncwatch-quiet", true, "--quiet-after", "2s")
	for i, h := range halves {
		for tp, file := range h.kcat {
			out, err := exec.Command(kcat, "-b", strings.Join(broker.Addrs(), ","), "-P", "-t", tp, "-D", "\x1e", "-K", "\x1f", "-l", file).CombinedOutput()
			require.NoError(t, err, "kcat -P %s: %s", tp, out)
		}
		// replay of everything produced so far
		var files []string
		for _, prev := range halves[:i+1] {
			files = append(files, prev.replay...)
		}
		out, stderr, code := runReplay(t, append([]string{"--quiet"}, files...)...)
		require.Equal(t, 0, code, "%s", stderr)
		want := withoutOrigins(t, decodeEvents(t, out))
		require.NotEmpty(t, want)

		deadline := time.Now().Add(60 * time.Second)
		for {
			committed, end := committedAndEnd(t, broker.Addrs(), "syncwatch-quiet")
			if committed == end {
				break
			}
			require.True(t, time.Now().Before(deadline), "half %d: %d of %d input offsets committed after 60s of a quiet input", i+1, committed, end)
			time.Sleep(500 * time.Millisecond)
		}
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

// corpusHalf is one part of a corpus: kcat input files per topic (keyed
// by tenant/mailbox) and the same entries as files for replay.
type corpusHalf struct {
	kcat   map[string]string
	replay []string
}

// splitCorpus generates cfg's corpus and splits its entries at the event
// time cut: each half holds the entries before, and from, cut.
func splitCorpus(t *testing.T, cfg loggen.Config, cut time.Time) [2]corpusHalf {
	t.Helper()
	dir := t.TempDir()
	type bufs struct{ kcat, lines bytes.Buffer }
	var parts [2]map[string]*bufs
	for i := range parts {
		parts[i] = map[string]*bufs{}
	}
	_, _, err := loggen.Generate(cfg, func(e loggen.Entry) error {
		h := 0
		if !e.Time.Before(cut) {
			h = 1
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
	var halves [2]corpusHalf
	for i, m := range parts {
		halves[i].kcat = map[string]string{}
		for tp, b := range m {
			k := filepath.Join(dir, fmt.Sprintf("%s.%d.kcat", tp, i))
			require.NoError(t, os.WriteFile(k, b.kcat.Bytes(), 0o644))
			halves[i].kcat[tp] = k
			r := filepath.Join(dir, fmt.Sprintf("%s.%d.log", tp, i))
			require.NoError(t, os.WriteFile(r, b.lines.Bytes(), 0o644))
			halves[i].replay = append(halves[i].replay, r)
		}
		require.NotEmpty(t, halves[i].kcat, "half %d is empty", i+1)
	}
	return halves
}
