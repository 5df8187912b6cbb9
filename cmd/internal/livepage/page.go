// Package livepage is ingest's live page of incidents (issue 16): the
// look of replay's --report (cards, a timeline per affected mailbox, the
// incidents with remediation and evidence; the same template parts, from
// cmd/internal/incidenthtml) drawn from a live view (pipeline/view) and
// kept current without reloading: its inline script listens to the
// server-sent events of Events and, on each, fetches the page body again
// as an HTML fragment rendered by the same templates and swaps it in.
//
// Everything is inline (CSS, SVG, one script under a per-response CSP
// nonce): the page loads nothing else, so it works offline and behind any
// proxy. Log text reaches it only through html/template's escaping; the
// script never builds markup from event data, it only swaps in fragments
// the server rendered.
package livepage

import (
	"bytes"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/syncwatch/syncwatch/cmd/internal/incidenthtml"
	"github.com/syncwatch/syncwatch/cmd/internal/liveapi"
	"github.com/syncwatch/syncwatch/pipeline/view"
	"github.com/syncwatch/syncwatch/schemas"
)

//go:embed page.html.tmpl
var pageText string

var pageTmpl = template.Must(incidenthtml.Page("live page", pageText))

// Options configure the page.
type Options struct {
	// Title heads the page.
	//
	// Default: "syncwatch live view"
	Title string
	// EventsPath is the path of the event stream the page's script opens
	// (Events, mounted by the caller), with access_token appended when
	// the page's own URL carries one.
	//
	// Default: "/api/v1/events"
	EventsPath string
	// Window is the span of event time the timelines and the "resolved"
	// card cover, ending at the view's newest event (not the wall clock,
	// so that replayed or generated history displays too).
	//
	// Default: 24h
	Window time.Duration
	// MaxRows is how many incidents the table lists; the others are
	// counted.
	//
	// Default: 200
	MaxRows int
	// MaxTimelines is how many mailboxes get a timeline; the others are
	// counted.
	//
	// Default: 50
	MaxTimelines int
}

func (o Options) withDefaults() Options {
	if o.Title == "" {
		o.Title = "syncwatch live view"
	}
	if o.EventsPath == "" {
		o.EventsPath = "/api/v1/events"
	}
	if o.Window <= 0 {
		o.Window = 24 * time.Hour
	}
	if o.MaxRows <= 0 {
		o.MaxRows = 200
	}
	if o.MaxTimelines <= 0 {
		o.MaxTimelines = 50
	}
	return o
}

// New returns the page's handler. It serves GET (and HEAD) of "/" only:
// the whole page, or with ?fragment=1 its live body alone (what the
// script swaps in). The query parameters state (open, the default;
// resolved; all), kind, class (exact, or a prefix ending in *), tenant and
// mailbox (a glob) filter what it shows; access_token is carried on to
// the requests the page makes. Mount it behind the same authentication as
// the API: it checks none itself.
func New(v *view.View, opts Options) http.Handler {
	return &page{v: v, o: opts.withDefaults()}
}

type page struct {
	v *view.View
	o Options
}

// filter is the page's query.
type filter struct {
	State, Kind, Class, Tenant, Mailbox string
	Token                               string // access_token, carried on
}

func parseFilter(q url.Values) filter {
	get := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	f := filter{State: get("state"), Kind: get("kind"), Class: get("class"), Tenant: get("tenant"),
		Mailbox: get("mailbox"), Token: q.Get("access_token")}
	if f.State == "" {
		f.State = string(view.StateOpen)
	}
	return f
}

// check says what is wrong with the page's query, "" when nothing: the
// API's rules, every problem listed.
func check(q url.Values) string {
	if _, err := liveapi.ParseQuery(q, time.Now()); err != nil {
		return strings.Join(liveapi.Problems(err), "; ")
	}
	return ""
}

// query is f as a view query, its state aside.
func (f filter) query() view.Query {
	return view.Query{Kind: f.Kind, Class: f.Class, Tenant: f.Tenant, Mailbox: f.Mailbox}
}

func (f filter) any() bool {
	return f.Kind != "" || f.Class != "" || f.Tenant != "" || f.Mailbox != ""
}

type option struct {
	Value, Label string
	Selected     bool
}

// pageData is the data of the whole page.
type pageData struct {
	Title, Nonce, EventsPath string
	Filter                   filter
	States, Kinds            []option
	ClearHref                string
	Live                     liveData
}

// liveData is the data of the fragment the script swaps in.
type liveData struct {
	Error         string
	Newest        string
	Window        string
	Held          int
	Cards         []incidenthtml.Card
	Start, End    string
	Legend        []incidenthtml.LegendItem
	Timelines     []incidenthtml.Timeline
	MoreTimelines int
	Heading       string
	Incidents     []incidenthtml.Row
	Matched       int
}

func (p *page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	f := parseFilter(q)
	status := http.StatusOK
	var live liveData
	if msg := check(q); msg != "" {
		status = http.StatusBadRequest
		live = liveData{Error: msg, Window: windowLabel(p.o.Window), Heading: "Incidents"}
	} else {
		live = p.live(f)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	var buf bytes.Buffer
	var err error
	if q.Get("fragment") == "1" {
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		err = pageTmpl.ExecuteTemplate(&buf, "live", live)
	} else {
		nonce := newNonce()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; style-src 'unsafe-inline'; "+
			"connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
		err = pageTmpl.Execute(&buf, p.pageData(f, nonce, live))
	}
	if err != nil {
		http.Error(w, "rendering the page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func newNonce() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (p *page) pageData(f filter, nonce string, live liveData) pageData {
	d := pageData{Title: p.o.Title, Nonce: nonce, EventsPath: p.o.EventsPath, Filter: f, Live: live, ClearHref: "?"}
	for _, s := range []view.State{view.StateOpen, view.StateResolved, view.StateAll} {
		d.States = append(d.States, option{Value: string(s), Label: string(s), Selected: f.State == string(s)})
	}
	kinds := []string{"", schemas.KindSyncError, schemas.KindSyncIssue, schemas.KindPipeline}
	if !slices.Contains(kinds, f.Kind) {
		kinds = append(kinds, f.Kind)
	}
	for _, k := range kinds {
		label := k
		if k == "" {
			label = "any"
		}
		d.Kinds = append(d.Kinds, option{Value: k, Label: label, Selected: f.Kind == k})
	}
	if f.Token != "" {
		d.ClearHref = "?" + url.Values{"access_token": {f.Token}}.Encode()
	}
	return d
}

func windowLabel(d time.Duration) string {
	if d%time.Hour == 0 {
		return strconv.Itoa(int(d/time.Hour)) + " h"
	}
	return d.String()
}

// live renders what the view holds for f.
func (p *page) live(f filter) liveData {
	v := p.v
	newest := v.Newest()
	st := v.Stats()
	d := liveData{Newest: incidenthtml.FmtTime(newest), Window: windowLabel(p.o.Window), Held: st.Open + st.Resolved}
	var start time.Time
	if !newest.IsZero() {
		start = newest.Add(-p.o.Window)
	}
	base := f.query()

	// cards: the state filter aside, what is open now and what was
	// resolved in the window
	open := selectAll(v, base, view.StateOpen, time.Time{})
	var resolved []view.Incident
	if !newest.IsZero() {
		resolved = selectAll(v, base, view.StateResolved, start)
	}
	byKind := map[string]int{}
	mailboxes := map[[2]string]bool{}
	for _, inc := range open {
		byKind[inc.Kind]++
		mailboxes[[2]string{inc.Tenant, inc.Mailbox}] = true
	}
	matching := ""
	if f.any() {
		matching = " (matching the filter)"
	}
	d.Cards = []incidenthtml.Card{
		{Label: "Open sync errors", Value: strconv.Itoa(byKind[schemas.KindSyncError]), Sub: "mailbox not syncing" + matching},
		{Label: "Open sync issues", Value: strconv.Itoa(byKind[schemas.KindSyncIssue]), Sub: "records failing" + matching},
	}
	if n := byKind[schemas.KindPipeline]; n > 0 {
		d.Cards = append(d.Cards, incidenthtml.Card{Label: "Open pipeline incidents", Value: strconv.Itoa(n), Sub: "format drift, silent producers"})
	}
	d.Cards = append(d.Cards,
		incidenthtml.Card{Label: "Affected mailboxes", Value: strconv.Itoa(len(mailboxes)), Sub: "with an open incident" + matching},
		incidenthtml.Card{Label: "Resolved in " + d.Window, Value: strconv.Itoa(len(resolved)), Sub: "before the latest event" + matching},
		incidenthtml.Card{Label: "Latest event", Value: incidenthtml.ShortTime(newest), Sub: "UTC, event time"},
	)

	// the table: the state filter applies
	q := base
	q.State = view.State(f.State)
	q.Limit = p.o.MaxRows
	pg, err := v.Select(q)
	if err != nil {
		d.Error = err.Error()
		return d
	}
	d.Matched = pg.Matched
	d.Heading = map[string]string{"open": "Open incidents", "resolved": "Resolved incidents", "all": "Incidents"}[f.State]

	// the timelines: every mailbox with an incident open, or resolved in
	// the window
	type mbKey = [2]string
	byMailbox := map[mbKey][]string{}
	for _, list := range [][]view.Incident{open, resolved} {
		for _, inc := range list {
			k := mbKey{inc.Tenant, inc.Mailbox}
			byMailbox[k] = append(byMailbox[k], inc.IncidentID)
		}
	}
	keys := make([]mbKey, 0, len(byMailbox))
	for k := range byMailbox {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b mbKey) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return strings.Compare(a[1], b[1])
	})
	if newest.IsZero() {
		keys = nil
	}
	if len(keys) > p.o.MaxTimelines {
		d.MoreTimelines = len(keys) - p.o.MaxTimelines
		keys = keys[:p.o.MaxTimelines]
	}

	// fold the held events of the incidents shown, once each
	var events []schemas.IncidentEvent
	seen := map[string]bool{}
	add := func(id string) {
		if seen[id] {
			return
		}
		seen[id] = true
		_, raws, ok, err := v.Get(id)
		if !ok || err != nil {
			return // left the view meanwhile: the next update shows it
		}
		for _, raw := range raws {
			var ev schemas.IncidentEvent
			if json.Unmarshal(raw, &ev) == nil {
				events = append(events, ev)
			}
		}
	}
	for _, inc := range pg.Incidents {
		add(inc.IncidentID)
	}
	onTimeline := map[string]bool{}
	for _, k := range keys {
		for _, id := range byMailbox[k] {
			add(id)
			onTimeline[id] = true
		}
	}
	incs := incidenthtml.Fold(events)
	colors, legend := incidenthtml.Palette(incs)
	byID := make(map[string]*incidenthtml.Incident, len(incs))
	var drawn []*incidenthtml.Incident
	for _, inc := range incs {
		byID[inc.ID] = inc
		if onTimeline[inc.ID] {
			drawn = append(drawn, inc)
		}
	}
	if len(drawn) > 0 {
		d.Legend = legend
		d.Start, d.End = incidenthtml.FmtTime(start), incidenthtml.FmtTime(newest)
		d.Timelines = incidenthtml.Timelines(drawn, colors, start, newest)
	}
	rows := make([]*incidenthtml.Incident, 0, len(pg.Incidents))
	for _, inc := range pg.Incidents { // first seen latest first, as selected
		if fi := byID[inc.IncidentID]; fi != nil {
			rows = append(rows, fi)
		}
	}
	d.Incidents = incidenthtml.Rows(rows, colors)
	for i := range d.Incidents {
		d.Incidents[i].ID = rows[i].ID
	}
	return d
}

// selectAll returns every incident of q in state st changed at or after
// since.
func selectAll(v *view.View, q view.Query, st view.State, since time.Time) []view.Incident {
	q.State, q.Since = st, since
	pg, err := v.Select(q)
	if err != nil {
		return nil
	}
	return pg.Incidents
}
