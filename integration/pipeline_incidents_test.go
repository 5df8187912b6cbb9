package integration

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/schemas"
)

// dropEngineHour removes the sync engine's entries of event-time hour h
// from a Kafka corpus, both from what kcat produces and from what replay
// reads: the engine's shipping stopped for that hour.
func dropEngineHour(t *testing.T, kc *kafkaCorpus, h int) {
	t.Helper()
	gone := func(raw []byte) bool {
		// a clean corpus: engine lines start "ts=2026-11-24THH:"
		return bytes.HasPrefix(raw, []byte("ts=2026-11-24T")) && string(raw[14:16]) == twoDigits(h)
	}
	tp := topicOf[schemas.ProducerEngine]
	b, err := os.ReadFile(kc.topics[tp])
	require.NoError(t, err)
	var kept bytes.Buffer
	dropped := 0
	for _, rec := range bytes.Split(b, []byte{0x1e}) {
		if len(rec) == 0 {
			continue
		}
		_, raw, ok := bytes.Cut(rec, []byte{0x1f})
		require.True(t, ok)
		if gone(raw) {
			dropped++
			continue
		}
		kept.Write(rec)
		kept.WriteByte(0x1e)
	}
	require.Greater(t, dropped, 100, "the hour must have engine entries")
	require.NoError(t, os.WriteFile(kc.topics[tp], kept.Bytes(), 0o644))
	logFile := filepath.Join(kc.dir, tp+".log")
	b, err = os.ReadFile(logFile)
	require.NoError(t, err)
	var lines strings.Builder
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if l != "" && !gone([]byte(l)) {
			lines.WriteString(l)
		}
	}
	require.NoError(t, os.WriteFile(logFile, []byte(lines.String()), 0o644))
	kc.entries -= dropped
}

func twoDigits(h int) string { return string([]byte{byte('0' + h/10), byte('0' + h%10)}) }

// TestIngestPipelineIncidentLikeReplay: the sync engine's topic has an
// hour without entries; the live consumer raises the same
// pipeline.producer_silent incident as replay (same ids, same events), and
// everything else replay has.
func TestIngestPipelineIncidentLikeReplay(t *testing.T) {
	kcat := requireTool(t, "kcat")
	broker := startBroker(t)
	kc := newKafkaCorpus(t, loggen.Config{Seed: 61, Mailboxes: 20, Duration: 6 * time.Hour})
	dropEngineHour(t, kc, 3)
	want, wantData := expectedFromReplay(t, kc)
	var pipe []string
	for _, ev := range want {
		if ev.Data.Kind == schemas.KindPipeline {
			pipe = append(pipe, strings.TrimPrefix(ev.Type, "com.syncwatch.incident.")+" "+ev.Data.Class+" "+ev.Data.Producer+" "+ev.Time.UTC().Format("15:04"))
		}
	}
	require.Equal(t, []string{
		"opened pipeline.producer_silent SyncEngine 03:15",
		"resolved pipeline.producer_silent SyncEngine 04:00",
	}, pipe, "replay's pipeline incidents")

	kc.produce(t, kcat, broker.Addrs())
	startIngest(t, broker.Addrs(), "syncwatch-pipeline")
	got := waitFor(t, kcat, broker.Addrs(), wantData, 90*time.Second)
	gotData := withoutOrigins(t, got)
	for id, w := range wantData {
		require.Equal(t, w, gotData[id], "event %s differs between replay and live", id)
	}
	require.Len(t, gotData, len(wantData), "live published events replay does not have")
}
