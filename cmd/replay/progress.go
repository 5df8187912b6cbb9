package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// isTerminal reports whether w is a terminal. It is a variable so that
// tests can render the bar into a buffer.
var isTerminal = func(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progressThrottle is the least time between two frames of the bar; tests
// set it to 0 to see every frame.
var progressThrottle = 100 * time.Millisecond

// progress draws a progress bar of a replay on a terminal: bytes read (of
// the total, when known: files; then with an ETA), their rate, and the
// entries ("lines") read and their rate.
type progress struct {
	bar   *progressbar.ProgressBar
	start time.Time
}

// newProgress returns the bar for a replay of total bytes (<= 0: unknown,
// as for stdin or Kafka: a spinner without ETA), or nil when w is not a
// terminal: a log file or a pipe gets no control characters.
func newProgress(w io.Writer, total int64) *progress {
	if !isTerminal(w) {
		return nil
	}
	if total <= 0 {
		total = -1
	}
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("replay"),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowTotalBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(20),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(progressThrottle),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionClearOnFinish(), // the summary follows
		// Drawn at once, before the spinner's goroutine starts: it reads
		// the start time without the bar's lock, so the time must be set
		// first (a data race otherwise).
		progressbar.OptionSetRenderBlankState(true),
	)
	return &progress{bar: bar, start: time.Now()}
}

// update is ReplayOptions.Progress: called after every batch.
func (p *progress) update(bytes, entries int64) {
	rate := 0.0
	if s := time.Since(p.start).Seconds(); s > 0 {
		rate = float64(entries) / s
	}
	p.bar.Describe(fmt.Sprintf("replay %s lines, %s lines/s", humanCount(float64(entries)), humanCount(rate)))
	_ = p.bar.Set64(bytes)
}

// finish clears the bar and stops its spinner.
func (p *progress) finish() {
	if p == nil {
		return
	}
	_ = p.bar.Finish()
	_ = p.bar.Clear()
}

// humanCount writes n as 950, 12.3k, 4.56M.
func humanCount(n float64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2fG", n/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", n/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fk", n/1e3)
	}
	return fmt.Sprintf("%.0f", n)
}
