package main

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
	c := testConsumer(t, corpusMessages(t), sink)
	require.NoError(t, c.run(ctx), "a stop during a write must let the write finish")
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
	c := testConsumer(t, corpusMessages(t), sink)
	c.drainTimeout = 200 * time.Millisecond
	start := time.Now()
	err := c.run(ctx)
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
		msgs = append(msgs, pipeline.Message{Topic: "sync.engine", Offset: int64(len(msgs)), Value: append([]byte(nil), e.Raw...)})
		return nil
	})
	require.NoError(t, err)
	return msgs
}

// testConsumer runs msgs (from a fakeSource) through a pipeline with the
// default detectors into events, in small batches.
func testConsumer(t *testing.T, msgs []pipeline.Message, events sinks.Sink) *consumer {
	t.Helper()
	dets, err := detectors.Build(nil, detectors.Options{})
	require.NoError(t, err)
	return &consumer{
		src: &fakeSource{msgs: msgs}, log: slog.New(slog.NewTextHandler(io.Discard, nil)), metrics: newMetrics(),
		batchSize: 200, batchWait: 5 * time.Millisecond,
		newPipe: func() (*pipeline.Pipeline, error) {
			return pipeline.New(pipeline.Config{Detection: detectors.Config{Detectors: dets}, Events: events})
		},
	}
}
