package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/hashicorp/go-multierror"
	"github.com/syncwatch/syncwatch/pipeline/parse"
	"github.com/syncwatch/syncwatch/schemas"
)

// DefaultReplayBatchSize is ReplayOptions.BatchSize's default.
const DefaultReplayBatchSize = 512

// ReplayOptions tunes Replay. The zero value works.
type ReplayOptions struct {
	// BatchSize is the number of entries per batch.
	//
	// Default: DefaultReplayBatchSize (4096)
	BatchSize int
	// Progress, if set, is called after every batch with the bytes read
	// so far (on disk, over all sources) and the entries read.
	Progress func(bytes, entries int64)
	// From and To, when not zero, keep only the records whose event time
	// is in [From, To): the others are read and dropped before detection
	// (not counted as read). Dead letters, which have no event time, are
	// kept. Inputs read by message time with a margin (a Kafka time range)
	// are cut to the event-time window this way.
	//
	// Default: zero (no window)
	From, To time.Time
}

func (o *ReplayOptions) batchSize() int { return cmp.Or(o.BatchSize, DefaultReplayBatchSize) }

// Validate reports every problem of the options at once, each naming its
// field. Progress may be nil.
func (o *ReplayOptions) Validate() error {
	var errs *multierror.Error
	if o.BatchSize < 0 {
		errs = multierror.Append(errs, fmt.Errorf("BatchSize %d: must not be negative", o.BatchSize))
	}
	if !o.From.IsZero() && !o.To.IsZero() && !o.To.After(o.From) {
		errs = multierror.Append(errs, fmt.Errorf("To %s: must be after From %s", o.To.Format(time.RFC3339), o.From.Format(time.RFC3339)))
	}
	return errs.ErrorOrNil()
}

// inWindow reports whether event time t is in [From, To).
func (o *ReplayOptions) inWindow(t time.Time) bool {
	return (o.From.IsZero() || !t.Before(o.From)) && (o.To.IsZero() || t.Before(o.To))
}

// EntryReader is one input of Replay: a stream of entries in the
// order they were written, each read and parsed on a goroutine of its
// own. *filesource.Source and *kafkasource.RangeSource are EntryReaders.
type EntryReader interface {
	// ReadEntry reads the next entry into en (Source, Raw, Origin,
	// Oversize; Ack stays nil, a replay acknowledges nothing). en.Raw may
	// point into the reader's buffers and is valid until the next call.
	// It returns io.EOF after the last entry. It blocks until an entry is
	// read, reading fails, or ctx (the replay's) ends.
	ReadEntry(ctx context.Context, en *Entry) error
	// SourceName names the input: the reorder stage's watermark is the
	// minimum over inputs, so names must be unique.
	SourceName() string
	// BytesRead is how many bytes were read so far, for progress. It is
	// called from another goroutine than ReadEntry.
	BytesRead() int64
	// Close releases the input. Replay calls it.
	Close() error
}

// backlogReader is an EntryReader whose entries came as a stream of
// messages (a Kafka partition): until it is read to its end, a shipper's
// stream further back in it may still hold older records than those read,
// so the reorder stage holds them (Batch.Backlog), as the live consumer
// does while it catches up on the partition.
type backlogReader interface{ HoldsBacklog() bool }

// chunkSize is how many entries a source's reader parses before handing
// them to the merge; chunksAhead how many chunks it may be ahead.
const (
	chunkSize   = 512
	chunksAhead = 4
)

// chunk is a run of one source's entries, parsed by its reader.
type chunk struct {
	items []normalized
	err   error // reading failed after items
	done  bool  // the source ends after items
}

// replaySource is a source being read and parsed on its own goroutine.
type replaySource struct {
	EntryReader
	chunks chan chan chunk // in the source's order; each is filled once
	free   chan []normalized
	cur    []normalized // the chunk being merged
	pos    int
	last   bool // cur is the source's last chunk
	done   bool // every entry merged
	err    error
	latest time.Time // event time of the last record merged
}

// read scans the source's entries on its own goroutine and parses them in
// chunks: with several cores, on parse workers of its own (a chunk each,
// handed to the merge in the source's order), so that parsing one large
// file spreads over the cores beside detection; with one core, inline.
func (rs *replaySource) read(ctx context.Context, norm *NormalizeStage) {
	defer close(rs.chunks)
	workers := runtime.GOMAXPROCS(0)
	if workers < 2 {
		rs.readInline(ctx, norm)
		return
	}
	type job struct {
		raw *rawChunk
		out chan chunk
	}
	jobs := make(chan job, workers)
	rawFree := make(chan *rawChunk, chunksAhead+workers+1)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(jobs)
	for range workers {
		wg.Go(func() {
			var u parse.Unwrapper
			for j := range jobs {
				items := norm.normalizeAll(&u, j.raw.entries, rs.items())
				j.out <- chunk{items: items, err: j.raw.err, done: j.raw.done}
				select {
				case rawFree <- j.raw:
				default:
				}
			}
		})
	}
	for {
		var rc *rawChunk
		select {
		case rc = <-rawFree:
		default:
			rc = &rawChunk{}
		}
		rc.read(ctx, rs.EntryReader)
		out := make(chan chunk, 1)
		select {
		case rs.chunks <- out: // its place in the order, before it is parsed
		case <-ctx.Done():
			return
		}
		select {
		case jobs <- job{rc, out}:
		case <-ctx.Done():
			return
		}
		if rc.done {
			return
		}
	}
}

// readInline reads and parses on the reader's goroutine, a chunk at a
// time as the workers do (one string for a chunk's entries).
func (rs *replaySource) readInline(ctx context.Context, norm *NormalizeStage) {
	var u parse.Unwrapper
	var rc rawChunk
	for {
		rc.read(ctx, rs.EntryReader)
		c := chunk{items: norm.normalizeAll(&u, rc.entries, rs.items()), err: rc.err, done: rc.done}
		out := make(chan chunk, 1)
		out <- c
		select {
		case rs.chunks <- out:
		case <-ctx.Done():
			return
		}
		if c.done {
			return
		}
	}
}

// items returns an empty slice for a chunk's parsed entries, reusing one
// the merge is done with when there is one.
func (rs *replaySource) items() []normalized {
	select {
	case items := <-rs.free:
		return items[:0]
	default:
		return make([]normalized, 0, chunkSize)
	}
}

// textBlock is the most bytes of entries one string holds (an entry
// larger is a string of its own): under the runtime's 32 KB of a small
// object.
const textBlock = 16 << 10

// rawChunk is up to chunkSize entries read from a source, their bytes
// copied into one buffer (a reader's buffer is valid only until its next
// read), waiting to be parsed.
type rawChunk struct {
	entries []Entry
	buf     []byte
	err     error // reading failed after entries
	done    bool  // the source ends after entries
}

func (rc *rawChunk) read(ctx context.Context, r EntryReader) {
	clear(rc.entries)
	rc.entries, rc.buf, rc.err, rc.done = rc.entries[:0], rc.buf[:0], nil, false
	var en Entry
	for len(rc.entries) < chunkSize {
		if err := r.ReadEntry(ctx, &en); err != nil {
			if !errors.Is(err, io.EOF) {
				rc.err = err
			}
			rc.done = true
			break
		}
		rc.buf = append(rc.buf, en.Raw...)
		rc.entries = append(rc.entries, en)
	}
	// Point the entries into the buffer only now: it may have moved as it
	// grew. Their text is one string for up to textBlock bytes of entries,
	// one allocation instead of one per entry (parse.EntryText); a record
	// kept keeps its block. (One string for the whole chunk was slower: a
	// string past 32 KB is a large object, in fresh pages each time.)
	off, text, textOff := 0, "", 0
	for k := range rc.entries {
		n := len(rc.entries[k].Raw)
		if off+n > textOff+len(text) {
			// the next block: this entry and those after it that fit
			end := off + n
			for j := k + 1; j < len(rc.entries) && end+len(rc.entries[j].Raw)-off <= textBlock; j++ {
				end += len(rc.entries[j].Raw)
			}
			text, textOff = string(rc.buf[off:end]), off
		}
		rc.entries[k].Raw = rc.buf[off : off+n : off+n]
		rc.entries[k].Text = text[off-textOff : off-textOff+n]
		off += n
	}
}

// next returns the source's next parsed entry, or nil at its end (with
// rs.err set if reading failed) or when ctx ends.
func (rs *replaySource) next(ctx context.Context) *normalized {
	for rs.pos >= len(rs.cur) {
		if rs.cur != nil {
			select {
			case rs.free <- rs.cur:
			default:
			}
			rs.cur = nil
		}
		if rs.last {
			rs.done = true
			return nil
		}
		var c chunk
		ok := false
		select {
		case out, open := <-rs.chunks:
			if open {
				select {
				case c, ok = <-out:
				case <-ctx.Done():
				}
			}
		case <-ctx.Done():
		}
		if !ok { // Replay is ending: cancelled, or the reader gave up
			rs.done, rs.err = true, ctx.Err()
			return nil
		}
		rs.cur, rs.pos = c.items, 0
		rs.last, rs.err = c.done, c.err
	}
	n := &rs.cur[rs.pos]
	rs.pos++
	return n
}

// Replay runs sources (files, Kafka partitions) through p to the end and
// flushes it: the same entries give the same events whichever way they
// come in. Sources are merged by event time: the next entry is always
// taken from the source that is furthest behind, so the reorder stage
// holds little. Each source is read and parsed on its own goroutine, a few
// chunks ahead of the merge; the merge order, and so the output, is the
// same as reading them one entry at a time. The received time of dead
// letters is the latest event time read by the end of their batch, so the
// same input gives the same output every run. Replay closes the sources.
//
// The work runs side by side: each input is read and parsed on its own
// goroutine; this one merges, commits and reorders; detection and delivery
// run on consecutive batches behind it (see staged).
func Replay(ctx context.Context, p *Pipeline, sources []EntryReader, opt ReplayOptions) (err error) {
	ctx, cancel := context.WithCancel(ctx)
	var readers sync.WaitGroup
	finished := false
	defer func() {
		cancel() // unblocks a reader waiting to hand over a chunk
		if finished {
			readers.Wait() // each has handed over its last chunk
		}
		// Otherwise a reader may be blocked reading stdin, which nothing
		// can interrupt; the others stop at their next read or hand-over.
		for _, s := range sources {
			s.Close()
		}
	}()
	stages := p.start(ctx)
	defer func() { // runs first: the last batches go through before cancel
		if serr := stages.Close(); serr != nil {
			err = serr // a stage's error is the cause
		}
	}()
	if err := opt.Validate(); err != nil {
		return fmt.Errorf("validating replay options: %w", err)
	}
	bs := opt.batchSize()
	srcs := make([]*replaySource, len(sources))
	for i, s := range sources {
		p.Reorder.addSource(s.SourceName(), time.Time{})
		srcs[i] = &replaySource{EntryReader: s, chunks: make(chan chan chunk, chunksAhead), free: make(chan []normalized, chunksAhead+2)}
		readers.Add(1)
		go func() {
			defer readers.Done()
			srcs[i].read(ctx, p.Normalize)
		}()
	}
	var (
		b       = &Batch{}
		entries int64
		pending int
		maxSeen time.Time
	)
	backlog := func() bool {
		for _, s := range srcs {
			if h, ok := s.EntryReader.(backlogReader); ok && h.HoldsBacklog() && !s.done {
				return true
			}
		}
		return false
	}
	flush := func(final bool) error {
		b.Final = final
		b.Backlog = backlog()
		// No wall clock in a replay: b.Now stays zero, which turns the
		// reorder stage's idle-source rule off (a source's end is known,
		// SourceDone). Judged on event time instead, one entry far ahead
		// in one file made the others look idle, and their records came
		// late, after decisions they should have changed, depending on
		// where batches happened to end.
		for i := range b.DeadLetters {
			b.DeadLetters[i].Received = schemas.Time{Time: maxSeen}
		}
		pending = 0
		var err error
		if b, err = stages.Exec(ctx, b); err != nil {
			return err
		}
		if opt.Progress != nil {
			var n int64
			for _, s := range sources {
				n += s.BytesRead()
			}
			opt.Progress(n, entries)
		}
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		// pick the live source furthest behind in event time
		var s *replaySource
		for _, x := range srcs {
			if !x.done && (s == nil || x.latest.Before(s.latest)) {
				s = x
			}
		}
		if s == nil {
			break
		}
		n := s.next(ctx)
		if n == nil {
			if err := ctx.Err(); err != nil {
				return err
			}
			if s.err != nil {
				return fmt.Errorf("reading %s: %w", s.SourceName(), s.err)
			}
			// what it held for continuation lines is complete
			if t, ok := p.Normalize.sourceDone(b, s.SourceName()); ok && t.After(maxSeen) {
				maxSeen = t
			}
			p.Reorder.sourceDone(s.SourceName())
			continue
		}
		entries++
		if n.OK && !opt.inWindow(n.Record.Time) {
			// outside the window: it still moves its source on
			if n.Record.Time.After(s.latest) {
				s.latest = n.Record.Time
			}
			if pending++; pending >= bs { // progress goes on
				if err := flush(false); err != nil {
					return err
				}
			}
			continue
		}
		t, ok := p.Normalize.commitOne(b, n)
		pending++
		if ok {
			if t.After(s.latest) {
				s.latest = t
			}
			if t.After(maxSeen) {
				maxSeen = t
			}
		}
		if pending >= bs {
			if err := flush(false); err != nil {
				return err
			}
		}
	}
	finished = true
	return flush(true)
}
