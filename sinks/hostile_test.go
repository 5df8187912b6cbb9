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

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/schemas"
)

// hostile is log text an attacker who controls a connector's lines can
// put in an incident: markup, JSON and header breakers, terminal escapes,
// bidi overrides, NUL.
const hostile = "</script><img src=x onerror=alert(1)>\"},{\"injected\":true}\r\nX-Injected: 1\x1b]0;pwned\x07\x1b[2J\u202e\x00end"

// TestNotificationPayloadsEscapeHostileText sends an incident whose every
// free-text field holds hostile text to the webhook, Alertmanager and
// PagerDuty: each request body is one well-formed JSON document that
// decodes back to exactly the text (nothing breaks out of its string),
// and holds no raw control byte (a terminal showing it runs no escape).
func TestNotificationPayloadsEscapeHostileText(t *testing.T) {
	var mu sync.Mutex
	var bodies [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte(`{"status":"success","message":"Event processed","dedup_key":"k"}`))
	}))
	defer srv.Close()

	ev := testEvents(t, 1)[0]
	ev.Data.Title, ev.Data.Remediation, ev.Data.Mailbox, ev.Data.Template = hostile, hostile, "m"+hostile, hostile
	ev.Data.Details = map[string]any{"limit": hostile}
	ev.Data.SampleRecords = []string{hostile}
	for i := range ev.Data.Evidence {
		ev.Data.Evidence[i].Message = hostile
	}

	wh := newWebhook(t, fastRetries(WebhookConfig{URL: srv.URL + "/hook", DeadLetters: NewMemory()}))
	am, err := newAlertmanager(AlertmanagerConfig{URL: srv.URL, ResendInterval: time.Hour}, time.Now)
	require.NoError(t, err)
	pd, err := NewPagerDuty(PagerDutyConfig{URL: srv.URL, RoutingKey: testRoutingKey})
	require.NoError(t, err)
	for _, s := range []Sink{wh, am, pd} {
		require.NoError(t, s.Write(context.Background(), []schemas.IncidentEvent{ev}), "%s", s)
		require.NoError(t, s.Close(context.Background()))
	}

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, bodies, 3, "one request per sink")
	for i, b := range bodies {
		var v any
		require.NoError(t, json.Unmarshal(b, &v), "body %d is one JSON document", i)
		var found int
		var walk func(any)
		walk = func(x any) {
			switch x := x.(type) {
			case string:
				if strings.Contains(x, hostile) {
					found++
				}
			case map[string]any:
				require.NotContains(t, x, "injected", "no key injected: the text stayed in its string")
				for _, y := range x {
					walk(y)
				}
			case []any:
				for _, y := range x {
					walk(y)
				}
			}
		}
		walk(v)
		require.Positive(t, found, "body %d carries the text intact: %s", i, b)
		for j, c := range b {
			require.False(t, c < 0x20 && c != '\n', "body %d: raw control byte %#x at %d", i, c, j)
		}
	}
}
