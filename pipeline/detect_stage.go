package pipeline

import (
	"context"
	"time"

	"github.com/syncwatch/syncwatch/detectors"
)

// DetectStage runs the released records through the detection engine and
// appends the incident events they cause to Batch.Events.
type DetectStage struct {
	engine *detectors.Engine
	bound  func() time.Time
	// health, if not nil, closes its windows as event time passes them,
	// interleaved with the engine's decisions.
	health *HealthMonitor
}

// NewDetectStage returns a stage around engine. bound, if not nil, gives
// the event time up to which all records have been released (the reorder
// stage's Bound): the engine's clock is advanced to it after each batch,
// so that runs are decided even when no newer record arrives.
func NewDetectStage(engine *detectors.Engine, bound func() time.Time) *DetectStage {
	return &DetectStage{engine: engine, bound: bound}
}

// Exec processes b.Records in order.
func (s *DetectStage) Exec(_ context.Context, b *Batch) error {
	for i := range b.Records {
		if s.health != nil {
			b.Events = s.health.Advance(b.Records[i].Time, b.Events, s.engine.Advance)
		}
		b.Events = s.engine.Process(&b.Records[i].LogRecord, b.Events)
	}
	b.Records = b.Records[:0]
	if s.bound != nil {
		if s.health != nil {
			b.Events = s.health.Advance(s.bound(), b.Events, s.engine.Advance)
		}
		b.Events = s.engine.Advance(s.bound(), b.Events)
	}
	if b.Final {
		b.Events = s.engine.Flush(b.Events)
	}
	return nil
}

// Engine returns the stage's engine.
func (s *DetectStage) Engine() *detectors.Engine { return s.engine }
