package integration

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
)

// TestIngestCatchUp is ingest started on three days of backlog, as after a
// long outage: a --dirty corpus of 72 hours, produced with kcat before
// ingest starts, consumed from scratch. Every offset is committed, the
// events equal replay's of the same logs, and the peak RSS stays bounded
// (logged: the figure is in docs/rebalancing.md). The same through the
// repartition hop.
func TestIngestCatchUp(t *testing.T) {
	kcat := requireTool(t, "kcat")
	cfg := loggen.Config{Seed: 75, Mailboxes: 120, Duration: 72 * time.Hour, Dirty: true}
	parts := splitCorpus(t, cfg)
	out, stderr, code := runReplay(t, append([]string{"--quiet"}, replayFiles(parts)...)...)
	require.Equal(t, 0, code, "%s", stderr)
	want := withoutOrigins(t, decodeEvents(t, out))

	for _, mode := range []string{"never", "always"} {
		t.Run("repartition="+mode, func(t *testing.T) {
			broker := startBroker(t)
			parts[0].produce(t, kcat, broker.Addrs())
			began := time.Now()
			group := "syncwatch-catchup-" + mode
			p := startFaultIngest(t, "ingest", broker.Addrs(), group, false, "--quiet-after", "2s", "--repartition", mode)
			raw := group // the group that commits the raw topics
			if mode == "always" {
				raw = group + ".repartition"
			}
			waitAllCommitted(t, broker.Addrs(), raw, 5*time.Minute)
			waitFor(t, kcat, broker.Addrs(), want, 5*time.Minute)
			took := time.Since(began)
			_, end := committedAndEnd(t, broker.Addrs(), raw)
			peak, err := procStatusKB(p.cmd.Process.Pid, "VmHWM")
			require.NoError(t, err)
			got := withoutOrigins(t, readIncidents(t, kcat, broker.Addrs()))
			p.stop(t, 30*time.Second)

			require.Equal(t, want, got, "the events of a backlog consumed from scratch are replay's")
			t.Logf("--repartition %s: %d messages of 72h backlog consumed and committed in %s (quiet flush after 2s included); %d events = replay's; peak RSS %d MB",
				mode, end, took.Round(100*time.Millisecond), len(got), peak/1024)
			require.Less(t, peak/1024, int64(400), "peak RSS in MB")
		})
	}
}
