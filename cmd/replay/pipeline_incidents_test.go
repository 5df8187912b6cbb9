package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/schemas"
)

// pipelineEvents replays a corpus and returns its pipeline events as
// "type class producer HH:MM", after checking every event against the
// schema, and the number of the other events.
func pipelineEvents(t *testing.T, dir string) ([]string, int) {
	t.Helper()
	var got []string
	other := 0
	for _, ev := range decodeLines(t, replayLines(t, corpusFiles(dir)...)) {
		require.NoError(t, schemas.ValidateEvent(ev))
		if ev.Data.Kind != schemas.KindPipeline {
			other++
			continue
		}
		require.Equal(t, "-", ev.Data.Tenant)
		require.Equal(t, ev.Data.Producer, ev.Data.Mailbox)
		require.NotEmpty(t, ev.Data.Remediation)
		got = append(got, strings.TrimPrefix(ev.Type, "com.syncwatch.incident.")+" "+ev.Data.Class+" "+ev.Data.Producer+" "+ev.Time.UTC().Format("15:04"))
	}
	return got, other
}

// TestReplayPipelineIncidents: replay reports a producer whose lines stop
// parsing and a producer that goes quiet, each once, opened and resolved,
// and nothing on the same corpus untouched.
func TestReplayPipelineIncidents(t *testing.T) {
	at := func(h, m int) time.Time {
		return corpusStart.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
	}
	inHour := func(t time.Time, h int) bool { return !t.Before(at(h, 0)) && t.Before(at(h+1, 0)) }
	tests := []struct {
		scenario string
		file     string
		rewrite  func(line string, t time.Time) (string, bool)
		want     []string
	}{
		{scenario: "untouched corpus"},
		{
			scenario: "exchange lines in a new layout for an hour",
			file:     loggen.ExchangeFile,
			rewrite: func(l string, t time.Time) (string, bool) {
				if !inHour(t, 3) {
					return l, true
				}
				return "[" + t.Format(time.RFC3339) + "] <I> " + l[len("2026-11-24 00:00:12,273 "):], true
			},
			want: []string{
				"opened pipeline.format_drift ExchangeConnector 03:05",
				"resolved pipeline.format_drift ExchangeConnector 04:05",
			},
		},
		{
			scenario: "engine file stops for an hour",
			file:     loggen.EngineFile,
			rewrite:  func(l string, t time.Time) (string, bool) { return l, !inHour(t, 3) },
			want: []string{
				"opened pipeline.producer_silent SyncEngine 03:15",
				"resolved pipeline.producer_silent SyncEngine 04:00",
			},
		},
		{
			// Garbage with no time in it cannot be placed in event time: it
			// counts at the source's latest record, so the hour looks like
			// one drifted window followed by silence.
			scenario: "c4cc lines turn to timeless garbage for an hour",
			file:     loggen.C4CCFile,
			rewrite: func(l string, t time.Time) (string, bool) {
				if !inHour(t, 3) {
					return l, true
				}
				return strings.Repeat("\x7f#", 20) + "\n", true
			},
			want: []string{
				"opened pipeline.format_drift C4CCConnector 03:00",
				"opened pipeline.producer_silent C4CCConnector 03:15",
				"resolved pipeline.producer_silent C4CCConnector 04:00",
				"resolved pipeline.format_drift C4CCConnector 04:05",
			},
		},
	}
	for _, test := range tests {
		t.Run(test.scenario, func(t *testing.T) {
			dir := newCorpus(t, loggen.Config{Seed: 11, Mailboxes: 100, Duration: 6 * time.Hour})
			if test.rewrite != nil {
				require.NoError(t, loggen.RewriteEntries(filepath.Join(dir, test.file), test.rewrite))
			}
			got, other := pipelineEvents(t, dir)
			require.Greater(t, other, 10, "the corpus must give sync incidents too")
			if test.want == nil {
				require.Empty(t, got)
				return
			}
			require.Equal(t, test.want, got)
		})
	}
}
