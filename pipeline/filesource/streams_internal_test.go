package filesource

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestOutOfOrderSmallFiles: a file in time order is in order whatever
// its size, also when it is smaller than the windows sampled would be
// if they were read whole (they must not overlap); two runs of it one
// after another are not.
func TestOutOfOrderSmallFiles(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	for _, lines := range []int{10, 100, 1000, 10000} {
		var b bytes.Buffer
		for i := range lines {
			ts := t0.Add(time.Duration(i) * 10 * time.Second).Format("2006-01-02T15:04:05.000Z")
			fmt.Fprintf(&b, "ts=%s level=info component=sync-engine tenant=t-1 mailbox=m%d@example.com run=abc123 event=record_synced record=MAIL-%05d\n", ts, i%7, i)
		}
		t.Run(fmt.Sprintf("%d lines", lines), func(t *testing.T) {
			got, err := outOfOrder(bytes.NewReader(b.Bytes()), int64(b.Len()))
			require.NoError(t, err)
			require.False(t, got, "in order")
			twice := append(bytes.Clone(b.Bytes()), b.Bytes()...)
			got, err = outOfOrder(bytes.NewReader(twice), int64(len(twice)))
			require.NoError(t, err)
			require.Equal(t, lines >= 100, got, "laid end to end (too few lines to sample below 100)")
		})
	}
}
