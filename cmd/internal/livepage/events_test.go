package livepage

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/view"
	"github.com/syncwatch/syncwatch/schemas"
)

// sseEvent is one event of a stream: its lines, "event: ..." and
// "data: ..." (comments aside).
type sseEvent struct{ name, data string }

// readEvents reads n events from a stream.
func readEvents(t *testing.T, r *bufio.Reader, n int) []sseEvent {
	t.Helper()
	var out []sseEvent
	var cur sseEvent
	for len(out) < n {
		line, err := r.ReadString('\n')
		require.NoError(t, err)
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if cur != (sseEvent{}) {
				out = append(out, cur)
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "event: "):
			require.Empty(t, cur.name, "one event line per event")
			cur.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			require.Empty(t, cur.data, "one data line per event")
			cur.data = strings.TrimPrefix(line, "data: ")
		default:
			t.Fatalf("unexpected line %q", line)
		}
	}
	return out
}

func TestEventsStream(t *testing.T) {
	v := view.New(view.Config{})
	srv := httptest.NewServer(Events(v))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	require.Eventually(t, func() bool { return v.Subscribers() == 1 }, 5*time.Second, 5*time.Millisecond)

	evs := oauth.events(t)
	for _, e := range evs[:2] {
		_, err := v.Apply(e.raw)
		require.NoError(t, err)
	}
	// an event published pretty-printed still goes out on one data line
	var pretty strings.Builder
	var ev schemas.IncidentEvent
	require.NoError(t, json.Unmarshal(evs[2].raw, &ev))
	enc := json.NewEncoder(&pretty)
	enc.SetIndent("", "  ")
	require.NoError(t, enc.Encode(ev))
	require.Contains(t, pretty.String(), "\n  ")
	_, err = v.Apply([]byte(pretty.String()))
	require.NoError(t, err)

	got := readEvents(t, bufio.NewReader(resp.Body), 3)
	require.Equal(t, []sseEvent{
		{"incident", string(evs[0].raw)},
		{"incident", string(evs[1].raw)},
		{"incident", string(evs[2].raw)}, // compacted back to what json.Marshal writes
	}, got)

	cancel()
	require.Eventually(t, func() bool { return v.Subscribers() == 0 }, 5*time.Second, 5*time.Millisecond,
		"a client that leaves ends its subscription")
}

// stuckWriter is a ResponseWriter whose writes wait for release, as a
// client that stopped reading makes them.
type stuckWriter struct {
	header  http.Header
	mu      sync.Mutex
	written strings.Builder
	writes  chan struct{} // a write started
	release chan struct{}
}

func (w *stuckWriter) Header() http.Header { return w.header }
func (w *stuckWriter) WriteHeader(int)     {}
func (w *stuckWriter) Flush()              {}
func (w *stuckWriter) Write(b []byte) (int, error) {
	if len(b) > 0 {
		w.writes <- struct{}{}
		<-w.release
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.written.Write(b)
}

func TestEventsResetWhenSlow(t *testing.T) {
	v := view.New(view.Config{})
	w := &stuckWriter{header: http.Header{}, writes: make(chan struct{}, 16), release: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		events(v, 1, time.Hour).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	}()
	require.Eventually(t, func() bool { return v.Subscribers() == 1 }, 5*time.Second, 5*time.Millisecond)
	evs := mandatory.events(t)
	apply1 := func(raw []byte) {
		_, err := v.Apply(raw)
		require.NoError(t, err)
	}
	apply1(evs[0].raw)
	<-w.writes         // the stream is stuck writing the first event
	apply1(evs[1].raw) // fills the buffer of 1
	apply1(evs[2].raw) // overflows it: the view drops the stream
	require.Zero(t, v.Subscribers())
	close(w.release)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream did not end")
	}
	got := readEvents(t, bufio.NewReader(strings.NewReader(w.written.String())), 3)
	require.Equal(t, []sseEvent{
		{"incident", string(evs[0].raw)},
		{"incident", string(evs[1].raw)},
		{"reset", "{}"},
	}, got, "what was buffered, then reset")
	require.True(t, strings.HasSuffix(w.written.String(), "event: reset\ndata: {}\n\n"))
}

func TestEventsKeepalive(t *testing.T) {
	v := view.New(view.Config{})
	srv := httptest.NewServer(events(v, 8, 20*time.Millisecond))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, ": keepalive\n", line)

	resp2, err := http.Post(srv.URL, "text/plain", nil)
	require.NoError(t, err)
	resp2.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp2.StatusCode)
}
