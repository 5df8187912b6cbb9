package pipeline

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/syncwatch/syncwatch/schemas"
)

// ReplayOptions tunes Replay. The zero value works.
type ReplayOptions struct {
	// BatchSize is the number of entries per batch. Default: 4096.
	BatchSize int
	// Progress, if set, is called after every batch with the bytes read
	// so far (on disk, over all sources) and the entries read.
	Progress func(bytes, entries int64)
}

// Replay runs sources through p to the end and flushes it. Sources are
// merged by event time: the next entry is always taken from the source
// that is furthest behind, so the reorder stage holds little. The received
// time of dead letters is the latest event time read by the end of their
// batch, so the same input
// gives the same output every run. Replay closes the sources.
func Replay(ctx context.Context, p *Pipeline, sources []*FileSource, opt ReplayOptions) error {
	defer func() {
		for _, s := range sources {
			s.Close()
		}
	}()
	bs := opt.BatchSize
	if bs <= 0 {
		bs = 4096
	}
	latest := make([]time.Time, len(sources))
	for _, s := range sources {
		p.Reorder.AddSource(s.Name, time.Time{})
	}
	var (
		b       Batch
		entries int64
		pending int
		maxSeen time.Time
	)
	flush := func(final bool) error {
		b.Final = final
		b.Now = maxSeen
		for i := range b.DeadLetters {
			b.DeadLetters[i].Received = schemas.Time{Time: maxSeen}
		}
		pending = 0
		if err := p.Exec(ctx, &b); err != nil {
			return err
		}
		b.Reset()
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
		next := -1
		for i, s := range sources {
			if s.done {
				continue
			}
			if next < 0 || latest[i].Before(latest[next]) {
				next = i
			}
		}
		if next < 0 {
			break
		}
		s := sources[next]
		if !s.sc.Scan() {
			if err := s.sc.Err(); err != nil {
				return fmt.Errorf("reading %s: %w", s.Name, err)
			}
			s.done = true
			p.Reorder.SourceDone(s.Name)
			continue
		}
		entries++
		// Normalize as the entry is read: the merge needs its event time,
		// and the normalize stage then has nothing left to do.
		t, ok := p.Normalize.Add(&b, Entry{
			Source:   s.Name,
			Raw:      s.sc.Entry(),
			Origin:   s.Name + ":" + strconv.Itoa(s.sc.Line()),
			Oversize: s.sc.Oversize(),
		})
		pending++
		if ok {
			if t.After(latest[next]) {
				latest[next] = t
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
	return flush(true)
}
