package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/syncwatch/syncwatch/pipeline"
	"github.com/syncwatch/syncwatch/pipeline/parse"
	"github.com/syncwatch/syncwatch/schemas"
)

// messageSource is what the consumer needs of pipeline.KafkaSource (a
// seam for tests).
type messageSource interface {
	Read(ctx context.Context) (pipeline.Message, pipeline.AckFunc, error)
	Ready() bool
	Assigned() []string
	Close(ctx context.Context) error
}

var _ messageSource = (*pipeline.KafkaSource)(nil)

// consumer runs the pipeline over a Kafka source.
type consumer struct {
	src     messageSource
	newPipe func() (*pipeline.Pipeline, error)
	log     *slog.Logger
	metrics *metrics

	// BatchSize and BatchWait bound a batch: whichever comes first.
	batchSize int
	batchWait time.Duration
	// stopAfter, if > 0, ends the run (flushing everything) once that many
	// messages were processed: the demo's end of input.
	stopAfter int64

	pipe      *pipeline.Pipeline
	stages    *pipeline.Staged // pipe's detection and delivery, behind the read loop
	dctx      context.Context  // the stages' context (deliveries)
	gen       int
	mute      *restoreMute
	processed atomic.Int64
	published time.Time                 // when the counters were last handed to metrics
	parts     []string                  // the partitions of generation gen
	srcNames  map[topicPartition]string // "topic/partition", made once each
	obuf      []byte                    // an origin being formatted
	// drainTimeout bounds the delivery of the batch in flight once the
	// run is asked to stop. Default: 10s.
	drainTimeout time.Duration
}

type topicPartition struct {
	topic     string
	partition int
}

// sourceName is "topic/partition", the reorder stage's source name.
func (c *consumer) sourceName(topic string, partition int) string {
	k := topicPartition{topic, partition}
	if s, ok := c.srcNames[k]; ok {
		return s
	}
	if c.srcNames == nil {
		c.srcNames = map[topicPartition]string{}
	}
	s := topic + "/" + strconv.Itoa(partition)
	c.srcNames[k] = s
	return s
}

func (c *consumer) drain() time.Duration {
	if c.drainTimeout > 0 {
		return c.drainTimeout
	}
	return 10 * time.Second
}

// aligner is a source that holds partitions running ahead in event time
// (pipeline.KafkaSource.ObserveEventTime).
type aligner interface {
	ObserveEventTime(partition string, t time.Time)
}

// run consumes until ctx ends (graceful stop) or stopAfter is reached. It
// returns nil on a graceful stop.
//
// The read loop normalizes and reorders each batch; detection and delivery
// run behind it on the batches before (pipeline.Staged). Every return
// waits for those to be delivered and acknowledged.
func (c *consumer) run(ctx context.Context) (err error) {
	// Deliveries run on dctx: a stop signal (ctx) must not cut a batch
	// that is being written (its events would be half out and the process
	// would fail), so dctx ends only drainTimeout after ctx does.
	dctx, dcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer dcancel()
	stopDrain := context.AfterFunc(ctx, func() { time.AfterFunc(c.drain(), dcancel) })
	defer stopDrain()
	c.dctx = dctx
	if err := c.reset(); err != nil {
		return err
	}
	defer func() {
		if serr := c.stages.Close(); serr != nil && err == nil {
			err = fmt.Errorf("running pipeline: %w", serr)
		}
		c.publish()
	}()
	b := &pipeline.Batch{}
	for {
		if ctx.Err() != nil {
			return nil
		}
		// One deadline per batch: a context per message cost 8% of the CPU.
		rctx, cancelBatch := context.WithTimeout(ctx, c.batchWait)
		genEnded := false
		for len(b.Entries) < c.batchSize {
			msg, ack, err := c.src.Read(rctx)
			if err != nil {
				if ctx.Err() != nil {
					break // stopping: process what we have, then return
				}
				if errors.Is(err, context.DeadlineExceeded) {
					break
				}
				if errors.Is(err, pipeline.ErrGenerationEnded) {
					genEnded = true
					break
				}
				cancelBatch()
				return fmt.Errorf("reading messages: %w", err)
			}
			if msg.Generation != c.gen {
				c.gen = msg.Generation
				c.parts = c.src.Assigned()
				for _, p := range c.parts {
					c.pipe.Reorder.AddSource(p, time.Now())
				}
			}
			src := c.sourceName(msg.Topic, msg.Partition)
			c.mute.observe(msg, src)
			c.obuf = strconv.AppendInt(append(append(c.obuf[:0], src...), '/'), msg.Offset, 10)
			b.Entries = append(b.Entries, pipeline.Entry{
				Source: src,
				Raw:    msg.Value,
				Origin: string(c.obuf), // "topic/partition/offset", one allocation
				Ack:    ack,
			})
		}
		cancelBatch()
		if genEnded {
			// Partitions moved: what this instance knew of them is stale.
			// Drop the batch (its messages come again, from the restore
			// points) and the detector state, which the restore rebuilds.
			c.log.Info("consumer group rebalanced: rebuilding detector state from the restore window")
			b.Reset()
			if err := c.reset(); err != nil {
				return err
			}
			continue
		}
		n := int64(len(b.Entries))
		b.Now = time.Now()
		if b, err = c.exec(dctx, b); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil // stopping: what was read is delivered (deferred Close)
		}
		if c.processed.Add(n); c.stopAfter > 0 && c.processed.Load() >= c.stopAfter {
			b.Final = true
			b.Now = time.Now()
			_, err = c.exec(dctx, b)
			return err
		}
	}
}

// exec hands b to the pipeline's stages and returns the batch to fill next.
func (c *consumer) exec(ctx context.Context, b *pipeline.Batch) (*pipeline.Batch, error) {
	start := time.Now()
	nb, err := c.stages.Exec(ctx, b)
	if err != nil {
		return nb, fmt.Errorf("running pipeline: %w", err)
	}
	// Nothing was read while the batch was reordered and handed over (and
	// waited for a free batch): that time says nothing about the
	// partitions' silence.
	c.pipe.Reorder.Stalled(time.Since(start))
	if a, ok := c.src.(aligner); ok {
		for _, p := range c.parts {
			a.ObserveEventTime(p, c.pipe.Reorder.Latest(p))
		}
	}
	if time.Since(c.published) >= publishEvery {
		c.publish()
	}
	return nb, nil
}

// publishEvery is how often the counters are copied for /metrics. The
// idle loop runs a batch every batchWait, so the copy is never older than
// this plus one batch.
const publishEvery = 100 * time.Millisecond

// publish hands /metrics a copy of the pipeline's counters. The pipeline
// is not safe for concurrent use: a scrape that read it while a batch runs
// iterated the engine's maps during writes, a data race that can kill the
// process ("concurrent map iteration and map write").
func (c *consumer) publish() {
	s, held := c.stages.Summary(), c.pipe.Reorder.Held()
	c.published = time.Now()
	c.metrics.mu.Lock()
	c.metrics.summary = func() pipeline.Summary { return s }
	c.metrics.held = held
	c.metrics.mu.Unlock()
}

func (c *consumer) reset() error {
	if c.stages != nil {
		// the old pipeline's batches go out before its state is dropped
		if err := c.stages.Close(); err != nil {
			return fmt.Errorf("running pipeline: %w", err)
		}
	}
	p, err := c.newPipe()
	if err != nil {
		return err
	}
	c.pipe = p
	c.stages = p.Start(c.dctx)
	c.gen = -1
	c.mute = newRestoreMute()
	p.Deliver.SetFilter(c.mute.keep)
	c.publish()
	return nil
}

// restoreMute keeps the events that the replay of a restore window would
// repeat from being sent again. An event is muted only when it was
// certainly delivered before: its evidence is older, by more than the
// longest a decision can wait (run timeout + lateness + reorder window),
// than the last restored (committed) message of every partition. If a
// partition starts with new messages (no commit), nothing is muted in
// this generation: duplicates, with identical ids, are the safe side.
type restoreMute struct {
	// mu: observe runs in the read loop, keep in the delivery stage
	mu       sync.Mutex
	margin   time.Duration
	commit   map[string]time.Time
	disabled bool
	rec      schemas.LogRecord
}

func newRestoreMute() *restoreMute {
	return &restoreMute{margin: 15 * time.Minute, commit: map[string]time.Time{}}
}

func (m *restoreMute) observe(msg pipeline.Message, src string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !msg.Restored {
		if _, ok := m.commit[src]; !ok {
			m.disabled = true
		}
		return
	}
	if err := parse.Entry(msg.Value, &m.rec); err != nil {
		if _, ok := m.commit[src]; !ok {
			m.commit[src] = time.Time{}
		}
		return
	}
	if m.rec.Time.After(m.commit[src]) {
		m.commit[src] = m.rec.Time
	}
}

func (m *restoreMute) keep(ev *schemas.IncidentEvent) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.disabled || len(m.commit) == 0 {
		return true
	}
	var horizon time.Time
	first := true
	for _, t := range m.commit {
		if first || t.Before(horizon) {
			horizon, first = t, false
		}
	}
	return !ev.Time.Add(m.margin).Before(horizon)
}
