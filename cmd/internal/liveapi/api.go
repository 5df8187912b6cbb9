// Package liveapi is the HTTP API of ingest's live view (docs/live-view.md):
// read-only JSON over a view.View, and a server-sent-events stream of the
// incident events as the view reads them.
//
//	GET /api/v1/incidents                    filters, cursor pagination (schemas.SchemaAPIIncidents)
//	GET /api/v1/incidents/{id}               an incident and its history (schemas.SchemaAPIIncident)
//	GET /api/v1/mailboxes/{tenant}/{mailbox} a mailbox's incidents (schemas.SchemaAPIMailbox)
//	GET /api/v1/events                       text/event-stream of incident events
//
// Errors answer with schemas.SchemaAPIError, every problem of the request
// listed.
package liveapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-multierror"

	"github.com/syncwatch/syncwatch/pipeline/view"
	"github.com/syncwatch/syncwatch/schemas"
)

// Page sizes of GET /api/v1/incidents.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Options configures the API.
type Options struct {
	// Now is the clock that relative since= values count back from.
	//
	// Default: time.Now
	Now func() time.Time
	// Heartbeat is how often an idle event stream sends a comment, so
	// that proxies keep it open.
	//
	// Default: 15s
	Heartbeat time.Duration
	// Buffer is how many events a stream's client may fall behind by
	// before it is sent a reset and dropped.
	//
	// Default: 1024
	Buffer int
}

// API serves the live view. It is an http.Handler for /api/v1/.
type API struct {
	v    *view.View
	opts Options
	mux  *http.ServeMux
}

// New returns the API of v.
func New(v *view.View, opts Options) *API {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 15 * time.Second
	}
	if opts.Buffer <= 0 {
		opts.Buffer = 1024
	}
	a := &API{v: v, opts: opts, mux: http.NewServeMux()}
	a.mux.HandleFunc("GET /api/v1/incidents", a.list)
	a.mux.HandleFunc("GET /api/v1/incidents/{id}", a.get)
	a.mux.HandleFunc("GET /api/v1/mailboxes/{tenant}/{mailbox}", a.mailbox)
	a.mux.HandleFunc("GET /api/v1/events", a.events)
	a.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "the API is read-only: GET only")
			return
		}
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path,
			"endpoints: /api/v1/incidents, /api/v1/incidents/{id}, /api/v1/mailboxes/{tenant}/{mailbox}, /api/v1/events")
	})
	return a
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "the API is read-only: GET only")
		return
	}
	a.mux.ServeHTTP(w, r)
}

// listAnswer is the body of GET /api/v1/incidents.
type listAnswer struct {
	Incidents []view.Incident `json:"incidents"`
	Matched   int             `json:"matched"`
	Next      *string         `json:"next_cursor"`
}

func (a *API) list(w http.ResponseWriter, r *http.Request) {
	q, err := ParseQuery(r.URL.Query(), a.opts.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid query", Problems(err)...)
		return
	}
	p, err := a.v.Select(q)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "reading the view", err.Error())
		return
	}
	ans := listAnswer{Incidents: p.Incidents, Matched: p.Matched}
	if !p.Next.IsZero() {
		c := EncodeCursor(p.Next)
		ans.Next = &c
	}
	writeJSON(w, http.StatusOK, ans)
}

// ParseQuery reads the filters of GET /api/v1/incidents (and of the live
// page): state (open, resolved, all; default open), kind, class (exact,
// or a prefix ending in *), tenant, mailbox (a glob), since (an RFC 3339
// time, or a duration back from now such as 30m or 24h), limit (1 to
// MaxLimit, default DefaultLimit) and cursor. Every problem is reported.
func ParseQuery(v map[string][]string, now time.Time) (view.Query, error) {
	var errs *multierror.Error
	get := func(k string) string {
		vals := v[k]
		if len(vals) > 1 {
			errs = multierror.Append(errs, fmt.Errorf("%s: given %d times, once at most", k, len(vals)))
		}
		if len(vals) == 0 {
			return ""
		}
		return strings.TrimSpace(vals[0])
	}
	known := map[string]bool{"state": true, "kind": true, "class": true, "tenant": true, "mailbox": true, "since": true, "limit": true, "cursor": true, "access_token": true, "fragment": true}
	for _, k := range slices.Sorted(maps.Keys(v)) {
		if !known[k] {
			errs = multierror.Append(errs, fmt.Errorf("%s: unknown parameter (state, kind, class, tenant, mailbox, since, limit, cursor)", k))
		}
	}
	q := view.Query{Limit: DefaultLimit}
	switch s := view.State(get("state")); s {
	case "":
		q.State = view.StateOpen
	case view.StateOpen, view.StateResolved, view.StateAll:
		q.State = s
	default:
		errs = multierror.Append(errs, fmt.Errorf("state: %q: want open, resolved or all", s))
	}
	switch k := get("kind"); k {
	case "", schemas.KindSyncError, schemas.KindSyncIssue, schemas.KindPipeline:
		q.Kind = k
	default:
		errs = multierror.Append(errs, fmt.Errorf("kind: %q: want sync_error, sync_issue or pipeline", k))
	}
	q.Class = get("class")
	if i := strings.IndexByte(q.Class, '*'); i >= 0 && i != len(q.Class)-1 {
		errs = multierror.Append(errs, fmt.Errorf("class: %q: * only at the end (a prefix)", q.Class))
	}
	q.Tenant = get("tenant")
	q.Mailbox = get("mailbox")
	if err := view.CheckGlob(q.Mailbox); err != nil {
		errs = multierror.Append(errs, fmt.Errorf("mailbox: %q: %v", q.Mailbox, err))
	}
	if s := get("since"); s != "" {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			q.Since = t
		} else if d, err := time.ParseDuration(s); err == nil && d >= 0 {
			q.Since = now.Add(-d)
		} else {
			errs = multierror.Append(errs, fmt.Errorf("since: %q: want an RFC 3339 time (2026-12-01T08:00:00Z) or a duration back from now (30m, 24h)", s))
		}
	}
	if s := get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			errs = multierror.Append(errs, fmt.Errorf("limit: %q: want a number from 1 to %d", s, MaxLimit))
		} else {
			q.Limit = n
		}
	}
	if s := get("cursor"); s != "" {
		c, err := DecodeCursor(s)
		if err != nil {
			errs = multierror.Append(errs, fmt.Errorf("cursor: %v", err))
		}
		q.After = c
	}
	return q, errs.ErrorOrNil()
}

// EncodeCursor makes the next_cursor of a page.
func EncodeCursor(c view.Cursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.First.UnixNano(), 10) + "." + c.ID))
}

// DecodeCursor reads a cursor EncodeCursor made.
func DecodeCursor(s string) (view.Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return view.Cursor{}, errors.New("not a cursor this API gave (copy next_cursor as it is)")
	}
	ns, id, ok := strings.Cut(string(b), ".")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil || id == "" {
		return view.Cursor{}, errors.New("not a cursor this API gave (copy next_cursor as it is)")
	}
	return view.Cursor{First: time.Unix(0, n).UTC(), ID: id}, nil
}

// incidentAnswer is the body of GET /api/v1/incidents/{id}.
type incidentAnswer struct {
	Incident view.Incident     `json:"incident"`
	Events   []json.RawMessage `json:"events"`
}

func (a *API) get(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	inc, evs, ok, err := a.v.Get(id)
	switch {
	case err != nil:
		writeError(w, http.StatusInternalServerError, "reading the view", err.Error())
	case !ok:
		writeError(w, http.StatusNotFound, "no such incident in the live view: "+id,
			"resolved incidents leave the view after its retention (--view-keep-resolved)")
	default:
		writeJSON(w, http.StatusOK, incidentAnswer{Incident: inc, Events: evs})
	}
}

// mailboxAnswer is the body of GET /api/v1/mailboxes/{tenant}/{mailbox}.
type mailboxAnswer struct {
	Tenant    string          `json:"tenant"`
	Mailbox   string          `json:"mailbox"`
	Open      int             `json:"open"`
	Incidents []view.Incident `json:"incidents"`
}

func (a *API) mailbox(w http.ResponseWriter, r *http.Request) {
	ans := mailboxAnswer{Tenant: r.PathValue("tenant"), Mailbox: r.PathValue("mailbox")}
	incs, err := a.v.Mailbox(ans.Tenant, ans.Mailbox)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "reading the view", err.Error())
		return
	}
	ans.Incidents = incs
	for _, inc := range incs {
		if inc.Status == schemas.StatusOpen {
			ans.Open++
		}
	}
	writeJSON(w, http.StatusOK, ans)
}

// errorAnswer is the body of every error.
type errorAnswer struct {
	Error    string   `json:"error"`
	Problems []string `json:"problems"`
}

// Problems lists the problems of an error ParseQuery returned.
func Problems(err error) []string {
	var me *multierror.Error
	if errors.As(err, &me) {
		out := make([]string, len(me.Errors))
		for i, e := range me.Errors {
			out[i] = e.Error()
		}
		return out
	}
	return []string{err.Error()}
}

func writeError(w http.ResponseWriter, code int, msg string, probs ...string) {
	if probs == nil {
		probs = []string{}
	}
	writeJSON(w, code, errorAnswer{Error: msg, Problems: probs})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b, _ = json.Marshal(errorAnswer{Error: "encoding the answer", Problems: []string{err.Error()}})
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}
