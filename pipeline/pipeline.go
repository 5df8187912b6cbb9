package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-multierror"

	"github.com/syncwatch/syncwatch/detectors"
	"github.com/syncwatch/syncwatch/pipeline/health"
	"github.com/syncwatch/syncwatch/sinks"
)

// Config configures a Pipeline. Events is required; the other fields
// work at their zero value.
type Config struct {
	// Detection configures the detection engine.
	Detection detectors.Config

	// Reorder configures event-time ordering across sources.
	Reorder ReorderConfig

	// Normalize configures unwrapping, joining and parsing: the largest
	// entry accepted, the envelope entries come in.
	Normalize NormalizeConfig

	// Events receives incident events. Required.
	Events sinks.Sink

	// DeadLetters receives unparseable entries.
	//
	// Default: nil, dead letters are counted and dropped
	DeadLetters sinks.DeadLetterSink

	// Health configures pipeline incidents (format drift, silent
	// producers).
	//
	// Default: on, with health's defaults
	Health health.Config
}

// Validate reports every problem of the configuration at once, each
// naming its field (and, within Detection, Reorder and Health, theirs).
// c is not changed.
func (c *Config) Validate() error {
	var errs *multierror.Error
	errs = appendFieldErrors(errs, "Detection", c.Detection.Validate())
	errs = appendFieldErrors(errs, "Reorder", c.Reorder.Validate())
	errs = appendFieldErrors(errs, "Normalize", c.Normalize.Validate())
	if c.Events == nil {
		errs = multierror.Append(errs, fmt.Errorf("Events: required"))
	}
	errs = appendFieldErrors(errs, "Health", c.Health.Validate())
	return errs.ErrorOrNil()
}

// appendFieldErrors adds the problems of a nested configuration to errs,
// each prefixed with the field that holds it ("Reorder.Window -1s: ...").
func appendFieldErrors(errs *multierror.Error, field string, err error) *multierror.Error {
	var nested *multierror.Error
	switch {
	case err == nil:
		return errs
	case errors.As(err, &nested):
		for _, e := range nested.Errors {
			errs = multierror.Append(errs, fmt.Errorf("%s.%w", field, e))
		}
		return errs
	}
	return multierror.Append(errs, fmt.Errorf("%s: %w", field, err))
}

// Pipeline is the whole chain: normalize, reorder, detect, deliver.
type Pipeline struct {
	Normalize *NormalizeStage
	Reorder   *ReorderStage
	Detect    *DetectStage
	Deliver   *DeliverStage
	stages    MultiStage
}

// New wires the pipeline. This is the one place where the stages are put
// together.
func New(cfg Config) (*Pipeline, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("building pipeline: %w", err)
	}
	eng, err := detectors.NewEngine(cfg.Detection)
	if err != nil {
		return nil, fmt.Errorf("building pipeline: %w", err)
	}
	p := &Pipeline{
		Normalize: NewNormalizeStage(cfg.Normalize),
		Reorder:   newReorderStage(cfg.Reorder, cfg.Normalize.Repartitioned),
		Deliver:   NewDeliverStage(cfg.Events, cfg.DeadLetters),
	}
	p.Detect = NewDetectStage(eng)
	if !cfg.Health.Disabled {
		// Entries are counted as they are committed and windows closed
		// as the released records pass them: see health.Monitor.
		h := health.New(cfg.Health, cmp.Or(cfg.Detection.Source, detectors.DefaultSource))
		p.Normalize.health, p.Detect.health = h, h
	}
	p.stages = MultiStage{p.Normalize, p.Reorder, p.Detect, p.Deliver}
	return p, nil
}

// exec runs one batch through every stage, each in turn: the semantics
// staged must keep (TestStagedMatchesExec). Not safe for concurrent use.
func (p *Pipeline) exec(ctx context.Context, b *Batch) error { return p.stages.Exec(ctx, b) }

// execFront runs the stages before detection. They hand detection only
// what is in the batch, the health monitor's counts and the reorder bound
// included, so that detection and delivery may run on an earlier batch
// meanwhile (staged).
func (p *Pipeline) execFront(ctx context.Context, b *Batch) error {
	return MultiStage{p.Normalize, p.Reorder}.Exec(ctx, b)
}

// Summary is what a pipeline did, for the end-of-run report and metrics.
type Summary struct {
	Normalize NormalizeStats
	Detection detectors.Stats
	// Events is the number of events delivered.
	Events int64
	// Late counts records that came after the watermark had passed them.
	Late int64
	// Held is the number of records the reorder stage holds back now:
	// the main memory the pipeline holds.
	Held int
	// Window is the largest reorder window of the sources now (the
	// configured one unless adaptive): about the latency the reorder
	// stage adds.
	Window time.Duration
}

// Summary returns the counters so far.
func (p *Pipeline) Summary() Summary {
	return p.summary(p.Detect.health.WithOpened(p.Detect.engine.Stats()))
}

// summary is Summary with the detection counters given (staged passes a
// copy its detection stage made).
func (p *Pipeline) summary(detection detectors.Stats) Summary {
	return Summary{
		Normalize: p.Normalize.Stats(),
		Detection: detection,
		Events:    p.Deliver.numDelivered(),
		Late:      p.Reorder.numLate(),
		Held:      p.Reorder.numHeld(),
		Window:    p.Reorder.window(),
	}
}

var _ Stage = (*NormalizeStage)(nil)
var _ Stage = (*ReorderStage)(nil)
var _ Stage = (*DetectStage)(nil)
var _ Stage = (*DeliverStage)(nil)
