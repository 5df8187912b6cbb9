package integration

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/schemas"
)

// TestIngestResumesOldIncidents: an incident that opened long before a
// restart (further back than --restore-window, which is by message time,
// 3s here) keeps its id and is resolved by the first healthy run after
// the restart, as replay resolves it. The corpus is produced in three
// parts cut at event times: the incident opens in the first; the second
// comes more than the restore window later (in wall-clock time, which
// stamps the messages), so a new owner re-reads only the second part; the
// third, with the healing runs, after the restart or rebalance. Every
// incident id on the topic is one replay gives, and every id replay gives
// is on the topic. Before --resume-incidents, the restarted consumer
// opened the incident again under a new id, and the old id stayed open.
func TestIngestResumesOldIncidents(t *testing.T) {
	kcat := requireTool(t, "kcat")
	cfg := loggen.Config{Seed: 73, Mailboxes: 30, Duration: 24 * time.Hour, Dirty: true}

	// The longest sync error replay opens and resolves.
	out, stderr, code := runReplay(t, append([]string{"--quiet"}, replayFiles(splitCorpus(t, cfg))...)...)
	require.Equal(t, 0, code, "%s", stderr)
	var long schemas.IncidentEvent
	for _, e := range decodeEvents(t, out) {
		if e.Type == schemas.TypeResolved && e.Data.Kind == schemas.KindSyncError &&
			e.Time.Sub(e.Data.FirstSeen.Time) > long.Time.Sub(long.Data.FirstSeen.Time) {
			long = e
		}
	}
	span := long.Time.Sub(long.Data.FirstSeen.Time)
	require.Greater(t, span, 2*time.Hour, "the corpus has a sync error that lasts hours")
	cut1 := long.Data.FirstSeen.Add(span / 4)
	cut2 := long.Data.FirstSeen.Add(span / 2)
	parts := splitCorpus(t, cfg, cut1, cut2)
	t.Logf("incident %s (%s) open from %s to %s; parts cut at %s and %s",
		long.Data.IncidentID, long.Data.Class, long.Data.FirstSeen.Format(time.TimeOnly), long.Time.Format(time.TimeOnly),
		cut1.Format(time.TimeOnly), cut2.Format(time.TimeOnly))

	out, stderr, code = runReplay(t, append([]string{"--quiet"}, replayFiles(parts)...)...)
	require.Equal(t, 0, code, "%s", stderr)
	want := decodeEvents(t, out)

	flags := []string{"--restore-window", "3s", "--quiet-after", "1s"}
	for _, how := range []string{"restart", "rebalance"} {
		t.Run(how, func(t *testing.T) {
			broker := startBroker(t)
			group := "syncwatch-resume-" + how
			a := startFaultIngest(t, "ingest-a", broker.Addrs(), group, false, flags...)
			parts[0].produce(t, kcat, broker.Addrs())
			waitAllCommitted(t, broker.Addrs(), group, 60*time.Second)
			time.Sleep(5 * time.Second) // more than the restore window, in message time
			parts[1].produce(t, kcat, broker.Addrs())
			waitAllCommitted(t, broker.Addrs(), group, 60*time.Second)

			var b *faultProc
			if how == "restart" {
				a.stop(t, 30*time.Second)
				b = startFaultIngest(t, "ingest-b", broker.Addrs(), group, true, flags...)
			} else {
				b = startFaultIngest(t, "ingest-b", broker.Addrs(), group, true, flags...)
				deadline := time.Now().Add(60 * time.Second)
				for !b.logContains("consumer group generation started") {
					require.True(t, time.Now().Before(deadline), "ingest-b never got partitions")
					time.Sleep(100 * time.Millisecond)
				}
			}
			parts[2].produce(t, kcat, broker.Addrs())
			waitAllCommitted(t, broker.Addrs(), group, 60*time.Second)
			got := readIncidents(t, kcat, broker.Addrs())
			_, body := faultGet(b.metrics, "/metrics")
			resumed, _ := metricSum(body, "syncwatch_incidents_resumed")
			if how == "restart" {
				require.Positive(t, resumed, "the restarted member carried incidents on")
			}

			compareResumed(t, want, got, cut1)
			var history []string
			for _, e := range got {
				if e.Data.IncidentID == long.Data.IncidentID {
					history = append(history, strings.TrimPrefix(e.Type, "com.syncwatch.incident."))
				}
			}
			require.Contains(t, history, "resolved", "incident %s is resolved", long.Data.IncidentID)
			t.Logf("%s: %d events on the topic, %d in replay; %v incidents resumed by ingest-b; %s: %v",
				how, len(got), len(want), resumed, long.Data.IncidentID, history)
			if !a.exited() {
				a.stop(t, 30*time.Second)
			}
			b.stop(t, 30*time.Second)
		})
	}
}

// compareResumed requires that got (the incidents topic) holds exactly the
// event ids of want (replay), each copy with replay's data, evidence
// origins aside. An incident that opened before opened (the first part)
// was carried on from its events: the entries of the run that straddled
// the restore window's start, seen after its last event, are not in its
// counts, which may be short (docs/rebalancing.md).
func compareResumed(t *testing.T, want, got []schemas.IncidentEvent, opened time.Time) {
	t.Helper()
	norm := func(e schemas.IncidentEvent, counts bool) string {
		for i := range e.Data.Evidence {
			e.Data.Evidence[i].Origin = ""
		}
		if !counts {
			e.Data.Occurrences, e.Data.AffectedRecords = 0, 0
		}
		b, err := json.Marshal(e)
		require.NoError(t, err)
		return string(b)
	}
	wantByID := map[string]schemas.IncidentEvent{}
	for _, e := range want {
		wantByID[e.ID] = e
	}
	seen := map[string]bool{}
	short := 0
	for _, g := range got {
		w, ok := wantByID[g.ID]
		require.True(t, ok, "event %s (%s %s/%s) is not one replay gives", g.ID, g.Type, g.Data.Tenant, g.Data.Mailbox)
		seen[g.ID] = true
		if norm(g, true) == norm(w, true) {
			continue
		}
		require.True(t, w.Data.FirstSeen.Before(opened), "event %s differs from replay's:\n got:  %s\n want: %s", g.ID, norm(g, true), norm(w, true))
		require.Equal(t, norm(w, false), norm(g, false), "event %s of a resumed incident differs from replay's in more than its counts", g.ID)
		short++
	}
	for id := range wantByID {
		require.True(t, seen[id], "replay's event %s never reached the topic", id)
	}
	t.Logf("%d copies of events of resumed incidents differ from replay's in their counts", short)
}
