package liveapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"
)

// events streams the view's incident events as server-sent events:
//
//	id: <event id>
//	event: incident
//	data: <the CloudEvent JSON, one line>
//
// from the moment of the request on (the current state is GET
// /api/v1/incidents). A client that falls Options.Buffer events behind
// is sent "event: reset" and dropped: it reloads the state and
// reconnects. An idle stream sends a comment every Options.Heartbeat.
func (a *API) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	sub := a.v.Subscribe(a.opts.Buffer)
	defer sub.Close()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	// the reconnection delay, and a first line the client sees at once
	w.Write([]byte("retry: 2000\n: live view of syncwatch incidents\n\n"))
	if rc.Flush() != nil {
		return
	}
	// a server's WriteTimeout would cut the stream: each write has its own
	rc.SetWriteDeadline(time.Time{})
	tick := time.NewTicker(a.opts.Heartbeat)
	defer tick.Stop()
	var buf bytes.Buffer
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			w.Write([]byte(": keep-alive\n\n"))
		case raw, ok := <-sub.C:
			if !ok {
				w.Write([]byte("event: reset\ndata: {}\n\n"))
				rc.Flush()
				return
			}
			buf.Reset()
			writeEvent(&buf, raw)
			// and whatever else is already waiting, in one write
			for more := true; more && buf.Len() < 1<<20; {
				select {
				case raw, ok := <-sub.C:
					if !ok {
						buf.WriteString("event: reset\ndata: {}\n\n")
						w.Write(buf.Bytes())
						rc.Flush()
						return
					}
					writeEvent(&buf, raw)
				default:
					more = false
				}
			}
			if _, err := w.Write(buf.Bytes()); err != nil {
				return
			}
		}
		if rc.Flush() != nil {
			return
		}
	}
}

// writeEvent writes one incident event, its JSON on one data line: the
// sinks publish it so, and an event published pretty-printed by another
// tool is compacted (a line break would end the data field).
func writeEvent(buf *bytes.Buffer, raw []byte) {
	if bytes.ContainsAny(raw, "\r\n") {
		var c bytes.Buffer
		if json.Compact(&c, raw) == nil {
			raw = c.Bytes()
		} else {
			raw = bytes.ReplaceAll(bytes.ReplaceAll(raw, []byte("\r"), nil), []byte("\n"), []byte(" "))
		}
	}
	if id := eventID(raw); id != "" {
		buf.WriteString("id: ")
		buf.WriteString(id)
		buf.WriteByte('\n')
	}
	buf.WriteString("event: incident\ndata: ")
	buf.Write(raw)
	buf.WriteString("\n\n")
}

// eventID finds the "id" of a CloudEvent without decoding it: the sinks
// write it second, after "specversion". An id that is not plain is left
// out (an SSE id must not hold a line break).
func eventID(raw []byte) string {
	i := bytes.Index(raw, []byte(`"id":"`))
	if i < 0 || i > 64 {
		return ""
	}
	rest := raw[i+6:]
	j := bytes.IndexByte(rest, '"')
	if j <= 0 || j > 64 {
		return ""
	}
	for _, c := range rest[:j] {
		if !(c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z') {
			return ""
		}
	}
	return string(rest[:j])
}
