package detectors

import (
	"time"

	"github.com/syncwatch/syncwatch/schemas"
)

// KnownIncidents hands an engine the incidents that were already open
// when the first record of a mailbox reached it. A live consumer starts a
// new engine on every restart and rebalance and rebuilds its state from a
// restore window of the logs; an incident that opened before that window
// is known only from the events published for it, and the engine carries
// it on from its latest one: it keeps its id, counts on, and is resolved
// by the first healthy run. Config.Known.
type KnownIncidents interface {
	// Take returns, for the mailbox, the latest event before t of each
	// of its incidents that was open at t (none that opened at or after t:
	// the logs from t on open those again). It is called once per mailbox,
	// with the time of the mailbox's first record; a second call for the
	// same mailbox returns nothing.
	Take(tenant, mailbox string, t time.Time) []schemas.IncidentEvent
}

// adopt carries on, in mb, the open incidents that Config.Known holds for
// it as of t, the time of its first record.
func (e *Engine) adopt(mb *mailbox, t time.Time) {
	for _, ev := range e.cfg.Known.Take(mb.key.tenant, mb.key.mailbox, t) {
		if inc, ok := incidentFromEvent(&ev); ok {
			m := mb.extra()
			if m.open == nil {
				m.open = map[incKey]*incident{}
			}
			if _, dup := m.open[inc.key]; dup {
				continue
			}
			m.open[inc.key] = inc
			e.open++
			if inc.key.template != "" {
				m.addTemplate(e.templateHash(inc.key.template))
			}
			e.stats.Adopted++
		}
	}
}

// incidentFromEvent is the tracker's state of the open incident that ev
// (one of its events, not a resolution) shows. The record ids counted
// beyond the samples are known only by their number (recordsBase). ok is
// false for what the engine does not track (pipeline incidents) and for
// an event that does not carry its sequence number.
func incidentFromEvent(ev *schemas.IncidentEvent) (inc *incident, ok bool) {
	d := &ev.Data
	if d.Kind != schemas.KindSyncError && d.Kind != schemas.KindSyncIssue || d.Status == schemas.StatusResolved {
		return nil, false
	}
	seq, ok := ev.Sequence()
	if !ok {
		return nil, false
	}
	producer, _ := schemas.ParseProducer(d.Producer)
	inc = &incident{
		key: incKey{d.Kind, d.Class, d.Template}, id: d.IncidentID, seq: seq, producer: producer,
		title: d.Title, remediation: d.Remediation, severity: d.Severity,
		firstSeen: d.FirstSeen.Time, lastSeen: d.LastSeen.Time, occurrences: d.Occurrences,
		runs: append([]string(nil), d.Runs...), records: make(map[string]struct{}, len(d.SampleRecords)),
		samples: append([]string(nil), d.SampleRecords...), details: d.Details,
	}
	if n := len(inc.runs); n > 0 {
		inc.lastRun = inc.runs[n-1]
	}
	for _, r := range d.SampleRecords {
		inc.records[r] = struct{}{}
	}
	inc.recordsBase = max(d.AffectedRecords-len(inc.records), 0)
	return inc, true
}
