package sinks

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/schemas"
)

const testRoutingKey = "R0UT1NGKEY0123456789abcdefABCDEF"

// fakePagerDuty implements the documented contract of the Events API v2
// enqueue endpoint: 202 {"status":"success","dedup_key":...} for a valid
// event, 400 {"status":"invalid event",...} for a missing or malformed
// routing key, an unknown event_action, a trigger without summary, source
// or with a bad severity, a summary over 1024 characters; and 429 for the
// first throttle requests. It keeps each alert's state by dedup_key.
type fakePagerDuty struct {
	mu       sync.Mutex
	throttle int
	requests int
	state    map[string]string // dedup_key -> triggered | resolved
	triggers map[string]int
	last     map[string]pdEvent
}

func newFakePagerDuty(throttle int) *fakePagerDuty {
	return &fakePagerDuty{throttle: throttle, state: map[string]string{}, triggers: map[string]int{}, last: map[string]pdEvent{}}
}

func (f *fakePagerDuty) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	reply := func(code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(v)
	}
	if f.throttle > 0 {
		f.throttle--
		w.Header().Set("Retry-After", "0")
		reply(http.StatusTooManyRequests, map[string]string{"status": "throttle event", "message": "Requests for this service are arriving too quickly."})
		return
	}
	body, _ := io.ReadAll(r.Body)
	var ev pdEvent
	var errs []string
	if err := json.Unmarshal(body, &ev); err != nil || r.Header.Get("Content-Type") != "application/json" {
		errs = append(errs, "Request body is not valid JSON")
	}
	if len(ev.RoutingKey) != 32 {
		errs = append(errs, "'routing_key' must be a 32 character Integration or Ruleset Key")
	}
	if len(ev.DedupKey) > 255 {
		errs = append(errs, "'dedup_key' is too long")
	}
	switch ev.EventAction {
	case "trigger":
		p := ev.Payload
		switch {
		case p == nil:
			errs = append(errs, "'payload' is missing")
		default:
			if p.Summary == "" || utf8.RuneCountInString(p.Summary) > 1024 {
				errs = append(errs, "'payload.summary' is missing or longer than 1024 characters")
			}
			if p.Source == "" {
				errs = append(errs, "'payload.source' is missing")
			}
			if p.Severity != "critical" && p.Severity != "error" && p.Severity != "warning" && p.Severity != "info" {
				errs = append(errs, "'payload.severity' is invalid")
			}
			if p.Timestamp != "" {
				if _, err := time.Parse(time.RFC3339Nano, p.Timestamp); err != nil {
					errs = append(errs, "'payload.timestamp' is invalid")
				}
			}
		}
	case "acknowledge", "resolve":
		if ev.DedupKey == "" {
			errs = append(errs, "'dedup_key' is required for "+ev.EventAction)
		}
	default:
		errs = append(errs, "'event_action' is invalid")
	}
	if len(errs) > 0 {
		reply(http.StatusBadRequest, pdResponse{Status: "invalid event", Message: "Event object is invalid", Errors: errs})
		return
	}
	if ev.EventAction == "trigger" {
		f.state[ev.DedupKey] = "triggered"
		f.triggers[ev.DedupKey]++
		f.last[ev.DedupKey] = ev
	} else if _, ok := f.state[ev.DedupKey]; ok {
		f.state[ev.DedupKey] = "resolved"
	}
	reply(http.StatusAccepted, pdResponse{Status: "success", Message: "Event processed", DedupKey: ev.DedupKey})
}

func TestPagerDutyConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     PagerDutyConfig
		wantErr []string // one substring per problem; none: valid
	}{
		{name: "routing key only", cfg: PagerDutyConfig{RoutingKey: testRoutingKey}},
		{name: "every field set", cfg: PagerDutyConfig{URL: "http://pd:8080/v2/enqueue", RoutingKey: testRoutingKey, Timeout: time.Second, RetryBudget: time.Second, MaxAttempts: 1}},
		{name: "not http", cfg: PagerDutyConfig{URL: "mailto:x", RoutingKey: testRoutingKey}, wantErr: []string{`URL "mailto:": want an absolute http or https URL`}},
		{name: "no routing key", wantErr: []string{"RoutingKey: required"}},
		{name: "negative timeout", cfg: PagerDutyConfig{RoutingKey: testRoutingKey, Timeout: -1}, wantErr: []string{"Timeout -1ns: must not be negative"}},
		{name: "negative retry budget", cfg: PagerDutyConfig{RoutingKey: testRoutingKey, RetryBudget: -1}, wantErr: []string{"RetryBudget -1ns: must not be negative"}},
		{name: "negative max attempts", cfg: PagerDutyConfig{RoutingKey: testRoutingKey, MaxAttempts: -1}, wantErr: []string{"MaxAttempts -1: must not be negative"}},
		{
			name:    "every problem at once",
			cfg:     PagerDutyConfig{URL: "mailto:x", Timeout: -1, RetryBudget: -1, MaxAttempts: -1},
			wantErr: []string{"URL", "RoutingKey", "Timeout", "RetryBudget", "MaxAttempts"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			requireProblems(t, err, tt.wantErr)
			if err != nil {
				require.NotContains(t, err.Error(), testRoutingKey)
			}
			pd, err := NewPagerDuty(tt.cfg)
			if len(tt.wantErr) == 0 {
				require.NoError(t, err)
				require.NoError(t, pd.Close(t.Context()))
				return
			}
			require.ErrorContains(t, err, "validating pagerduty sink config")
		})
	}
}

func TestPagerDutyContract(t *testing.T) {
	fake := newFakePagerDuty(0)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	pd, err := NewPagerDuty(PagerDutyConfig{URL: srv.URL, RoutingKey: testRoutingKey})
	require.NoError(t, err)
	defer pd.Close(context.Background())
	require.NotContains(t, pd.String(), testRoutingKey)

	evs := testEvents(t, 3)
	updated := evs[0]
	updated.Type, updated.ID = schemas.TypeUpdated, evs[0].Data.IncidentID+"-9"
	updated.Data.Occurrences = 5
	resolved := evs[1]
	resolved.Type, resolved.Data.Status = schemas.TypeResolved, schemas.StatusResolved
	long := evs[2]
	long.Data.Title = strings.Repeat("é", 2000) // over the summary bound
	require.NoError(t, pd.Write(context.Background(), []schemas.IncidentEvent{evs[0], evs[1], updated, resolved, long}))

	require.Equal(t, 5, fake.requests, "one request per event, none rejected")
	require.Equal(t, map[string]string{
		"inc-000000000001": "triggered", "inc-000000000002": "resolved", "inc-000000000003": "triggered",
	}, fake.state)
	require.Equal(t, 2, fake.triggers["inc-000000000001"], "updated triggers again under the same dedup_key")
	got := fake.last["inc-000000000001"]
	require.Equal(t, "Authentication error: user0@contoso.com (tenant t-1042)", got.Payload.Summary)
	require.Equal(t, "t-1042/user0@contoso.com", got.Payload.Source)
	require.Equal(t, "critical", got.Payload.Severity)
	require.Equal(t, "ExchangeConnector", got.Payload.Component)
	require.Equal(t, "t-1042", got.Payload.Group)
	require.Equal(t, "exchange.auth.password", got.Payload.Class)
	require.Equal(t, evs[0].Data.Remediation, got.Payload.CustomDetails["remediation"])
	require.EqualValues(t, 5, got.Payload.CustomDetails["occurrences"])
	evidence, ok := got.Payload.CustomDetails["evidence"].([]any)
	require.True(t, ok)
	require.Len(t, evidence, 1)
	require.Equal(t, "warning", fake.last["inc-000000000002"].Payload.Severity)
	require.Equal(t, 1024, utf8.RuneCountInString(fake.last["inc-000000000003"].Payload.Summary))
}

func TestPagerDutyRetriesAndDeadLetters(t *testing.T) {
	tests := []struct {
		scenario   string
		throttle   int
		routingKey string
		dead       int
		state      string
	}{
		{"429 twice then success", 2, testRoutingKey, 0, "triggered"},
		{"400 invalid routing key is dead-lettered", 0, "short-key", 1, ""},
	}
	for _, test := range tests {
		t.Run(test.scenario, func(t *testing.T) {
			fake := newFakePagerDuty(test.throttle)
			srv := httptest.NewServer(fake)
			defer srv.Close()
			dead := &Memory{}
			pd, err := NewPagerDuty(PagerDutyConfig{URL: srv.URL, RoutingKey: test.routingKey, DeadLetters: dead})
			require.NoError(t, err)
			pd.poster.retry.initial, pd.poster.retry.max = time.Millisecond, 5*time.Millisecond
			defer pd.Close(context.Background())
			require.NoError(t, pd.Write(context.Background(), testEvents(t, 1)))
			require.Equal(t, test.throttle+1, fake.requests)
			require.Equal(t, test.state, fake.state["inc-000000000001"])
			letters := dead.DeadLetters()
			require.Len(t, letters, test.dead)
			for _, l := range letters {
				require.Equal(t, "pagerduty/inc-000000000001-1", l.Origin)
				require.Contains(t, l.Reason, "400")
				require.Contains(t, l.Reason, "routing_key", "the reason quotes PagerDuty's errors")
				require.NotContains(t, l.Reason+string(l.RawBase64), test.routingKey, "the routing key never leaks")
				_, err := schemas.DecodeEvent(l.RawBase64)
				require.NoError(t, err, "the dead letter holds the incident event")
			}
		})
	}

	t.Run("5xx past the budget fails Write without dead letters", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "down", http.StatusBadGateway)
		}))
		defer srv.Close()
		pd, err := NewPagerDuty(PagerDutyConfig{URL: srv.URL, RoutingKey: testRoutingKey, MaxAttempts: 3})
		require.NoError(t, err)
		pd.poster.retry.initial, pd.poster.retry.max = time.Millisecond, 5*time.Millisecond
		err = pd.Write(context.Background(), testEvents(t, 1))
		var herr *HTTPError
		require.ErrorAs(t, err, &herr)
		require.Equal(t, 3, herr.Attempts)
		require.Equal(t, http.StatusBadGateway, herr.StatusCode)
		require.NotContains(t, err.Error(), testRoutingKey)
	})
}
