package parse

import (
	"bytes"
	"time"

	"github.com/syncwatch/syncwatch/schemas"
)

// Input out of order. A file, or a Kafka partition a shipper feeds, may
// hold several streams one after another, each in its own time order: the
// three producers' logs concatenated, or a shipper's backlog of files read
// one by one or in large chunks (rsyslog's imfile reads a waiting file to
// its end before the next). Read in order, each stream's entries come
// hours after the entries before them, far beyond what a reorder window
// absorbs. An OrderSample of windows spread over the input tells such
// input from one stream, or streams interleaved as live shipping sends
// them; StreamOf tells the streams apart.

// MaxStepBack is how far event time may go back from one entry to the
// next, or from a window of a sample to a later one, in input that is in
// order: producers' clocks disagree by seconds, not minutes.
const MaxStepBack = time.Minute

// StreamOf returns the stream a line or message belongs to: the file its
// envelope names (shipper, host and file), or its format (with the
// envelope's shipper and host, when it names no file); "" for none (a
// continuation line, garbage). u's buffers are reused.
func StreamOf(u *Unwrapper, msg []byte) string {
	msg = bytes.TrimRight(msg, "\r\n")
	if len(msg) == 0 || IsContinuation(msg) {
		return ""
	}
	ws, err := u.Unwrap(msg)
	if err != nil || len(ws) == 0 {
		return ""
	}
	w := &ws[0]
	f := DetectFormat(w.Entry)
	switch {
	case w.Shipper != "" && w.File != "":
		return w.Shipper + " " + w.Host + ":" + w.File
	case f == FormatUnknown:
		return ""
	case w.Shipper != "": // an envelope that names no file (syslog-ng's)
		return w.Shipper + " " + w.Host + ": " + f.String()
	}
	return f.String()
}

// OrderSample judges the event-time order of an input from samples of
// it: windows spread over the input, in order, each of messages (or
// lines) in order. The zero value is ready; it is not safe for concurrent
// use.
type OrderSample struct {
	// Envelope is the envelope messages come in. Default: EnvelopeAuto.
	Envelope Envelope

	u        Unwrapper
	rec      schemas.LogRecord
	windows  []window
	stepBack bool // event time went back by more than MaxStepBack in a window
}

// window is a window's span of event time.
type window struct{ min, max time.Time }

// Window starts the next window.
func (o *OrderSample) Window() { o.windows = append(o.windows, window{}) }

// Add samples a message (or line) of the current window.
func (o *OrderSample) Add(msg []byte) {
	if len(o.windows) == 0 {
		o.Window()
	}
	o.u.Envelope = o.Envelope
	ws, err := o.u.Unwrap(msg)
	if err != nil {
		return
	}
	w := &o.windows[len(o.windows)-1]
	for i := range ws {
		if Entry(ws[i].Entry, &o.rec) != nil {
			continue
		}
		t := o.rec.Time
		// against the latest time of the window so far, not the entry
		// before: steps back of less than MaxStepBack each still add up
		// to disorder a reorder window would not absorb
		if !w.max.IsZero() && t.Before(w.max.Add(-MaxStepBack)) {
			o.stepBack = true
		}
		if w.min.IsZero() || t.Before(w.min) {
			w.min = t
		}
		if t.After(w.max) {
			w.max = t
		}
	}
}

// OutOfOrder reports whether the samples show event time going back by
// more than MaxStepBack: within a window (an entry older than the
// window's latest before it), or from a window to a later one (a window's
// earliest entry older than an earlier window's latest).
func (o *OrderSample) OutOfOrder() bool {
	if o.stepBack {
		return true
	}
	var latest time.Time
	for _, w := range o.windows {
		if w.max.IsZero() {
			continue
		}
		if !latest.IsZero() && w.min.Before(latest.Add(-MaxStepBack)) {
			return true
		}
		if w.max.After(latest) {
			latest = w.max
		}
	}
	return false
}
