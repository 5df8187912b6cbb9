package detectors

import (
	"sort"
	"strings"
	"time"

	"github.com/syncwatch/syncwatch/schemas"
)

// incident is the tracker's state of one open incident.
type incident struct {
	key         incKey
	id          string
	seq         int
	producer    schemas.Producer
	title       string
	remediation string
	severity    string
	firstSeen   time.Time
	lastSeen    time.Time
	occurrences int
	runs        []string
	lastRun     string
	records     map[string]struct{}
	// recordsBase counts record ids beyond records: those of an incident
	// carried on from its events (KnownIncidents), known by number only.
	recordsBase int
	samples     []string
	details     map[string]any
}

// maxRunsListed bounds the run ids an event lists (the newest are kept).
const maxRunsListed = 20

// maxRecordsCounted bounds the distinct record ids counted per incident.
const maxRecordsCounted = 10000

// sighting records a sync-error sighting: it opens the incident or, once
// per run, updates it.
func (e *Engine) sighting(mb *mailbox, r *run, o *obs, out []schemas.IncidentEvent) []schemas.IncidentEvent {
	class := o.sig.Class
	if class == classRecordUnknown {
		class = classUnknown
	}
	k := incKey{schemas.KindSyncError, class, o.sig.Template}
	ev := []*obs{o}
	if r != nil {
		if more := r.evidenceOf(o.sig.Class); len(more) > 0 {
			ev = more
		}
	}
	return e.openOrUpdate(mb, r, k, o, ev, out)
}

// issue opens or updates a sync issue from a run's unrecovered failures.
func (e *Engine) issue(mb *mailbox, r *run, k incKey, fails []*obs, out []schemas.IncidentEvent) []schemas.IncidentEvent {
	return e.openOrUpdate(mb, r, k, fails[0], fails, out)
}

func (e *Engine) openOrUpdate(mb *mailbox, r *run, k incKey, cause *obs, ev []*obs, out []schemas.IncidentEvent) []schemas.IncidentEvent {
	runID := ""
	if r != nil {
		runID = r.id
	}
	inc := mb.openIncidents()[k]
	if inc == nil {
		inc = &incident{
			key: k, producer: cause.producer, title: cause.sig.Title, remediation: cause.sig.Remediation,
			severity: cause.sig.Severity, firstSeen: cause.time, records: map[string]struct{}{},
			details: cloneDetails(cause.sig.Details),
		}
		if inc.severity == "" {
			inc.severity = schemas.SeverityWarning
			if k.kind == schemas.KindSyncError {
				inc.severity = schemas.SeverityCritical
			}
		}
		inc.id = schemas.IncidentKey{Tenant: mb.key.tenant, Mailbox: mb.key.mailbox, Kind: k.kind, Class: k.class, Template: k.template}.ID(cause.time)
		m := mb.extra()
		if m.open == nil {
			m.open = map[incKey]*incident{}
		}
		m.open[k] = inc
		e.open++
		e.stats.Opened[k.kind+"/"+k.class]++
		inc.absorb(runID, ev, e.cfg.maxSampleRecords())
		return append(out, e.event(mb, inc, schemas.TypeOpened, cause.time, ev))
	}
	if runID != "" && inc.lastRun == runID {
		// more evidence from a run already reported: counted, not sent
		inc.absorbQuiet(ev, e.cfg.maxSampleRecords())
		return out
	}
	inc.absorb(runID, ev, e.cfg.maxSampleRecords())
	return append(out, e.event(mb, inc, schemas.TypeUpdated, cause.time, ev))
}

// cloneDetails copies details for an incident to keep: a text cut out of
// a message shares its whole log entry.
func cloneDetails(d map[string]any) map[string]any {
	if d == nil {
		return nil
	}
	c := make(map[string]any, len(d))
	for k, v := range d {
		if s, ok := v.(string); ok {
			v = strings.Clone(s)
		}
		c[k] = v
	}
	return c
}

// absorb adds a run's evidence to the incident, keeping the first
// maxSamples record ids as samples.
func (inc *incident) absorb(runID string, ev []*obs, maxSamples int) {
	if runID != "" && inc.lastRun != runID {
		inc.lastRun = runID
		inc.runs = append(inc.runs, runID)
		if len(inc.runs) > maxRunsListed {
			inc.runs = append(inc.runs[:0:0], inc.runs[len(inc.runs)-maxRunsListed:]...)
		}
	}
	inc.absorbQuiet(ev, maxSamples)
}

// absorbQuiet adds evidence to the incident without recording its run.
func (inc *incident) absorbQuiet(ev []*obs, maxSamples int) {
	for _, o := range ev {
		inc.occurrences += o.count
		if o.time.After(inc.lastSeen) {
			inc.lastSeen = o.time
		}
		if o.recordID != "" {
			if _, ok := inc.records[o.recordID]; !ok && inc.recordsBase+len(inc.records) < maxRecordsCounted {
				id := strings.Clone(o.recordID) // not its whole log entry
				inc.records[id] = struct{}{}
				if len(inc.samples) < maxSamples {
					inc.samples = append(inc.samples, id)
				}
			}
		}
	}
}

// resolve closes an incident on positive evidence from run r.
func (e *Engine) resolve(mb *mailbox, inc *incident, r *run, at time.Time, out []schemas.IncidentEvent) []schemas.IncidentEvent {
	delete(mb.more.open, inc.key)
	e.open--
	if at.After(inc.lastSeen) {
		inc.lastSeen = at
	}
	end := obs{producer: r.endRef.producer, time: at, origin: r.endRef.origin}
	end.message = "run " + r.id + " synced records without " + inc.key.class
	if end.origin == "" {
		end.origin = "run:" + r.id
	}
	ev := []*obs{&end}
	out = append(out, e.event(mb, inc, schemas.TypeResolved, at, ev))
	return out
}

// event renders the CloudEvent for a change of inc.
func (e *Engine) event(mb *mailbox, inc *incident, typ string, at time.Time, ev []*obs) schemas.IncidentEvent {
	inc.seq++
	maxEv := e.cfg.maxEvidence()
	evidence := make([]schemas.Evidence, 0, min(len(ev), maxEv))
	for _, o := range ev {
		if len(evidence) == maxEv {
			break
		}
		evidence = append(evidence, schemas.Evidence{
			Producer: o.producer.String(), Time: schemas.Time{Time: o.time}, Message: o.message, Origin: o.origin,
		})
	}
	maxSamples := e.cfg.maxSampleRecords()
	samples := append([]string{}, inc.samples[:min(len(inc.samples), maxSamples)]...)
	sort.Strings(samples)
	details := map[string]any{}
	for k, v := range inc.details {
		details[k] = v
	}
	return schemas.NewIncidentEvent(e.cfg.source(), typ, inc.seq, at, schemas.IncidentData{
		IncidentID:      inc.id,
		Kind:            inc.key.kind,
		Class:           inc.key.class,
		Severity:        inc.severity,
		Tenant:          mb.key.tenant,
		Mailbox:         mb.key.mailbox,
		Producer:        inc.producer.String(),
		Title:           inc.title,
		Remediation:     inc.remediation,
		FirstSeen:       schemas.Time{Time: inc.firstSeen},
		LastSeen:        schemas.Time{Time: inc.lastSeen},
		Occurrences:     inc.occurrences,
		Runs:            append([]string{}, inc.runs...),
		AffectedRecords: inc.recordsBase + len(inc.records),
		SampleRecords:   samples,
		Template:        inc.key.template,
		Details:         details,
		Evidence:        evidence,
	})
}
