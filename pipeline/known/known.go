// Package known keeps the incidents published so far, as read back from
// the incidents topic, for a live consumer's new pipeline (after a
// restart or a rebalance) to carry on those that opened before the
// restore window it re-reads: detectors.KnownIncidents.
package known

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/syncwatch/syncwatch/detectors"
	"github.com/syncwatch/syncwatch/schemas"
)

// Incidents holds the events of the sync errors and sync issues
// published so far, by mailbox. Of each incident it keeps the events newer
// than Horizon before the newest event seen and the last one before that,
// without their evidence: enough to know its state as of any time a
// restore window can start at. It is safe for concurrent use.
type Incidents struct {
	horizon time.Duration

	mu        sync.Mutex
	mailboxes map[mailboxKey]map[string][]schemas.IncidentEvent // incident id -> events, by seq
	newest    time.Time
	events    int
	added     int
}

type mailboxKey struct{ tenant, mailbox string }

// New returns an empty set that keeps each incident's events of the last
// horizon of event time (and the one before); a horizon of 0 or less
// keeps every event.
func New(horizon time.Duration) *Incidents {
	return &Incidents{horizon: horizon, mailboxes: map[mailboxKey]map[string][]schemas.IncidentEvent{}}
}

// Add records a published event and returns how many events were added
// so far. Events of kinds the detectors do not track (pipeline
// incidents) are ignored, and so is a repeat of an event already held
// (at-least-once delivery repeats them): an incident's events are kept
// in sequence order whatever order they come in.
func (k *Incidents) Add(ev schemas.IncidentEvent) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.added++
	d := &ev.Data
	if d.Kind != schemas.KindSyncError && d.Kind != schemas.KindSyncIssue {
		return k.added
	}
	seq, ok := ev.Sequence()
	if !ok {
		return k.added
	}
	ev.Data.Evidence = nil // not part of the incident's state
	if ev.Time.After(k.newest) {
		k.newest = ev.Time.Time
	}
	mk := mailboxKey{d.Tenant, d.Mailbox}
	incs := k.mailboxes[mk]
	if incs == nil {
		incs = map[string][]schemas.IncidentEvent{}
		k.mailboxes[mk] = incs
	}
	evs := incs[d.IncidentID]
	i, found := slices.BinarySearchFunc(evs, seq, func(e schemas.IncidentEvent, seq int) int {
		s, _ := e.Sequence()
		return s - seq
	})
	if found {
		return k.added
	}
	evs = slices.Insert(evs, i, ev)
	k.events++
	if k.horizon > 0 {
		// drop what no restore window reaches: all but the last event
		// before the horizon
		evs = k.prune(evs, k.newest.Add(-k.horizon))
	}
	incs[d.IncidentID] = evs
	return k.added
}

// Compact drops what no restore window reaches: of each incident, the
// events before the horizon but the last, and incidents resolved before
// it altogether. Add prunes only the incident it adds to.
func (k *Incidents) Compact() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.horizon <= 0 {
		return
	}
	from := k.newest.Add(-k.horizon)
	for mk, incs := range k.mailboxes {
		for id, evs := range incs {
			last := evs[len(evs)-1]
			if last.Type == schemas.TypeResolved && last.Time.Before(from) {
				delete(incs, id)
				k.events -= len(evs)
				continue
			}
			incs[id] = k.prune(evs, from)
		}
		if len(incs) == 0 {
			delete(k.mailboxes, mk)
		}
	}
}

// At returns the latest event before t of each incident of the mailbox
// open at t, in incident id order.
func (k *Incidents) At(tenant, mailbox string, t time.Time) []schemas.IncidentEvent {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []schemas.IncidentEvent
	for _, evs := range k.mailboxes[mailboxKey{tenant, mailbox}] {
		var last *schemas.IncidentEvent
		for i := range evs {
			if !evs[i].Time.Before(t) {
				break
			}
			last = &evs[i]
		}
		if last != nil && last.Type != schemas.TypeResolved {
			out = append(out, *last)
		}
	}
	slices.SortFunc(out, func(a, b schemas.IncidentEvent) int { return strings.Compare(a.Data.IncidentID, b.Data.IncidentID) })
	return out
}

// Session is the set as one engine sees it (detectors.KnownIncidents):
// each mailbox's incidents are taken once, so that a mailbox whose state
// the engine evicted, once nothing was open, does not take them again.
func (k *Incidents) Session() detectors.KnownIncidents {
	return &session{k: k, taken: map[mailboxKey]struct{}{}}
}

type session struct {
	k     *Incidents
	taken map[mailboxKey]struct{}
}

// prune drops an incident's events before from but the last of them:
// the incident's state as of any later time. k.mu must be held.
func (k *Incidents) prune(evs []schemas.IncidentEvent, from time.Time) []schemas.IncidentEvent {
	n := 0
	for n+1 < len(evs) && evs[n+1].Time.Before(from) {
		n++
	}
	k.events -= n
	return slices.Delete(evs, 0, n)
}

// Take implements detectors.KnownIncidents with At, once per mailbox.
func (s *session) Take(tenant, mailbox string, t time.Time) []schemas.IncidentEvent {
	mk := mailboxKey{tenant, mailbox}
	if _, ok := s.taken[mk]; ok {
		return nil
	}
	s.taken[mk] = struct{}{}
	return s.k.At(tenant, mailbox, t)
}

// Open counts the incidents whose latest event is not a resolution.
func (k *Incidents) Open() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	n := 0
	for _, incs := range k.mailboxes {
		for _, evs := range incs {
			if evs[len(evs)-1].Type != schemas.TypeResolved {
				n++
			}
		}
	}
	return n
}

// Events is the number of events held.
func (k *Incidents) Events() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.events
}
