package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline"
	"github.com/syncwatch/syncwatch/sinks"
)

// fakeSource hands out a fixed list of messages from one partition, then
// waits for ctx.
type fakeSource struct {
	msgs []pipeline.Message
	next int
}

var _ messageSource = (*fakeSource)(nil)

func (f *fakeSource) Read(ctx context.Context) (pipeline.Message, pipeline.AckFunc, error) {
	if f.next == len(f.msgs) {
		<-ctx.Done()
		return pipeline.Message{}, nil, ctx.Err()
	}
	m := f.msgs[f.next]
	f.next++
	return m, func(context.Context, error) error { return nil }, nil
}
func (f *fakeSource) Ready() bool                 { return true }
func (f *fakeSource) Assigned() []string          { return []string{"sync.engine/0"} }
func (f *fakeSource) Close(context.Context) error { return nil }

// TestMetricsScrapeWhileConsuming scrapes /metrics in a loop while the
// consumer runs a corpus: a scrape must not read the pipeline while a
// batch runs (with -race, reading the engine's counters directly at scrape
// time was reported as a data race on its maps; without it, the runtime
// may kill the process with "concurrent map iteration and map write").
func TestMetricsScrapeWhileConsuming(t *testing.T) {
	msgs := corpusMessages(t)
	mem := sinks.NewMemory()
	c := testConsumer(t, msgs, mem)
	c.stopAfter = int64(len(msgs))
	m := c.metrics
	srv := httptest.NewServer(m.handler())
	defer srv.Close()

	done := make(chan struct{})
	var wg sync.WaitGroup
	scrapes := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			resp, err := http.Get(srv.URL + "/metrics")
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				scrapes++
			}
		}
	}()
	require.NoError(t, c.run(context.Background()))
	close(done)
	wg.Wait()
	require.NotEmpty(t, mem.Events())
	require.Positive(t, scrapes)

	// After the run, the published counters are the pipeline's.
	resp, err := http.Get(srv.URL + "/metrics")
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Contains(t, string(b), "syncwatch_unknown_templates_capped_total 0")
	require.Contains(t, string(b), "syncwatch_source_ready 1")
	var in float64
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "syncwatch_records_in_total{") {
			v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			require.NoError(t, err)
			in += v
		}
	}
	require.Equal(t, float64(len(msgs)), in, "records_in_total after the run")
}
