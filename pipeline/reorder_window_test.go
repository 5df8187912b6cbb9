package pipeline

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestReorderAdaptiveWindow follows one adaptive stage through its
// learning: the whole Window while the sources are new, MinWindow once
// they have shown 1,000 ordered records over 5s, then twice the disorder
// a record shows, capped at Window. A fixed stage keeps its Window.
func TestReorderAdaptiveWindow(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	wall := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	at := map[string]time.Duration{} // each source's next record
	feed := func(s *ReorderStage, d time.Duration) *Batch {
		b := &Batch{Now: wall}
		for _, src := range []string{"a", "b"} {
			for end := at[src] + d; at[src] < end; at[src] += 5 * time.Millisecond {
				r := Record{Source: src}
				r.Time = t0.Add(at[src])
				b.Records = append(b.Records, r)
			}
		}
		require.NoError(t, s.Exec(context.Background(), b))
		return b
	}
	one := func(s *ReorderStage, src string, behind time.Duration) {
		r := Record{Source: src}
		r.Time = t0.Add(at[src] - 5*time.Millisecond - behind)
		require.NoError(t, s.Exec(context.Background(), &Batch{Now: wall, Records: []Record{r}}))
	}

	s := NewReorderStage(ReorderConfig{Adaptive: true})
	s.addSource("a", wall)
	s.addSource("b", wall)
	b := feed(s, 4*time.Second) // 800 records each
	require.Equal(t, 2*time.Second, s.window(), "learning: the whole window")
	require.Equal(t, t0.Add(4*time.Second-5*time.Millisecond-2*time.Second), b.Bound)

	b = feed(s, 8*time.Second) // 2,400 records over 12s: learned
	require.Equal(t, DefaultMinWindow, s.window(), "ordered sources: the least window")
	require.Equal(t, t0.Add(12*time.Second-5*time.Millisecond-DefaultMinWindow), b.Bound, "released up to 20ms behind")

	one(s, "a", 10*time.Millisecond) // within 20ms: not late
	require.Zero(t, s.numLate())
	require.Equal(t, DefaultMinWindow+20*time.Millisecond, s.window(), "twice the disorder seen, plus the least window")

	one(s, "b", 300*time.Millisecond) // further than b's window: late, and learned
	require.Equal(t, int64(1), s.numLate())
	require.Equal(t, DefaultMinWindow+600*time.Millisecond, s.window())
	feed(s, time.Second)
	one(s, "b", 300*time.Millisecond) // now within b's window
	require.Equal(t, int64(1), s.numLate())

	one(s, "a", 5*time.Second)
	require.Equal(t, 2*time.Second, s.window(), "capped at Window")

	fixed := NewReorderStage(ReorderConfig{})
	at = map[string]time.Duration{}
	fixed.addSource("a", wall)
	fixed.addSource("b", wall)
	b = feed(fixed, 12*time.Second)
	require.Equal(t, 2*time.Second, fixed.window(), "not adaptive: the window")
	require.Equal(t, t0.Add(12*time.Second-5*time.Millisecond-2*time.Second), b.Bound)
}
