package detectors

import (
	"fmt"
	"hash/maphash"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/syncwatch/syncwatch/schemas"
	"github.com/syncwatch/syncwatch/schemas/redact"
)

// Stats counts what the engine saw and did.
type Stats struct {
	Duplicates      int // exact repeats of an entry of the same run, ignored
	Late            int // lines of runs already decided, ignored
	RunsDecided     int // runs whose outcome was decided
	RunsTimedOut    int // of those, runs decided RunTimeout after their last line, with no end line
	Mailboxes       int // mailboxes with state now
	Evicted         int // mailboxes whose state was dropped after IdleEvict
	OpenIncidents   int // incidents open now
	TemplatesCapped int // unknown failures grouped under the overflow template (MaxTemplates)
	Adopted         int // open incidents carried on from their events (Config.Known)
	MailboxesCapped int // records of new mailboxes not judged: MaxMailboxes had state
	// Opened counts incidents opened, by kind and class ("sync_error/exchange.auth.password").
	Opened map[string]int
}

// Engine decides incidents from records fed in event-time order. It is not
// safe for concurrent use.
type Engine struct {
	cfg  Config
	dets []Detector

	now       time.Time // event-time clock
	lastSweep time.Time
	mailboxes mailboxMap
	// Runs are decided in due order from the heap and the queue merged:
	// an item due no earlier than every queued one is queued (O(1): a new
	// run's timeout, nearly always), any other goes to the heap.
	due   dueHeap
	dueQ  dueQueue
	batch []dueItem // Advance's items due at one instant
	seed  maphash.Seed
	stats Stats
	// open counts the incidents open in every mailbox: Stats is called
	// every few batches, and counting them there walked every mailbox
	// (half of a million-mailbox replay's CPU).
	open int
}

// NewEngine builds an engine.
func NewEngine(cfg Config) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("validating detection config: %w", err)
	}
	dets, err := cfg.detectors()
	if err != nil {
		return nil, err
	}
	seed := maphash.MakeSeed()
	return &Engine{
		cfg:       cfg,
		dets:      dets,
		mailboxes: newMailboxMap(seed),
		seed:      seed,
		stats:     Stats{Opened: map[string]int{}},
	}, nil
}

// Stats returns a copy of the counters.
func (e *Engine) Stats() Stats {
	s := e.stats
	s.Opened = make(map[string]int, len(e.stats.Opened))
	for k, v := range e.stats.Opened {
		s.Opened[k] = v
	}
	s.Mailboxes = e.mailboxes.len()
	s.OpenIncidents = e.open
	return s
}

// Process feeds one record (in event-time order) and appends the events it
// causes, including those of runs whose outcome became due before the
// record's time, to out.
func (e *Engine) Process(rec *schemas.LogRecord, out []schemas.IncidentEvent) []schemas.IncidentEvent {
	out = e.Advance(rec.Time, out)
	if rec.Tenant == "" || rec.Mailbox == "" {
		return out // no mailbox to judge it for
	}
	k := mbKey{rec.Tenant, rec.Mailbox}
	mb, h := e.mailboxes.get(k)
	if mb == nil && e.mailboxes.len() >= e.cfg.maxMailboxes() {
		e.stats.MailboxesCapped++
		return out
	}
	if mb == nil {
		mb = e.mailboxes.add(k, h, instantOf(e.now))
		if e.cfg.Known != nil {
			e.adopt(mb, rec.Time)
		}
	}
	if t := instantOf(rec.Time); mb.lastSeen.before(t) {
		mb.lastSeen = t
	}
	if rec.RunID == "" {
		// No run context: only a definitive error can be judged alone.
		if o := e.observe(mb, rec); o != nil && o.sig.Scope == ScopeTotal && o.severity >= schemas.SeverityError {
			out = e.sighting(mb, nil, o, out)
		}
		return out
	}
	r := mb.getRun(rec.RunID)
	if r == nil {
		if mb.recentlyDecided(e.runHash(rec.RunID)) {
			e.stats.Late++
			return out
		}
		r = &run{id: strings.Clone(rec.RunID), mb: mb}
		mb.addRun(r)
	}
	if !r.seen.add(e.entryHash(rec)) {
		e.stats.Duplicates++
		return out
	}
	if rec.Time.After(r.lastSeen) {
		r.lastSeen = rec.Time
		if !r.ended {
			r.endRef = runEnd{producer: rec.Producer, time: rec.Time, origin: rec.Origin}
		}
	}
	switch rec.Event {
	case schemas.EventRunStarted:
	case schemas.EventRecordSynced:
		r.seenOK++
		if rec.RecordID != "" {
			delete(r.fails, recKey{rec.Producer, rec.RecordID})
		}
	case schemas.EventRecordFailed:
		if o := e.observe(mb, rec); o != nil {
			k := recKey{rec.Producer, rec.RecordID}
			if prev := r.fails[k]; prev != nil && prev.sig.Class == o.sig.Class {
				prev.count++
			} else {
				if r.fails == nil {
					r.fails = map[recKey]*obs{}
				}
				r.fails[k] = o
			}
			if o.sig.Scope == ScopeTotal && o.severity >= schemas.SeverityError {
				out = e.sighting(mb, r, o, out)
			}
		}
	case schemas.EventRunFailed, schemas.EventRunFinished:
		r.ended = true
		if rec.Time.After(r.end) {
			r.end = rec.Time
			r.endRef = runEnd{producer: rec.Producer, time: rec.Time, origin: rec.Origin}
		}
		if rec.Event == schemas.EventRunFailed {
			r.failedMk = true
			if o := e.observe(mb, rec); o != nil {
				r.signals = append(r.signals, o)
				if o.sig.Scope == ScopeTotal {
					out = e.sighting(mb, r, o, out)
				}
			}
		}
		if rec.HasCounts {
			r.hasCount = true
			r.synced, r.failed = rec.Synced, rec.Failed
		}
	default:
		if rec.Severity >= schemas.SeverityWarn {
			if o := e.observe(mb, rec); o != nil {
				// An unknown message is a failure only at ERROR or above;
				// a known one counts at WARN (it may name the cause).
				if o.sig.Class != classUnknown || o.severity >= schemas.SeverityError {
					r.signals = append(r.signals, o)
					if o.sig.Scope == ScopeTotal && o.severity >= schemas.SeverityError {
						out = e.sighting(mb, r, o, out)
					}
				}
			}
		}
	}
	e.schedule(r)
	return out
}

// observe asks the detector chain about rec, a record of mb.
func (e *Engine) observe(mb *mailbox, rec *schemas.LogRecord) *obs {
	for _, d := range e.dets {
		sig, ok := d.Detect(rec)
		if !ok {
			continue
		}
		if sig.Template != "" {
			sig.Template = e.capTemplate(mb, sig.Template)
		}
		msg := rec.Body
		if len(msg) > 512 {
			msg = msg[:512] + "…"
		}
		return &obs{
			sig: sig, severity: rec.Severity, producer: rec.Producer, time: rec.Time,
			message: redact.String(msg), origin: rec.Origin, recordID: rec.RecordID, count: 1,
		}
	}
	return nil
}

const overflowTemplate = "<too many distinct unknown errors>"

// capTemplate returns t, or overflowTemplate once mb has MaxTemplates
// others.
func (e *Engine) capTemplate(mb *mailbox, t string) string {
	h := e.templateHash(t)
	m := mb.extra()
	if m.templates.has(h) {
		return t
	}
	if m.templates.len() >= e.cfg.maxTemplates() {
		e.stats.TemplatesCapped++
		return overflowTemplate
	}
	m.addTemplate(h)
	return t
}

// templateHash is the hash of a template kept in mailboxMore.templates: 8
// bytes instead of the string (and a map per mailbox).
func (e *Engine) templateHash(t string) uint64 {
	return maphash.String(e.seed, t)
}

// entryHash identifies an entry within its run, for duplicate detection:
// one maphash.String per text field (aeshash, no buffering) and the rest
// mixed in as integers.
func (e *Engine) entryHash(rec *schemas.LogRecord) uint64 {
	h := maphash.String(e.seed, rec.Body)
	h = mix64(h, maphash.String(e.seed, rec.RecordID))
	h = mix64(h, maphash.String(e.seed, rec.Logger))
	h = mix64(h, uint64(rec.Time.UnixNano()))
	h = mix64(h, uint64(rec.Producer)|uint64(rec.Event)<<8|uint64(rec.Severity)<<16)
	if rec.HasCounts {
		h = mix64(h, uint64(rec.Synced))
		h = mix64(h, uint64(rec.Failed)^1<<63)
	}
	return h
}

// mix64 folds v into h (a multiply-rotate step as in xxhash's round).
func mix64(h, v uint64) uint64 {
	h ^= v * 0xC2B2AE3D27D4EB4F
	h = bits.RotateLeft64(h, 31) * 0x9E3779B97F4A7C15
	return h
}

// runHash is the hash of a run id kept in mailbox.recent: 8 bytes instead
// of a string (which may hold its whole log entry alive), never 0 (an
// empty slot).
func (e *Engine) runHash(id string) uint64 {
	return maphash.String(e.seed, id) | 1
}

// dueAt is when r's outcome is due: end+lateness once it ended, else
// lastSeen+timeout.
func (e *Engine) dueAt(r *run) time.Time {
	if r.ended {
		return r.end.Add(e.cfg.lateness())
	}
	return r.lastSeen.Add(e.cfg.runTimeout())
}

// schedule queues r's decision. A run has at most one live heap item; an
// item whose run became due later is re-queued when it pops, so a record
// costs a heap push only when its run's due time moves earlier.
func (e *Engine) schedule(r *run) {
	d := e.dueAt(r)
	if r.queued && !d.Before(r.queuedAt) {
		return
	}
	r.version++
	r.queued, r.queuedAt = true, d
	it := dueItem{at: instantOf(d), r: r, version: r.version}
	if last := e.dueQ.last(); last == nil || !it.at.before(last.at) {
		// not before the last queued: the common case of a new run's
		// timeout. The queue is ordered by due time only: the items due
		// at one instant are put in order when they pop (Advance).
		r.qpos = e.dueQ.end()
		e.dueQ.push(it)
		return
	}
	e.due.push(it)
}

// Advance moves the event-time clock to t and decides every run whose
// outcome is due before t. The pipeline calls it when the watermark moves
// without records; Process calls it itself.
func (e *Engine) Advance(t time.Time, out []schemas.IncidentEvent) []schemas.IncidentEvent {
	if !t.After(e.now) {
		return out
	}
	e.now = t
	ti := instantOf(t)
	for {
		for e.dueQ.len() > 0 && e.dueQ.first().r == nil {
			e.dueQ.pop() // a decided run's
		}
		// at: the earliest due time queued, if before t
		inHeap, inQueue := len(e.due) > 0, e.dueQ.len() > 0
		var at instant
		switch {
		case inHeap && (!inQueue || !e.dueQ.first().at.before(e.due[0].at)):
			at = e.due[0].at
		case inQueue:
			at = e.dueQ.first().at
		default:
			return e.maybeSweep(t, out)
		}
		if !at.before(ti) {
			return e.maybeSweep(t, out)
		}
		// The items due at that instant, in dueLess order: the heap pops
		// them in order, the queue in the order they were pushed.
		batch := e.batch[:0]
		for len(e.due) > 0 && e.due[0].at == at {
			batch = append(batch, e.due.pop())
		}
		for e.dueQ.len() > 0 && e.dueQ.first().at == at {
			if it := e.dueQ.pop(); it.r != nil {
				batch = append(batch, it)
			}
		}
		if len(batch) > 1 {
			slices.SortFunc(batch, dueCompare)
		}
		for _, it := range batch {
			if it.version != it.r.version || it.r.decided {
				continue // superseded
			}
			it.r.queued = false
			if d := e.dueAt(it.r); !d.Before(t) {
				e.schedule(it.r) // more lines came since it was queued
				continue
			}
			out = e.decide(it.r, out)
		}
		clear(batch) // no decided run kept alive
		e.batch = batch[:0]
	}
}

// maybeSweep sweeps idle mailboxes once an hour of event time.
func (e *Engine) maybeSweep(t time.Time, out []schemas.IncidentEvent) []schemas.IncidentEvent {
	if t.Sub(e.lastSweep) >= time.Hour {
		e.sweep()
		e.lastSweep = t
	}
	return out
}

// Flush decides every run that has ended, as if event time had passed all
// of them; runs still in progress stay undecided (their outcome is not
// known). Used at the end of a replay.
func (e *Engine) Flush(out []schemas.IncidentEvent) []schemas.IncidentEvent {
	var ended []*run
	for _, it := range append(e.due[:len(e.due):len(e.due)], e.dueQ.items[e.dueQ.head:]...) {
		if it.r != nil && it.version == it.r.version && !it.r.decided && it.r.ended {
			ended = append(ended, it.r)
		}
	}
	sort.Slice(ended, func(i, j int) bool {
		a, b := ended[i], ended[j]
		if !a.end.Equal(b.end) {
			return a.end.Before(b.end)
		}
		if a.mb.key != b.mb.key {
			return compareKeys(a.mb.key, b.mb.key) < 0
		}
		return a.id < b.id
	})
	for _, r := range ended {
		out = e.decide(r, out)
	}
	return out
}

// sweep evicts idle mailboxes that hold nothing open.
func (e *Engine) sweep() {
	idle := e.cfg.idleEvict()
	e.stats.Evicted += e.mailboxes.evict(func(mb *mailbox) bool {
		return mb.numRuns() == 0 && len(mb.openIncidents()) == 0 && mb.streak().n == 0 && e.now.Sub(mb.lastSeen.time()) > idle
	}, instantOf(e.now), max(e.cfg.runTimeout(), e.cfg.lateness()))
}

// decide settles a run's outcome: classifyRun judges it, apply carries
// the judgement out.
func (e *Engine) decide(r *run, out []schemas.IncidentEvent) []schemas.IncidentEvent {
	r.decided = true
	e.dueQ.drop(r.qpos, r)
	mb := r.mb
	mb.removeRun(r)
	mb.decided(e.runHash(r.id))
	e.stats.RunsDecided++
	if !r.ended {
		e.stats.RunsTimedOut++
	}
	oc := classifyRun(r.facts(), mb.facts(), e.cfg.consecutiveRuns())
	out = e.apply(mb, r, &oc, out)
	r.fails, r.seen, r.signals = nil, entrySet{}, nil
	mb.trim()
	return out
}

// apply carries out the outcome of run r of mailbox mb: the mailbox's new
// streak and syncedEnd, the sync-error sighting of the cause, the
// resolutions, then the sync issues, each with its events.
func (e *Engine) apply(mb *mailbox, r *run, oc *runOutcome, out []schemas.IncidentEvent) []schemas.IncidentEvent {
	mb.setStreak(oc.streak)
	mb.syncedEnd = instantOf(oc.syncedEnd)
	if oc.reason.isSighting() {
		out = e.sighting(mb, r, oc.cause, out)
	}
	for _, k := range oc.resolve {
		out = e.resolve(mb, mb.more.open[k], r, oc.resolveAt, out)
	}
	for _, g := range oc.issues {
		out = e.issue(mb, r, g.key, g.fails, out)
	}
	return out
}
