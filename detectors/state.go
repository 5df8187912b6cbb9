package detectors

import (
	"sort"
	"time"

	"github.com/syncwatch/syncwatch/schemas"
)

// What the engine keeps of mailboxes and of their runs until they are
// decided, and the failures (obs) it has seen in them.

// mbKey identifies a mailbox.
type mbKey struct{ tenant, mailbox string }

// mailbox is the state of one mailbox: its undecided runs, what recent
// runs showed, and its open incidents.
//
// A million mailboxes are a million of these, most of them idle between
// two runs: what every mailbox has is kept in 144 bytes (times as
// instants, the undecided runs as a list through run.next); what only a
// failing one has (a streak, unknown-error templates, open incidents,
// more than a few undecided runs) is in more, nil while it has none.
type mailbox struct {
	key      mbKey
	lastSeen instant
	// syncedEnd is the end of the latest run decided as having synced
	// records: a failed run older than it is stale when it is decided.
	syncedEnd instant
	// recent are the hashes (runHash) of the ids of the runs decided
	// lately, newest first, to spot late lines; 0 is an empty slot.
	recent [8]uint64
	runs   *run // undecided runs, linked by run.next (until more.runs)
	more   *mailboxMore
}

// mailboxMore is the state of a mailbox that only some have.
type mailboxMore struct {
	// streak of consecutive totally failed runs with the same cause
	streak streak
	// templates are the hashes (Engine.templateHash) of the unknown-error
	// templates seen, at most Config.MaxTemplates
	templates entrySet
	open      map[incKey]*incident // nil until one opens
	// runs are the undecided runs once there are more than maxRunList
	// (runs that never end, garbage run ids); mailbox.runs is then nil
	runs map[string]*run
}

// addTemplate adds the hash of a template.
func (m *mailboxMore) addTemplate(h uint64) {
	if m.templates.small == nil && m.templates.big == nil {
		// most mailboxes with unknown errors have one or two templates:
		// no room for eight (entrySet's start, for a run's entries)
		m.templates.small = make([]uint64, 0, 1)
	}
	m.templates.add(h)
}

// maxRunList is how many undecided runs a mailbox keeps in its list: a
// mailbox has one or two at a time, and a short list costs less than a
// map (a million mailboxes are a million maps).
const maxRunList = 16

// extra returns mb.more, allocating it.
func (mb *mailbox) extra() *mailboxMore {
	if mb.more == nil {
		mb.more = &mailboxMore{}
	}
	return mb.more
}

// trim drops mb.more once it holds nothing.
func (mb *mailbox) trim() {
	if m := mb.more; m != nil && m.streak == (streak{}) && m.templates.len() == 0 && len(m.open) == 0 && len(m.runs) == 0 {
		mb.more = nil
	}
}

// openIncidents is the map of mb's open incidents, nil if none.
func (mb *mailbox) openIncidents() map[incKey]*incident {
	if mb.more == nil {
		return nil
	}
	return mb.more.open
}

// streak is mb's current streak.
func (mb *mailbox) streak() streak {
	if mb.more == nil {
		return streak{}
	}
	return mb.more.streak
}

func (mb *mailbox) setStreak(s streak) {
	if s != (streak{}) || mb.more != nil {
		mb.extra().streak = s
	}
}

// getRun returns the undecided run with that id, nil if none.
func (mb *mailbox) getRun(id string) *run {
	if mb.more != nil && mb.more.runs != nil {
		return mb.more.runs[id]
	}
	for r := mb.runs; r != nil; r = r.next {
		if r.id == id {
			return r
		}
	}
	return nil
}

// addRun adds r, whose id has no undecided run in mb.
func (mb *mailbox) addRun(r *run) {
	if mb.more != nil && mb.more.runs != nil {
		mb.more.runs[r.id] = r
		return
	}
	n := 0
	for x := mb.runs; x != nil; x = x.next {
		n++
	}
	if n < maxRunList {
		r.next, mb.runs = mb.runs, r
		return
	}
	m := make(map[string]*run, 2*maxRunList)
	for x := mb.runs; x != nil; {
		next := x.next
		x.next = nil
		m[x.id] = x
		x = next
	}
	m[r.id] = r
	mb.runs, mb.extra().runs = nil, m
}

// removeRun removes r from mb's undecided runs.
func (mb *mailbox) removeRun(r *run) {
	if mb.more != nil && mb.more.runs != nil {
		delete(mb.more.runs, r.id)
		if len(mb.more.runs) == 0 {
			mb.more.runs = nil // back to the list
		}
		return
	}
	for p := &mb.runs; *p != nil; p = &(*p).next {
		if *p == r {
			*p, r.next = r.next, nil
			return
		}
	}
}

// numRuns counts mb's undecided runs.
func (mb *mailbox) numRuns() int {
	if mb.more != nil && mb.more.runs != nil {
		return len(mb.more.runs)
	}
	n := 0
	for r := mb.runs; r != nil; r = r.next {
		n++
	}
	return n
}

// decided notes that the run whose id hashes to h was decided.
func (mb *mailbox) decided(h uint64) {
	copy(mb.recent[1:], mb.recent[:len(mb.recent)-1])
	mb.recent[0] = h
}

// incKey identifies an incident within its mailbox; template is set only
// for classes grouped by template (unknown failures).
type incKey struct{ kind, class, template string }

// String is "kind/class" or "kind/class/template": the order incidents are
// handled in when a run touches several.
func (k incKey) String() string {
	if k.template == "" {
		return k.kind + "/" + k.class
	}
	return k.kind + "/" + k.class + "/" + k.template
}

// obs is one sighting of a failure: a signal and where it came from.
type obs struct {
	sig      Signal
	severity schemas.Severity
	producer schemas.Producer
	time     time.Time
	message  string
	origin   string
	recordID string
	count    int
}

// rank orders the failures of a run when its cause is chosen: a known
// class beats an unknown one, an ERROR beats a WARN, then the more specific
// match wins.
func (o *obs) rank() int {
	r := o.sig.Specificity
	if o.sig.Class != classUnknown && o.sig.Class != classRecordUnknown {
		r += 2000
	}
	if o.severity >= schemas.SeverityError {
		r += 1000
	}
	return r
}

// recKey identifies a record within a run by its producer and id.
type recKey struct {
	producer schemas.Producer
	id       string
}

// run is an undecided sync run of a mailbox: what its lines showed so far.
type run struct {
	id       string
	mb       *mailbox
	next     *run // the mailbox's next undecided run
	lastSeen time.Time
	end      time.Time
	endRef   runEnd // the entry that ended the run (or the last one seen)
	ended    bool
	failedMk bool // run_failed seen
	hasCount bool
	synced   int
	failed   int
	seenOK   int             // records seen synced (any producer)
	signals  []*obs          // run-level failures (not tied to a record)
	fails    map[recKey]*obs // per-record failures not (yet) recovered; nil if none
	seen     entrySet        // entries seen, for duplicate detection
	version  int
	qpos     int // position of its latest item in the engine's due queue
	queued   bool
	queuedAt time.Time
	decided  bool
}

// recentlyDecided reports whether a run whose id hashes to h (runHash) was
// decided lately: its lines now are late.
func (mb *mailbox) recentlyDecided(h uint64) bool {
	for _, r := range mb.recent {
		if r == h {
			return true
		}
		if r == 0 {
			return false // the rest are empty too
		}
	}
	return false
}

// facts returns what r showed, for classifyRun.
func (r *run) facts() runFacts {
	f := runFacts{
		failedMarker: r.failedMk, synced: r.seenOK, failed: r.failed,
		lastSeen: r.lastSeen, end: r.end, signals: r.signals, fails: r.sortedFails(),
	}
	if r.hasCount {
		f.synced = r.synced
	}
	if !r.ended {
		f.end = r.lastSeen
	}
	return f
}

// facts returns the state of mb that classifyRun reads.
func (mb *mailbox) facts() mailboxFacts {
	return mailboxFacts{streak: mb.streak(), syncedEnd: mb.syncedEnd.time(), open: mb.openIncidents()}
}

// sortedFails returns the run's unrecovered record failures ordered by
// time, producer and record id.
func (r *run) sortedFails() []*obs {
	if len(r.fails) == 0 {
		return nil
	}
	out := make([]*obs, 0, len(r.fails))
	for _, o := range r.fails {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].time.Equal(out[j].time) {
			return out[i].time.Before(out[j].time)
		}
		if out[i].producer != out[j].producer {
			return out[i].producer < out[j].producer
		}
		return out[i].recordID < out[j].recordID
	})
	return out
}

// evidenceOf collects the run's sightings of a class, in time order (for
// events); unknown includes record.unknown.
func (r *run) evidenceOf(class string) []*obs {
	var out []*obs
	if r == nil {
		return nil
	}
	for _, o := range r.signals {
		if o.sig.Class == class || (class == classUnknown && o.sig.Class == classRecordUnknown) {
			out = append(out, o)
		}
	}
	for _, o := range r.sortedFails() {
		if o.sig.Class == class || (class == classUnknown && o.sig.Class == classRecordUnknown) {
			out = append(out, o)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].time.Before(out[j].time) })
	return out
}

// runEnd is where a run ended: what a resolution quotes as its evidence.
type runEnd struct {
	producer schemas.Producer
	time     time.Time
	origin   string
}
