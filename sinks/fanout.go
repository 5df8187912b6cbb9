package sinks

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/go-multierror"

	"github.com/syncwatch/syncwatch/schemas"
)

// Operations named by SinkError.Op.
const (
	opWrite = "write"
	opClose = "close"
)

// Fanout is a Sink that delivers every batch to several sinks at once, for
// example Kafka and a JSONL file.
//
// Delivery is all or nothing from the caller's point of view: if any
// member fails, Write returns an error and the caller must treat the whole
// batch as not delivered (not acknowledge its input) and retry the whole
// batch later, to every member. Members that had succeeded then receive
// the batch again; that is the at-least-once guarantee, and the
// deterministic event ids make the repeats harmless to subscribers, who
// deduplicate on id.
type Fanout struct {
	sinks  []Sink
	closed atomic.Bool
}

var _ Sink = (*Fanout)(nil)

// NewFanout returns a Sink writing to every one of sinks. A Fanout of no
// sinks accepts and drops every batch. The Fanout owns its members: its
// Close closes them.
func NewFanout(sinks ...Sink) *Fanout {
	return &Fanout{sinks: append([]Sink(nil), sinks...)}
}

// Write writes events to every member concurrently, each member's Write
// receiving the caller's ctx, and returns once every member has returned.
// It returns nil if all succeeded, ErrClosed after Close, or else a
// *multierror.Error holding a *SinkError (which names the member) per
// failed member, in member order. On error, see the Fanout doc: the batch
// counts as not delivered. Like every Sink, Write is not safe for
// concurrent use; the members' Writes run concurrently with one another.
func (f *Fanout) Write(ctx context.Context, events []schemas.IncidentEvent) error {
	if f.closed.Load() {
		return ErrClosed
	}
	return f.each(opWrite, func(s Sink) error { return s.Write(ctx, events) })
}

// Close closes every member concurrently, each with ctx, and returns once
// all have returned: nil, or a *multierror.Error with a *SinkError per
// member whose Close failed. Later calls return nil; later Writes return
// ErrClosed.
func (f *Fanout) Close(ctx context.Context) error {
	if f.closed.Swap(true) {
		return nil
	}
	return f.each(opClose, func(s Sink) error { return s.Close(ctx) })
}

// each runs op on every member, concurrently when there are several, and
// combines the errors in member order.
func (f *Fanout) each(op string, fn func(Sink) error) error {
	errs := make([]error, len(f.sinks))
	if len(f.sinks) == 1 {
		errs[0] = fn(f.sinks[0])
	} else {
		var wg sync.WaitGroup
		for i, s := range f.sinks {
			wg.Go(func() { errs[i] = fn(s) })
		}
		wg.Wait()
	}
	var merr *multierror.Error
	for i, err := range errs {
		if err != nil {
			merr = multierror.Append(merr, &SinkError{Index: i, Sink: f.sinks[i], Op: op, Err: err})
		}
	}
	return merr.ErrorOrNil()
}

// sinkName names a sink in errors: its String method if it has one, else
// its Go type.
func sinkName(s Sink) string {
	if st, ok := s.(fmt.Stringer); ok {
		return st.String()
	}
	return fmt.Sprintf("%T", s)
}
