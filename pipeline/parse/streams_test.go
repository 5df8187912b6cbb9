package parse

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestOrderSample(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	line := func(d time.Duration) []byte {
		return fmt.Appendf(nil, "ts=%s level=info component=sync-engine tenant=t-1 mailbox=a@b.com run=r1 event=run_started\n",
			t0.Add(d).Format("2006-01-02T15:04:05.000Z"))
	}
	secs := func(s ...int) []time.Duration {
		ds := make([]time.Duration, len(s))
		for i, x := range s {
			ds[i] = time.Duration(x) * time.Second
		}
		return ds
	}
	tests := []struct {
		name    string
		windows [][]time.Duration // each window's entries, as offsets from t0
		want    bool
	}{
		{name: "in order", windows: [][]time.Duration{secs(0, 1, 2), secs(60, 61), secs(3600)}},
		{name: "clock skew of seconds", windows: [][]time.Duration{secs(0, 30, 5, 40, 12), secs(100, 70, 110)}},
		{name: "a step back of minutes", windows: [][]time.Duration{secs(0, 600, 30)}, want: true},
		// each step back is under MaxStepBack; together they are three minutes
		{name: "small steps back adding up", windows: [][]time.Duration{secs(600, 560, 520, 480, 440)}, want: true},
		// a jump ahead and back again counts from the latest, not the previous entry
		{name: "back from a jump ahead in steps", windows: [][]time.Duration{secs(0, 1, 300, 270, 240, 210, 200)}, want: true},
		{name: "a later window older than an earlier one", windows: [][]time.Duration{secs(7200, 7201), secs(0, 1)}, want: true},
		{name: "a later window overlapping by seconds", windows: [][]time.Duration{secs(0, 100), secs(80, 200)}},
		{name: "an empty window", windows: [][]time.Duration{secs(0, 1), nil, secs(2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o OrderSample
			for _, w := range tt.windows {
				o.Window()
				for _, d := range w {
					o.Add(line(d))
				}
			}
			require.Equal(t, tt.want, o.OutOfOrder())
		})
	}
}

func TestOrderSampleSkipsWhatDoesNotParse(t *testing.T) {
	var o OrderSample
	o.Window()
	o.Add([]byte("ts=2026-11-24T10:10:00.000Z level=info component=sync-engine tenant=t-1 mailbox=a@b.com run=r1 event=run_started\n"))
	o.Add([]byte("garbage without a time\n"))
	o.Add([]byte("   at Microsoft.Exchange.WebServices.Data.ServiceRequestBase.Validate()\n"))
	require.False(t, o.OutOfOrder())
	o.Add([]byte("ts=2026-11-24T10:00:00.000Z level=info component=sync-engine tenant=t-1 mailbox=a@b.com run=r1 event=run_started\n"))
	require.True(t, o.OutOfOrder(), "ten minutes back after lines that do not parse")
}
