package pipeline_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline"
	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/schemas"
)

func hour(h int) time.Time { return time.Date(2026, 11, 24, h, 0, 0, 0, time.UTC) }

// TestReplayPipelineIncidentsDeterministic: a corpus whose
// ExchangeConnector lines turn into another format for an hour and whose
// sync engine goes quiet for another hour gives the same events, pipeline
// incidents included and in the same places, whatever the batch size.
func TestReplayPipelineIncidentsDeterministic(t *testing.T) {
	dir := t.TempDir()
	_, err := loggen.WriteDir(dir, loggen.Config{Seed: 7, Mailboxes: 100, Duration: 8 * time.Hour})
	require.NoError(t, err)
	require.NoError(t, loggen.RewriteEntries(filepath.Join(dir, loggen.ExchangeFile), func(l string, at time.Time) (string, bool) {
		if at.Before(hour(2)) || !at.Before(hour(3)) {
			return l, true
		}
		// the new version's layout: bracketed ISO time, no logger column
		ts := at.Format(time.RFC3339)
		return "[" + ts + "] <I> " + l[len("2026-11-24 00:00:12,273 "):], true
	}))
	require.NoError(t, loggen.RewriteEntries(filepath.Join(dir, loggen.EngineFile), func(l string, at time.Time) (string, bool) {
		return l, at.Before(hour(5)) || !at.Before(hour(6))
	}))
	files := []string{filepath.Join(dir, loggen.ExchangeFile), filepath.Join(dir, loggen.EngineFile), filepath.Join(dir, loggen.C4CCFile)}
	want := replayDir(t, files, pipeline.ReplayOptions{})
	var evs []schemas.IncidentEvent
	require.NoError(t, json.Unmarshal(want, &evs))
	var classes []string
	for _, ev := range evs {
		if ev.Data.Kind == schemas.KindPipeline {
			require.NoError(t, schemas.ValidateEvent(ev))
			classes = append(classes, ev.Type[len("com.syncwatch.incident."):]+" "+ev.Data.Class+" "+ev.Data.Producer+" "+ev.Time.UTC().Format("15:04"))
		}
	}
	require.Equal(t, []string{
		"opened pipeline.format_drift ExchangeConnector 02:05",
		"resolved pipeline.format_drift ExchangeConnector 03:05",
		"opened pipeline.producer_silent SyncEngine 05:15",
		"resolved pipeline.producer_silent SyncEngine 06:00",
	}, classes)
	for _, bs := range []int{1, 7, 100000} {
		got := replayDir(t, files, pipeline.ReplayOptions{BatchSize: bs})
		require.True(t, bytes.Equal(want, got), "batch size %d gives other events", bs)
	}
}
