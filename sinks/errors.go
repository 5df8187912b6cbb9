package sinks

import (
	"errors"
	"fmt"
)

// Errors of the sinks in this package. Callers test them with errors.Is.
var (
	// ErrClosed is returned by Write or WriteDeadLetters on a sink whose
	// Close has been called. The batch was not delivered.
	ErrClosed = errors.New("sink closed")

	// ErrWebhookSignature is returned by VerifyWebhook for a request whose
	// signature is missing, malformed or wrong (a tampered body or
	// timestamp, or another secret).
	ErrWebhookSignature = errors.New("webhook signature invalid")
	// ErrWebhookTimestamp is returned by VerifyWebhook for a request whose
	// timestamp is missing, malformed or outside the tolerance: a replay,
	// or a clock far off.
	ErrWebhookTimestamp = errors.New("webhook timestamp invalid")
)

// SinkError is the error of one member of a Fanout or a Router. Their
// Write and Close combine one SinkError per failed member, in member
// order, into the error they return: errors.As finds the first SinkError,
// errors.Is matches the error of any member, and the message lists them
// all.
type SinkError struct {
	// Index is the member's position in NewFanout's arguments, or in the
	// sorted sink names of a Router.
	Index int
	// Sink is the member that failed.
	Sink Sink
	// Op is the failed operation: "write" or "close".
	Op string
	// Err is the member's error.
	Err error
}

// Error names the member by index and by its String method if it has
// one, else by its Go type: `writing to sink 1 (*sinks.Memory): ...`.
func (e *SinkError) Error() string {
	verb := "writing to"
	if e.Op == opClose {
		verb = "closing"
	}
	return fmt.Sprintf("%s sink %d (%s): %v", verb, e.Index, sinkName(e.Sink), e.Err)
}

// Unwrap returns the member's error, for errors.Is and errors.As.
func (e *SinkError) Unwrap() error { return e.Err }
