package loggen

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestWindowBounded checks that the look-ahead window does not grow with
// the corpus's duration: only a few seconds of event time are buffered.
func TestWindowBounded(t *testing.T) {
	tests := []struct {
		name     string
		duration time.Duration
	}{
		{name: "6h", duration: 6 * time.Hour},
		{name: "24h", duration: 24 * time.Hour},
	}
	var peaks []int
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			peak, n := 0, 0
			g := newGenerator(Config{Mailboxes: 100, Duration: tt.duration}, func(Entry) error {
				n++
				return nil
			})
			g.onRun = func() { peak = max(peak, g.lines.len()) }
			require.NoError(t, g.run())
			require.Positive(t, n)
			require.Less(t, peak, 1000, "look-ahead window of %d lines", peak)
			peaks = append(peaks, peak)
		})
	}
	require.Len(t, peaks, 2)
	require.Less(t, peaks[1], 2*peaks[0]+100, "window grows with duration: %v", peaks)
}
