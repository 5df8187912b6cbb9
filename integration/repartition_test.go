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
	p := startFaultIngest(t, "ingest", broker.Addrs(), group, true, "--quiet-after", "3s")
	got := waitIncidents(t, kcat, broker.Addrs(), want, 120*time.Second)
	require.True(t, p.logContains("repartitioning"), "ingest did not decide to repartition unkeyed input")
	// after the quiet, no lag: the first hop committed every raw offset,
	// the second every message of the repartition topic
	waitAllCommitted(t, broker.Addrs(), group+".repartition", 30*time.Second)
	var body string
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, body = faultGet(p.metrics, "/metrics")
		lag, found := metricSum(body, "syncwatch_commit_lag_messages")
		if found && lag == 0 && bytes.Contains([]byte(body), []byte(`partition="`+group+`.repartition/`)) {
			break
		}
		require.True(t, time.Now().Before(deadline), "commit lag %v (found %v) 30s after the quiet", lag, found)
		time.Sleep(200 * time.Millisecond)
	}
	fwd, _ := metricSum(body, "syncwatch_repartition_forwarded_total")
	split, _ := metricSum(body, "syncwatch_mailboxes_split")
	p.stop(t, 30*time.Second)
	st := checkDelivered(t, got, want)
	require.Zero(t, split, "with repartitioning, no mailbox comes from two partitions")
	require.Greater(t, fwd, float64(kc.entries), "every entry forwarded, with marks")
	t.Logf("%d entries unkeyed: %d events for %d ids (%d duplicates), %.0f messages forwarded", kc.entries, st.total, st.distinct, st.duplicates, fwd)
}

// logCount counts the lines of p's log so far that contain s.
func (p *faultProc) logCount(s string) int {
	b, _ := os.ReadFile(p.logPath)
	return bytes.Count(b, []byte(s))
}

// waitLogCount waits until p logged s at least n times.
func waitLogCount(t *testing.T, p *faultProc, s string, n int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for p.logCount(s) < n {
		require.False(t, p.exited(), "%s exited: %v", p.name, p.waitErr)
		require.True(t, time.Now().Before(deadline), "%s logged %q %d times, not %d, within %s", p.name, s, p.logCount(s), n, limit)
		time.Sleep(50 * time.Millisecond)
	}
}

// TestIngestRepartitionThreeMembers is the group a production deployment
// runs, with the shippers' keys: three members, one added and one killed
// (SIGKILL) while the corpus streams in, unkeyed or keyed by host. With
// --repartition every event replay has reaches the topic, no other, and
// repeats are identical.
func TestIngestRepartitionThreeMembers(t *testing.T) {
	kcat := requireTool(t, "kcat")
	for _, tc := range []struct {
		name  string
		keyOf func(key, value []byte) []byte
	}{{"unkeyed", unkeyed}, {"keyed by host", byHost}} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			broker := startFaultBroker(t, 0, nil)
			kc := newKafkaCorpus(t, loggen.Config{Seed: 37, Mailboxes: 60, Duration: 36 * time.Hour, Dirty: true})
			kc.rekey(t, tc.keyOf)
			_, want := expectedOnce(t, kc)
			group := "syncwatch-repartition-three"
			flags := append([]string{"--repartition", "always"}, faultGroupFlags...)
			const started = "consumer group generation started"

			a := startFaultIngest(t, "ingest-a", broker.Addrs(), group, false, flags...)
			b := startFaultIngest(t, "ingest-b", broker.Addrs(), group, false, flags...)
			waitLogCount(t, a, started, 2, 60*time.Second) // both hops
			waitLogCount(t, b, started, 2, 60*time.Second)
			prod := kc.produceChunked(t, kcatSender(kcat, broker.Addrs()), 24, 400*time.Millisecond)

			prod.waitRounds(t, 6, 60*time.Second)
			beforeB := b.logCount(started)
			c := startFaultIngest(t, "ingest-c", broker.Addrs(), group, false, flags...)
			waitLogCount(t, c, started, 2, 60*time.Second)
			// (kfake keeps the partitions of a member killed while its
			// JoinGroup is pending: B is killed once it rejoined both groups)
			waitLogCount(t, b, started, beforeB+2, 60*time.Second)
			prod.waitRounds(t, 12, 60*time.Second)
			b.kill9(t)
			t.Logf("C added at round 6, B killed at round %d (%s)", prod.done.Load(), time.Since(start).Round(time.Millisecond))

			prod.wait(t, 120*time.Second)
			got := waitIncidents(t, kcat, broker.Addrs(), want, 180*time.Second)
			a.stop(t, 30*time.Second)
			c.stop(t, 30*time.Second)
			st := checkDelivered(t, got, want)
			t.Logf("%d entries %s, 3 members: %d events for %d ids, %d repeats (identical), 0 missing, 0 extra; %s",
				kc.entries, tc.name, st.total, st.distinct, st.duplicates, time.Since(start).Round(time.Second))
		})
	}
}
