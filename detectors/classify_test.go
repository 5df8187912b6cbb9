package detectors

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/schemas"
)

// at is t0 plus s seconds.
func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

// failure is one failure of a run for classifyRun: ERROR, specificity 100
// unless changed.
func failure(class string, scope Scope, s int, mod ...func(*obs)) *obs {
	o := &obs{
		sig:      Signal{Class: class, Scope: scope, Title: class, Specificity: 100},
		severity: schemas.SeverityError, producer: schemas.ProducerExchange, time: at(s), count: 1,
	}
	for _, m := range mod {
		m(o)
	}
	return o
}

func warn(o *obs)                     { o.severity = schemas.SeverityWarn }
func specificity(n int) func(*obs)    { return func(o *obs) { o.sig.Specificity = n } }
func tpl(t string) func(*obs)         { return func(o *obs) { o.sig.Template = t } }
func record(id string) func(*obs)     { return func(o *obs) { o.recordID = id } }
func errorKey(class, t string) incKey { return incKey{schemas.KindSyncError, class, t} }
func issueKey(class, t string) incKey { return incKey{schemas.KindSyncIssue, class, t} }
func streakOf(class, t string, n int) streak {
	return streak{key: class + "\x00" + t, n: n}
}

// openAt is a mailbox's open incidents, each last seen at s seconds.
func openAt(s int, keys ...incKey) map[incKey]*incident {
	m := map[incKey]*incident{}
	for _, k := range keys {
		m[k] = &incident{key: k, lastSeen: at(s)}
	}
	return m
}

const (
	cPassword  = "exchange.auth.password"
	cForbidden = "exchange.ews.forbidden"
	cXML       = "exchange.xml.truncated"
	cC4C       = "c4c.server.internal_error"
	cTooLarge  = "record.too_large"
	cConflict  = "record.conflict"
)

func TestClassifyRun(t *testing.T) {
	// the failures the cases share; each case leaves them unchanged
	var (
		password    = failure(cPassword, ScopeTotal, 2)
		forbidden   = failure(cForbidden, ScopeRun, 2)
		forbiddenW  = failure(cForbidden, ScopeRun, 2, warn)
		xml         = failure(cXML, ScopeRun, 3, specificity(130))
		xmlWarn     = failure(cXML, ScopeRun, 1, warn, specificity(150))
		unknownA    = failure(classUnknown, ScopeRun, 2, specificity(20), tpl("a <*>"))
		unknownHigh = failure(classUnknown, ScopeRun, 1, specificity(900), tpl("b"))
		generic     = failure(classUnknown, ScopeRun, 4, specificity(10), tpl("exchange connector failed"))
		tooLarge1   = failure(cTooLarge, ScopeRecord, 1, record("A-1"))
		tooLarge3   = failure(cTooLarge, ScopeRecord, 3, record("A-3"))
		tooLargeHi  = failure(cTooLarge, ScopeRecord, 1, record("A-1"), specificity(500))
		conflict2   = failure(cConflict, ScopeRecord, 2, record("A-2"))
		recUnknownX = failure(classRecordUnknown, ScopeRun, 1, specificity(20), tpl("x <*>"), record("A-4"))
		recUnknownY = failure(classRecordUnknown, ScopeRun, 2, specificity(20), tpl("x <*>"), record("A-5"))
		recUnknownB = failure(classRecordUnknown, ScopeRun, 2, specificity(20), tpl("b"), record("A-6"))
		// a plugin's unknown failure of a record, scoped by the run
		unknownRec = failure(classUnknown, ScopeRun, 2, specificity(20), tpl("y"), record("A-7"))
		c4cRec     = failure(cC4C, ScopeRun, 2, record("T-1"))
		passwordR  = failure(cPassword, ScopeTotal, 2, record("A-8"))
		// same rank and time: the run-level signal was considered first
		sameA = failure(cXML, ScopeRun, 5)
		sameB = failure(cForbidden, ScopeRun, 5, record("A-9"))
	)
	// the promoted copy of recUnknownX
	promoted := *recUnknownX
	promoted.sig.Class, promoted.sig.Title = classUnknown, "Unknown synchronization error"

	tests := []struct {
		name            string
		facts           runFacts
		mb              mailboxFacts
		consecutiveRuns int // 0: 2
		want            runOutcome
	}{
		// neither failed nor synced
		{
			name:  "empty run says nothing and keeps the streak",
			facts: runFacts{lastSeen: at(10), end: at(10)},
			mb:    mailboxFacts{streak: streakOf(cForbidden, "", 1), syncedEnd: at(0)},
			want:  runOutcome{reason: reasonEmptyRun, streak: streakOf(cForbidden, "", 1), syncedEnd: at(0)},
		},

		// failed runs
		{
			name:  "stale: a failed run older than the last synced run changes nothing",
			facts: runFacts{failedMarker: true, lastSeen: at(10), end: at(10), signals: []*obs{password}},
			mb:    mailboxFacts{streak: streakOf(cForbidden, "", 1), syncedEnd: at(20)},
			want:  runOutcome{reason: reasonStaleFailedRun, streak: streakOf(cForbidden, "", 1), syncedEnd: at(20)},
		},
		{
			name:  "not stale: a failed run last seen at the synced run's end",
			facts: runFacts{failedMarker: true, lastSeen: at(20), end: at(20), signals: []*obs{password}},
			mb:    mailboxFacts{syncedEnd: at(20)},
			want:  runOutcome{reason: reasonTotalCause, cause: password, syncedEnd: at(20)},
		},
		{
			name:  "failed by its counts alone: no cause, the streak ends",
			facts: runFacts{failed: 3, lastSeen: at(10), end: at(10)},
			mb:    mailboxFacts{streak: streakOf(cForbidden, "", 1)},
			want:  runOutcome{reason: reasonNoRunCause},
		},
		{
			name:  "run_failed alone: no cause",
			facts: runFacts{failedMarker: true, lastSeen: at(10), end: at(10)},
			want:  runOutcome{reason: reasonNoRunCause},
		},
		{
			name:  "record-scope failures are no cause of a run that synced nothing",
			facts: runFacts{failed: 2, lastSeen: at(10), end: at(10), fails: []*obs{tooLarge1, conflict2}},
			mb:    mailboxFacts{streak: streakOf(cForbidden, "", 1)},
			want:  runOutcome{reason: reasonNoRunCause},
		},
		{
			name:  "a record-scope failure is ignored as cause even when it ranks higher",
			facts: runFacts{lastSeen: at(10), end: at(10), signals: []*obs{generic}, fails: []*obs{tooLargeHi}},
			want:  runOutcome{reason: reasonStreakBelowThreshold, cause: generic, streak: streakOf(classUnknown, "exchange connector failed", 1)},
		},
		{
			name:  "total cause: a sighting at once, and the streak ends",
			facts: runFacts{failedMarker: true, lastSeen: at(10), end: at(10), signals: []*obs{generic, password}},
			mb:    mailboxFacts{streak: streakOf(cForbidden, "", 1)},
			want:  runOutcome{reason: reasonTotalCause, cause: password},
		},
		{
			name:  "a run_failed with records synced is still a failed run",
			facts: runFacts{failedMarker: true, synced: 5, lastSeen: at(10), end: at(10), signals: []*obs{forbidden}},
			want:  runOutcome{reason: reasonStreakBelowThreshold, cause: forbidden, streak: streakOf(cForbidden, "", 1)},
		},

		// the cause: rank, then time, then the order considered
		{
			name:  "rank: a known class beats a more specific unknown one",
			facts: runFacts{lastSeen: at(10), end: at(10), signals: []*obs{unknownHigh, forbiddenW}},
			want:  runOutcome{reason: reasonStreakBelowThreshold, cause: forbiddenW, streak: streakOf(cForbidden, "", 1)},
		},
		{
			name:  "rank: an ERROR beats a more specific WARN",
			facts: runFacts{lastSeen: at(10), end: at(10), signals: []*obs{xmlWarn, forbidden}},
			want:  runOutcome{reason: reasonStreakBelowThreshold, cause: forbidden, streak: streakOf(cForbidden, "", 1)},
		},
		{
			name:  "rank: the more specific match wins, whenever it came",
			facts: runFacts{lastSeen: at(10), end: at(10), signals: []*obs{forbidden, xml}},
			want:  runOutcome{reason: reasonStreakBelowThreshold, cause: xml, streak: streakOf(cXML, "", 1)},
		},
		{
			name: "tie on rank: the earliest wins, a record's failure too",
			facts: runFacts{lastSeen: at(10), end: at(10),
				signals: []*obs{failure(cXML, ScopeRun, 5)}, fails: []*obs{c4cRec}},
			want: runOutcome{reason: reasonStreakBelowThreshold, cause: c4cRec, streak: streakOf(cC4C, "", 1)},
		},
		{
			name:  "tie on rank and time: the run-level signal wins",
			facts: runFacts{lastSeen: at(10), end: at(10), signals: []*obs{sameA}, fails: []*obs{sameB}},
			want:  runOutcome{reason: reasonStreakBelowThreshold, cause: sameA, streak: streakOf(cXML, "", 1)},
		},

		// record.unknown
		{
			name:  "records failing an unknown way: the cause is promoted to unknown",
			facts: runFacts{failed: 2, lastSeen: at(10), end: at(10), fails: []*obs{recUnknownX, recUnknownY}},
			want:  runOutcome{reason: reasonStreakBelowThreshold, cause: &promoted, streak: streakOf(classUnknown, "x <*>", 1)},
		},
		{
			name:  "a promoted record.unknown continues a streak of unknown",
			facts: runFacts{failed: 2, lastSeen: at(10), end: at(10), fails: []*obs{recUnknownX, recUnknownY}},
			mb:    mailboxFacts{streak: streakOf(classUnknown, "x <*>", 1)},
			want:  runOutcome{reason: reasonStreakReached, cause: &promoted, streak: streakOf(classUnknown, "x <*>", 2)},
		},

		// the streak of a class that depends on the run
		{
			name:  "a second consecutive run with the same cause reaches the threshold",
			facts: runFacts{failed: 1, lastSeen: at(10), end: at(10), signals: []*obs{forbidden}},
			mb:    mailboxFacts{streak: streakOf(cForbidden, "", 1)},
			want:  runOutcome{reason: reasonStreakReached, cause: forbidden, streak: streakOf(cForbidden, "", 2)},
		},
		{
			name:  "past the threshold the streak goes on counting",
			facts: runFacts{failed: 1, lastSeen: at(10), end: at(10), signals: []*obs{forbidden}},
			mb:    mailboxFacts{streak: streakOf(cForbidden, "", 4), open: openAt(5, errorKey(cForbidden, ""))},
			want:  runOutcome{reason: reasonStreakReached, cause: forbidden, streak: streakOf(cForbidden, "", 5)},
		},
		{
			name:  "another cause starts the streak over",
			facts: runFacts{failed: 1, lastSeen: at(10), end: at(10), signals: []*obs{forbidden}},
			mb:    mailboxFacts{streak: streakOf(cXML, "", 3)},
			want:  runOutcome{reason: reasonStreakBelowThreshold, cause: forbidden, streak: streakOf(cForbidden, "", 1)},
		},
		{
			name:  "the same class with another template starts the streak over",
			facts: runFacts{failed: 1, lastSeen: at(10), end: at(10), signals: []*obs{unknownA}},
			mb:    mailboxFacts{streak: streakOf(classUnknown, "b", 1)},
			want:  runOutcome{reason: reasonStreakBelowThreshold, cause: unknownA, streak: streakOf(classUnknown, "a <*>", 1)},
		},
		{
			name:            "ConsecutiveRuns 1: the first failed run reaches it",
			facts:           runFacts{failed: 1, lastSeen: at(10), end: at(10), signals: []*obs{forbidden}},
			consecutiveRuns: 1,
			want:            runOutcome{reason: reasonStreakReached, cause: forbidden, streak: streakOf(cForbidden, "", 1)},
		},
		{
			name:  "below the threshold, but the cause's sync error is open: an update",
			facts: runFacts{failed: 1, lastSeen: at(10), end: at(10), signals: []*obs{forbidden}},
			mb:    mailboxFacts{open: openAt(5, errorKey(cForbidden, ""))},
			want:  runOutcome{reason: reasonCauseOpen, cause: forbidden, streak: streakOf(cForbidden, "", 1)},
		},
		{
			name:  "an open sync issue of the cause's class is not its sync error",
			facts: runFacts{failed: 1, lastSeen: at(10), end: at(10), signals: []*obs{forbidden}},
			mb:    mailboxFacts{open: openAt(5, issueKey(cForbidden, ""))},
			want:  runOutcome{reason: reasonStreakBelowThreshold, cause: forbidden, streak: streakOf(cForbidden, "", 1)},
		},
		{
			name:  "an open sync error of another template is not the cause's",
			facts: runFacts{failed: 1, lastSeen: at(10), end: at(10), signals: []*obs{unknownA}},
			mb:    mailboxFacts{open: openAt(5, errorKey(classUnknown, "b"))},
			want:  runOutcome{reason: reasonStreakBelowThreshold, cause: unknownA, streak: streakOf(classUnknown, "a <*>", 1)},
		},

		// synced runs
		{
			name:  "clean run: the streak ends and syncedEnd moves to its end",
			facts: runFacts{synced: 2, lastSeen: at(10), end: at(12)},
			mb:    mailboxFacts{streak: streakOf(cForbidden, "", 1), syncedEnd: at(5)},
			want:  runOutcome{reason: reasonCleanRun, syncedEnd: at(12)},
		},
		{
			name:  "clean run that ended before the latest synced one: syncedEnd stays",
			facts: runFacts{synced: 2, lastSeen: at(10), end: at(10)},
			mb:    mailboxFacts{syncedEnd: at(50)},
			want:  runOutcome{reason: reasonCleanRun, syncedEnd: at(50)},
		},
		{
			name: "unrecovered record failures: sync issues, one per key, in key order",
			facts: runFacts{synced: 3, failed: 4, lastSeen: at(10), end: at(10),
				fails: []*obs{tooLarge1, recUnknownX, conflict2, tooLarge3}},
			want: runOutcome{reason: reasonSyncIssues, syncedEnd: at(10), issues: []issueGroup{
				{issueKey(cConflict, ""), []*obs{conflict2}},
				{issueKey(cTooLarge, ""), []*obs{tooLarge1, tooLarge3}},
				{issueKey(classRecordUnknown, "x <*>"), []*obs{recUnknownX}},
			}},
		},
		{
			name:  "an unknown failure of a record is a record.unknown issue",
			facts: runFacts{synced: 3, failed: 1, lastSeen: at(10), end: at(10), fails: []*obs{unknownRec}},
			want: runOutcome{reason: reasonSyncIssues, syncedEnd: at(10), issues: []issueGroup{
				{issueKey(classRecordUnknown, "y"), []*obs{unknownRec}},
			}},
		},
		{
			name:  "a record failure of a total class is no issue (a sighting when seen)",
			facts: runFacts{synced: 3, failed: 1, lastSeen: at(10), end: at(10), fails: []*obs{passwordR}},
			want:  runOutcome{reason: reasonSyncedNoChange, syncedEnd: at(10)},
		},
		{
			name:  "a later run without the class resolves the sync error",
			facts: runFacts{synced: 2, lastSeen: at(20), end: at(20)},
			mb:    mailboxFacts{streak: streakOf(cForbidden, "", 2), open: openAt(10, errorKey(cForbidden, ""))},
			want:  runOutcome{reason: reasonResolutions, syncedEnd: at(20), resolve: []incKey{errorKey(cForbidden, "")}, resolveAt: at(20)},
		},
		{
			name:  "a sync error stays open when the run shows its class in a run-level line",
			facts: runFacts{synced: 2, lastSeen: at(20), end: at(20), signals: []*obs{forbiddenW}},
			mb:    mailboxFacts{open: openAt(10, errorKey(cForbidden, ""))},
			want:  runOutcome{reason: reasonSyncedNoChange, syncedEnd: at(20)},
		},
		{
			name:  "a sync error stays open when records of the run fail with its class",
			facts: runFacts{synced: 2, failed: 1, lastSeen: at(20), end: at(20), fails: []*obs{c4cRec}},
			mb:    mailboxFacts{open: openAt(10, errorKey(cC4C, ""))},
			want: runOutcome{reason: reasonSyncIssues, syncedEnd: at(20), issues: []issueGroup{
				{issueKey(cC4C, ""), []*obs{c4cRec}},
			}},
		},
		{
			name:  "an unknown sync error stays open when records fail an unknown way",
			facts: runFacts{synced: 2, failed: 1, lastSeen: at(20), end: at(20), fails: []*obs{recUnknownB}},
			mb:    mailboxFacts{open: openAt(10, errorKey(classUnknown, "b"))},
			want: runOutcome{reason: reasonSyncIssues, syncedEnd: at(20), issues: []issueGroup{
				{issueKey(classRecordUnknown, "b"), []*obs{recUnknownB}},
			}},
		},
		{
			name:  "an unknown sync error stays open on any unknown failure, whatever its template",
			facts: runFacts{synced: 2, lastSeen: at(20), end: at(20), signals: []*obs{unknownA}},
			mb:    mailboxFacts{open: openAt(10, errorKey(classUnknown, "b"))},
			want:  runOutcome{reason: reasonSyncedNoChange, syncedEnd: at(20)},
		},
		{
			name:  "an unknown sync error resolves when only known classes fail",
			facts: runFacts{synced: 2, failed: 1, lastSeen: at(20), end: at(20), fails: []*obs{tooLarge1}},
			mb:    mailboxFacts{open: openAt(10, errorKey(classUnknown, "b"))},
			want: runOutcome{reason: reasonSyncIssues, syncedEnd: at(20),
				resolve: []incKey{errorKey(classUnknown, "b")}, resolveAt: at(20),
				issues: []issueGroup{{issueKey(cTooLarge, ""), []*obs{tooLarge1}}}},
		},
		{
			name:  "a sync issue resolves when a later run has no failure of it",
			facts: runFacts{synced: 2, failed: 1, lastSeen: at(20), end: at(20), fails: []*obs{conflict2}},
			mb:    mailboxFacts{open: openAt(10, issueKey(cTooLarge, ""))},
			want: runOutcome{reason: reasonSyncIssues, syncedEnd: at(20),
				resolve: []incKey{issueKey(cTooLarge, "")}, resolveAt: at(20),
				issues: []issueGroup{{issueKey(cConflict, ""), []*obs{conflict2}}}},
		},
		{
			name:  "a sync issue stays open when its records fail again",
			facts: runFacts{synced: 2, failed: 1, lastSeen: at(20), end: at(20), fails: []*obs{tooLarge3}},
			mb:    mailboxFacts{open: openAt(10, issueKey(cTooLarge, ""))},
			want: runOutcome{reason: reasonSyncIssues, syncedEnd: at(20),
				issues: []issueGroup{{issueKey(cTooLarge, ""), []*obs{tooLarge3}}}},
		},
		{
			name:  "a record.unknown sync issue of another template resolves",
			facts: runFacts{synced: 2, failed: 1, lastSeen: at(20), end: at(20), fails: []*obs{recUnknownB}},
			mb:    mailboxFacts{open: openAt(10, issueKey(classRecordUnknown, "x <*>"))},
			want: runOutcome{reason: reasonSyncIssues, syncedEnd: at(20),
				resolve: []incKey{issueKey(classRecordUnknown, "x <*>")}, resolveAt: at(20),
				issues: []issueGroup{{issueKey(classRecordUnknown, "b"), []*obs{recUnknownB}}}},
		},
		{
			name:  "not a later run: an incident last seen at the run's end stays open",
			facts: runFacts{synced: 2, lastSeen: at(20), end: at(20)},
			mb:    mailboxFacts{open: openAt(20, errorKey(cForbidden, ""), issueKey(cTooLarge, ""))},
			want:  runOutcome{reason: reasonSyncedNoChange, syncedEnd: at(20)},
		},
		{
			name:  "not a later run: a run decided late, after newer evidence, resolves only what it postdates",
			facts: runFacts{synced: 2, lastSeen: at(20), end: at(20)},
			mb: mailboxFacts{syncedEnd: at(40), open: func() map[incKey]*incident {
				m := openAt(30, errorKey(cForbidden, ""))
				m[issueKey(cTooLarge, "")] = &incident{key: issueKey(cTooLarge, ""), lastSeen: at(15)}
				return m
			}()},
			want: runOutcome{reason: reasonResolutions, syncedEnd: at(40),
				resolve: []incKey{issueKey(cTooLarge, "")}, resolveAt: at(20)},
		},
		{
			name:  "resolutions come in key order",
			facts: runFacts{synced: 2, lastSeen: at(20), end: at(20)},
			mb: mailboxFacts{open: openAt(10, issueKey(cTooLarge, ""), errorKey(cXML, ""), errorKey(classUnknown, "b"),
				errorKey(cForbidden, ""), issueKey(cConflict, ""))},
			want: runOutcome{reason: reasonResolutions, syncedEnd: at(20), resolveAt: at(20), resolve: []incKey{
				errorKey(cForbidden, ""), errorKey(cXML, ""), errorKey(classUnknown, "b"),
				issueKey(cConflict, ""), issueKey(cTooLarge, ""),
			}},
		},
	}
	seen := map[runReason]bool{}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			consecutive := test.consecutiveRuns
			if consecutive == 0 {
				consecutive = DefaultConsecutiveRuns
			}
			facts, mb := snapshot(test.facts, test.mb)
			got := classifyRun(test.facts, test.mb, consecutive)
			// the streak's run ends have their own test (TestStreakRunOrder)
			got.streak.first, got.streak.last = time.Time{}, time.Time{}
			require.Equal(t, test.want.reason.String(), got.reason.String())
			require.Equal(t, test.want, got)
			// pure: the inputs and what they point to are unchanged
			factsAfter, mbAfter := snapshot(test.facts, test.mb)
			require.Equal(t, facts, factsAfter)
			require.Equal(t, mb, mbAfter)
			seen[got.reason] = true
		})
	}
	for r := reasonEmptyRun; r <= reasonSyncedNoChange; r++ {
		require.True(t, seen[r], "no case for %s", r)
	}
}

// snapshot deep-copies what classifyRun reads.
func snapshot(f runFacts, mb mailboxFacts) ([]obs, map[incKey]incident) {
	var o []obs
	for _, x := range append(append([]*obs{}, f.signals...), f.fails...) {
		o = append(o, *x)
	}
	m := map[incKey]incident{}
	for k, inc := range mb.open {
		m[k] = *inc
	}
	return o, m
}

func TestRunReason(t *testing.T) {
	names := map[string]bool{}
	for r := reasonEmptyRun; r <= reasonSyncedNoChange; r++ {
		require.NotContains(t, r.String(), "runReason(", "reason %d has no name", r)
		require.False(t, names[r.String()], "two reasons are %q", r.String())
		names[r.String()] = true
		want := r == reasonTotalCause || r == reasonStreakReached || r == reasonCauseOpen
		require.Equal(t, want, r.isSighting(), r.String())
	}
	require.Equal(t, "runReason(0)", runReason(0).String())
	require.Equal(t, "runReason(200)", runReason(200).String())
}

// TestStreakRunOrder: runs are decided in the order they become due, not
// the order they ran. A run that synced and then timed out (no end line)
// is decided after newer failed runs: it breaks only the part of a streak
// that came before it.
func TestStreakRunOrder(t *testing.T) {
	xml := failure(cXML, ScopeRun, 0)
	failedAt := func(end int) runFacts {
		return runFacts{synced: 0, lastSeen: at(end), end: at(end), signals: []*obs{xml}}
	}
	syncedAt := func(end int) runFacts { return runFacts{synced: 3, lastSeen: at(end), end: at(end)} }
	key := cXML + "\x00"

	// failed at 600, then a run that synced at 0 decided (timed out) at
	// 610, then failed at 1200: two consecutive failed runs
	oc := classifyRun(failedAt(600), mailboxFacts{}, 2)
	require.Equal(t, streak{key: key, n: 1, first: at(600), last: at(600)}, oc.streak)
	oc = classifyRun(syncedAt(0), mailboxFacts{streak: oc.streak}, 2)
	require.Equal(t, reasonCleanRun, oc.reason)
	require.Equal(t, streak{key: key, n: 1, first: at(600), last: at(600)}, oc.streak, "an older run keeps the streak")
	require.Equal(t, at(0), oc.syncedEnd)
	oc = classifyRun(failedAt(1200), mailboxFacts{streak: oc.streak, syncedEnd: oc.syncedEnd}, 2)
	require.Equal(t, reasonStreakReached, oc.reason)
	require.Equal(t, streak{key: key, n: 2, first: at(600), last: at(1200)}, oc.streak)

	// a run that synced between two of the streak's runs leaves the latest
	mid := classifyRun(syncedAt(900), mailboxFacts{streak: oc.streak}, 2)
	require.Equal(t, streak{key: key, n: 1, first: at(1200), last: at(1200)}, mid.streak)
	// one after all of them ends it
	after := classifyRun(syncedAt(1200), mailboxFacts{streak: oc.streak}, 2)
	require.Equal(t, streak{}, after.streak)
	require.Equal(t, at(1200), after.syncedEnd)
}
