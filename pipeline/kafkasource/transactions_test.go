package kafkasource_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestKafkaSourceSkipsTransactionMarkers: a transactional producer's
// commit and abort markers, which kafka-go's Batch returns as messages,
// are neither delivered nor left uncommitted.
func TestKafkaSourceSkipsTransactionMarkers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := startKafkaBroker(t, "tx")
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addrs()...), kgo.TransactionalID("syncwatch-test"),
		kgo.DefaultProduceTopic("tx"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	require.NoError(t, err)
	defer cl.Close()
	transaction := func(commit kgo.TransactionEndTry, values ...string) {
		require.NoError(t, cl.BeginTransaction())
		for _, v := range values {
			cl.Produce(ctx, &kgo.Record{Partition: 0, Value: []byte(v)}, nil)
		}
		require.NoError(t, cl.Flush(ctx))
		require.NoError(t, cl.EndTransaction(ctx, commit))
	}
	// offsets 0-2, a commit marker at 3; 4-5, an abort marker at 6; 7-8, a
	// commit marker at 9
	transaction(kgo.TryCommit, "a", "b", "c")
	transaction(kgo.TryAbort, "x", "y")
	transaction(kgo.TryCommit, "d", "e")

	s := newTestSource(t, testSourceConfig(b, "tx-group", "tx"))
	got, _ := readN(ctx, t, s, 7)
	var values []string
	var offsets []int64
	for _, r := range got {
		values = append(values, string(r.msg.Value))
		offsets = append(offsets, r.msg.Offset)
		require.NoError(t, r.ack(ctx, nil))
	}
	// the aborted transaction's records are read too (read uncommitted;
	// see isControlRecord), the markers are not
	require.Equal(t, []string{"a", "b", "c", "x", "y", "d", "e"}, values)
	require.Equal(t, []int64{0, 1, 2, 4, 5, 7, 8}, offsets)
	require.Eventually(t, func() bool {
		return committedOffsets(t, b, "tx-group", []string{"tx"}, 1)["tx/0"] == 10
	}, 10*time.Second, 20*time.Millisecond, "the commit passes the last marker")

	// nothing else comes: the markers are not messages
	rctx, rcancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer rcancel()
	m, _, err := s.Read(rctx)
	require.ErrorIs(t, err, context.DeadlineExceeded, "read %q at %d", m.Value, m.Offset)
}
