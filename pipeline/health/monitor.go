package health

import (
	"cmp"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/hashicorp/go-multierror"
	"github.com/syncwatch/syncwatch/detectors"
	"github.com/syncwatch/syncwatch/schemas"
	"github.com/syncwatch/syncwatch/schemas/redact"
)

// Classes of pipeline incidents (kind schemas.KindPipeline): the pipeline
// reporting on its own inputs rather than on a mailbox.
const (
	// ClassFormatDrift: a producer's share of unparseable entries jumped
	// over Config.DriftShare (a new version changed its log format).
	ClassFormatDrift = "pipeline.format_drift"
	// ClassProducerSilent: a producer that logged before wrote nothing for
	// Config.SilentAfter of event time while the others kept logging.
	ClassProducerSilent = "pipeline.producer_silent"
)

// Tenant is the tenant of pipeline incidents, which belong to no
// tenant; their mailbox is the producer's name, so the subject reads
// "-/SyncEngine". No real tenant id is "-".
const Tenant = "-"

// Defaults of Config.
const (
	DefaultWindow          = 5 * time.Minute
	DefaultDriftShare      = 0.2
	DefaultDriftMinEntries = 50
	DefaultSilentAfter     = 15 * time.Minute
	DefaultMaxAhead        = 24 * time.Hour
)

// Config configures the pipeline's self-monitoring. The zero value
// works: both classes on, with the defaults below. Every decision is taken
// on event time, at window boundaries, so a replay gives the same pipeline
// incidents as the live consumer did for the same logs.
type Config struct {
	// Disabled turns pipeline incidents off.
	Disabled bool

	// Window is the event-time window over which entries are counted;
	// windows are aligned to multiples of it since the Unix epoch.
	//
	// Default: DefaultWindow (5m)
	Window time.Duration

	// DriftShare is the share of a producer's entries in a window that,
	// when dead-lettered, is format drift. At most 1.
	//
	// Default: DefaultDriftShare (0.2, 20%)
	DriftShare float64

	// DriftMinEntries is the fewest entries of a producer in a window for
	// its share to count.
	//
	// Default: DefaultDriftMinEntries (50)
	DriftMinEntries int

	// SilentAfter is how long a producer that logged before may write
	// nothing while others log before it is silent. Rounded up to a window
	// boundary.
	//
	// Default: DefaultSilentAfter (15m)
	SilentAfter time.Duration

	// MaxAhead bounds how far past its source's latest record a dead
	// letter's own timestamp may be and still be believed.
	//
	// Default: DefaultMaxAhead (24h)
	MaxAhead time.Duration
}

func (c *Config) window() time.Duration      { return cmp.Or(c.Window, DefaultWindow) }
func (c *Config) driftShare() float64        { return cmp.Or(c.DriftShare, DefaultDriftShare) }
func (c *Config) driftMin() int              { return cmp.Or(c.DriftMinEntries, DefaultDriftMinEntries) }
func (c *Config) silentAfter() time.Duration { return cmp.Or(c.SilentAfter, DefaultSilentAfter) }
func (c *Config) maxAhead() time.Duration    { return cmp.Or(c.MaxAhead, DefaultMaxAhead) }

// Validate reports every problem of the configuration at once, each
// naming its field. Zero values are defaults; c is not changed.
func (c *Config) Validate() error {
	var errs *multierror.Error
	add := func(format string, args ...any) { errs = multierror.Append(errs, fmt.Errorf(format, args...)) }
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"Window", c.Window}, {"SilentAfter", c.SilentAfter}, {"MaxAhead", c.MaxAhead}} {
		if d.v < 0 {
			add("%s %v: must not be negative", d.name, d.v)
		}
	}
	if c.DriftShare < 0 || c.DriftShare > 1 || math.IsNaN(c.DriftShare) {
		add("DriftShare %v: must be a share between 0 and 1", c.DriftShare)
	}
	if c.DriftMinEntries < 0 {
		add("DriftMinEntries %d: must not be negative", c.DriftMinEntries)
	}
	return errs.ErrorOrNil()
}

// Remediation texts of pipeline incidents.
const (
	remediationDrift = "The producer's log lines no longer parse: check whether the producer was upgraded or reconfigured " +
		"(version, log layout, encoding) and compare a dead letter with docs/log-formats.md; update the producer's " +
		"log configuration or syncwatch's parser. Sync errors of its mailboxes go undetected meanwhile."
	remediationSilent = "The producer wrote nothing while the others kept logging: check that its service is running " +
		"and that its log shipping (agent, Kafka topic, file rotation) still delivers. Sync errors it would report go undetected meanwhile."
)

// maxDriftSamples bounds the dead letters kept per producer and window as
// evidence.
const maxDriftSamples = 3

// windowCounts is what one window of event time saw, per producer.
type windowCounts struct {
	idx   int64
	total [schemas.NumProducers]int
	dead  [schemas.NumProducers]int
	first [schemas.NumProducers]schemas.Evidence // earliest entry
	last  [schemas.NumProducers]schemas.Evidence // latest entry
	ok    [schemas.NumProducers]schemas.Evidence // latest record that parsed
	dls   [schemas.NumProducers][]schemas.Evidence
}

// sourceState is what the monitor knows of one source: the producer of
// its latest record, and the latest event time of its records.
type sourceState struct {
	producer schemas.Producer
	latest   time.Time
}

// incident is an open pipeline incident.
type incident struct {
	id          string
	seq         int
	firstSeen   time.Time
	lastSeen    time.Time
	occurrences int
	details     map[string]any
}

// Monitor counts every entry the pipeline reads by producer and
// event-time window, and raises pipeline incidents when a window closes:
// format drift and silent producers. Its decisions are pure functions of
// the entries and of the event time up to which windows are closed, so
// they do not depend on batch boundaries. Not safe for concurrent use (the
// stages call it under their own serialization).
type Monitor struct {
	cfg    Config
	source string

	windows map[int64]*windowCounts
	next    int64 // index of the first window not yet closed
	started bool  // an entry was counted
	closed  bool  // a window was closed

	sources map[string]*sourceState
	cur     *windowCounts  // the window last counted in (most entries go there)
	opened  map[string]int // pipeline incidents opened, by class

	// per producer
	logged   [schemas.NumProducers]bool
	lastSeen [schemas.NumProducers]schemas.Evidence // latest entry in a closed window
	wasBelow [schemas.NumProducers]bool             // last window with entries was under the drift share
	drift    [schemas.NumProducers]*incident
	silent   [schemas.NumProducers]*incident
}

// New returns a monitor for a valid cfg (see Config.Validate); source is
// the CloudEvents source of its events (the detection engine's, so that
// both kinds of incidents come from one source).
func New(cfg Config, source string) *Monitor {
	return &Monitor{
		cfg: cfg, source: source, windows: map[int64]*windowCounts{},
		sources: map[string]*sourceState{},
	}
}

func (m *Monitor) index(t time.Time) int64 {
	w := int64(m.cfg.window())
	n := unixNano(t)
	if n < 0 {
		return (n - w + 1) / w
	}
	return n / w
}

func (m *Monitor) end(idx int64) time.Time {
	return time.Unix(0, (idx+1)*int64(m.cfg.window())).UTC()
}

// Observation is what the monitor counts of one entry. The pipeline's
// normalize stage makes one per entry it commits, in commit order, and
// leaves them in the batch; the detect stage counts them before it runs
// the batch's records. The counting happens where the windows are closed,
// so the two can run on different goroutines (replay runs reorder and
// detection side by side) and still see the same sequence as one
// goroutine doing both.
type Observation struct {
	// Source names the stream the entry came from (a file, a partition).
	Source string
	// Producer is the record's producer, or for a dead letter the one its
	// format was recognised as (ProducerUnknown if none).
	Producer schemas.Producer
	// OK is true for a record, false for a dead letter.
	OK bool
	// Time is a record's event time.
	Time time.Time
	// Message is a record's body, or a dead letter's reason.
	Message string
	// Origin is where the entry came from ("file:line", "topic/partition/offset").
	Origin string
	// Raw is a dead letter's entry, in which a timestamp is looked for.
	Raw []byte
	// Placed, for a dead letter that a repartition's first hop forwarded,
	// says where it was placed from: Producer is then the producer it
	// belongs to and Time its source's latest record's time as the first
	// hop saw them in the raw partition's order (zero: none, it cannot be
	// placed), instead of this monitor's view of Source, which through
	// the repartition topic holds only some of the raw partition's
	// records.
	Placed bool
}

// Observe counts one entry, in the order the pipeline read it: a record
// (ok) at its event time, or a dead letter. A dead letter belongs to the
// producer of its source's latest record (a topic or file is one
// producer's, and a drifted line may look like another producer's format)
// or, failing that, to the producer its format was recognised as; it is
// placed at the timestamp found in it or, failing that, at its source's
// latest record. A dead letter of a source that never gave a record cannot
// be placed and is not counted.
func (m *Monitor) Observe(n *Observation) {
	src := m.sources[n.Source]
	if src == nil {
		src = &sourceState{}
		m.sources[n.Source] = src
	}
	p, t := n.Producer, time.Time{}
	var ev schemas.Evidence
	if n.OK {
		t = n.Time
		if t.After(src.latest) {
			src.latest = t
		}
		src.producer = p
		ev = schemas.Evidence{Producer: p.String(), Time: schemas.Time{Time: t}, Message: n.Message, Origin: n.Origin}
	} else {
		latest := src.latest
		switch {
		case n.Placed:
			latest = n.Time
		case src.producer != schemas.ProducerUnknown:
			p = src.producer
		}
		if p == schemas.ProducerUnknown || latest.IsZero() {
			return
		}
		t = latest
		if ts, ok := sniffTime(n.Raw); ok && !ts.Before(latest.Add(-m.cfg.maxAhead())) && !ts.After(latest.Add(m.cfg.maxAhead())) {
			t = ts
		}
		ev = schemas.Evidence{Producer: p.String(), Time: schemas.Time{Time: t}, Message: n.Message, Origin: n.Origin}
	}
	if p == schemas.ProducerUnknown || int(p) >= schemas.NumProducers {
		return
	}
	idx := m.index(t)
	switch {
	case !m.started || (!m.closed && idx < m.next):
		m.started, m.next = true, idx
	case idx < m.next:
		// late: its window is closed; it counts in the first open one
		idx = m.next
	}
	w := m.cur
	if w == nil || w.idx != idx {
		if w = m.windows[idx]; w == nil {
			w = &windowCounts{idx: idx}
			m.windows[idx] = w
		}
		m.cur = w
	}
	if w.total[p] == 0 || t.Before(w.first[p].Time.Time) {
		w.first[p] = ev
	}
	if w.total[p] == 0 || !t.Before(w.last[p].Time.Time) {
		w.last[p] = ev
	}
	w.total[p]++
	if n.OK && !t.Before(w.ok[p].Time.Time) {
		w.ok[p] = ev
	}
	if !n.OK {
		w.dead[p]++
		if len(w.dls[p]) < maxDriftSamples {
			w.dls[p] = append(w.dls[p], ev)
		}
	}
}

// Advance closes every window that ends at or before t (event time up to
// which every entry has been counted) and appends the pipeline events
// their closing causes to out. tick, if not nil, is called with each
// window's end before it is closed, so that a caller can first emit what
// else was due by then (the detection engine's decisions): the events then
// come in event-time order whatever the batch boundaries.
func (m *Monitor) Advance(t time.Time, out []schemas.IncidentEvent, tick func(end time.Time, out []schemas.IncidentEvent) []schemas.IncidentEvent) []schemas.IncidentEvent {
	if m.cfg.Disabled || !m.started || t.Before(m.end(m.next)) {
		return out // no window can end by t: the common case, per record
	}
	for {
		// the next window holding entries (empty windows change nothing)
		idx, found := int64(0), false
		for k := range m.windows {
			if k >= m.next && (!found || k < idx) {
				idx, found = k, true
			}
		}
		if !found || m.end(idx).After(t) {
			return out
		}
		end := m.end(idx)
		if tick != nil {
			out = tick(end, out)
		}
		w := m.windows[idx]
		delete(m.windows, idx)
		if m.cur == w {
			m.cur = nil
		}
		m.next, m.closed = idx+1, true
		out = m.close(w, end, out)
	}
}

// close decides on window w, which ended at end.
func (m *Monitor) close(w *windowCounts, end time.Time, out []schemas.IncidentEvent) []schemas.IncidentEvent {
	share, minN := m.cfg.driftShare(), m.cfg.driftMin()
	others := func(p int) int {
		n := 0
		for q := 1; q < schemas.NumProducers; q++ {
			if q != p {
				n += w.total[q]
			}
		}
		return n
	}
	for p := 1; p < schemas.NumProducers; p++ {
		prod := schemas.Producer(p)
		total, dead := w.total[p], w.dead[p]
		// silence first: an entry ends it; then drift on what it wrote
		if total > 0 {
			if inc := m.silent[p]; inc != nil {
				m.silent[p] = nil
				first := w.first[p]
				inc.lastSeen = first.Time.Time
				out = append(out, m.event(prod, ClassProducerSilent, inc, schemas.TypeResolved, first.Time.Time,
					"Producer logging again", remediationSilent, []schemas.Evidence{first}))
			}
			over := total >= minN && float64(dead) > share*float64(total)
			under := float64(dead) <= share*float64(total)
			details := map[string]any{"window_start": w.firstStart(m), "window_end": end.Format(time.RFC3339), "entries": total, "dead_letters": dead}
			switch inc := m.drift[p]; {
			case inc == nil && over && m.wasBelow[p]:
				inc = &incident{firstSeen: w.dls[p][0].Time.Time, lastSeen: w.last[p].Time.Time, occurrences: dead, details: details}
				inc.id = pipelineIncidentID(prod, ClassFormatDrift, end)
				m.drift[p] = inc
				out = append(out, m.event(prod, ClassFormatDrift, inc, schemas.TypeOpened, end,
					"Producer log format drift", remediationDrift, w.dls[p]))
			case inc != nil && over:
				inc.occurrences += dead
				inc.lastSeen = w.last[p].Time.Time
			case inc != nil && under:
				m.drift[p] = nil
				inc.occurrences += dead
				inc.lastSeen = end
				inc.details = details
				out = append(out, m.event(prod, ClassFormatDrift, inc, schemas.TypeResolved, end,
					"Producer log format parses again", remediationDrift, []schemas.Evidence{w.ok[p]}))
			case inc != nil:
				inc.occurrences += dead
			}
			if over {
				m.wasBelow[p] = false
			} else if under {
				m.wasBelow[p] = true
			}
			m.logged[p] = true
			m.lastSeen[p] = w.last[p]
			continue
		}
		if !m.logged[p] || m.silent[p] != nil || others(p) == 0 {
			continue
		}
		last := m.lastSeen[p]
		if end.Sub(last.Time.Time) < m.cfg.silentAfter() {
			continue
		}
		inc := &incident{firstSeen: last.Time.Time, lastSeen: last.Time.Time, occurrences: 1,
			details: map[string]any{"last_entry": last.Time.Time.Format(time.RFC3339Nano), "silent_for": end.Sub(last.Time.Time).String(), "others_entries": others(p)}}
		inc.id = pipelineIncidentID(prod, ClassProducerSilent, end)
		m.silent[p] = inc
		out = append(out, m.event(prod, ClassProducerSilent, inc, schemas.TypeOpened, end,
			"Producer silent", remediationSilent, []schemas.Evidence{last}))
	}
	return out
}

func (w *windowCounts) firstStart(m *Monitor) string {
	return m.end(w.idx - 1).Format(time.RFC3339)
}

// pipelineIncidentID is the id of a pipeline incident: the identity
// (Tenant, producer, pipeline, class), as every incident's.
func pipelineIncidentID(p schemas.Producer, class string, opened time.Time) string {
	return schemas.IncidentKey{Tenant: Tenant, Mailbox: p.String(), Kind: schemas.KindPipeline, Class: class}.ID(opened)
}

// WithOpened returns st with the pipeline incidents opened so far
// counted in st.Opened, by kind and class
// ("pipeline/pipeline.format_drift"), as the engine counts its own. A
// nil monitor adds nothing.
func (m *Monitor) WithOpened(st detectors.Stats) detectors.Stats {
	if m != nil {
		for class, n := range m.opened {
			st.Opened[schemas.KindPipeline+"/"+class] += n
		}
	}
	return st
}

// event renders one lifecycle change of a pipeline incident.
func (m *Monitor) event(p schemas.Producer, class string, inc *incident, typ string, at time.Time, title, remediation string, ev []schemas.Evidence) schemas.IncidentEvent {
	inc.seq++
	if typ == schemas.TypeOpened {
		if m.opened == nil {
			m.opened = map[string]int{}
		}
		m.opened[class]++
	}
	if at.After(inc.lastSeen) && typ != schemas.TypeResolved {
		inc.lastSeen = at
	}
	if inc.lastSeen.Before(inc.firstSeen) {
		inc.lastSeen = inc.firstSeen
	}
	details := make(map[string]any, len(inc.details))
	for k, v := range inc.details {
		details[k] = v
	}
	evidence := append([]schemas.Evidence{}, ev[:min(len(ev), maxDriftSamples)]...)
	for i := range evidence {
		// redacted only now: most entries counted are never evidence
		evidence[i].Message = redact.String(evidence[i].Message)
	}
	return schemas.NewIncidentEvent(m.source, typ, inc.seq, at, schemas.IncidentData{
		IncidentID:  inc.id,
		Kind:        schemas.KindPipeline,
		Class:       class,
		Severity:    schemas.SeverityWarning,
		Tenant:      Tenant,
		Mailbox:     p.String(),
		Producer:    p.String(),
		Title:       title,
		Remediation: remediation,
		FirstSeen:   schemas.Time{Time: inc.firstSeen},
		LastSeen:    schemas.Time{Time: inc.lastSeen},
		Occurrences: max(inc.occurrences, 1),
		Details:     details,
		Evidence:    evidence,
	})
}

// sniffTime finds the first timestamp ("2026-11-24T10:15:32.123Z",
// "2026-11-24 10:15:32,123", with or without a zone; none means UTC) in a
// dead letter, so that a line of a drifted format still counts in the
// window it was written in.
func sniffTime(b []byte) (time.Time, bool) {
	const n = len("2006-01-02T15:04:05")
	for i := 0; i+n <= len(b) && i < 4096; i++ {
		if !isDigits(b[i:i+4]) || b[i+4] != '-' {
			continue
		}
		s := b[i : i+n]
		if !isDigits(s[5:7]) || s[7] != '-' || !isDigits(s[8:10]) || (s[10] != 'T' && s[10] != ' ') ||
			!isDigits(s[11:13]) || s[13] != ':' || !isDigits(s[14:16]) || s[16] != ':' || !isDigits(s[17:19]) {
			continue
		}
		j := i + n
		frac := 0
		if j < len(b) && (b[j] == '.' || b[j] == ',') {
			k := j + 1
			for k < len(b) && k-j-1 < 9 && b[k] >= '0' && b[k] <= '9' {
				k++
			}
			frac = k - j - 1
			j = k
		}
		base, err := time.Parse("2006-01-02T15:04:05", string(s[:10])+"T"+string(s[11:19]))
		if err != nil {
			continue
		}
		if frac > 0 {
			ns, _ := strconv.Atoi(string(b[i+n+1 : i+n+1+frac]))
			for range 9 - frac {
				ns *= 10
			}
			base = base.Add(time.Duration(ns))
		}
		if j < len(b) && (b[j] == '+' || b[j] == '-') && j+6 <= len(b) && isDigits(b[j+1:j+3]) && b[j+3] == ':' && isDigits(b[j+4:j+6]) {
			hh, _ := strconv.Atoi(string(b[j+1 : j+3]))
			mm, _ := strconv.Atoi(string(b[j+4 : j+6]))
			off := time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute
			if b[j] == '+' {
				base = base.Add(-off)
			} else {
				base = base.Add(off)
			}
		}
		return base.UTC(), true
	}
	return time.Time{}, false
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// unixNano is t in nanoseconds since the epoch, saturated outside the
// years 1678-2262 that an int64 holds.
func unixNano(t time.Time) int64 {
	switch {
	case t.Before(minNanoTime):
		return math.MinInt64
	case t.After(maxNanoTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

var (
	minNanoTime = time.Unix(0, math.MinInt64)
	maxNanoTime = time.Unix(0, math.MaxInt64)
)
