package schemas

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// IncidentKey is the identity of an incident (detection.md): the mailbox
// it is about and what is wrong with it. Template is set only for unknown
// errors, which are told apart by their masked message. Pipeline
// incidents use it too: tenant "-", the producer's name as mailbox.
type IncidentKey struct {
	Tenant, Mailbox, Kind, Class, Template string
}

// ID is the deterministic id of the incident with this identity that
// opened at event time opened: "inc-" and 12 hex digits of a SHA-256 of
// both. The same logs give the same ids, so a replay yields the ids the
// live consumer published, and a redelivery after a crash cannot
// duplicate an incident downstream. Changing it changes every id
// subscribers hold: TestIncidentKeyIDStable pins it.
func (k IncidentKey) ID(opened time.Time) string {
	h := sha256.New()
	for _, s := range [...]string{k.Tenant, k.Mailbox, k.Kind, k.Class, k.Template} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	h.Write(strconv.AppendInt(nil, opened.UnixNano(), 10))
	sum := h.Sum(nil)
	return "inc-" + hex.EncodeToString(sum[:6])
}

// Subject is the CloudEvents subject of the incident's events:
// "tenant/mailbox".
func (k IncidentKey) Subject() string { return k.Tenant + "/" + k.Mailbox }

// NewIncidentEvent renders the seq-th lifecycle change (typ: TypeOpened,
// TypeUpdated or TypeResolved) of the incident that data describes,
// caused by evidence at event time at, as the CloudEvent of events.md:
// the id is data.IncidentID + "-" + seq, the subject "tenant/mailbox",
// and data.Status follows from typ. Nil lists and details become empty
// ones, which the schema requires. source is the CloudEvents source.
func NewIncidentEvent(source, typ string, seq int, at time.Time, data IncidentData) IncidentEvent {
	data.Status = StatusOpen
	if typ == TypeResolved {
		data.Status = StatusResolved
	}
	if data.Runs == nil {
		data.Runs = []string{}
	}
	if data.SampleRecords == nil {
		data.SampleRecords = []string{}
	}
	if data.Details == nil {
		data.Details = map[string]any{}
	}
	if data.Evidence == nil {
		data.Evidence = []Evidence{}
	}
	return IncidentEvent{
		SpecVersion:     SpecVersion,
		ID:              data.IncidentID + "-" + strconv.Itoa(seq),
		Source:          source,
		Type:            typ,
		Subject:         data.Tenant + "/" + data.Mailbox,
		Time:            Time{Time: at},
		DataContentType: DataContentType,
		Data:            data,
	}
}

// Sequence is the sequence number the event's id ends with (the id is
// data.IncidentID, "-", the sequence number, from 1): false for an id of
// another shape.
func (e *IncidentEvent) Sequence() (int, bool) {
	seq, ok := strings.CutPrefix(e.ID, e.Data.IncidentID+"-")
	if !ok || e.Data.IncidentID == "" {
		return 0, false
	}
	n, err := strconv.Atoi(seq)
	if err != nil || n < 1 || strconv.Itoa(n) != seq {
		return 0, false
	}
	return n, true
}
