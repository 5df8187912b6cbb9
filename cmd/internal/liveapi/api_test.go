package liveapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/cmd/internal/liveapi"
	"github.com/syncwatch/syncwatch/pipeline/view"
	"github.com/syncwatch/syncwatch/schemas"
)

var t0 = time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)

// hostile is log text that must come out as data, never as markup or
// broken JSON.
const hostile = "</script><script>alert(1)</script>\"'\u2028\x00"

func event(t testing.TB, id string, seq int, typ string, at time.Duration, kind, class, tenant, mailbox string) []byte {
	t.Helper()
	e := schemas.NewIncidentEvent("syncwatch/ingest", typ, seq, t0.Add(at), schemas.IncidentData{
		IncidentID: id, Kind: kind, Class: class, Severity: schemas.SeverityCritical,
		Tenant: tenant, Mailbox: mailbox, Producer: "ExchangeConnector",
		Title: "The password has expired " + hostile, Remediation: "Update the password.",
		FirstSeen: schemas.Time{Time: t0.Add(at - time.Duration(seq-1)*time.Minute)}, LastSeen: schemas.Time{Time: t0.Add(at)}, Occurrences: seq,
		Evidence: []schemas.Evidence{{Producer: "ExchangeConnector", Time: schemas.Time{Time: t0.Add(at)}, Message: "401 " + hostile, Origin: "sync.exchange-connector/0/1"}},
	})
	b, err := json.Marshal(e)
	require.NoError(t, err)
	return b
}

// fixture is a view of 11 incidents: 10 of mailboxes (6 sync errors of
// tenant t-1, 4 sync issues of t-2, a third of them @fabrikam.com, 3
// resolved) and a pipeline incident.
func fixture(t *testing.T) *view.View {
	v := view.New(view.Config{})
	apply := func(raw []byte) {
		_, err := v.Apply(raw)
		require.NoError(t, err)
	}
	for i := range 10 {
		id := fmt.Sprintf("inc-%012x", i+1)
		kind, class, tenant := schemas.KindSyncError, "exchange.auth.password", "t-1"
		if i >= 6 {
			kind, class, tenant = schemas.KindSyncIssue, "record.too_large", "t-2"
		}
		mb := fmt.Sprintf("user%d@contoso.com", i)
		if i%3 == 0 {
			mb = fmt.Sprintf("user%d@fabrikam.com", i)
		}
		at := time.Duration(i) * time.Hour
		apply(event(t, id, 1, schemas.TypeOpened, at, kind, class, tenant, mb))
		apply(event(t, id, 2, schemas.TypeUpdated, at+time.Minute, kind, class, tenant, mb))
		if i%4 == 3 || i == 8 {
			apply(event(t, id, 3, schemas.TypeResolved, at+2*time.Minute, kind, class, tenant, mb))
		}
	}
	apply(event(t, "inc-0000000000ff", 1, schemas.TypeOpened, 10*time.Hour, schemas.KindPipeline, "pipeline.format_drift", "-", "ExchangeConnector"))
	return v
}

type client struct {
	t   *testing.T
	srv *httptest.Server
}

func newClient(t *testing.T, h http.Handler) *client {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &client{t: t, srv: srv}
}

// get answers path's status and body, the body validated against schema
// (the error schema for a status other than 200).
func (c *client) get(path, schema string) (int, []byte) {
	c.t.Helper()
	resp, err := http.Get(c.srv.URL + path)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	require.Equal(c.t, "application/json", resp.Header.Get("Content-Type"))
	if resp.StatusCode != http.StatusOK {
		schema = schemas.SchemaAPIError
	}
	require.NoError(c.t, schemas.Validate(schema, b), "%s: %s", path, b)
	return resp.StatusCode, b
}

type listBody struct {
	Incidents []struct {
		Data struct {
			IncidentID string `json:"incident_id"`
			Title      string `json:"title"`
		} `json:"data"`
		Events int `json:"events"`
	} `json:"incidents"`
	Matched int     `json:"matched"`
	Next    *string `json:"next_cursor"`
}

func (c *client) list(query string) listBody {
	c.t.Helper()
	code, b := c.get("/api/v1/incidents?"+query, schemas.SchemaAPIIncidents)
	require.Equal(c.t, http.StatusOK, code, "%s", b)
	var l listBody
	require.NoError(c.t, json.Unmarshal(b, &l))
	return l
}

func listIDs(l listBody) []string {
	var out []string
	for _, inc := range l.Incidents {
		out = append(out, strings.TrimPrefix(inc.Data.IncidentID, "inc-0000000000"))
	}
	return out
}

// TestListFilters: every filter of GET /api/v1/incidents, each answer
// valid against its schema.
func TestListFilters(t *testing.T) {
	now := t0.Add(10*time.Hour + 30*time.Minute)
	c := newClient(t, liveapi.New(fixture(t), liveapi.Options{Now: func() time.Time { return now }}))
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"ff", "0a", "07", "06", "05", "03", "02", "01"}},
		{"state=open", []string{"ff", "0a", "07", "06", "05", "03", "02", "01"}},
		{"state=resolved", []string{"09", "08", "04"}},
		{"state=all", []string{"ff", "0a", "09", "08", "07", "06", "05", "04", "03", "02", "01"}},
		{"kind=sync_error", []string{"06", "05", "03", "02", "01"}},
		{"kind=sync_issue&state=all", []string{"0a", "09", "08", "07"}},
		{"kind=pipeline", []string{"ff"}},
		{"class=record.too_large", []string{"0a", "07"}},
		{"class=exchange.*", []string{"06", "05", "03", "02", "01"}},
		{"tenant=t-2", []string{"0a", "07"}},
		{"mailbox=*@fabrikam.com", []string{"0a", "07", "01"}},
		{"mailbox=user5@contoso.com", []string{"06"}},
		{"since=2026-11-24T14:00:00Z", []string{"ff", "0a", "07"}},
		{"since=2026-11-24T14:00:00Z&state=all", []string{"ff", "0a", "09", "08", "07"}},
		{"since=3h", []string{"ff", "0a"}},
		{"kind=sync_error&tenant=t-1&mailbox=user%3F@contoso.com&since=2h", nil},
		{"kind=sync_error&tenant=t-1&mailbox=user%3F@contoso.com", []string{"06", "05", "03", "02"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			l := c.list(tt.query)
			require.Equal(t, tt.want, listIDs(l))
			require.Equal(t, len(tt.want), l.Matched)
			require.Nil(t, l.Next)
		})
	}
	t.Run("hostile text is data", func(t *testing.T) {
		l := c.list("kind=pipeline")
		require.Equal(t, "The password has expired "+hostile, l.Incidents[0].Data.Title)
		_, raw := c.get("/api/v1/incidents?kind=pipeline", schemas.SchemaAPIIncidents)
		require.NotContains(t, string(raw), "<script>", "encoding/json escapes < and >")
	})
}

// TestListPages: cursor pagination at every edge.
func TestListPages(t *testing.T) {
	c := newClient(t, liveapi.New(fixture(t), liveapi.Options{}))
	all := listIDs(c.list("state=all"))
	for _, limit := range []int{1, 3, 10, 11, 12, liveapi.MaxLimit} {
		t.Run(fmt.Sprint("limit=", limit), func(t *testing.T) {
			var got []string
			q := url.Values{"state": {"all"}, "limit": {fmt.Sprint(limit)}}
			for pages := 1; ; pages++ {
				l := c.list(q.Encode())
				require.LessOrEqual(t, len(l.Incidents), limit)
				require.NotEmpty(t, l.Incidents, "no empty page")
				require.Equal(t, 11, l.Matched)
				got = append(got, listIDs(l)...)
				if l.Next == nil {
					require.Equal(t, (11+limit-1)/limit, pages)
					break
				}
				q.Set("cursor", *l.Next)
			}
			require.Equal(t, all, got)
		})
	}
	t.Run("a cursor keeps its filters' place", func(t *testing.T) {
		l := c.list("kind=sync_error&limit=2")
		require.Equal(t, []string{"06", "05"}, listIDs(l))
		l = c.list("kind=sync_error&limit=2&cursor=" + *l.Next)
		require.Equal(t, []string{"03", "02"}, listIDs(l))
	})
	t.Run("the default limit", func(t *testing.T) {
		v := view.New(view.Config{})
		for i := range liveapi.DefaultLimit + 5 {
			_, err := v.Apply(event(t, fmt.Sprintf("inc-%012x", i+1), 1, schemas.TypeOpened, time.Duration(i)*time.Second, schemas.KindSyncIssue, "record.too_large", "t-1", "a@x"))
			require.NoError(t, err)
		}
		c := newClient(t, liveapi.New(v, liveapi.Options{}))
		l := c.list("")
		require.Len(t, l.Incidents, liveapi.DefaultLimit)
		require.NotNil(t, l.Next)
		require.Len(t, c.list("cursor="+*l.Next).Incidents, 5)
	})
}

// TestBadRequests: every problem of a request is listed, with status 400
// (404 for what does not exist, 405 for writes).
func TestBadRequests(t *testing.T) {
	c := newClient(t, liveapi.New(fixture(t), liveapi.Options{}))
	code, b := c.get("/api/v1/incidents?state=closed&kind=error&class=a*b&mailbox=[x&since=yesterday&limit=0&cursor=%21%21&color=red", "")
	require.Equal(t, http.StatusBadRequest, code)
	var e struct{ Problems []string }
	require.NoError(t, json.Unmarshal(b, &e))
	require.Len(t, e.Problems, 8, "%s", b)
	for i, want := range []string{"color: unknown parameter", "state:", "kind:", "class:", "mailbox:", "since:", "limit:", "cursor:"} {
		require.True(t, strings.HasPrefix(e.Problems[i], want), "%q does not start with %q", e.Problems[i], want)
	}
	for _, q := range []string{"limit=1001", "limit=-1", "limit=x", "state=open&state=all", "since=-1h", "cursor=bm90LWEtY3Vyc29y"} {
		code, _ := c.get("/api/v1/incidents?"+q, "")
		require.Equal(t, http.StatusBadRequest, code, q)
	}
	code, _ = c.get("/api/v1/incidents/inc-000000000077", "")
	require.Equal(t, http.StatusNotFound, code)
	code, _ = c.get("/api/v1/nothing", "")
	require.Equal(t, http.StatusNotFound, code)
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		req, err := http.NewRequest(m, c.srv.URL+"/api/v1/incidents", strings.NewReader("{}"))
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, m)
		require.Equal(t, "GET, HEAD", resp.Header.Get("Allow"))
	}
}

// TestIncidentAndMailbox: one incident with its whole history as
// published, and a mailbox's incidents.
func TestIncidentAndMailbox(t *testing.T) {
	v := fixture(t)
	c := newClient(t, liveapi.New(v, liveapi.Options{}))
	code, b := c.get("/api/v1/incidents/inc-000000000004", schemas.SchemaAPIIncident)
	require.Equal(t, http.StatusOK, code)
	var d struct {
		Incident struct {
			Data   struct{ Status string }
			Events int
		}
		Events []json.RawMessage
	}
	require.NoError(t, json.Unmarshal(b, &d))
	require.Equal(t, schemas.StatusResolved, d.Incident.Data.Status)
	require.Equal(t, 3, d.Incident.Events)
	require.Len(t, d.Events, 3)
	for i, raw := range d.Events {
		require.JSONEq(t, string(event(t, "inc-000000000004", i+1, []string{schemas.TypeOpened, schemas.TypeUpdated, schemas.TypeResolved}[i], 3*time.Hour+time.Duration(i)*time.Minute,
			schemas.KindSyncError, "exchange.auth.password", "t-1", "user3@fabrikam.com")), string(raw), "the event as published")
	}

	code, b = c.get("/api/v1/mailboxes/t-1/user3@fabrikam.com", schemas.SchemaAPIMailbox)
	require.Equal(t, http.StatusOK, code)
	var m struct {
		Open      int
		Incidents []json.RawMessage
	}
	require.NoError(t, json.Unmarshal(b, &m))
	require.Equal(t, 0, m.Open)
	require.Len(t, m.Incidents, 1)
	code, b = c.get("/api/v1/mailboxes/t-1/"+url.PathEscape("user5@contoso.com"), schemas.SchemaAPIMailbox)
	require.Equal(t, http.StatusOK, code)
	require.NoError(t, json.Unmarshal(b, &m))
	require.Equal(t, 1, m.Open)
	code, b = c.get("/api/v1/mailboxes/t-9/nobody@x", schemas.SchemaAPIMailbox)
	require.Equal(t, http.StatusOK, code, "a mailbox without incidents is healthy, not missing")
	require.Contains(t, string(b), `"incidents":[]`)
}

// TestEventStream: the stream carries each event the view applies from
// the connection on, in order, as SSE with the event's id; a client
// that falls behind gets a reset.
func TestEventStream(t *testing.T) {
	v := view.New(view.Config{})
	c := newClient(t, liveapi.New(v, liveapi.Options{Heartbeat: 50 * time.Millisecond, Buffer: 4}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.srv.URL+"/api/v1/events", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	r := bufio.NewReader(resp.Body)
	// frames reads SSE frames, comments left out
	frame := func() map[string]string {
		f := map[string]string{}
		for {
			line, err := r.ReadString('\n')
			require.NoError(t, err)
			line = strings.TrimSuffix(line, "\n")
			if line == "" {
				if len(f) > 0 {
					return f
				}
				continue
			}
			if strings.HasPrefix(line, ":") {
				continue
			}
			k, val, _ := strings.Cut(line, ": ")
			f[k] += val
		}
	}
	require.Equal(t, "2000", frame()["retry"])
	require.Eventually(t, func() bool { return v.Subscribers() == 1 }, 5*time.Second, 10*time.Millisecond)
	var sent []string
	for seq := 1; seq <= 3; seq++ {
		raw := event(t, "inc-000000000001", seq, schemas.TypeUpdated, time.Duration(seq)*time.Minute, schemas.KindSyncError, "c", "t-1", "a@x")
		sent = append(sent, string(raw))
		if seq == 3 { // published pretty-printed by some other tool
			var pretty bytes.Buffer
			require.NoError(t, json.Indent(&pretty, raw, "", "  "))
			raw = pretty.Bytes()
		}
		_, err := v.Apply(raw)
		require.NoError(t, err)
	}
	for seq := 1; seq <= 3; seq++ {
		f := frame()
		require.Equal(t, "incident", f["event"])
		require.Equal(t, fmt.Sprintf("inc-000000000001-%d", seq), f["id"])
		require.Equal(t, sent[seq-1], f["data"], "one data line, compact")
		e, err := schemas.DecodeEvent([]byte(f["data"]))
		require.NoError(t, err)
		require.Equal(t, "The password has expired "+hostile, e.Data.Title)
	}
	// keep-alives flow while idle (the reader above skipped them; read one raw)
	line, err := r.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, ": keep-alive\n", line)
}

// TestEventStreamReset: a client that does not read is sent a reset once
// it falls Buffer events behind, and the view does not wait for it.
func TestEventStreamReset(t *testing.T) {
	v := view.New(view.Config{})
	sub := v.Subscribe(1) // a stand-in reader that never reads, as the stream's would be
	c := newClient(t, liveapi.New(v, liveapi.Options{Buffer: 2}))
	resp, err := http.Get(c.srv.URL + "/api/v1/events")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Eventually(t, func() bool { return v.Subscribers() == 2 }, 5*time.Second, 10*time.Millisecond)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for seq := 1; seq <= 5000; seq++ {
			v.Apply(event(t, "inc-000000000001", seq, schemas.TypeUpdated, time.Duration(seq)*time.Second, schemas.KindSyncError, "c", "t-1", "a@x"))
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the view waited for a slow subscriber")
	}
	require.True(t, sub.Lost())
	b, err := io.ReadAll(resp.Body) // the stream ends after its reset
	require.NoError(t, err)
	require.Contains(t, string(b), "event: reset\ndata: {}\n\n")
}
