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
// It returns nil if all succeeded, ErrClosed after Close, or else an error
// combining a *SinkError (which names the member) per failed member, in
// member order (see SinkError). On error, see the Fanout doc: the batch
// counts as not delivered. Like every Sink, Write is not safe for
// concurrent use; the members' Writes run concurrently with one another.
func (f *Fanout) Write(ctx context.Context, events []schemas.IncidentEvent) error {
	if f.closed.Load() {
		return ErrClosed
	}
	return f.each(opWrite, func(s Sink) error { return s.Write(ctx, events) })
}

// Close closes every member concurrently, each with ctx, and returns once
// all have returned: nil, or an error combining a *SinkError per member
// whose Close failed (see SinkError). Later calls return nil; later Writes
// return ErrClosed.
func (f *Fanout) Close(ctx context.Context) error {
	if f.closed.Swap(true) {
		return nil
	}
	return f.each(opClose, func(s Sink) error { return s.Close(ctx) })
}

// each runs op on every member, concurrently when there are several, and
// combines the errors in member order.
func (f *Fanout) each(op string, fn func(Sink) error) error {
	errs := concurrently(len(f.sinks), func(i int) error { return fn(f.sinks[i]) })
	return memberErrors(op, errs, func(i int) Sink { return f.sinks[i] })
}

// concurrently calls fn(i) for every i in [0, n), all at once when n > 1,
// and returns their errors by index once every call has returned.
func concurrently(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	if n == 1 {
		errs[0] = fn(0)
		return errs
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = fn(i) })
	}
	wg.Wait()
	return errs
}

// memberErrors combines, with go-multierror, a *SinkError for each non-nil
// error of errs, whose index i names member(i), in index order; nil if
// every error is nil.
func memberErrors(op string, errs []error, member func(i int) Sink) error {
	var merr *multierror.Error
	for i, err := range errs {
		if err != nil {
			merr = multierror.Append(merr, &SinkError{Index: i, Sink: member(i), Op: op, Err: err})
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
