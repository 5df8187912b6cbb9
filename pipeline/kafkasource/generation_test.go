package kafkasource

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestAlignAhead checks when a partition's fetcher waits for the others.
func TestAlignAhead(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	base := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	part := func(eventSec int64, fetched, highWater int64, deliveredAgo time.Duration) *partitionState {
		p := &partitionState{}
		if eventSec >= 0 {
			p.eventTime.Store(base.Add(time.Duration(eventSec) * time.Second).UnixNano())
		}
		p.fetched.Store(fetched)
		p.highWater.Store(highWater)
		p.delivered.Store(now.Add(-deliveredAgo).UnixNano())
		return p
	}
	for _, tc := range []struct {
		name  string
		other *partitionState
		max   time.Duration
		want  bool
	}{
		{"other behind by more than max, still reading", part(50, 10, 100, 0), 30 * time.Second, true},
		{"other behind by less than max", part(80, 10, 100, 0), 30 * time.Second, false},
		{"other behind but caught up", part(50, 100, 100, 0), 30 * time.Second, false},
		{"other behind but idle", part(50, 10, 100, time.Minute), 30 * time.Second, false},
		{"other has told no event time yet", part(-1, 10, 100, 0), 30 * time.Second, true},
		{"other's high-water mark unknown", part(50, 10, -1, 0), 30 * time.Second, true},
		{"alignment off", part(50, 10, 100, 0), -1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := part(100, 10, 100, 0)
			g := &generation{parts: []*partitionState{p, tc.other}}
			require.Equal(t, tc.want, g.ahead(p, tc.max, now))
			require.False(t, g.ahead(tc.other, tc.max, now), "the one behind never waits for the one ahead")
		})
	}
	fresh := &partitionState{}
	g := &generation{parts: []*partitionState{fresh, part(50, 10, 100, 0)}}
	require.False(t, g.ahead(fresh, time.Second, now), "a partition that told no event time does not wait")
}
