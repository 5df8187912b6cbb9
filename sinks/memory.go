package sinks

import (
	"context"
	"slices"
	"sync"

	"github.com/syncwatch/syncwatch/schemas"
)

// Memory is a Sink and DeadLetterSink that keeps what it receives in
// memory, for tests and the demo. It is safe for concurrent use. Memory
// grows without bound: do not use it in production.
type Memory struct {
	// onWrite, if set, is called by Write with each batch before it is
	// stored; a non-nil error is returned by Write (unwrapped) and the
	// batch is not stored. This package's tests set it, before the first
	// Write, to inject failures. It is called without any lock held, so
	// it may call the Memory's methods.
	onWrite func([]schemas.IncidentEvent) error
	// onWriteDeadLetters is onWrite for WriteDeadLetters.
	onWriteDeadLetters func([]schemas.DeadLetter) error

	mu      sync.Mutex
	events  []schemas.IncidentEvent
	letters []schemas.DeadLetter
	closed  bool
}

var (
	_ Sink           = (*Memory)(nil)
	_ DeadLetterSink = (*Memory)(nil)
)

// NewMemory returns an empty Memory sink.
func NewMemory() *Memory { return &Memory{} }

// Write stores (shallow copies of) events. It does not block. It returns
// ctx.Err() if ctx is done on entry, or ErrClosed after Close.
func (m *Memory) Write(ctx context.Context, events []schemas.IncidentEvent) error {
	return store(ctx, m, &m.events, m.onWrite, events)
}

// WriteDeadLetters stores (shallow copies of) letters, with the errors of
// Write.
func (m *Memory) WriteDeadLetters(ctx context.Context, letters []schemas.DeadLetter) error {
	return store(ctx, m, &m.letters, m.onWriteDeadLetters, letters)
}

// store implements Write and WriteDeadLetters.
func store[T any](ctx context.Context, m *Memory, dst *[]T, hook func([]T) error, items []T) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if m.isClosed() {
		return ErrClosed
	}
	if hook != nil {
		if err := hook(items); err != nil {
			return err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	*dst = append(*dst, items...)
	return nil
}

// Events returns a copy of every event written so far, in write order.
func (m *Memory) Events() []schemas.IncidentEvent {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.events)
}

// DeadLetters returns a copy of every dead letter written so far, in write
// order.
func (m *Memory) DeadLetters() []schemas.DeadLetter {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.letters)
}

// isClosed reports whether Close has been called.
func (m *Memory) isClosed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}

// Close marks the sink closed; what it holds stays readable. It always
// returns nil.
func (m *Memory) Close(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}
