package detectors

import (
	"fmt"
	"sort"
	"time"

	"github.com/syncwatch/syncwatch/schemas"
)

// A run's decision is made in two steps, as alertmanager's DedupStage
// judges with needsUpdate before it notifies: classifyRun judges what the
// run means from read-only facts and returns a runOutcome, and
// Engine.apply carries the outcome out (the mailbox's new state, the
// events). classifyRun reads no clock and changes nothing, so each rule
// is tested on its own.

// runReason says what a run's outcome is and why.
type runReason uint8

const (
	// reasonEmptyRun: nothing synced and nothing failed; an empty run says
	// nothing, not even that the streak is broken.
	reasonEmptyRun runReason = iota + 1
	// reasonStaleFailedRun: the run synced nothing, but its last line is
	// older than the end of a run that synced and was decided before it
	// (a run that timed out is decided RunTimeout after its last line).
	// Its failure predates that evidence of a working sync: it must not
	// re-open what the newer run resolved (under the same id, since the
	// incident's first sighting is the same) nor start a streak.
	reasonStaleFailedRun
	// reasonNoRunCause: the run synced nothing and failed, but no failure
	// of it can explain that: only per-record failures (which cannot
	// explain a run that synced nothing) or bare counts. The streak ends.
	reasonNoRunCause
	// reasonTotalCause: the run synced nothing and its cause is a class
	// that always means nothing syncs: a sync-error sighting. The streak
	// ends (a total class does not count runs).
	reasonTotalCause
	// reasonStreakBelowThreshold: the run synced nothing and its cause
	// depends on the run; its streak of consecutive failed runs with that
	// cause is still short of ConsecutiveRuns, and no sync error of it is
	// open: a blip, so far.
	reasonStreakBelowThreshold
	// reasonStreakReached: as reasonStreakBelowThreshold, but the streak
	// has reached ConsecutiveRuns: a sync-error sighting.
	reasonStreakReached
	// reasonCauseOpen: as reasonStreakBelowThreshold, but the cause's sync
	// error is open already: a sighting that updates it.
	reasonCauseOpen
	// reasonCleanRun: the run synced records, nothing failed and nothing
	// is open: the common case. The streak ends.
	reasonCleanRun
	// reasonSyncIssues: the run synced records and some records failed
	// for good in it: sync issues to open or update (and, maybe, open
	// incidents that it resolves).
	reasonSyncIssues
	// reasonResolutions: the run synced records without failures of the
	// classes of some open incidents: they resolve.
	reasonResolutions
	// reasonSyncedNoChange: the run synced records, but its failures open
	// nothing (a total class was a sighting when seen) and it resolves
	// nothing (what is open failed again, or is not older than the run).
	reasonSyncedNoChange
)

var runReasonNames = [...]string{
	reasonEmptyRun:             "empty run",
	reasonStaleFailedRun:       "stale failed run",
	reasonNoRunCause:           "failed run without a run cause",
	reasonTotalCause:           "total cause sighting",
	reasonStreakBelowThreshold: "streak below threshold",
	reasonStreakReached:        "streak reached",
	reasonCauseOpen:            "cause already open",
	reasonCleanRun:             "clean run",
	reasonSyncIssues:           "synced run with sync issues",
	reasonResolutions:          "synced run with resolutions",
	reasonSyncedNoChange:       "synced run without change",
}

// String names the reason, for test failures and debugging.
func (r runReason) String() string {
	if int(r) < len(runReasonNames) && runReasonNames[r] != "" {
		return runReasonNames[r]
	}
	return fmt.Sprintf("runReason(%d)", uint8(r))
}

// isSighting reports whether the outcome is a sync-error sighting of its
// cause: one that opens the incident or updates it.
func (r runReason) isSighting() bool {
	return r == reasonTotalCause || r == reasonStreakReached || r == reasonCauseOpen
}

// runFacts is what a run showed, as its decision reads it.
type runFacts struct {
	failedMarker bool      // run_failed was seen
	synced       int       // records synced: the run's own count, else those seen synced
	failed       int       // records failed, by the run's own count
	lastSeen     time.Time // its latest line
	end          time.Time // its end line, or lastSeen if it timed out
	signals      []*obs    // run-level failures, in the order seen
	fails        []*obs    // per-record failures not recovered in the run, sorted (run.sortedFails)
}

// streak counts a mailbox's latest consecutive runs that synced nothing
// and had the same cause; the zero value is no streak.
type streak struct {
	key string // the cause's class and template
	n   int
	// first and last are the ends of the earliest and the latest of the
	// streak's runs. Runs are decided in the order they become due, not
	// the order they ran: a run that timed out (no end line) is decided
	// its timeout after its last line, after a newer run that ended. A
	// run that synced breaks only the part of the streak that came
	// before it.
	first, last time.Time
}

// mailboxFacts is the state of a mailbox that a run's decision reads.
type mailboxFacts struct {
	streak    streak
	syncedEnd time.Time // the end of the latest run decided as having synced
	// open are the mailbox's open incidents; classifyRun reads their keys
	// and lastSeen and changes nothing.
	open map[incKey]*incident
}

// runOutcome is what classifyRun concluded about a run: the reason, and
// all that carrying it out needs.
type runOutcome struct {
	reason runReason
	// cause is the failure that explains a run that synced nothing (nil
	// for reasonNoRunCause and for runs that did not fail): one of the
	// run's own, or a copy of one with record.unknown made unknown.
	cause *obs
	// streak and syncedEnd are the mailbox's after the run.
	streak    streak
	syncedEnd time.Time
	// resolve are the open incidents that the run resolves, at resolveAt
	// (the run's end), sorted by key.
	resolve   []incKey
	resolveAt time.Time
	// issues are the sync issues the run opens or updates, sorted by key.
	issues []issueGroup
}

// issueGroup is a run's unrecovered record failures of one sync issue.
type issueGroup struct {
	key   incKey
	fails []*obs
}

// classifyRun judges the outcome of a run from its facts and its
// mailbox's state; consecutiveRuns is Config.ConsecutiveRuns resolved. It
// is pure: it changes neither its inputs nor the obs they point to.
func classifyRun(f runFacts, mb mailboxFacts, consecutiveRuns int) runOutcome {
	hasFailure := len(f.fails) > 0 || len(f.signals) > 0 || f.failed > 0
	switch {
	case f.failedMarker || (f.synced == 0 && hasFailure):
		return classifyFailedRun(f, mb, consecutiveRuns)
	case f.synced > 0:
		return classifySyncedRun(f, mb)
	}
	return runOutcome{reason: reasonEmptyRun, streak: mb.streak, syncedEnd: mb.syncedEnd}
}

// classifyFailedRun judges a run that synced nothing: its cause is the most
// specific failure seen in it, whatever the producer.
func classifyFailedRun(f runFacts, mb mailboxFacts, consecutiveRuns int) runOutcome {
	oc := runOutcome{streak: mb.streak, syncedEnd: mb.syncedEnd}
	if f.lastSeen.Before(mb.syncedEnd) {
		oc.reason = reasonStaleFailedRun
		return oc
	}
	cause := runCause(f)
	if cause == nil {
		oc.reason, oc.streak = reasonNoRunCause, streak{}
		return oc
	}
	if cause.sig.Class == classRecordUnknown {
		// every record failing the same unknown way is an unknown run failure
		c := *cause
		c.sig.Class = classUnknown
		c.sig.Title = "Unknown synchronization error"
		cause = &c
	}
	oc.cause = cause
	if cause.sig.Scope == ScopeTotal {
		oc.reason, oc.streak = reasonTotalCause, streak{}
		return oc
	}
	key := cause.sig.Class + "\x00" + cause.sig.Template
	if s := mb.streak; s.key == key {
		s.n++
		if f.end.Before(s.first) {
			s.first = f.end
		}
		if f.end.After(s.last) {
			s.last = f.end
		}
		oc.streak = s
	} else {
		oc.streak = streak{key: key, n: 1, first: f.end, last: f.end}
	}
	switch {
	case oc.streak.n >= consecutiveRuns:
		oc.reason = reasonStreakReached
	case mb.open[incKey{schemas.KindSyncError, cause.sig.Class, cause.sig.Template}] != nil:
		oc.reason = reasonCauseOpen
	default:
		oc.reason = reasonStreakBelowThreshold
	}
	return oc
}

// runCause picks the failure that explains a run that synced nothing: of
// the failures not tied to one record, the one of highest rank, the
// earliest among equals, and the first considered (run-level signals
// before record failures) among failures of the same rank and time. nil
// if there is none.
func runCause(f runFacts) *obs {
	var cause *obs
	consider := func(o *obs) {
		if o.sig.Scope == ScopeRecord {
			return // a per-record failure cannot explain a run that synced nothing
		}
		if cause == nil || o.rank() > cause.rank() || (o.rank() == cause.rank() && o.time.Before(cause.time)) {
			cause = o
		}
	}
	for _, o := range f.signals {
		consider(o)
	}
	for _, o := range f.fails {
		consider(o)
	}
	return cause
}

// classifySyncedRun judges a run that synced records: unrecovered record
// failures are sync issues; incidents that the run shows fixed resolve.
func classifySyncedRun(f runFacts, mb mailboxFacts) runOutcome {
	oc := runOutcome{syncedEnd: mb.syncedEnd}
	// A run that synced ends the streak of the runs before it. One decided
	// after newer failed runs (it timed out) leaves the streak as it is
	// when it is older than all of them, and only the latest failed run
	// (of those that may be after it) when it falls among them.
	switch s := mb.streak; {
	case s.n == 0 || !f.end.Before(s.last):
	case f.end.Before(s.first):
		oc.streak = s
	default:
		oc.streak = streak{key: s.key, n: 1, first: s.last, last: s.last}
	}
	if f.end.After(mb.syncedEnd) {
		oc.syncedEnd = f.end
	}
	if len(f.fails) == 0 && len(f.signals) == 0 && len(mb.open) == 0 {
		oc.reason = reasonCleanRun
		return oc
	}
	classes := map[string]bool{}
	for _, o := range f.signals {
		classes[o.sig.Class] = true
	}
	issues := map[incKey][]*obs{}
	for _, o := range f.fails {
		classes[o.sig.Class] = true
		if o.sig.Scope == ScopeTotal {
			continue // opened as a sync error when seen
		}
		class := o.sig.Class
		if class == classUnknown {
			class = classRecordUnknown
		}
		k := incKey{schemas.KindSyncIssue, class, o.sig.Template}
		issues[k] = append(issues[k], o)
	}
	// resolutions: positive evidence from this run. The sorted keys are
	// filtered in place: a run decided costs no more allocations than
	// when judging and acting were one pass.
	keys := sortedIncKeys(mb.open)
	n := 0
	for _, k := range keys {
		if !f.end.After(mb.open[k].lastSeen) {
			// not a later run: a run that timed out long after its last
			// line can be decided after a newer one
			continue
		}
		switch k.kind {
		case schemas.KindSyncError:
			if classes[k.class] || (k.class == classUnknown && classes[classRecordUnknown]) {
				continue
			}
		case schemas.KindSyncIssue:
			if _, still := issues[k]; still {
				continue
			}
		default:
			continue
		}
		keys[n] = k
		n++
	}
	if n > 0 {
		oc.resolve, oc.resolveAt = keys[:n], f.end
	}
	if len(issues) > 0 {
		oc.issues = make([]issueGroup, 0, len(issues))
		for k, fails := range issues {
			oc.issues = append(oc.issues, issueGroup{key: k, fails: fails})
		}
		sort.Slice(oc.issues, func(i, j int) bool { return oc.issues[i].key.String() < oc.issues[j].key.String() })
	}
	switch {
	case len(oc.issues) > 0:
		oc.reason = reasonSyncIssues
	case len(oc.resolve) > 0:
		oc.reason = reasonResolutions
	default:
		oc.reason = reasonSyncedNoChange
	}
	return oc
}

// sortedIncKeys returns the keys of m in the order of their String form.
func sortedIncKeys(m map[incKey]*incident) []incKey {
	keys := make([]incKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	return keys
}
