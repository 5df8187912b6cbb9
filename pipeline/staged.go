package pipeline

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/syncwatch/syncwatch/detectors"
)

// staged runs a Pipeline on three goroutines in a row, each on a later
// batch than the next: the caller's (Exec: normalize, reorder), detection,
// and delivery. Run one batch at a time, the stages left cores idle: the
// reorder waited for detection, and everything waited for the sinks'
// acknowledgements (a Kafka round trip per batch).
//
// Batches keep their order through every stage and each stage sees only
// what the batch carries (the health monitor's counts, the reorder bound),
// so the events are the same, batch for batch, as Pipeline.Exec's. A
// batch's acks are called by the delivery stage once its events and dead
// letters are written: an input is still acknowledged only after
// everything it caused is delivered.
type staged struct {
	p         *Pipeline
	ctx       context.Context
	toDetect  chan *Batch
	toDeliver chan *Batch
	free      chan *Batch
	done      sync.WaitGroup
	closed    bool

	mu  sync.Mutex
	err error // the first error of a later stage

	detection atomic.Pointer[detectors.Stats] // a recent copy, for Summary
	statsAt   time.Time                       // when the detection stage copied it
}

// stagedBatches is how many batches circulate: the one the caller fills,
// one per later stage, and one queued before each of them.
const stagedBatches = 5

// statsEvery bounds how often the detection stage copies its counters.
const statsEvery = 50 * time.Millisecond

// start starts the detection and delivery goroutines of p; the stages run
// on ctx (deliveries: the sinks' writes and the acks). Exec is then the
// only way to run batches through p until Close.
func (p *Pipeline) start(ctx context.Context) *staged {
	s := &staged{
		p:         p,
		ctx:       ctx,
		toDetect:  make(chan *Batch, 1),
		toDeliver: make(chan *Batch, 1),
		free:      make(chan *Batch, stagedBatches),
	}
	for range stagedBatches - 1 {
		s.free <- &Batch{}
	}
	st := p.Detect.health.WithOpened(p.Detect.engine.Stats())
	s.detection.Store(&st)
	s.done.Add(2)
	go s.detect()
	go s.deliver()
	return s
}

// Exec runs b through normalize and reorder, hands it to detection and
// returns an empty batch to fill next; b belongs to the stages now. It
// blocks while every batch is in flight. It returns the first error of
// any stage: once a stage failed, the batches after it are dropped.
func (s *staged) Exec(ctx context.Context, b *Batch) (*Batch, error) {
	if s.closed {
		return b, errStagedClosed
	}
	if err := s.Err(); err != nil {
		return b, err
	}
	if err := s.p.execFront(ctx, b); err != nil {
		s.fail(err)
		return b, err
	}
	s.toDetect <- b
	select {
	case nb := <-s.free:
		return nb, s.Err()
	case <-ctx.Done():
		// the stages finish on their own context; the caller stops
		return &Batch{}, ctx.Err()
	}
}

// Close waits for the batches in flight and ends the stages. It returns
// the first error of any stage.
func (s *staged) Close() error {
	if !s.closed {
		s.closed = true
		close(s.toDetect)
		s.done.Wait()
	}
	return s.Err()
}

// Err is the first error of any stage, nil if none.
func (s *staged) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *staged) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

func (s *staged) detect() {
	defer s.done.Done()
	defer close(s.toDeliver)
	for b := range s.toDetect {
		if s.Err() == nil {
			if err := s.p.Detect.Exec(s.ctx, b); err != nil {
				s.fail(err)
			}
			if b.Final || time.Since(s.statsAt) >= statsEvery {
				st := s.p.Detect.health.WithOpened(s.p.Detect.engine.Stats())
				s.detection.Store(&st)
				s.statsAt = time.Now()
			}
		}
		s.toDeliver <- b
	}
}

func (s *staged) deliver() {
	defer s.done.Done()
	for b := range s.toDeliver {
		if s.Err() == nil {
			if err := s.p.Deliver.Exec(s.ctx, b); err != nil {
				s.fail(err)
			}
		}
		b.Reset()
		s.free <- b
	}
}

// Summary returns the counters so far. Unlike Pipeline.Summary it may be
// called while batches are in flight, from the goroutine that calls Exec
// (which runs the reorder stage); the detection counters are at most
// statsEvery older than the last batch detected.
func (s *staged) Summary() Summary { return s.p.summary(*s.detection.Load()) }

// errStagedClosed is returned by Exec after Close.
var errStagedClosed = errors.New("pipeline stages closed")
