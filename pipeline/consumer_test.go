package pipeline_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/detectors"
	"github.com/syncwatch/syncwatch/pipeline"
	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/schemas"
	"github.com/syncwatch/syncwatch/sinks"
)

// TestStopDuringDelivery: a stop signal that lands while a batch's events
// are being written must not cut the write. The run delivers the batch and
// returns nil; before, the write failed with "context canceled" and ingest
// exited 2 on a plain SIGTERM (seen in the container tests).
func TestStopDuringDelivery(t *testing.T) {

	ctx, stop := context.WithCancel(context.Background())
	mem := sinks.NewMemory()
	writing := make(chan struct{})
	sink := &ctxSink{Memory: mem, before: func(wctx context.Context) error {
		select {
		case <-writing:
		default:
			close(writing) // the first write: stop now, while it runs
			stop()
			time.Sleep(50 * time.Millisecond)
		}
		return wctx.Err() // a sink whose context ends fails the write
	}}
	c := testConsumer(t, corpusMessages(t), sink, pipeline.ConsumerConfig{})
	require.NoError(t, c.Run(ctx), "a stop during a write must let the write finish")
	<-writing
	require.NotEmpty(t, mem.Events(), "the batch in flight was delivered")
}

// TestStopDrainIsBounded: a write that never finishes does not hold the
// stop forever; it fails after the drain timeout.
func TestStopDrainIsBounded(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	sink := &ctxSink{Memory: sinks.NewMemory(), before: func(wctx context.Context) error {
		stop()
		<-wctx.Done() // a sink that hangs until its context ends
		return wctx.Err()
	}}
	c := testConsumer(t, corpusMessages(t), sink, pipeline.ConsumerConfig{DrainTimeout: 200 * time.Millisecond})
	start := time.Now()
	err := c.Run(ctx)
	require.Error(t, err)
	require.True(t, errors.Is(err, context.Canceled), "%v", err)
	require.Less(t, time.Since(start), 5*time.Second)
}

// ctxSink is a Memory sink that first calls before with the write's
// context.
type ctxSink struct {
	*sinks.Memory
	before func(context.Context) error
}

func (s *ctxSink) Write(ctx context.Context, events []schemas.IncidentEvent) error {
	if err := s.before(ctx); err != nil {
		return err
	}
	return s.Memory.Write(ctx, events)
}

// corpusMessages is a generated corpus as messages of one partition.
func corpusMessages(t *testing.T) []pipeline.Message {
	t.Helper()
	var msgs []pipeline.Message
	_, _, err := loggen.Generate(loggen.Config{Seed: 3, Mailboxes: 20, Duration: 6 * time.Hour}, func(e loggen.Entry) error {
		msgs = append(msgs, pipeline.Message{Topic: "sync.engine", Source: "sync.engine/0", Offset: int64(len(msgs)), Value: append([]byte(nil), e.Raw...)})
		return nil
	})
	require.NoError(t, err)
	return msgs
}

// testConsumer runs msgs (from a fakeSource) through a pipeline with the
// default detectors into events, in small batches; cfg sets the rest.
func testConsumer(t *testing.T, msgs []pipeline.Message, events sinks.Sink, cfg pipeline.ConsumerConfig) *pipeline.Consumer {
	t.Helper()
	dets, err := detectors.Build(nil, detectors.Options{})
	require.NoError(t, err)
	cfg.NewPipeline = func() (*pipeline.Pipeline, error) {
		return pipeline.New(pipeline.Config{Detection: detectors.Config{Detectors: dets}, Events: events})
	}
	cfg.BatchSize, cfg.BatchWait = 200, 5*time.Millisecond
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := pipeline.NewConsumer(&fakeSource{msgs: msgs}, cfg)
	require.NoError(t, err)
	return c
}

// fakeSource hands out a fixed list of messages from one partition, then
// waits for ctx.
type fakeSource struct {
	msgs []pipeline.Message
	next int
}

var _ pipeline.MessageSource = (*fakeSource)(nil)

func (f *fakeSource) Read(ctx context.Context) (pipeline.Message, pipeline.AckFunc, error) {
	if f.next == len(f.msgs) {
		<-ctx.Done()
		return pipeline.Message{}, nil, ctx.Err()
	}
	m := f.msgs[f.next]
	f.next++
	return m, func(context.Context, error) error { return nil }, nil
}
func (f *fakeSource) Assigned() []string                 { return []string{"sync.engine/0"} }
func (f *fakeSource) ObserveEventTime(string, time.Time) {}
func (f *fakeSource) CaughtUp() bool                     { return true }

// TestConsumerSummaryWhileRunning reads Summary in a loop while Run goes
// through a corpus, as /metrics scrapes do: under -race, a Summary that
// read the pipeline while a batch ran was reported as a data race on the
// engine's maps (and could kill the process with "concurrent map
// iteration and map write"). After Run, Summary holds the final counters.
func TestConsumerSummaryWhileRunning(t *testing.T) {
	msgs := corpusMessages(t)
	mem := sinks.NewMemory()
	c := testConsumer(t, msgs, mem, pipeline.ConsumerConfig{StopAfter: int64(len(msgs))})
	done := make(chan struct{})
	reads := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-done:
				reads <- n
				return
			default:
			}
			s := c.Summary()
			_ = len(s.Detection.Opened) + len(s.Normalize.Reasons)
			n++
		}
	}()
	require.NoError(t, c.Run(context.Background()))
	close(done)
	require.Positive(t, <-reads)
	require.NotEmpty(t, mem.Events())

	s := c.Summary()
	var read int64
	for _, n := range s.Normalize.Read {
		read += n
	}
	require.Equal(t, int64(len(msgs)), read, "entries read, after the run")
	require.Equal(t, int64(len(msgs)), c.Processed())
	require.Equal(t, int64(len(mem.Events())), s.Events)
	require.Zero(t, s.Held, "everything was released at the end")
}
