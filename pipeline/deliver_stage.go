package pipeline

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/syncwatch/syncwatch/schemas"
	"github.com/syncwatch/syncwatch/sinks"
)

// DeliverStage writes Batch.Events and Batch.DeadLetters to the sinks and
// then calls Batch.Acks: an input is acknowledged only after everything it
// caused is delivered.
type DeliverStage struct {
	events      sinks.Sink
	deadLetters sinks.DeadLetterSink
	filter      func(*schemas.IncidentEvent) bool

	delivered atomic.Int64 // read by staged.Summary while the stage runs
}

// NewDeliverStage returns a stage writing to events and, if not nil,
// deadLetters (without one, dead letters are counted and dropped).
func NewDeliverStage(events sinks.Sink, deadLetters sinks.DeadLetterSink) *DeliverStage {
	return &DeliverStage{events: events, deadLetters: deadLetters}
}

// SetFilter makes the stage deliver only events for which keep returns
// true (replay's --kind, --class filters). Filtered events are still acked.
func (s *DeliverStage) SetFilter(keep func(*schemas.IncidentEvent) bool) { s.filter = keep }

// Exec delivers, then acknowledges. A failed write returns the error
// without acknowledging anything.
func (s *DeliverStage) Exec(ctx context.Context, b *Batch) error {
	evs := b.Events
	if s.filter != nil {
		kept := evs[:0:0]
		for i := range evs {
			if s.filter(&evs[i]) {
				kept = append(kept, evs[i])
			}
		}
		evs = kept
	}
	if len(evs) > 0 && s.events != nil {
		if err := s.events.Write(ctx, evs); err != nil {
			return fmt.Errorf("delivering %d events: %w", len(evs), err)
		}
		s.delivered.Add(int64(len(evs)))
	}
	if len(b.DeadLetters) > 0 && s.deadLetters != nil {
		if err := s.deadLetters.WriteDeadLetters(ctx, b.DeadLetters); err != nil {
			return fmt.Errorf("delivering %d dead letters: %w", len(b.DeadLetters), err)
		}
	}
	for _, ack := range b.Acks {
		if err := ack(ctx, nil); err != nil {
			return fmt.Errorf("acknowledging input: %w", err)
		}
	}
	b.Events, b.DeadLetters, b.Acks = b.Events[:0], b.DeadLetters[:0], b.Acks[:0]
	return nil
}

// numDelivered is the number of events written.
func (s *DeliverStage) numDelivered() int64 { return s.delivered.Load() }
