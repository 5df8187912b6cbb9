package pipeline

import (
	"context"

	"github.com/syncwatch/syncwatch/detectors"
	"github.com/syncwatch/syncwatch/pipeline/health"
)

// DetectStage runs the released records through the detection engine and
// appends the incident events they cause to Batch.Events.
type DetectStage struct {
	engine *detectors.Engine
	// health, if not nil, counts the batch's entries and closes its
	// windows as event time passes them, interleaved with the engine's
	// decisions.
	health *health.Monitor
}

// NewDetectStage returns a stage around engine.
func NewDetectStage(engine *detectors.Engine) *DetectStage {
	return &DetectStage{engine: engine}
}

// Exec processes b.Records in order, then advances the engine's clock to
// b.Bound (the reorder stage's: every record up to it has been released),
// so that runs are decided even when no newer record arrives.
func (s *DetectStage) Exec(_ context.Context, b *Batch) error {
	if s.health != nil {
		for i := range b.health {
			s.health.Observe(&b.health[i])
		}
	}
	b.health = b.health[:0]
	for i := range b.Records {
		if s.health != nil {
			b.Events = s.health.Advance(b.Records[i].Time, b.Events, s.engine.Advance)
		}
		b.Events = s.engine.Process(&b.Records[i].LogRecord, b.Events)
	}
	b.Records = b.Records[:0]
	if s.health != nil {
		b.Events = s.health.Advance(b.Bound, b.Events, s.engine.Advance)
	}
	b.Events = s.engine.Advance(b.Bound, b.Events)
	if b.Final {
		b.Events = s.engine.Flush(b.Events)
	}
	return nil
}
