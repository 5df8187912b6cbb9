package sinks

import (
	"context"
	"io"

	"github.com/syncwatch/syncwatch/schemas"
)

// DeadLetterJSONL is a DeadLetterSink that writes each dead letter as one
// line of compact JSON, keys in the order of events.md:
//
//	{"reason":"...","origin":"...","received":"2026-11-24T10:17:02.000Z","raw_base64":"..."}
//
// It is safe for concurrent use; lines never interleave.
type DeadLetterJSONL struct {
	lw lineWriter
}

var _ DeadLetterSink = (*DeadLetterJSONL)(nil)

// newDeadLetterJSONL returns a dead-letter sink writing JSON lines to w,
// with the same buffering, Sync and CloseWriter behaviour as NewJSONL. It
// panics if opts is invalid, as NewJSONL does.
func newDeadLetterJSONL(w io.Writer, opts JSONLOptions) *DeadLetterJSONL {
	d := &DeadLetterJSONL{}
	d.lw.init(w, opts)
	return d
}

// NewDeadLetterFile creates (or truncates, or with opts.Append appends to)
// the file at path, mode 0644, and returns a dead-letter sink writing to
// it; Close closes the file. The error is that of validating opts
// (JSONLOptions.Validate) or of opening the file.
func NewDeadLetterFile(path string, opts JSONLOptions) (*DeadLetterJSONL, error) {
	f, err := openFile(path, opts)
	if err != nil {
		return nil, err
	}
	opts.CloseWriter = true
	return newDeadLetterJSONL(f, opts), nil
}

// WriteDeadLetters writes letters, one line each, in order, and flushes
// them to the writer before returning, with the contract and errors of
// JSONL.Write.
func (d *DeadLetterJSONL) WriteDeadLetters(ctx context.Context, letters []schemas.DeadLetter) error {
	return writeLines(ctx, &d.lw, letters)
}

// Close flushes and releases the sink, as JSONL.Close does.
func (d *DeadLetterJSONL) Close(ctx context.Context) error {
	return d.lw.close()
}
