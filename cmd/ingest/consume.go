package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/syncwatch/syncwatch/pipeline"
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
	gen       int
	mute      *restoreMute
	processed atomic.Int64
}

// run consumes until ctx ends (graceful stop) or stopAfter is reached. It
// returns nil on a graceful stop.
func (c *consumer) run(ctx context.Context) error {
	if err := c.reset(); err != nil {
		return err
	}
	var b pipeline.Batch
	for {
		if ctx.Err() != nil {
			return nil
		}
		deadline := time.Now().Add(c.batchWait)
		genEnded := false
		for len(b.Entries) < c.batchSize {
			rctx, cancel := context.WithDeadline(ctx, deadline)
			msg, ack, err := c.src.Read(rctx)
			cancel()
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
				return fmt.Errorf("reading messages: %w", err)
			}
			if msg.Generation != c.gen {
				c.gen = msg.Generation
				for _, p := range c.src.Assigned() {
					c.pipe.Reorder.AddSource(p, time.Now())
				}
			}
			c.mute.observe(msg)
			src := msg.Topic + "/" + strconv.Itoa(msg.Partition)
			b.Entries = append(b.Entries, pipeline.Entry{
				Source: src,
				Raw:    msg.Value,
				Origin: src + "/" + strconv.FormatInt(msg.Offset, 10),
				Ack:    ack,
			})
		}
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
		if ctx.Err() != nil {
			// stopping: deliver what was read, then return
			wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := c.exec(wctx, &b)
			cancel()
			return err
		}
		if err := c.exec(ctx, &b); err != nil {
			return err
		}
		if c.processed.Add(n); c.stopAfter > 0 && c.processed.Load() >= c.stopAfter {
			b.Final = true
			b.Now = time.Now()
			return c.exec(ctx, &b)
		}
	}
}

func (c *consumer) exec(ctx context.Context, b *pipeline.Batch) error {
	if err := c.pipe.Exec(ctx, b); err != nil {
		return fmt.Errorf("running pipeline: %w", err)
	}
	b.Reset()
	return nil
}

func (c *consumer) reset() error {
	p, err := c.newPipe()
	if err != nil {
		return err
	}
	c.pipe = p
	c.gen = -1
	c.mute = newRestoreMute()
	p.Deliver.SetFilter(c.mute.keep)
	c.metrics.mu.Lock()
	c.metrics.summary = p.Summary
	c.metrics.mu.Unlock()
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
	margin   time.Duration
	commit   map[string]time.Time
	disabled bool
	rec      schemas.LogRecord
}

func newRestoreMute() *restoreMute {
	return &restoreMute{margin: 15 * time.Minute, commit: map[string]time.Time{}}
}

func (m *restoreMute) observe(msg pipeline.Message) {
	src := msg.Topic + "/" + strconv.Itoa(msg.Partition)
	if !msg.Restored {
		if _, ok := m.commit[src]; !ok {
			m.disabled = true
		}
		return
	}
	if err := pipeline.Normalize(msg.Value, &m.rec); err != nil {
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
