package pipeline

import (
	"sync"
	"time"

	"github.com/syncwatch/syncwatch/pipeline/parse"
	"github.com/syncwatch/syncwatch/schemas"
)

// restoreMargin is the longest a decision can wait after its evidence:
// the run timeout, the lateness and the reorder window, with room.
const restoreMargin = 15 * time.Minute

// restoreMute keeps the events that the replay of a restore window would
// repeat from being sent again. An event is muted only when it was
// certainly delivered before: its evidence is older, by more than
// restoreMargin, than the last restored (committed) message of every
// partition. If a partition starts with new messages (no commit), nothing
// is muted in this generation: duplicates, with identical ids, are the
// safe side.
type restoreMute struct {
	// mu: observe runs in the read loop, keep in the delivery stage
	mu       sync.Mutex
	margin   time.Duration
	commit   map[string]time.Time
	disabled bool
	rec      schemas.LogRecord
	unwrap   parse.Unwrapper
	// forwarded: messages are schemas.Forwarded (the repartition topic)
	forwarded bool
}

func newRestoreMute(cfg NormalizeConfig) *restoreMute {
	return &restoreMute{margin: restoreMargin, commit: map[string]time.Time{}, unwrap: parse.Unwrapper{Envelope: cfg.Envelope}, forwarded: cfg.Repartitioned}
}

// observe notes msg's event time if it is restored.
func (m *restoreMute) observe(msg Message) {
	m.mu.Lock()
	defer m.mu.Unlock()
	src := msg.Source
	if !msg.Restored {
		if _, ok := m.commit[src]; !ok {
			m.disabled = true
		}
		return
	}
	if _, ok := m.commit[src]; !ok {
		m.commit[src] = time.Time{}
	}
	if m.forwarded {
		var f schemas.Forwarded
		// records only: a committed record was released, so its owner's
		// watermark had passed it; a mark is acknowledged as it comes
		if f.UnmarshalBinary(msg.Value) == nil && f.Kind == schemas.ForwardedRecord && f.Time.After(m.commit[src]) {
			m.commit[src] = f.Time
		}
		return
	}
	ws, _ := m.unwrap.Unwrap(msg.Value)
	for _, w := range ws {
		if parse.Entry(w.Entry, &m.rec) == nil && m.rec.Time.After(m.commit[src]) {
			m.commit[src] = m.rec.Time
		}
	}
}

// keep reports whether ev must be delivered (the delivery stage's filter).
func (m *restoreMute) keep(ev *schemas.IncidentEvent) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.disabled || len(m.commit) == 0 {
		return true
	}
	var horizon time.Time
	first := true
	for _, t := range m.commit {
		if first || t.Before(horizon) {
			horizon, first = t, false
		}
	}
	return !ev.Time.Add(m.margin).Before(horizon)
}
