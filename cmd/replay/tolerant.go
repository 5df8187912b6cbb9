package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/syncwatch/syncwatch/pipeline"
)

// tolerantInput is an input whose read error ends it, not the replay: a
// truncated .gz among good files must not cut the good ones off at the
// event time where it broke. The error is kept for the summary and the
// exit status (exitPartial).
type tolerantInput struct {
	pipeline.EntryReader
	entries int64
	err     error
}

// ReadEntry reads the next entry; a read error other than the replay's
// end is kept and reported as the input's end.
func (t *tolerantInput) ReadEntry(ctx context.Context, en *pipeline.Entry) error {
	err := t.EntryReader.ReadEntry(ctx, en)
	switch {
	case err == nil:
		t.entries++
		return nil
	case errors.Is(err, io.EOF), ctx.Err() != nil:
		return err
	}
	t.err = err
	return io.EOF
}

// HoldsBacklog forwards the Kafka range's (pipeline's backlogReader).
func (t *tolerantInput) HoldsBacklog() bool {
	h, ok := t.EntryReader.(interface{ HoldsBacklog() bool })
	return ok && h.HoldsBacklog()
}

// failure says how far the input got before it failed, or "" if it did not.
func (t *tolerantInput) failure() string {
	if t.err == nil {
		return ""
	}
	return fmt.Sprintf("%s could not be read to its end: %v (after %d entries, %d bytes); the other inputs were replayed in full",
		t.SourceName(), t.err, t.entries, t.BytesRead())
}
