// Package watermark decides up to which event time an ordered stream's
// records may be released: each source (a Kafka partition, a file) has
// come as far as the latest event time it delivered, less how far out of
// order it may still deliver (its window); the watermark is the least of
// those over the sources still active. The reorder stage holds records
// and releases them up to the watermark a Tracker gives it; the Tracker
// holds no record, only times.
//
// A window is fixed (Config.Window) or, with Config.Adaptive, learned per
// source from the disorder the source shows: MinWindow plus twice the
// furthest a record came behind the latest time its source had delivered
// before it, at most Window, once the source delivered 1,000 records
// spanning 5 s of event time (the whole Window until then). A record is
// late only when it comes further behind its own source's latest time
// than that source's window, so whether it is does not depend on the other
// sources, nor on when records arrive.
//
// A source with no wall-clock activity for IdleTimeout does not hold the
// others back (live only: a replay has no wall clock and says when a
// source ends, Done).
package watermark

import (
	"sort"
	"time"

	"github.com/syncwatch/syncwatch/pipeline/repartition/repeats"
)

// What an adaptive source must have shown before its window is learned:
// until then it is held by the whole Window.
const (
	learnRecords = 1000
	learnSpan    = 5 * time.Second
)

// Config is a Tracker's configuration, every duration given (the reorder
// stage resolves its defaults).
type Config struct {
	// Window is how far out of event-time order a source may deliver;
	// with Adaptive, the most any source is held by.
	Window time.Duration
	// Adaptive learns each source's window (see the package doc).
	Adaptive bool
	// MinWindow is the least window of an adaptive source.
	MinWindow time.Duration
	// IdleTimeout excludes a source from the watermark once it delivered
	// nothing for this long (wall clock, when one is given).
	IdleTimeout time.Duration
	// MarksOnly: the sources are a repartition second hop's pairs (raw
	// partition, hop partition), whose times move by the first hop's marks
	// only, and whose disorder is learned per raw partition.
	MarksOnly bool
}

// Tracker follows the sources of one ordered stream. It is not safe for
// concurrent use.
type Tracker struct {
	cfg     Config
	sources map[string]*Source
	// learners: by source, or with MarksOnly by raw partition
	learners map[string]*learner
	names    []string // sorted names of sources, for a stable watermark
}

// Source is one source's state.
type Source struct {
	latest   time.Time
	lastWall time.Time
	done     bool
	learn    *learner
}

// learner is what an adaptive window is learned from: the records (and
// marks) delivered, the first and the latest time, the furthest a record
// came behind its source's latest time. A second hop's sources share the
// learner of their raw partition: the disorder is the raw partition's,
// and each of its pairs carries a share of its records.
type learner struct {
	records       int
	first, latest time.Time
	maxLag        time.Duration
}

// New returns a Tracker with no source.
func New(cfg Config) *Tracker {
	return &Tracker{cfg: cfg, sources: map[string]*Source{}, learners: map[string]*learner{}}
}

// Add declares a source before it delivers anything, so that it holds the
// watermark back from the start (replay declares every file, the consumer
// every assigned partition). now is the wall-clock time of the
// declaration, from which a source that never delivers becomes idle; zero
// means never idle.
func (t *Tracker) Add(name string, now time.Time) {
	if t.sources[name] == nil {
		t.add(name, now)
	}
}

func (t *Tracker) add(name string, now time.Time) *Source {
	key := name
	if t.cfg.MarksOnly {
		key = repeats.Raw(name)
	}
	l := t.learners[key]
	if l == nil {
		l = &learner{}
		t.learners[key] = l
	}
	s := &Source{lastWall: now, learn: l}
	t.sources[name] = s
	i := sort.SearchStrings(t.names, name)
	t.names = append(t.names, "")
	copy(t.names[i+1:], t.names[i:])
	t.names[i] = name
	return s
}

// Source returns the state of source name, which it adds if it is new
// (never idle until it delivers).
func (t *Tracker) Source(name string) *Source {
	if s := t.sources[name]; s != nil {
		return s
	}
	return t.add(name, time.Time{})
}

// Observe records that s delivered a record (or, mark, a first hop's mark)
// of event time at; now is the batch's wall-clock time (zero in a replay).
func (t *Tracker) Observe(s *Source, at time.Time, mark bool, now time.Time) {
	if l := s.learn; t.cfg.Adaptive {
		l.records++ // a mark counts: a second hop's source may get only marks
		if lag := s.latest.Sub(at); !mark && lag > l.maxLag && !s.latest.IsZero() {
			l.maxLag = lag
		}
	}
	if at.After(s.latest) && (mark || !t.cfg.MarksOnly) {
		s.latest = at
		if l := s.learn; t.cfg.Adaptive {
			if l.first.IsZero() {
				l.first = at
			}
			if at.After(l.latest) {
				l.latest = at
			}
		}
	}
	if !now.IsZero() {
		s.lastWall = now
	}
}

// Done says a source will deliver nothing more (end of a file).
func (t *Tracker) Done(name string) {
	if s := t.sources[name]; s != nil {
		s.done = true
	}
}

// Latest returns the latest event time seen from source name (zero if
// none or unknown).
func (t *Tracker) Latest(name string) time.Time {
	if s := t.sources[name]; s != nil {
		return s.latest
	}
	return time.Time{}
}

// Stalled says the caller read nothing for d, being busy with a batch (a
// slow sink): no source could deliver meanwhile, so d does not count
// toward any source's idle timeout. Without it, one delivery longer than
// IdleTimeout made every source that was not in the next batch idle; the
// watermark then passed records still on their way, which came late and
// were decided out of order.
func (t *Tracker) Stalled(d time.Duration) {
	if d <= 0 {
		return
	}
	for _, s := range t.sources {
		if !s.lastWall.IsZero() {
			s.lastWall = s.lastWall.Add(d)
		}
	}
}

// windowOf is how far behind its latest time source s holds the release.
func (t *Tracker) windowOf(s *Source) time.Duration {
	l := s.learn
	if !t.cfg.Adaptive || l.records < learnRecords || l.latest.Sub(l.first) < learnSpan {
		return t.cfg.Window
	}
	return min(t.cfg.Window, t.cfg.MinWindow+2*l.maxLag)
}

// Window returns the largest window of the sources not done (the
// configured Window when there are none): what the release waits for at
// most now.
func (t *Tracker) Window() time.Duration {
	w, found := time.Duration(0), false
	for _, s := range t.sources {
		if !s.done {
			w, found = max(w, t.windowOf(s)), true
		}
	}
	if !found {
		return t.cfg.Window
	}
	return w
}

// Watermark returns the least, over the active sources, of the latest time
// each delivered less its window, or all=true when no source constrains
// the release (every one is done). now is the batch's wall-clock time
// (zero: no source is idle). held, if not nil, gives a source's records
// that are on their way but not delivered yet (an entry waiting for its
// continuation lines): the source has come no further than the earliest.
func (t *Tracker) Watermark(now time.Time, held func(source string) (time.Time, bool)) (wm time.Time, all bool) {
	first := true
	for _, n := range t.names {
		s := t.sources[n]
		if s.done {
			continue
		}
		if !now.IsZero() && !s.lastWall.IsZero() && now.Sub(s.lastWall) > t.cfg.IdleTimeout {
			continue // idle: does not hold the others back
		}
		if s.latest.IsZero() {
			return time.Time{}, false // a source that has said nothing yet
		}
		latest := s.latest
		if held != nil {
			if h, ok := held(n); ok && h.Before(latest) {
				latest = h
			}
		}
		if at := latest.Add(-t.windowOf(s)); first || at.Before(wm) {
			wm, first = at, false
		}
	}
	if first {
		// No active source: whatever is held can go only if every source
		// is done; idle ones release up to their latest time.
		latest := time.Time{}
		anyIdle := false
		for _, s := range t.sources {
			if !s.done {
				anyIdle = true
			}
			if s.latest.After(latest) {
				latest = s.latest
			}
		}
		if !anyIdle {
			return time.Time{}, true
		}
		return latest.Add(-t.cfg.Window), false
	}
	return wm, false
}
