package pipeline

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestReorderStalledIsNotIdle: two sources; the caller then spends 15s on
// one batch (a slow sink) and its next batch has records of source a only.
// Source b was not silent, the caller was not reading: b must still hold
// the watermark back. Without Stalled, b counts as idle (IdleTimeout 10s)
// and a's records are released past where b will deliver next, so b's
// next record is late (found by TestFaultSlowSink: a run decided before
// its run_finished arrived, resolved at another time than replay).
func TestReorderStalledIsNotIdle(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	wall := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	rec := func(src string, at time.Duration) Record {
		r := Record{Source: src}
		r.Time = t0.Add(at)
		return r
	}
	for _, tt := range []struct {
		name    string
		stalled time.Duration
		late    int64
	}{
		{name: "stall excused", stalled: 15 * time.Second, late: 0},
		{name: "no stall reported: b idles", stalled: 0, late: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := NewReorderStage(ReorderConfig{})
			s.addSource("a", wall)
			s.addSource("b", wall)
			b := Batch{Now: wall, Records: []Record{rec("a", 0), rec("b", 0)}}
			require.NoError(t, s.Exec(context.Background(), &b))
			s.stalled(tt.stalled) // the deliver stage took 15s
			b = Batch{Now: wall.Add(15 * time.Second), Records: []Record{rec("a", time.Minute)}}
			require.NoError(t, s.Exec(context.Background(), &b))
			// b's next record, 30s after its last one
			b = Batch{Now: wall.Add(15 * time.Second), Records: []Record{rec("b", 30*time.Second)}}
			require.NoError(t, s.Exec(context.Background(), &b))
			require.Equal(t, tt.late, s.numLate(), "records of b that came after the watermark passed them")
		})
	}
}
