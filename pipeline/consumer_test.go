package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"hash/crc32"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
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
	return sourceConsumer(t, &fakeSource{msgs: msgs}, events, cfg)
}

// sourceConsumer is testConsumer reading src.
func sourceConsumer(t *testing.T, src *fakeSource, events sinks.Sink, cfg pipeline.ConsumerConfig) *pipeline.Consumer {
	t.Helper()
	cfg.NewPipeline = testPipeline(t, events)
	cfg.BatchSize, cfg.BatchWait = 200, 5*time.Millisecond
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := pipeline.NewConsumer(src, cfg)
	require.NoError(t, err)
	return c
}

// testPipeline builds pipelines with the default detectors, delivering
// events to events.
func testPipeline(t *testing.T, events sinks.Sink) func() (*pipeline.Pipeline, error) {
	dets, err := detectors.Build(nil, detectors.Options{})
	require.NoError(t, err)
	return func() (*pipeline.Pipeline, error) {
		return pipeline.New(pipeline.Config{Detection: detectors.Config{Detectors: dets}, Events: events})
	}
}

// fakeSource hands out a fixed list of messages from one partition, then
// waits for ctx.
type fakeSource struct {
	msgs  []pipeline.Message
	next  int
	acked atomic.Int64 // acks called
}

var _ pipeline.MessageSource = (*fakeSource)(nil)

func (f *fakeSource) Read(ctx context.Context) (pipeline.Message, pipeline.AckFunc, error) {
	if f.next == len(f.msgs) {
		<-ctx.Done()
		return pipeline.Message{}, nil, ctx.Err()
	}
	m := f.msgs[f.next]
	f.next++
	return m, func(context.Context, error) error { f.acked.Add(1); return nil }, nil
}
func (f *fakeSource) Assigned() []string {
	parts := []string{"sync.engine/0"}
	for _, m := range f.msgs {
		if !slices.Contains(parts, m.Source) {
			parts = append(parts, m.Source)
		}
	}
	return parts
}
func (f *fakeSource) ObserveEventTime(string, time.Time) {}
func (f *fakeSource) CaughtUp() bool                     { return true }
func (f *fakeSource) AtEnd() bool                        { return f.next == len(f.msgs) }

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

// TestConsumerQuietFlush: once the input has been quiet for QuietAfter,
// the records held for ordering and the runs waiting for more event time
// are decided, as at the end of a replay: every message is acknowledged
// (its offset can be committed, the group shows no lag) and the events
// equal those of a run that ends with its input. With QuietAfter
// negative, some messages stay unacknowledged however long it waits.
func TestConsumerQuietFlush(t *testing.T) {
	msgs := corpusMessages(t)

	// The reference: the same messages, flushed as the input ends.
	ref := sinks.NewMemory()
	c := testConsumer(t, msgs, ref, pipeline.ConsumerConfig{StopAfter: int64(len(msgs))})
	require.NoError(t, c.Run(context.Background()))
	require.NotEmpty(t, ref.Events())

	run := func(quietAfter time.Duration, until func(*pipeline.Consumer, *fakeSource) bool) (*pipeline.Consumer, *fakeSource, *sinks.Memory) {
		mem, src := sinks.NewMemory(), &fakeSource{msgs: msgs}
		c := sourceConsumer(t, src, mem, pipeline.ConsumerConfig{QuietAfter: quietAfter})
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- c.Run(ctx) }()
		require.Eventually(t, func() bool { return until(c, src) }, 20*time.Second, 10*time.Millisecond)
		stop()
		require.NoError(t, <-done)
		return c, src, mem
	}

	// Never flushed on quiet: held records keep their messages unacked.
	held, heldSrc, _ := run(-1, func(c *pipeline.Consumer, _ *fakeSource) bool {
		if c.Processed() < int64(len(msgs)) {
			return false
		}
		time.Sleep(300 * time.Millisecond) // longer than the quiet below
		return true
	})
	require.Positive(t, held.Summary().Held)
	require.Less(t, heldSrc.acked.Load(), int64(len(msgs)), "without a quiet flush, held messages stay unacknowledged")
	require.Zero(t, held.QuietFlushes())

	c, _, mem := run(200*time.Millisecond, func(_ *pipeline.Consumer, src *fakeSource) bool {
		return src.acked.Load() == int64(len(msgs))
	})
	require.Equal(t, int64(1), c.QuietFlushes(), "one flush per quiet spell")
	require.Zero(t, c.Summary().Held)
	require.Equal(t, ref.Events(), mem.Events(), "a quiet input gives the events of its end")
}

// TestConsumerSplitMailboxes: a mailbox whose entries come from two
// partitions (unkeyed producers) is counted and warned about once; keyed
// by tenant/mailbox, none is.
func TestConsumerSplitMailboxes(t *testing.T) {
	var keys []string
	_, _, err := loggen.Generate(loggen.Config{Seed: 3, Mailboxes: 20, Duration: 6 * time.Hour}, func(e loggen.Entry) error {
		keys = append(keys, e.Key)
		return nil
	})
	require.NoError(t, err)
	for _, tt := range []struct {
		name      string
		partition func(i int) int
		split     bool
	}{
		{"unkeyed, round robin", func(i int) int { return i % 2 }, true},
		{"keyed by tenant/mailbox", func(i int) int { return int(crc32.ChecksumIEEE([]byte(keys[i])) % 2) }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			msgs := corpusMessages(t)
			require.Len(t, msgs, len(keys))
			for i := range msgs {
				msgs[i].Source = "sync.engine/" + strconv.Itoa(tt.partition(i))
			}
			var logs bytes.Buffer
			c, err := pipeline.NewConsumer(&fakeSource{msgs: msgs}, pipeline.ConsumerConfig{
				StopAfter: int64(len(msgs)), NewPipeline: testPipeline(t, sinks.NewMemory()),
				Logger: slog.New(slog.NewTextHandler(&logs, nil)),
			})
			require.NoError(t, err)
			require.NoError(t, c.Run(context.Background()))
			warnings := strings.Count(logs.String(), "do not key messages by tenant/mailbox")
			if tt.split {
				require.Greater(t, c.SplitMailboxes(), 10, "most of the 20 mailboxes are on both partitions")
				require.Equal(t, 1, warnings, "warned once")
			} else {
				require.Zero(t, c.SplitMailboxes())
				require.Zero(t, warnings)
			}
		})
	}
}
