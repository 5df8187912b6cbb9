package sinks

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/hashicorp/go-multierror"

	"github.com/syncwatch/syncwatch/schemas"
)

// DefaultJSONLBufferSize is the default of JSONLOptions.BufferSize.
const DefaultJSONLBufferSize = 64 << 10

// JSONLOptions configures a JSONL or DeadLetterJSONL sink. The zero value
// works: buffered writes, flushed on every Write, no fsync, the writer left
// open on Close. A zero field means its default; a negative BufferSize is
// rejected by Validate.
type JSONLOptions struct {
	// Sync makes every Write (and Close) call the writer's Sync method
	// after flushing, when the writer has one (an *os.File does: fsync),
	// so that a batch survives a machine crash, not only a process crash.
	//
	// Default: false
	Sync bool

	// CloseWriter makes Close also close the writer, when it is an
	// io.Closer. NewFile and NewDeadLetterFile always set it, since the
	// sink owns the file they open. Leave it false for os.Stdout.
	//
	// Default: false
	CloseWriter bool

	// Append makes NewFile and NewDeadLetterFile append to an existing
	// file instead of truncating it. Only used by those two constructors.
	//
	// Default: false (truncate)
	Append bool

	// BufferSize is the size of the write buffer, in bytes. A batch larger
	// than the buffer is written to the writer in several chunks.
	//
	// Default: 64 KiB (DefaultJSONLBufferSize)
	BufferSize int
}

// bufferSize resolves BufferSize.
func (o *JSONLOptions) bufferSize() int { return cmp.Or(o.BufferSize, DefaultJSONLBufferSize) }

// Validate reports every problem of the options at once, each naming its
// field, combined into one error; nil means valid.
func (o *JSONLOptions) Validate() error {
	var errs *multierror.Error
	if o.BufferSize < 0 {
		errs = multierror.Append(errs, fmt.Errorf("BufferSize %d: must not be negative", o.BufferSize))
	}
	return errs.ErrorOrNil()
}

// mustValidate panics if opts are invalid. Options are set by code, not
// read from input, so invalid ones are a bug, as kafka-go's NewReader
// treats an invalid ReaderConfig.
func (o *JSONLOptions) mustValidate() {
	if err := o.Validate(); err != nil {
		panic(fmt.Sprintf("sinks: invalid JSONLOptions: %v", err))
	}
}

// filePerm is the mode of files that NewFile and NewDeadLetterFile create.
const filePerm = 0o644

// openFile validates opts and opens path for NewFile and
// NewDeadLetterFile.
func openFile(path string, opts JSONLOptions) (*os.File, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("validating JSONL options: %w", err)
	}
	flag := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if opts.Append {
		flag = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	f, err := os.OpenFile(path, flag, filePerm)
	if err != nil {
		return nil, fmt.Errorf("opening output file: %w", err)
	}
	return f, nil
}

// JSONL is a Sink that writes each incident event as one line of compact
// JSON (encoding/json of schemas.IncidentEvent followed by '\n'), to stdout,
// a file or any io.Writer. The output is deterministic: the same events
// give the same bytes, the same bytes every other sink carries.
//
// The Sink contract does not ask for it, but a JSONL is safe for concurrent
// use: concurrent Writes are serialized and their lines never interleave.
type JSONL struct {
	lw lineWriter
}

var _ Sink = (*JSONL)(nil)

// NewJSONL returns a sink writing JSON lines to w. For stdout:
// NewJSONL(os.Stdout, JSONLOptions{}). It does not write anything yet. It
// panics if opts is invalid (see JSONLOptions.Validate), as kafka-go's
// NewReader does: options are set by code, so that is a bug; NewFile
// returns the error instead.
func NewJSONL(w io.Writer, opts JSONLOptions) *JSONL {
	j := &JSONL{}
	j.lw.init(w, opts)
	return j
}

// NewFile creates (or truncates, or with opts.Append appends to) the file
// at path, mode 0644, and returns a sink writing JSON lines to it. The sink
// owns the file: Close closes it. The error is that of validating opts
// (JSONLOptions.Validate) or of opening the file.
func NewFile(path string, opts JSONLOptions) (*JSONL, error) {
	f, err := openFile(path, opts)
	if err != nil {
		return nil, err
	}
	opts.CloseWriter = true
	return NewJSONL(f, opts), nil
}

// Write writes events, one line each, in order, then flushes the buffer to
// the writer (and syncs it, with JSONLOptions.Sync) before returning: a nil
// error means every line has reached the writer. ctx is checked once,
// before anything is written; the write itself is not interruptible. It
// returns ErrClosed after Close, an encoding error for an event that
// encoding/json cannot encode (no line of that event is written; earlier
// lines of the batch stay buffered for the next flush), or the writer's
// error. After a writer error the sink is broken and returns the same
// error on every later Write: open a new one.
func (j *JSONL) Write(ctx context.Context, events []schemas.IncidentEvent) error {
	return writeLines(ctx, &j.lw, events)
}

// Close flushes the buffer, syncs (with JSONLOptions.Sync) and, with
// JSONLOptions.CloseWriter, closes the writer; it returns nil or one error
// combining the errors of those steps. ctx is not consulted: the flush is not
// interruptible. Later calls of Close return nil; later Writes return
// ErrClosed.
func (j *JSONL) Close(ctx context.Context) error {
	return j.lw.close()
}

// lineWriter is the buffered, lock-protected JSON-lines writer behind
// JSONL and DeadLetterJSONL.
type lineWriter struct {
	mu     sync.Mutex
	w      io.Writer
	bw     *bufio.Writer
	enc    *json.Encoder
	buf    []byte // a line of a jsonAppender
	opts   JSONLOptions
	closed bool
}

// init prepares lw to write to w; it panics if opts is invalid.
func (lw *lineWriter) init(w io.Writer, opts JSONLOptions) {
	opts.mustValidate()
	lw.w = w
	lw.opts = opts
	lw.bw = bufio.NewWriterSize(w, opts.bufferSize())
	// Encode writes exactly json.Marshal's bytes and a '\n', and writes
	// nothing when encoding fails.
	lw.enc = json.NewEncoder(lw.bw)
}

// jsonAppender appends itself as encoding/json would encode it
// (schemas.IncidentEvent).
type jsonAppender interface {
	AppendJSON(b []byte) ([]byte, error)
}

// writeLines encodes items as lines and flushes them (see JSONL.Write).
func writeLines[T any](ctx context.Context, lw *lineWriter, items []T) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if lw.closed {
		return ErrClosed
	}
	for i := range items {
		if a, ok := any(&items[i]).(jsonAppender); ok {
			// the same bytes, without reflection (an event)
			b, err := a.AppendJSON(lw.buf[:0])
			if err != nil {
				return fmt.Errorf("writing line %d of %d: %w", i+1, len(items), err)
			}
			lw.buf = append(b, '\n')
			if _, err := lw.bw.Write(lw.buf); err != nil {
				return fmt.Errorf("writing line %d of %d: %w", i+1, len(items), err)
			}
			continue
		}
		if err := lw.enc.Encode(&items[i]); err != nil {
			return fmt.Errorf("writing line %d of %d: %w", i+1, len(items), err)
		}
	}
	return lw.flush()
}

// flush writes the buffer out and, with JSONLOptions.Sync, syncs the writer.
// lw.mu must be held.
func (lw *lineWriter) flush() error {
	if err := lw.bw.Flush(); err != nil {
		return fmt.Errorf("flushing lines: %w", err)
	}
	if !lw.opts.Sync {
		return nil
	}
	if s, ok := lw.w.(interface{ Sync() error }); ok {
		if err := s.Sync(); err != nil {
			return fmt.Errorf("syncing lines: %w", err)
		}
	}
	return nil
}

// close flushes and, with JSONLOptions.CloseWriter, closes the writer; it is
// idempotent.
func (lw *lineWriter) close() error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if lw.closed {
		return nil
	}
	lw.closed = true
	var merr *multierror.Error
	if err := lw.flush(); err != nil {
		merr = multierror.Append(merr, err)
	}
	if c, ok := lw.w.(io.Closer); ok && lw.opts.CloseWriter {
		if err := c.Close(); err != nil {
			merr = multierror.Append(merr, fmt.Errorf("closing writer: %w", err))
		}
	}
	return merr.ErrorOrNil()
}
