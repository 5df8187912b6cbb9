package integration

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
)

// TestIngestStopAfter checks what integration/bench.sh relies on to time
// ingest: with --stop-after N it exits 0 once N messages were processed,
// having published every event replay writes for the same entries and
// committed every offset.
func TestIngestStopAfter(t *testing.T) {
	kcat := requireTool(t, "kcat")
	broker := startBroker(t)
	kc := newKafkaCorpus(t, loggen.Config{Seed: 53, Mailboxes: 25, Duration: 12 * time.Hour})
	kc.produce(t, kcat, broker.Addrs())
	_, wantData := expectedFromReplay(t, kc)
	total := kc.entries + len(topicOf)*partitions // and one tick per partition

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	const group = "syncwatch-stop-after"
	cmd := exec.CommandContext(ctx, bin("ingest"), "--brokers", strings.Join(broker.Addrs(), ","), "--group", group,
		"--metrics-addr", "off", "--log-level", "warn", "--stop-after", strconv.Itoa(total))
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Run(), "ingest --stop-after must exit 0 by itself once it processed every message")

	got := withoutOrigins(t, readIncidents(t, kcat, broker.Addrs()))
	require.Len(t, got, len(wantData), "events published differ in number from replay's")
	for id, w := range wantData {
		require.Equal(t, w, got[id], "event %s differs between replay and ingest --stop-after", id)
	}

	client := &kafka.Client{Addr: kafka.TCP(broker.Addrs()...), Timeout: 10 * time.Second}
	parts := []int{}
	reqs := []kafka.OffsetRequest{}
	for p := 0; p < partitions; p++ {
		parts = append(parts, p)
		reqs = append(reqs, kafka.LastOffsetOf(p))
	}
	fetch := &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{}}
	list := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	for _, tp := range topicOf {
		fetch.Topics[tp] = parts
		list.Topics[tp] = reqs
	}
	committed, err := client.OffsetFetch(ctx, fetch)
	require.NoError(t, err)
	require.NoError(t, committed.Error)
	ends, err := client.ListOffsets(ctx, list)
	require.NoError(t, err)
	sum := int64(0)
	for _, tp := range topicOf {
		end := map[int]int64{}
		for _, po := range ends.Topics[tp] {
			require.NoError(t, po.Error)
			end[po.Partition] = po.LastOffset
		}
		require.Len(t, committed.Topics[tp], partitions, "committed partitions of %s", tp)
		for _, po := range committed.Topics[tp] {
			require.NoError(t, po.Error)
			require.Equal(t, end[po.Partition], po.CommittedOffset, "%s/%d: committed offset is not the end of the partition", tp, po.Partition)
			sum += po.CommittedOffset
		}
	}
	require.Equal(t, int64(total), sum, "committed offsets must cover every produced message")
}
