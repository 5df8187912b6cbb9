package sinks

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/schemas"
)

// fakeAlertmanager records the alerts posted to /api/v2/alerts and answers
// the first failures requests with status fail.
type fakeAlertmanager struct {
	mu       sync.Mutex
	posts    [][]amAlert
	failures int
	fail     int
	user     string
}

func (f *fakeAlertmanager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.URL.Path != alertmanagerAlertsPath || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "wrong request", http.StatusNotFound)
		return
	}
	f.user, _, _ = r.BasicAuth()
	if f.failures > 0 {
		f.failures--
		http.Error(w, `{"code":400,"message":"start time must be before end time"}`, f.fail)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var alerts []amAlert
	if err := json.Unmarshal(body, &alerts); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.posts = append(f.posts, alerts)
}

func (f *fakeAlertmanager) all() [][]amAlert {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]amAlert(nil), f.posts...)
}

func TestAlertmanagerConfigValidate(t *testing.T) {
	const url = "http://am:9093"
	tests := []struct {
		name    string
		cfg     AlertmanagerConfig
		wantErr []string // one substring per problem; none: valid
	}{
		{name: "url only", cfg: AlertmanagerConfig{URL: url}},
		{name: "every field set", cfg: AlertmanagerConfig{URL: url, ResendInterval: time.Second, MaxOpen: 1, BatchSize: 1, Timeout: time.Second, RetryBudget: time.Second, MaxAttempts: 1}},
		{name: "no url", wantErr: []string{"URL: required"}},
		{name: "not http", cfg: AlertmanagerConfig{URL: "ftp://user:pw@am"}, wantErr: []string{`URL "ftp://am": want an absolute http or https URL`}},
		{name: "not a url", cfg: AlertmanagerConfig{URL: "http://user:pw@am:port"}, wantErr: []string{"URL: not a valid URL"}},
		{name: "negative resend interval", cfg: AlertmanagerConfig{URL: url, ResendInterval: -1}, wantErr: []string{"ResendInterval -1ns: must not be negative"}},
		{name: "negative max open", cfg: AlertmanagerConfig{URL: url, MaxOpen: -1}, wantErr: []string{"MaxOpen -1: must not be negative"}},
		{name: "negative batch size", cfg: AlertmanagerConfig{URL: url, BatchSize: -1}, wantErr: []string{"BatchSize -1: must not be negative"}},
		{name: "negative timeout", cfg: AlertmanagerConfig{URL: url, Timeout: -1}, wantErr: []string{"Timeout -1ns: must not be negative"}},
		{name: "negative retry budget", cfg: AlertmanagerConfig{URL: url, RetryBudget: -1}, wantErr: []string{"RetryBudget -1ns: must not be negative"}},
		{name: "negative max attempts", cfg: AlertmanagerConfig{URL: url, MaxAttempts: -1}, wantErr: []string{"MaxAttempts -1: must not be negative"}},
		{
			name:    "every problem at once",
			cfg:     AlertmanagerConfig{URL: "ftp://user:pw@am", ResendInterval: -1, MaxOpen: -1, BatchSize: -1, Timeout: -1, RetryBudget: -1, MaxAttempts: -1},
			wantErr: []string{"URL", "ResendInterval", "MaxOpen", "BatchSize", "Timeout", "RetryBudget", "MaxAttempts"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			requireProblems(t, err, tt.wantErr)
			if err != nil {
				require.NotContains(t, err.Error(), "pw")
			}
			am, err := NewAlertmanager(tt.cfg)
			if len(tt.wantErr) == 0 {
				require.NoError(t, err)
				require.NoError(t, am.Close(t.Context()))
				return
			}
			require.ErrorContains(t, err, "validating alertmanager sink config")
		})
	}
}

func TestAlertmanagerHappy(t *testing.T) {
	fake := &fakeAlertmanager{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	am, err := newAlertmanager(AlertmanagerConfig{URL: "http://ops:pw@" + srv.Listener.Addr().String(), ResendInterval: time.Hour, BatchSize: 2}, func() time.Time { return now })
	require.NoError(t, err)
	defer am.Close(context.Background())
	require.NotContains(t, am.String(), "pw")

	evs := testEvents(t, 3)
	resolved := evs[0]
	resolved.Type = schemas.TypeResolved
	resolved.Data.Status = schemas.StatusResolved
	resolved.Time.Time = resolved.Time.Add(time.Hour)
	require.NoError(t, am.Write(context.Background(), append(evs, resolved)))

	posts := fake.all()
	require.Len(t, posts, 2, "4 alerts in batches of 2")
	require.Equal(t, "ops", fake.user, "URL userinfo is sent as basic auth")
	a := posts[0][0]
	require.Equal(t, map[string]string{
		"alertname": "exchange.auth.password", "kind": "sync_error", "tenant": "t-1042",
		"mailbox": "user0@contoso.com", "severity": "critical", "producer": "ExchangeConnector",
	}, a.Labels)
	require.Equal(t, evs[0].Data.Title, a.Annotations["summary"])
	require.Equal(t, evs[0].Data.Remediation, a.Annotations["remediation"])
	require.Equal(t, "inc-000000000001", a.Annotations["incident_id"])
	require.True(t, a.StartsAt.Equal(evs[0].Data.FirstSeen.Time))
	require.True(t, a.EndsAt.Equal(now.Add(4*time.Hour)), "firing: endsAt = now + 4 resend intervals, got %v", a.EndsAt)
	r := posts[1][1]
	require.Equal(t, "inc-000000000001", r.Annotations["incident_id"])
	require.True(t, r.EndsAt.Equal(resolved.Time.Time), "resolved: endsAt = the resolve time")
	require.Equal(t, []string{"inc-000000000002", "inc-000000000003"}, am.Open())
}

func TestAlertmanagerResendsOnlyOpenAlerts(t *testing.T) {
	fake := &fakeAlertmanager{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	am, err := NewAlertmanager(AlertmanagerConfig{URL: srv.URL, ResendInterval: 50 * time.Millisecond, MaxOpen: 2})
	require.NoError(t, err)
	evs := testEvents(t, 4)
	resolved := evs[1]
	resolved.Type, resolved.Data.Status = schemas.TypeResolved, schemas.StatusResolved
	require.NoError(t, am.Write(context.Background(), append(evs[:3], resolved)))
	// MaxOpen 2: incidents 1 and 2 were kept, 3 was posted but not kept,
	// and 2 was then resolved.
	require.Equal(t, []string{"inc-000000000001"}, am.Open())
	require.Eventually(t, func() bool { return len(fake.all()) >= 3 }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, am.Close(context.Background()))
	posts := fake.all()
	for _, p := range posts[1:] {
		require.Len(t, p, 1, "a resend carries only the open alert")
		require.Equal(t, "inc-000000000001", p[0].Annotations["incident_id"])
		require.True(t, p[0].EndsAt.After(time.Now()), "a resend pushes endsAt into the future")
	}
	n := len(fake.all())
	time.Sleep(150 * time.Millisecond)
	require.Equal(t, n, len(fake.all()), "Close stops the resend loop")
	require.ErrorIs(t, am.Write(context.Background(), evs[:1]), ErrClosed)
}

func TestAlertmanagerRetriesAndDeadLetters(t *testing.T) {
	tests := []struct {
		scenario  string
		fail      int
		failures  int
		posts     int
		deadCount int
	}{
		{"503 twice is retried", http.StatusServiceUnavailable, 2, 1, 0},
		{"400 is dead-lettered at once", http.StatusBadRequest, 1, 0, 2},
		{"429 is retried", http.StatusTooManyRequests, 1, 1, 0},
	}
	for _, test := range tests {
		t.Run(test.scenario, func(t *testing.T) {
			fake := &fakeAlertmanager{fail: test.fail, failures: test.failures}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			dead := &Memory{}
			am, err := NewAlertmanager(AlertmanagerConfig{URL: srv.URL, ResendInterval: time.Hour, DeadLetters: dead})
			require.NoError(t, err)
			am.poster.retry.initial, am.poster.retry.max = time.Millisecond, 5*time.Millisecond
			defer am.Close(context.Background())
			require.NoError(t, am.Write(context.Background(), testEvents(t, 2)))
			require.Len(t, fake.all(), test.posts)
			letters := dead.DeadLetters()
			require.Len(t, letters, test.deadCount)
			for _, l := range letters {
				require.Contains(t, l.Reason, "400")
				require.Contains(t, l.Reason, "start time must be before end time", "the reason quotes Alertmanager's answer")
				require.Contains(t, l.Origin, "alertmanager/inc-")
			}
		})
	}

	t.Run("without dead letters a 400 fails Write", func(t *testing.T) {
		srv := httptest.NewServer(&fakeAlertmanager{fail: http.StatusBadRequest, failures: 1})
		defer srv.Close()
		am, err := NewAlertmanager(AlertmanagerConfig{URL: srv.URL})
		require.NoError(t, err)
		defer am.Close(context.Background())
		err = am.Write(context.Background(), testEvents(t, 1))
		var herr *HTTPError
		require.ErrorAs(t, err, &herr)
		require.Equal(t, http.StatusBadRequest, herr.StatusCode, "a 400 is permanent")
		require.Equal(t, 1, herr.Attempts)
	})
}
