package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline"
	"github.com/syncwatch/syncwatch/schemas"
)

// TestMetricsCollect: /metrics reports the consumer's published summary,
// the source's readiness and lag. (That the summary may be read while the
// consumer runs is pipeline.TestConsumerSummaryWhileRunning's.)
func TestMetricsCollect(t *testing.T) {
	m := newMetrics()
	var s pipeline.Summary
	s.Normalize.Read[schemas.ProducerEngine] = 40
	s.Normalize.Read[schemas.ProducerC4CC] = 2
	s.Normalize.Parsed[schemas.ProducerEngine] = 39
	s.Normalize.Reasons = map[string]int64{"logfmt: unclosed quote": 1}
	s.Detection.Opened = map[string]int{"sync_error/exchange.auth.password": 3}
	s.Events, s.Held = 5, 17
	m.summary = func() pipeline.Summary { return s }
	m.ready = func() bool { return true }
	m.lag = func() map[string]int64 { return map[string]int64{"sync.engine/0": 4} }
	srv := httptest.NewServer(m.handler())
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/metrics")
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	for _, want := range []string{
		`syncwatch_records_in_total{producer="SyncEngine"} 40`,
		`syncwatch_records_in_total{producer="C4CCConnector"} 2`,
		`syncwatch_records_parsed_total{producer="SyncEngine"} 39`,
		`syncwatch_dead_letters_total{reason="logfmt: unclosed quote"} 1`,
		`syncwatch_incidents_opened_total{class="exchange.auth.password",kind="sync_error"} 3`,
		"syncwatch_events_out_total 5",
		"syncwatch_reorder_held_records 17",
		"syncwatch_source_ready 1",
		`syncwatch_commit_lag_messages{partition="sync.engine/0"} 4`,
		"syncwatch_unknown_templates_capped_total 0",
	} {
		require.Contains(t, string(b), want)
	}

	resp, err = http.Get(srv.URL + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	m.ready = func() bool { return false }
	resp, err = http.Get(srv.URL + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}
