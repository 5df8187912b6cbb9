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
type mailbox struct {
	key      mbKey
	lastSeen time.Time
	runs     runSet
	recent   [8]uint64 // hashes of the ids of runs decided lately, to spot late lines
	recentN  int
	// streak of consecutive totally failed runs with the same cause
	streak    streak
	templates map[string]struct{}
	open      map[incKey]*incident // nil until one opens
	// syncedEnd is the end of the latest run decided as having synced
	// records: a failed run older than it is stale when it is decided.
	syncedEnd time.Time
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
	return mailboxFacts{streak: mb.streak, syncedEnd: mb.syncedEnd, open: mb.open}
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
