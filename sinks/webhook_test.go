package sinks

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/schemas"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

// hookRequest is one request a hookServer received.
type hookRequest struct {
	at     time.Time
	header http.Header
	body   []byte
}

// hookServer is a webhook subscriber whose answer to the n-th request
// (from 0) is decided by respond; it records every request.
type hookServer struct {
	mu       sync.Mutex
	requests []hookRequest
	respond  func(n int, w http.ResponseWriter)
}

func (h *hookServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	n := len(h.requests)
	h.requests = append(h.requests, hookRequest{at: time.Now(), header: r.Header.Clone(), body: body})
	h.mu.Unlock()
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	if h.respond == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h.respond(n, w)
}

func (h *hookServer) received() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookRequest(nil), h.requests...)
}

// statuses answers the n-th request with codes[n], and the last code
// after that.
func statuses(codes ...int) func(int, http.ResponseWriter) {
	return func(n int, w http.ResponseWriter) {
		w.WriteHeader(codes[min(n, len(codes)-1)])
	}
}

// fastRetries are retry settings that keep tests short.
func fastRetries(cfg WebhookConfig) WebhookConfig {
	cfg.RetryInitialInterval = 5 * time.Millisecond
	cfg.RetryMaxInterval = 20 * time.Millisecond
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	return cfg
}

func newWebhook(t *testing.T, cfg WebhookConfig) *Webhook {
	t.Helper()
	if cfg.Secret == nil {
		cfg.Secret = testSecret
	}
	w, err := NewWebhook(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { w.Close(context.Background()) })
	return w
}

// eventBody is the exact body every sink carries for e.
func eventBody(t *testing.T, e schemas.IncidentEvent) []byte {
	t.Helper()
	b, err := json.Marshal(e)
	require.NoError(t, err)
	return b
}

func TestWebhookConfigValidate(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("not a certificate"), 0o600))
	const url = "https://hooks.example.com/in"
	tests := []struct {
		name string
		cfg  WebhookConfig
		want []string // substrings of the error, one per problem; none: valid
	}{
		{"minimal", WebhookConfig{URL: url, Secret: testSecret}, nil},
		{"every field set", WebhookConfig{URL: url, Secret: testSecret, Timeout: time.Second, RetryBudget: time.Second, MaxAttempts: 1,
			RetryInitialInterval: time.Millisecond, RetryMaxInterval: time.Second, InsecureSkipVerify: true}, nil},
		{"empty", WebhookConfig{}, []string{"URL: required", "Secret: required"}},
		{"not http", WebhookConfig{URL: "ftp://bob:pw-in-url@files.example.com/x?token=tok-in-url", Secret: testSecret},
			[]string{`URL "ftp://files.example.com/x": want an absolute http or https URL`}},
		{"not a URL", WebhookConfig{URL: "http://bob:pw-in-url@x:port/?token=tok-in-url", Secret: testSecret}, []string{"URL: not a valid URL"}},
		{"relative", WebhookConfig{URL: "/hooks", Secret: testSecret}, []string{"want an absolute http or https URL"}},
		{"no secret", WebhookConfig{URL: url}, []string{"Secret: required"}},
		{"negative timeout", WebhookConfig{URL: url, Secret: testSecret, Timeout: -1}, []string{"Timeout -1ns: must not be negative"}},
		{"negative retry budget", WebhookConfig{URL: url, Secret: testSecret, RetryBudget: -1}, []string{"RetryBudget -1ns: must not be negative"}},
		{"negative max attempts", WebhookConfig{URL: url, Secret: testSecret, MaxAttempts: -1}, []string{"MaxAttempts -1: must not be negative"}},
		{"negative retry initial interval", WebhookConfig{URL: url, Secret: testSecret, RetryInitialInterval: -1}, []string{"RetryInitialInterval -1ns: must not be negative"}},
		{"negative retry max interval", WebhookConfig{URL: url, Secret: testSecret, RetryMaxInterval: -1}, []string{"RetryMaxInterval -1ns: must not be negative"}},
		{"missing CA file", WebhookConfig{URL: url, Secret: testSecret, CAFile: "/nonexistent/ca.pem"}, []string{"CAFile: reading CA file"}},
		{"CA file without a certificate", WebhookConfig{URL: url, Secret: testSecret, CAFile: notPEM}, []string{"CAFile: no PEM certificate"}},
		{"every problem at once", WebhookConfig{URL: "/hooks", Timeout: -1, RetryBudget: -1, MaxAttempts: -1,
			RetryInitialInterval: -1, RetryMaxInterval: -1, CAFile: "/nonexistent/ca.pem"},
			[]string{"URL", "Secret", "Timeout -1ns", "RetryBudget -1ns", "MaxAttempts -1", "RetryInitialInterval -1ns", "RetryMaxInterval -1ns", "CAFile"}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			err := test.cfg.Validate()
			requireProblems(t, err, test.want)
			if err != nil {
				require.NotContains(t, err.Error(), "pw-in-url")
				require.NotContains(t, err.Error(), "tok-in-url")
				require.NotContains(t, err.Error(), string(testSecret))
			}
			w, err := NewWebhook(test.cfg)
			if len(test.want) == 0 {
				require.NoError(t, err)
				require.NoError(t, w.Close(t.Context()))
				return
			}
			require.ErrorContains(t, err, "validating webhook sink config")
		})
	}
}

func TestWebhookHappy(t *testing.T) {
	hs := &hookServer{}
	srv := httptest.NewServer(hs)
	defer srv.Close()
	dead := NewMemory()
	w := newWebhook(t, fastRetries(WebhookConfig{URL: srv.URL + "/hooks/syncwatch", DeadLetters: dead}))

	events := testEvents(t, 3)
	require.NoError(t, w.Write(context.Background(), events))

	got := hs.received()
	require.Len(t, got, len(events), "one request per event")
	for i, r := range got {
		require.Equal(t, schemas.ContentType, r.header.Get("Content-Type"), "structured mode")
		require.Empty(t, r.header.Get("Ce-Id"), "structured mode carries no ce- headers")
		require.Equal(t, string(eventBody(t, events[i])), string(r.body), "body is exactly the event's JSON, in order")
		require.NoError(t, VerifyWebhook(testSecret, r.header, r.body, time.Now(), time.Minute))
		require.NoError(t, schemas.Validate("incident-event.v1", r.body))
	}
	require.Empty(t, dead.DeadLetters())
	require.Equal(t, "webhook:"+srv.URL+"/hooks/syncwatch", w.String())

	require.NoError(t, w.Close(context.Background()))
	require.ErrorIs(t, w.Write(context.Background(), events), ErrClosed)
	require.Len(t, hs.received(), len(events), "nothing sent after Close")
}

func TestVerifyWebhook(t *testing.T) {
	body := []byte(strings.TrimSuffix(fixedLine, "\n"))
	now := time.Date(2026, 11, 24, 10, 15, 32, 0, time.UTC)
	signed := func(at time.Time, secret []byte, b []byte) http.Header {
		ts := strconv.FormatInt(at.Unix(), 10)
		h := http.Header{}
		h.Set(webhookTimestampHeader, ts)
		h.Set(webhookSignatureHeader, webhookSignature(secret, ts, b))
		return h
	}
	tests := []struct {
		name   string
		header func() http.Header
		body   []byte
		want   error
	}{
		{"valid", func() http.Header { return signed(now, testSecret, body) }, body, nil},
		{"valid, within tolerance", func() http.Header { return signed(now.Add(-4*time.Minute), testSecret, body) }, body, nil},
		{"tampered body", func() http.Header { return signed(now, testSecret, body) },
			bytes.Replace(body, []byte(`"critical"`), []byte(`"warning!"`), 1), ErrWebhookSignature},
		{"one byte appended", func() http.Header { return signed(now, testSecret, body) }, append(bytes.Clone(body), ' '), ErrWebhookSignature},
		{"tampered timestamp", func() http.Header {
			h := signed(now.Add(-time.Hour), testSecret, body)
			h.Set(webhookTimestampHeader, strconv.FormatInt(now.Unix(), 10)) // a replay made to look fresh
			return h
		}, body, ErrWebhookSignature},
		{"other secret", func() http.Header { return signed(now, []byte("another secret"), body) }, body, ErrWebhookSignature},
		{"no signature", func() http.Header {
			h := signed(now, testSecret, body)
			h.Del(webhookSignatureHeader)
			return h
		}, body, ErrWebhookSignature},
		{"signature not hex", func() http.Header {
			h := signed(now, testSecret, body)
			h.Set(webhookSignatureHeader, "sha256=zz")
			return h
		}, body, ErrWebhookSignature},
		{"too old", func() http.Header { return signed(now.Add(-6*time.Minute), testSecret, body) }, body, ErrWebhookTimestamp},
		{"too far ahead", func() http.Header { return signed(now.Add(6*time.Minute), testSecret, body) }, body, ErrWebhookTimestamp},
		{"no timestamp", func() http.Header {
			h := signed(now, testSecret, body)
			h.Del(webhookTimestampHeader)
			return h
		}, body, ErrWebhookTimestamp},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			err := VerifyWebhook(testSecret, test.header(), test.body, now, 5*time.Minute)
			if test.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, test.want)
		})
	}
	// A zero tolerance is the default, 5 minutes; a negative one rejects
	// every request, even a valid one.
	require.NoError(t, VerifyWebhook(testSecret, signed(now.Add(-4*time.Minute), testSecret, body), body, now, 0))
	require.ErrorIs(t, VerifyWebhook(testSecret, signed(now.Add(-6*time.Minute), testSecret, body), body, now, 0), ErrWebhookTimestamp)
	require.ErrorContains(t, VerifyWebhook(testSecret, signed(now, testSecret, body), body, now, -time.Minute), "tolerance -1m0s must not be negative")
}

func TestWebhookRetries(t *testing.T) {
	tests := []struct {
		scenario     string
		cfg          WebhookConfig
		respond      func(int, http.ResponseWriter)
		wantAttempts int
		wantDead     string // substring of the dead letter's reason; "": delivered
		check        func(t *testing.T, got []hookRequest)
	}{
		{
			scenario: "503 then 200 is retried", respond: statuses(503, 200), wantAttempts: 2,
			check: func(t *testing.T, got []hookRequest) {
				// every attempt is signed afresh and verifies
				for _, r := range got {
					require.NoError(t, VerifyWebhook(testSecret, r.header, r.body, time.Now(), time.Minute))
				}
			},
		},
		{
			scenario: "429 with Retry-After is honoured",
			respond: func(n int, w http.ResponseWriter) {
				if n == 0 {
					w.Header().Set("Retry-After", "1")
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				w.WriteHeader(http.StatusOK)
			},
			wantAttempts: 2,
			check: func(t *testing.T, got []hookRequest) {
				// the backoff alone would wait at most 20ms
				require.GreaterOrEqual(t, got[1].at.Sub(got[0].at), 950*time.Millisecond)
			},
		},
		{
			scenario: "Retry-After past the budget dead-letters at once",
			cfg:      WebhookConfig{RetryBudget: 500 * time.Millisecond},
			respond: func(n int, w http.ResponseWriter) {
				w.Header().Set("Retry-After", "30")
				w.WriteHeader(http.StatusServiceUnavailable)
			},
			wantAttempts: 1, wantDead: "HTTP 503 Service Unavailable",
		},
		{scenario: "400 is permanent", respond: statuses(400, 200), wantAttempts: 1, wantDead: "HTTP 400 Bad Request"},
		{scenario: "404 is permanent", respond: statuses(404, 200), wantAttempts: 1, wantDead: "HTTP 404 Not Found"},
		{
			scenario: "a redirect is not followed",
			respond: func(n int, w http.ResponseWriter) {
				w.Header().Set("Location", "/elsewhere")
				w.WriteHeader(http.StatusTemporaryRedirect)
			},
			wantAttempts: 1, wantDead: "HTTP 307",
		},
		{scenario: "attempts exhausted", cfg: WebhookConfig{MaxAttempts: 3}, respond: statuses(500), wantAttempts: 3, wantDead: "after 3 attempts: HTTP 500"},
		{
			scenario: "retry budget exhausted", cfg: WebhookConfig{RetryBudget: 300 * time.Millisecond}, respond: statuses(502),
			wantAttempts: -1, wantDead: "HTTP 502 Bad Gateway",
			check: func(t *testing.T, got []hookRequest) {
				require.GreaterOrEqual(t, len(got), 3, "retried while the budget lasted")
				require.Less(t, got[len(got)-1].at.Sub(got[0].at), 2*time.Second, "stopped when the budget was spent")
			},
		},
	}
	for _, test := range tests {
		t.Run(test.scenario, func(t *testing.T) {
			hs := &hookServer{respond: test.respond}
			srv := httptest.NewServer(hs)
			defer srv.Close()
			dead := NewMemory()
			cfg := fastRetries(test.cfg)
			cfg.URL, cfg.DeadLetters = srv.URL, dead
			w := newWebhook(t, cfg)

			events := testEvents(t, 1)
			require.NoError(t, w.Write(context.Background(), events), "delivered or dead-lettered: acknowledged")
			got := hs.received()
			if test.wantAttempts >= 0 {
				require.Len(t, got, test.wantAttempts)
			}
			if test.check != nil {
				test.check(t, got)
			}
			letters := dead.DeadLetters()
			if test.wantDead == "" {
				require.Empty(t, letters)
				return
			}
			require.Len(t, letters, 1)
			require.Contains(t, letters[0].Reason, test.wantDead)
			require.Contains(t, letters[0].Reason, events[0].ID)
			require.Equal(t, "webhook/"+events[0].ID, letters[0].Origin)
			require.Equal(t, string(eventBody(t, events[0])), string(letters[0].RawBase64), "the dead letter holds the event as sent")
			line, err := json.Marshal(letters[0])
			require.NoError(t, err)
			require.NoError(t, schemas.Validate(schemas.SchemaDeadLetter, line))
		})
	}
}

func TestWebhookWithoutDeadLettersFails(t *testing.T) {
	hs := &hookServer{respond: statuses(200, 400, 200)}
	srv := httptest.NewServer(hs)
	defer srv.Close()
	w := newWebhook(t, fastRetries(WebhookConfig{URL: srv.URL}))

	events := testEvents(t, 3)
	err := w.Write(context.Background(), events)
	var werr *WebhookError
	require.ErrorAs(t, err, &werr, "an undeliverable event with nowhere to go is not acknowledged")
	require.Equal(t, events[1].ID, werr.EventID)
	require.Equal(t, http.StatusBadRequest, werr.StatusCode)
	require.Equal(t, 1, werr.Attempts)
	require.Len(t, hs.received(), 2, "the batch stops at the failed event")
}

func TestWebhookDeadLetterFailureFailsWrite(t *testing.T) {
	hs := &hookServer{respond: statuses(400)}
	srv := httptest.NewServer(hs)
	defer srv.Close()
	dead := NewMemory()
	dead.onWriteDeadLetters = func([]schemas.DeadLetter) error { return errInjected }
	w := newWebhook(t, fastRetries(WebhookConfig{URL: srv.URL, DeadLetters: dead}))
	err := w.Write(context.Background(), testEvents(t, 1))
	require.ErrorIs(t, err, errInjected)
	var werr *WebhookError
	require.False(t, errors.As(err, &werr), "the delivery error is reported in the text, the dead-letter error is the cause")
	require.Contains(t, err.Error(), "HTTP 400")
}

func TestWebhookContextCancelStopsRetries(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hs := &hookServer{}
	hs.respond = func(n int, w http.ResponseWriter) {
		if n == 1 {
			cancel() // the caller gives up during the second attempt
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	srv := httptest.NewServer(hs)
	defer srv.Close()
	dead := NewMemory()
	w := newWebhook(t, fastRetries(WebhookConfig{URL: srv.URL, DeadLetters: dead, RetryBudget: time.Hour}))

	start := time.Now()
	err := w.Write(ctx, testEvents(t, 2))
	require.ErrorIs(t, err, context.Canceled)
	require.Less(t, time.Since(start), 2*time.Second)
	n := len(hs.received())
	require.Equal(t, 2, n)
	time.Sleep(100 * time.Millisecond)
	require.Len(t, hs.received(), n, "no attempt after Write returned")
	require.Empty(t, dead.DeadLetters(), "a cancelled delivery is not a failed one")
}

func TestWebhookTLS(t *testing.T) {
	hs := &hookServer{}
	srv := httptest.NewTLSServer(hs)
	defer srv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))

	tests := []struct {
		scenario  string
		cfg       WebhookConfig
		delivered bool
	}{
		{"verification is on by default: an untrusted certificate fails", WebhookConfig{}, false},
		{"the configured CA is trusted", WebhookConfig{CAFile: caFile}, true},
		{"verification off (tests only)", WebhookConfig{InsecureSkipVerify: true}, true},
	}
	for _, test := range tests {
		t.Run(test.scenario, func(t *testing.T) {
			before := len(hs.received())
			dead := NewMemory()
			cfg := fastRetries(test.cfg)
			cfg.URL, cfg.DeadLetters, cfg.MaxAttempts = srv.URL, dead, 5
			w := newWebhook(t, cfg)
			require.NoError(t, w.Write(context.Background(), testEvents(t, 1)))
			got := hs.received()[before:]
			if test.delivered {
				require.Len(t, got, 1)
				require.NoError(t, VerifyWebhook(testSecret, got[0].header, got[0].body, time.Now(), time.Minute))
				require.Empty(t, dead.DeadLetters())
				return
			}
			require.Empty(t, got, "nothing reaches an unverified server")
			letters := dead.DeadLetters()
			require.Len(t, letters, 1)
			require.Contains(t, letters[0].Reason, "certificate")
			require.Contains(t, letters[0].Reason, "after 1 attempts", "a certificate error is not retried")
		})
	}
}

func TestWebhookNeverPrintsURLSecrets(t *testing.T) {
	const pw, tok = "pw-planted-7731", "tok-planted-4409"
	hs := &hookServer{respond: statuses(401)}
	srv := httptest.NewServer(hs)
	defer srv.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close() // connection refused from now on

	for _, base := range []string{srv.URL, closedURL} {
		var logs bytes.Buffer
		dead := NewMemory()
		u := strings.Replace(base, "http://", "http://bob:"+pw+"@", 1) + "/in?token=" + tok
		w := newWebhook(t, fastRetries(WebhookConfig{URL: u, DeadLetters: dead, MaxAttempts: 2,
			Logger: slogTo(&logs)}))
		require.NoError(t, w.Write(context.Background(), testEvents(t, 1)))
		letters := dead.DeadLetters()
		require.Len(t, letters, 1)
		for _, out := range []string{letters[0].Reason, logs.String(), w.String()} {
			require.NotContains(t, out, pw)
			require.NotContains(t, out, tok)
		}
		require.Contains(t, letters[0].Reason, "/in", "the URL is still named")
	}
	require.Len(t, hs.received(), 1, "401 is permanent: one attempt")
}

func slogTo(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func ExampleVerifyWebhook() {
	secret := []byte("shared secret from the subscriber's vault")
	// The subscriber: verify, then decode.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := VerifyWebhook(secret, r.Header, body, time.Now(), 5*time.Minute); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		ev, err := schemas.DecodeEvent(body)
		if err != nil {
			http.Error(w, "bad event", http.StatusBadRequest)
			return
		}
		fmt.Println(ev.Type, ev.Data.IncidentID, ev.Data.Class)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()

	hook, err := NewWebhook(WebhookConfig{URL: srv.URL, Secret: secret})
	if err != nil {
		panic(err)
	}
	defer hook.Close(context.Background())
	if err := hook.Write(context.Background(), []schemas.IncidentEvent{fixedEvent()}); err != nil {
		panic(err)
	}
	// Output: com.syncwatch.incident.opened inc-5d1c0e9a7b3f exchange.auth.password
}
