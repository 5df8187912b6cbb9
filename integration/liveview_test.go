package integration

import (
	"encoding/json"
	"maps"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/schemas"
)

// openAtEnd is the open set a stream of events leaves: of each incident
// not resolved, the id of its latest event, mailbox incidents only.
func openAtEnd(evs []schemas.IncidentEvent) map[string]string {
	latest := map[string]schemas.IncidentEvent{}
	for _, e := range evs {
		if e.Data.Kind == schemas.KindPipeline {
			continue
		}
		seq, _ := e.Sequence()
		if l, ok := latest[e.Data.IncidentID]; ok {
			if ls, _ := l.Sequence(); ls >= seq {
				continue
			}
		}
		latest[e.Data.IncidentID] = e
	}
	open := map[string]string{}
	for id, e := range latest {
		if e.Type != schemas.TypeResolved {
			open[id] = e.ID
		}
	}
	return open
}

// apiIncidents pages through GET /api/v1/incidents with query on addr
// and returns incident id -> latest event id, validating every page.
func apiIncidents(t *testing.T, addr string, query url.Values) (map[string]string, error) {
	t.Helper()
	out := map[string]string{}
	q := url.Values{}
	for k, v := range query {
		q[k] = slices.Clone(v)
	}
	q.Set("limit", "37") // pages of an odd size
	for {
		code, body, err := httpGet(addr, "/api/v1/incidents?"+q.Encode())
		if err != nil {
			return nil, err
		}
		require.Equal(t, 200, code, "%s", body)
		require.NoError(t, schemas.Validate(schemas.SchemaAPIIncidents, []byte(body)))
		var page struct {
			Incidents []struct {
				Data struct {
					IncidentID string `json:"incident_id"`
				} `json:"data"`
				LastEventID string `json:"last_event_id"`
			} `json:"incidents"`
			Next *string `json:"next_cursor"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &page))
		for _, inc := range page.Incidents {
			_, dup := out[inc.Data.IncidentID]
			require.False(t, dup, "incident %s on two pages", inc.Data.IncidentID)
			out[inc.Data.IncidentID] = inc.LastEventID
		}
		if page.Next == nil {
			return out, nil
		}
		q.Set("cursor", *page.Next)
	}
}

// TestLiveViewTwoMembers: two members of one group each judge part of
// the mailboxes, but each reads the whole incidents topic into its live
// view: both APIs answer the same, and the open set equals the one replay
// leaves for the same logs.
func TestLiveViewTwoMembers(t *testing.T) {
	kcat := requireTool(t, "kcat")
	broker := startFaultBroker(t, 0, nil)
	kc := newKafkaCorpus(t, loggen.Config{Seed: 61, Mailboxes: 60, Duration: 24 * time.Hour})
	evs, want := expectedOnce(t, kc)
	wantOpen := openAtEnd(evs)
	require.NotEmpty(t, wantOpen, "the corpus leaves incidents open")

	group := "syncwatch-live-view"
	a := startFaultIngest(t, "ingest-a", broker.Addrs(), group, true, "--quiet-after", "3s")
	b := startFaultIngest(t, "ingest-b", broker.Addrs(), group, true, "--quiet-after", "3s")
	waitHTTP(t, a.metrics, "/readyz", func(c int) bool { return c == 200 }, 60*time.Second)
	waitHTTP(t, b.metrics, "/readyz", func(c int) bool { return c == 200 }, 60*time.Second)
	kc.produce(t, kcat, broker.Addrs())
	waitIncidents(t, kcat, broker.Addrs(), want, 120*time.Second)

	// replay's open set is of mailboxes: sync errors and sync issues
	mailboxesOpen := func(addr string) (map[string]string, error) {
		out := map[string]string{}
		for _, kind := range []string{schemas.KindSyncError, schemas.KindSyncIssue} {
			got, err := apiIncidents(t, addr, url.Values{"state": {"open"}, "kind": {kind}})
			if err != nil {
				return nil, err
			}
			maps.Copy(out, got)
		}
		return out, nil
	}
	var gotA, gotB map[string]string
	deadline := time.Now().Add(30 * time.Second)
	for {
		var errA, errB error
		gotA, errA = mailboxesOpen(a.metrics)
		gotB, errB = mailboxesOpen(b.metrics)
		if errA == nil && errB == nil && maps.Equal(gotA, wantOpen) && maps.Equal(gotB, wantOpen) {
			break
		}
		if time.Now().After(deadline) {
			break // the assertions below say how they differ
		}
		time.Sleep(300 * time.Millisecond)
	}
	require.Equal(t, wantOpen, gotA, "member a's open incidents, with their latest events, are replay's")
	require.Equal(t, wantOpen, gotB, "member b's too")

	all := url.Values{"state": {"all"}}
	allA, err := apiIncidents(t, a.metrics, all)
	require.NoError(t, err)
	allB, err := apiIncidents(t, b.metrics, all)
	require.NoError(t, err)
	require.Equal(t, allA, allB, "both members hold the same incidents, resolved ones included")

	// one incident's history is the events replay made of it, as published
	var id string
	for id = range wantOpen {
		break
	}
	code, body, err := httpGet(b.metrics, "/api/v1/incidents/"+id)
	require.NoError(t, err)
	require.Equal(t, 200, code)
	require.NoError(t, schemas.Validate(schemas.SchemaAPIIncident, []byte(body)))
	var detail struct {
		Events []schemas.IncidentEvent `json:"events"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &detail))
	n := 0
	for _, e := range evs {
		if e.Data.IncidentID == id {
			n++
		}
	}
	require.Len(t, detail.Events, min(n, 16), "the first and latest events of the incident")
	for _, e := range detail.Events {
		require.Contains(t, want, e.ID)
	}
	a.stop(t, 30*time.Second)
	b.stop(t, 30*time.Second)
	t.Logf("%d events; %d incidents open at the end, %d in the view", len(evs), len(wantOpen), len(allA))
}
