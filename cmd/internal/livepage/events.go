package livepage

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"github.com/syncwatch/syncwatch/pipeline/view"
)

// Tuning of Events.
const (
	// eventsBuffer is how many events a stream may fall behind before the
	// view drops it (and the stream sends reset).
	eventsBuffer = 256
	// keepalive is how often an idle stream sends a comment line, so that
	// proxies and load balancers do not close it.
	keepalive = 15 * time.Second
	// writeTimeout bounds each write to a stream: a client that stops
	// reading is let go (the server's own WriteTimeout would end every
	// stream after that long instead).
	writeTimeout = 30 * time.Second
)

// Events returns the server-sent-events stream of the events applied to
// v from the request on, for the page's script (mount it at
// Options.EventsPath). For each event it sends
//
//	event: incident
//	data: <the CloudEvent JSON, on one line>
//
// and, when the view dropped the stream for falling behind,
//
//	event: reset
//	data: {}
//
// and closes (the page reconnects and fetches its body again). Between
// events it sends a comment line (": keepalive") every 15 s, which
// EventSource ignores. It checks no authentication.
func Events(v *view.View) http.Handler { return events(v, eventsBuffer, keepalive) }

func events(v *view.View, buffer int, keepalive time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", "GET")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		rc := http.NewResponseController(w)
		sub := v.Subscribe(buffer) // before the headers: the client misses nothing after them
		defer sub.Close()
		h := w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
		w.WriteHeader(http.StatusOK)
		send := func(b []byte) bool {
			rc.SetWriteDeadline(time.Now().Add(writeTimeout)) // not supported by every writer: then the server's applies
			if _, err := w.Write(b); err != nil {
				return false
			}
			return rc.Flush() == nil
		}
		if !send(nil) {
			return
		}
		tick := time.NewTicker(keepalive)
		defer tick.Stop()
		var buf bytes.Buffer
		for {
			select {
			case <-r.Context().Done():
				return
			case <-tick.C:
				if !send([]byte(": keepalive\n\n")) {
					return
				}
			case raw, ok := <-sub.C:
				if !ok {
					if sub.Lost() {
						send([]byte("event: reset\ndata: {}\n\n"))
					}
					return
				}
				buf.Reset()
				buf.WriteString("event: incident\ndata: ")
				oneLine(&buf, raw)
				buf.WriteString("\n\n")
				if !send(buf.Bytes()) {
					return
				}
			}
		}
	})
}

// oneLine appends raw, a JSON document, to buf without line breaks (an
// SSE data line ends at one): compacted when it has any.
func oneLine(buf *bytes.Buffer, raw []byte) {
	if !bytes.ContainsAny(raw, "\r\n") {
		buf.Write(raw)
		return
	}
	n := buf.Len()
	if json.Compact(buf, raw) == nil {
		return
	}
	buf.Truncate(n)
	for _, c := range raw { // not JSON: the view applies only JSON, but never break the stream
		if c == '\r' || c == '\n' {
			c = ' '
		}
		buf.WriteByte(c)
	}
}
