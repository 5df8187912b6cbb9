// Package view is the live view of incidents: the latest state of every
// incident published to the incidents topic, with its recent history,
// materialized from the topic itself (Tail) so that every ingest member
// answers for the whole group and shows what downstream systems received.
//
// A View holds the events as they were published (their JSON bytes), so
// what it serves is byte for byte what subscribers of the topic got. Its
// memory is bounded (Config.MaxBytes): resolved incidents leave after
// Config.KeepResolved of event time, an incident keeps its first and its
// latest events (Config.History), and over the budget the histories of
// the least recently changed incidents shrink to their latest event.
package view

import (
	"encoding/json"
	"errors"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/syncwatch/syncwatch/schemas"
)

// Config bounds a View.
type Config struct {
	// KeepResolved is how long a resolved incident stays in the view, in
	// event time before the newest event the view holds.
	//
	// Default: 24h
	KeepResolved time.Duration
	// History is how many events are kept of each incident: its first and
	// its History-1 latest.
	//
	// Default: 16
	History int
	// MaxBytes bounds the events' bytes the view holds. Over it, resolved
	// incidents leave oldest first, then the least recently changed
	// incidents keep only their latest event.
	//
	// Default: 256 MiB
	MaxBytes int64
}

func (c Config) withDefaults() Config {
	if c.KeepResolved <= 0 {
		c.KeepResolved = 24 * time.Hour
	}
	if c.History < 2 {
		c.History = 16
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = 256 << 20
	}
	return c
}

// Incident is an incident as the view holds it: the data of its latest
// event, with what the view knows of its events.
type Incident struct {
	// IncidentData is the data of the latest event (JSON: "data").
	schemas.IncidentData `json:"data"`
	// Updated is the time of the latest event.
	Updated schemas.Time `json:"updated"`
	// LastEventID and LastEventType name the latest event.
	LastEventID   string `json:"last_event_id"`
	LastEventType string `json:"last_event_type"`
	// Events is how many distinct events of the incident the view read;
	// History says how many of them it still holds.
	Events  int `json:"events"`
	History int `json:"history_kept"`
}

// Stats describes what a view holds.
type Stats struct {
	Open, Resolved int   // incidents
	Events         int   // events held
	Bytes          int64 // their bytes
	Applied        int64 // events applied, repeats excluded
	Repeats        int64 // events already held, ignored
	Undecoded      int64 // messages that were not incident events
	Evicted        int64 // incidents that left the view (resolved, or over the budget)
}

// View is the materialized view. It is safe for concurrent use.
type View struct {
	cfg Config

	mu        sync.RWMutex
	incidents map[string]*entry
	mailboxes map[mailboxKey][]*entry
	newest    time.Time
	bytes     int64
	events    int
	open      int
	clock     uint64 // bumped by every change: entries' last change
	stats     Stats
	intern    map[string]string
	subs      map[*Subscription]struct{}
}

type mailboxKey struct{ tenant, mailbox string }

// entry is one incident: its events by sequence number and the fields
// the queries filter on.
type entry struct {
	id, kind, class, status, tenant, mailbox string
	first, updated                           time.Time
	events                                   []held // by seq; events[0] is the first read
	count                                    int
	dropped                                  int // the highest seq dropped from events
	changed                                  uint64
}

type held struct {
	seq  int
	time time.Time
	raw  []byte
}

// New returns an empty view.
func New(cfg Config) *View {
	return &View{
		cfg: cfg.withDefaults(), incidents: map[string]*entry{}, mailboxes: map[mailboxKey][]*entry{},
		intern: map[string]string{}, subs: map[*Subscription]struct{}{},
	}
}

// ErrNotEvent is returned by Apply for a message that is not an incident
// event.
var ErrNotEvent = errors.New("not an incident event")

// envelope is what the view decodes of an event: no evidence, no texts.
type envelope struct {
	ID   string       `json:"id"`
	Type string       `json:"type"`
	Time schemas.Time `json:"time"`
	Data struct {
		IncidentID string       `json:"incident_id"`
		Kind       string       `json:"kind"`
		Class      string       `json:"class"`
		Status     string       `json:"status"`
		Tenant     string       `json:"tenant"`
		Mailbox    string       `json:"mailbox"`
		FirstSeen  schemas.Time `json:"first_seen"`
	} `json:"data"`
}

// Apply adds a published event (its JSON, which the view keeps: the
// caller must not modify it afterwards). A repeat of an event already
// held (at-least-once delivery repeats them) changes nothing and returns
// false; so does an event older than what the view still holds of its
// incident. Subscribers receive every event applied.
func (v *View) Apply(raw []byte) (bool, error) {
	var e envelope
	err := json.Unmarshal(raw, &e)
	// the sequence number by the rule the events' ids follow
	id := schemas.IncidentEvent{ID: e.ID, Data: schemas.IncidentData{IncidentID: e.Data.IncidentID}}
	seq, ok := id.Sequence()
	v.mu.Lock()
	defer v.mu.Unlock()
	if err != nil || !ok || e.Time.IsZero() {
		v.stats.Undecoded++
		return false, ErrNotEvent
	}
	applied := v.apply(&e, seq, raw)
	if applied {
		v.stats.Applied++
		v.publish(raw)
		v.compact()
	} else {
		v.stats.Repeats++
	}
	return applied, nil
}

func (v *View) str(s string) string {
	if t, ok := v.intern[s]; ok {
		return t
	}
	if len(v.intern) < 1<<16 {
		v.intern[s] = s
	}
	return s
}

// apply adds the event; v.mu is held.
func (v *View) apply(e *envelope, seq int, raw []byte) bool {
	d := &e.Data
	en := v.incidents[d.IncidentID]
	if en == nil {
		if d.Status == schemas.StatusResolved && e.Time.Before(v.newest.Add(-v.cfg.KeepResolved)) {
			return false // resolved before what the view keeps
		}
		en = &entry{
			id: d.IncidentID, kind: v.str(d.Kind), class: v.str(d.Class), tenant: v.str(d.Tenant), mailbox: d.Mailbox,
			first: d.FirstSeen.Time,
		}
		v.incidents[en.id] = en
		mk := mailboxKey{en.tenant, en.mailbox}
		v.mailboxes[mk] = append(v.mailboxes[mk], en)
	}
	i, found := slices.BinarySearchFunc(en.events, seq, func(h held, seq int) int { return h.seq - seq })
	if found || seq <= en.dropped {
		return false // a repeat, or one the history dropped
	}
	wasOpen := en.isOpen()
	en.events = slices.Insert(en.events, i, held{seq: seq, time: e.Time.Time, raw: raw})
	en.count++
	v.events++
	v.bytes += int64(len(raw))
	if i == len(en.events)-1 { // the latest
		en.status = v.str(d.Status)
		en.updated = e.Time.Time
		if !d.FirstSeen.IsZero() {
			en.first = d.FirstSeen.Time
		}
	}
	if len(en.events) > v.cfg.History {
		v.drop(en, 1) // keep the first and the latest
	}
	v.clock++
	en.changed = v.clock
	if e.Time.After(v.newest) {
		v.newest = e.Time.Time
	}
	switch isOpen := en.isOpen(); {
	case isOpen && !wasOpen:
		v.open++
	case !isOpen && wasOpen:
		v.open--
	}
	return true
}

func (en *entry) isOpen() bool { return len(en.events) > 0 && en.status != schemas.StatusResolved }

// drop removes the i-th held event of en; v.mu is held.
func (v *View) drop(en *entry, i int) {
	v.events--
	v.bytes -= int64(len(en.events[i].raw))
	en.dropped = max(en.dropped, en.events[i].seq)
	en.events = slices.Delete(en.events, i, i+1)
}

// remove takes en out of the view; v.mu is held.
func (v *View) remove(en *entry) {
	if en.isOpen() {
		v.open--
	}
	for _, h := range en.events {
		v.bytes -= int64(len(h.raw))
	}
	v.events -= len(en.events)
	delete(v.incidents, en.id)
	mk := mailboxKey{en.tenant, en.mailbox}
	list := slices.DeleteFunc(v.mailboxes[mk], func(x *entry) bool { return x == en })
	if len(list) == 0 {
		delete(v.mailboxes, mk)
	} else {
		v.mailboxes[mk] = list
	}
	v.stats.Evicted++
}

// compact enforces KeepResolved and MaxBytes; v.mu is held. Resolved
// incidents are looked at only every so often: the sweep is O(incidents).
func (v *View) compact() {
	if v.clock%4096 != 0 && v.bytes <= v.cfg.MaxBytes {
		return
	}
	horizon := v.newest.Add(-v.cfg.KeepResolved)
	for _, en := range v.incidents {
		if !en.isOpen() && en.updated.Before(horizon) {
			v.remove(en)
		}
	}
	if v.bytes <= v.cfg.MaxBytes {
		return
	}
	// over the budget: resolved incidents oldest first, then the
	// histories of the least recently changed, down to 7/8 of it
	target := v.cfg.MaxBytes / 8 * 7
	all := make([]*entry, 0, len(v.incidents))
	for _, en := range v.incidents {
		all = append(all, en)
	}
	slices.SortFunc(all, func(a, b *entry) int { return cmpUint(a.changed, b.changed) })
	for _, en := range all {
		if v.bytes <= target {
			return
		}
		if !en.isOpen() {
			v.remove(en)
		}
	}
	for _, en := range all {
		if v.bytes <= target {
			return
		}
		if en.isOpen() {
			for len(en.events) > 1 {
				v.drop(en, 0)
			}
		}
	}
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Stats returns what the view holds.
func (v *View) Stats() Stats {
	v.mu.RLock()
	defer v.mu.RUnlock()
	s := v.stats
	s.Open = v.open
	s.Resolved = len(v.incidents) - v.open
	s.Events = v.events
	s.Bytes = v.bytes
	return s
}

// Newest is the time of the newest event the view read.
func (v *View) Newest() time.Time {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.newest
}

// State filters incidents by status.
type State string

// States of Query.State.
const (
	StateOpen     State = "open"
	StateResolved State = "resolved"
	StateAll      State = "all"
)

// Query selects incidents. Zero fields select everything.
type Query struct {
	State State
	// Kind and Class are exact; Class may end in * (a prefix).
	Kind, Class string
	Tenant      string
	// Mailbox is a glob (path.Match: *, ?, [...]).
	Mailbox string
	// Since selects incidents changed at or after it (their latest
	// event's time).
	Since time.Time
	// After is the cursor: the position after which the page starts
	// (Page.Next of the previous page).
	After Cursor
	// Limit is the page size.
	Limit int
}

// Cursor is a position in the order of Select: incidents first seen
// later come first, ties by id.
type Cursor struct {
	First time.Time
	ID    string
}

func (c Cursor) IsZero() bool { return c.ID == "" }

// Page is a page of Select.
type Page struct {
	Incidents []Incident
	// Matched is how many incidents matched the query in all.
	Matched int
	// Next is the cursor of the next page, zero on the last.
	Next Cursor
}

// firstSeenLatest is the order of Select and Mailbox (and of Cursor):
// first seen latest first, ties by id.
func firstSeenLatest(a, b *entry) int {
	if c := b.first.Compare(a.first); c != 0 {
		return c
	}
	return strings.Compare(a.id, b.id)
}

// CheckGlob reports a Query.Mailbox pattern that is malformed.
func CheckGlob(pattern string) error {
	_, err := path.Match(pattern, "")
	return err
}

// Select returns the incidents that match q, first seen latest first,
// from q.After on, at most q.Limit of them (all with a Limit of 0).
func (v *View) Select(q Query) (Page, error) {
	if err := CheckGlob(q.Mailbox); err != nil {
		return Page{}, err
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	var match []*entry
	for _, en := range v.incidents {
		if q.matches(en) {
			match = append(match, en)
		}
	}
	slices.SortFunc(match, firstSeenLatest)
	p := Page{Matched: len(match)}
	start := 0
	if !q.After.IsZero() {
		// the first incident after the cursor's position
		at := &entry{first: q.After.First, id: q.After.ID}
		start, _ = slices.BinarySearchFunc(match, at, func(en, at *entry) int {
			if firstSeenLatest(en, at) <= 0 {
				return -1
			}
			return 1
		})
	}
	match = match[start:]
	if q.Limit > 0 && len(match) > q.Limit {
		match = match[:q.Limit]
		last := match[len(match)-1]
		p.Next = Cursor{First: last.first, ID: last.id}
	}
	p.Incidents = make([]Incident, 0, len(match))
	for _, en := range match {
		inc, err := en.incident()
		if err != nil {
			return Page{}, err
		}
		p.Incidents = append(p.Incidents, inc)
	}
	return p, nil
}

func (q *Query) matches(en *entry) bool {
	switch q.State {
	case StateOpen, "":
		if !en.isOpen() {
			return false
		}
	case StateResolved:
		if en.isOpen() {
			return false
		}
	}
	if q.Kind != "" && en.kind != q.Kind {
		return false
	}
	if q.Class != "" {
		if p, ok := strings.CutSuffix(q.Class, "*"); ok {
			if !strings.HasPrefix(en.class, p) {
				return false
			}
		} else if en.class != q.Class {
			return false
		}
	}
	if q.Tenant != "" && en.tenant != q.Tenant {
		return false
	}
	if q.Mailbox != "" {
		if ok, _ := path.Match(q.Mailbox, en.mailbox); !ok {
			return false
		}
	}
	return q.Since.IsZero() || !en.updated.Before(q.Since)
}

// incident decodes en's latest event; v.mu is held.
func (en *entry) incident() (Incident, error) {
	last := en.events[len(en.events)-1]
	var ev schemas.IncidentEvent
	if err := json.Unmarshal(last.raw, &ev); err != nil {
		return Incident{}, err
	}
	return Incident{
		IncidentData: ev.Data, Updated: ev.Time, LastEventID: ev.ID, LastEventType: ev.Type,
		Events: en.count, History: len(en.events),
	}, nil
}

// Get returns an incident and the events the view holds of it, oldest
// first, as published.
func (v *View) Get(id string) (Incident, []json.RawMessage, bool, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	en := v.incidents[id]
	if en == nil {
		return Incident{}, nil, false, nil
	}
	inc, err := en.incident()
	if err != nil {
		return Incident{}, nil, false, err
	}
	evs := make([]json.RawMessage, len(en.events))
	for i, h := range en.events {
		evs[i] = h.raw
	}
	return inc, evs, true, nil
}

// Mailbox returns the incidents of a mailbox the view holds, open and
// resolved, first seen latest first.
func (v *View) Mailbox(tenant, mailbox string) ([]Incident, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	list := slices.Clone(v.mailboxes[mailboxKey{tenant, mailbox}])
	slices.SortFunc(list, firstSeenLatest)
	out := make([]Incident, 0, len(list))
	for _, en := range list {
		inc, err := en.incident()
		if err != nil {
			return nil, err
		}
		out = append(out, inc)
	}
	return out, nil
}

// Events returns the events the view holds of the incidents q selects
// (its Limit and After ignored), oldest first by event time: what a page
// draws its timelines from.
func (v *View) Events(q Query) []json.RawMessage {
	v.mu.RLock()
	defer v.mu.RUnlock()
	type timed struct {
		t   time.Time
		raw []byte
	}
	var all []timed
	for _, en := range v.incidents {
		if !q.matches(en) {
			continue
		}
		for _, h := range en.events {
			all = append(all, timed{h.time, h.raw})
		}
	}
	slices.SortStableFunc(all, func(a, b timed) int { return a.t.Compare(b.t) })
	out := make([]json.RawMessage, len(all))
	for i, x := range all {
		out[i] = x.raw
	}
	return out
}
