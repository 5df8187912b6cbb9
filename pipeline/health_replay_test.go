package pipeline_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline"
	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/schemas"
)

var logTime = regexp.MustCompile(`(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:[.,](\d{1,9}))?`)

// rewriteLog rewrites a generated log file entry by entry; fn gets each
// entry's first line with its event time and returns the new line, or
// false to drop the entry. The continuation lines of a multi-line entry
// (a stack trace) stay only with an entry kept unchanged.
func rewriteLog(t *testing.T, path string, fn func(line string, at time.Time) (string, bool)) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var out strings.Builder
	same := false
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if line == "" {
			continue
		}
		m := logTime.FindStringSubmatchIndex(line)
		if m == nil || m[0] > 20 { // not a first line: no time near its start
			if same {
				out.WriteString(line)
			}
			continue
		}
		at, err := time.Parse("2006-01-02T15:04:05", line[m[2]:m[3]]+"T"+line[m[4]:m[5]])
		require.NoError(t, err)
		l, keep := fn(line, at)
		same = keep && l == line
		if keep {
			out.WriteString(l)
		}
	}
	require.NoError(t, os.WriteFile(path, []byte(out.String()), 0o644))
}

func hour(h int) time.Time { return time.Date(2026, 11, 24, h, 0, 0, 0, time.UTC) }

// TestReplayPipelineIncidentsDeterministic: a corpus whose
// ExchangeConnector lines turn into another format for an hour and whose
// sync engine goes quiet for another hour gives the same events, pipeline
// incidents included and in the same places, whatever the batch size.
func TestReplayPipelineIncidentsDeterministic(t *testing.T) {
	dir := t.TempDir()
	_, err := loggen.WriteDir(dir, loggen.Config{Seed: 7, Mailboxes: 100, Duration: 8 * time.Hour})
	require.NoError(t, err)
	rewriteLog(t, filepath.Join(dir, loggen.ExchangeFile), func(l string, at time.Time) (string, bool) {
		if at.Before(hour(2)) || !at.Before(hour(3)) {
			return l, true
		}
		// the new version's layout: bracketed ISO time, no logger column
		ts := at.Format(time.RFC3339)
		return "[" + ts + "] <I> " + l[len("2026-11-24 00:00:12,273 "):], true
	})
	rewriteLog(t, filepath.Join(dir, loggen.EngineFile), func(l string, at time.Time) (string, bool) {
		return l, at.Before(hour(5)) || !at.Before(hour(6))
	})
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
