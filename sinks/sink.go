package sinks

import (
	"context"

	"github.com/syncwatch/syncwatch/schemas"
)

// Sink delivers incident events downstream.
type Sink interface {
	// Write delivers events, in order, and returns once every one of them
	// is durable at the destination (written and flushed, or acknowledged
	// by the broker), or with an error. ctx bounds the whole call; a
	// cancelled ctx returns ctx.Err() and leaves the delivery state of the
	// batch undefined, so the caller must not acknowledge its input.
	// Write is not safe for concurrent use.
	Write(ctx context.Context, events []schemas.IncidentEvent) error
	// Close flushes and releases the sink. ctx bounds the flush.
	Close(ctx context.Context) error
}

// DeadLetterSink receives entries that could not be parsed.
type DeadLetterSink interface {
	// WriteDeadLetters delivers dead letters with the same contract as
	// Sink.Write.
	WriteDeadLetters(ctx context.Context, letters []schemas.DeadLetter) error
	// Close flushes and releases the sink.
	Close(ctx context.Context) error
}
