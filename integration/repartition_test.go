package integration

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
)

// rekey rewrites the corpus's kcat input with the keys keyOf gives
// (given the tenant/mailbox key and the entry): the keys real shippers
// send. An empty key is an unkeyed message, which kcat's default
// partitioner (librdkafka's consistent_random) spreads at random.
func (kc *kafkaCorpus) rekey(t *testing.T, keyOf func(key, value []byte) []byte) {
	t.Helper()
	for _, file := range kc.topics {
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		var out bytes.Buffer
		for _, e := range bytes.Split(b, []byte{0x1e}) {
			k, v, ok := bytes.Cut(e, []byte{0x1f})
			if !ok {
				continue
			}
			out.Write(keyOf(k, v))
			out.WriteByte(0x1f)
			out.Write(v)
			out.WriteByte(0x1e)
		}
		require.NoError(t, os.WriteFile(file, out.Bytes(), 0o644))
	}
}

// unkeyed is the key of Filebeat, Fluent Bit, Vector and rsyslog by
// default: none.
func unkeyed(_, _ []byte) []byte { return nil }

// byHost keys a mailbox's entries by one of five connector hosts, as a
// shipper configured to key by host does: a host serves many mailboxes,
// and hosts hash to partitions unevenly.
func byHost(key, _ []byte) []byte {
	h := fnv.New32a()
	h.Write(key)
	return fmt.Appendf(nil, "connector-host-%d", h.Sum32()%5)
}

// TestIngestRepartitionAuto: a corpus produced unkeyed before ingest
// starts. With --repartition at its default (auto), ingest notices that
// the messages are not keyed by tenant/mailbox, creates the repartition
// topic and judges the records from there: replay's events, exactly.
func TestIngestRepartitionAuto(t *testing.T) {
	kcat := requireTool(t, "kcat")
	broker := startFaultBroker(t, 0, nil)
	kc := newKafkaCorpus(t, loggen.Config{Seed: 23, Mailboxes: 40, Duration: 24 * time.Hour, Dirty: true})
	kc.rekey(t, unkeyed)
	kc.produce(t, kcat, broker.Addrs())
	_, want := expectedOnce(t, kc)

	group := "syncwatch-repartition-auto"
	p := startFaultIngest(t, "ingest", broker.Addrs(), group, true)
	got := waitIncidents(t, kcat, broker.Addrs(), want, 120*time.Second)
	require.True(t, p.logContains("repartitioning"), "ingest did not decide to repartition unkeyed input")
	_, body := faultGet(p.metrics, "/metrics")
	fwd, _ := metricSum(body, "syncwatch_repartition_forwarded_total")
	split, _ := metricSum(body, "syncwatch_mailboxes_split")
	p.stop(t, 30*time.Second)
	st := checkDelivered(t, got, want)
	require.Zero(t, split, "with repartitioning, no mailbox comes from two partitions")
	require.Greater(t, fwd, float64(kc.entries), "every entry forwarded, with marks")
	t.Logf("%d entries unkeyed: %d events for %d ids (%d duplicates), %.0f messages forwarded", kc.entries, st.total, st.distinct, st.duplicates, fwd)
}
