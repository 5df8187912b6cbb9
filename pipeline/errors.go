package pipeline

import "errors"

// Sentinel errors that drive the control flow of sources. Test for them
// with errors.Is.
var (
	// ErrGenerationEnded is returned by MessageSource.Read when the
	// consumer-group generation the caller was reading in has ended: a
	// rebalance moved partitions, the broker connection was lost, or a
	// message was nacked. The caller drops every piece of state built from
	// that generation's messages and keeps calling Read; the next messages
	// come from the new generation, each partition starting at its restore
	// point (Message.Restored).
	ErrGenerationEnded = errors.New("consumer group generation ended")

	// ErrSourceClosed is returned by a source's Read once Close has been
	// called.
	ErrSourceClosed = errors.New("source closed")
)
