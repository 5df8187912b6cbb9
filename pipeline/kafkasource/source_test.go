package kafkasource_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline"
	"github.com/syncwatch/syncwatch/pipeline/kafkasource"
	"github.com/syncwatch/syncwatch/pipeline/kfakebroker"
)

// kafkaT0 is the timestamp of the first test message; message i of a
// partition is i minutes later.
var kafkaT0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

func startKafkaBroker(t testing.TB, topics ...string) *kfakebroker.Broker {
	t.Helper()
	b, err := kfakebroker.Start(kfakebroker.Config{Topics: topics})
	require.NoError(t, err)
	t.Cleanup(b.Close)
	return b
}

// produceMinutes writes n messages to every partition of topic, message i
// (offsets continue from what is there) stamped kafkaT0 + (first+i) minutes,
// with value "topic/partition/first+i".
func produceMinutes(t testing.TB, b *kfakebroker.Broker, topic string, partitions, first, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for p := range partitions {
		conn, err := kafka.DialLeader(ctx, "tcp", b.Addrs()[0], topic, p)
		require.NoError(t, err)
		msgs := make([]kafka.Message, n)
		for i := range msgs {
			k := first + i
			msgs[i] = kafka.Message{
				Key:   []byte(fmt.Sprint(k)),
				Value: []byte(fmt.Sprintf("%s/%d/%d", topic, p, k)),
				Time:  kafkaT0.Add(time.Duration(k) * time.Minute),
			}
		}
		_, err = conn.WriteMessages(msgs...)
		require.NoError(t, err)
		require.NoError(t, conn.Close())
	}
}

// testSourceConfig is a source config tuned for fast tests.
func testSourceConfig(b *kfakebroker.Broker, group string, topics ...string) kafkasource.Config {
	return kafkasource.Config{
		Brokers:           b.Addrs(),
		GroupID:           group,
		Topics:            topics,
		RestoreWindow:     5 * time.Minute,
		MaxWait:           100 * time.Millisecond,
		CommitInterval:    50 * time.Millisecond,
		HeartbeatInterval: 200 * time.Millisecond,
		SessionTimeout:    6 * time.Second, // kfake's minimum
		RebalanceTimeout:  5 * time.Second,
		Logger:            slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func newTestSource(t testing.TB, cfg kafkasource.Config) *kafkasource.Source {
	t.Helper()
	s, err := kafkasource.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Close(ctx)
	})
	return s
}

func closeSource(t testing.TB, s *kafkasource.Source) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, s.Close(ctx))
}

type readResult struct {
	msg pipeline.Message
	ack pipeline.AckFunc
}

// readN reads until n messages came, failing on any error but
// ErrGenerationEnded, which is counted.
func readN(ctx context.Context, t testing.TB, s *kafkasource.Source, n int) (got []readResult, genEnds int) {
	t.Helper()
	for len(got) < n {
		m, ack, err := s.Read(ctx)
		if errors.Is(err, pipeline.ErrGenerationEnded) {
			genEnds++
			continue
		}
		require.NoError(t, err, "after %d of %d messages", len(got), n)
		got = append(got, readResult{m, ack})
	}
	return got, genEnds
}

func partKey(m pipeline.Message) string { return fmt.Sprintf("%s/%d", m.Topic, m.Partition) }

// committedOffsets returns the group's committed offset of each partition
// ("topic/partition"), -1 where nothing was committed.
func committedOffsets(t testing.TB, b *kfakebroker.Broker, group string, topics []string, partitions int) map[string]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := &kafka.OffsetFetchRequest{Addr: kafka.TCP(b.Addrs()...), GroupID: group, Topics: map[string][]int{}}
	for _, topic := range topics {
		for p := range partitions {
			req.Topics[topic] = append(req.Topics[topic], p)
		}
	}
	resp, err := (&kafka.Client{}).OffsetFetch(ctx, req)
	require.NoError(t, err)
	require.NoError(t, resp.Error)
	out := map[string]int64{}
	for topic, ps := range resp.Topics {
		for _, p := range ps {
			require.NoError(t, p.Error)
			out[fmt.Sprintf("%s/%d", topic, p.Partition)] = p.CommittedOffset
		}
	}
	return out
}

func TestKafkaSourceConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     kafkasource.Config
		wantErr []string
	}{
		{name: "brokers only", cfg: kafkasource.Config{Brokers: []string{"localhost:9092"}}},
		{
			name: "everything set",
			cfg: kafkasource.Config{
				Brokers: []string{"a:1", "b:2"}, GroupID: "g", Topics: []string{"x"}, RestoreWindow: -1,
				MinBytes: 10, MaxBytes: 100, MaxWait: time.Second, CommitInterval: time.Second,
				HeartbeatInterval: time.Second, SessionTimeout: 10 * time.Second, QueueCapacity: 5,
			},
		},
		{name: "no brokers", cfg: kafkasource.Config{}, wantErr: []string{"Brokers"}},
		{
			name: "every problem at once",
			cfg: kafkasource.Config{
				Brokers: []string{"nohost"}, Topics: []string{"x", "", "x"}, MinBytes: 200, MaxBytes: 100,
				MaxWait: -1, CommitInterval: -time.Second, HeartbeatInterval: time.Minute, QueueCapacity: -1,
			},
			wantErr: []string{"Brokers[0]", "Topics[1]", "Topics[2]", "MinBytes", "MaxWait", "CommitInterval", "HeartbeatInterval", "QueueCapacity"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if len(tt.wantErr) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tt.wantErr {
				require.Contains(t, err.Error(), w)
			}
			_, err = kafkasource.New(tt.cfg)
			require.Error(t, err)
		})
	}
}

// TestKafkaSourceRestart consumes three topics, acks some of the messages,
// closes, and restarts in the same group: the committed prefix of every
// partition comes back only as Restored messages (from the restore
// window), and everything from the first unacked message on comes back
// live (at-least-once).
func TestKafkaSourceRestart(t *testing.T) {
	const perPartition = 10
	topics := []string{"sync.exchange-connector", "sync.engine", "sync.c4cc-connector"}
	tests := []struct {
		name string
		// acked reports whether the first run acks offset o.
		acked func(o int64) bool
		// wantCommitted is the committed offset after the first run (-1:
		// none), the same for every partition.
		wantCommitted int64
		// wantRestored and wantLive are the offsets of the second run's
		// messages of every partition before the new message at offset 10.
		wantRestored, wantLive []int64
	}{
		{
			name:          "all acked: only the restore window comes back",
			acked:         func(int64) bool { return true },
			wantCommitted: perPartition,
			// The last committed message, 9, is at minute 9; the window is
			// 5 minutes: minutes 4..9.
			wantRestored: []int64{4, 5, 6, 7, 8, 9},
		},
		{
			name:          "out-of-order acks with gaps: from the first unacked offset on, all live again",
			acked:         func(o int64) bool { return slices.Contains([]int64{0, 1, 2, 4, 6, 9}, o) },
			wantCommitted: 3,
			wantRestored:  []int64{0, 1, 2},
			wantLive:      []int64{3, 4, 5, 6, 7, 8, 9},
		},
		{
			name:          "nothing acked: nothing committed, all live again",
			acked:         func(int64) bool { return false },
			wantCommitted: -1,
			wantLive:      []int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			b := startKafkaBroker(t, topics...)
			for _, topic := range topics {
				produceMinutes(t, b, topic, 3, 0, perPartition)
			}
			group := fmt.Sprintf("restart-%d", i)
			cfg := testSourceConfig(b, group, topics...)

			// First run: everything is new.
			s1 := newTestSource(t, cfg)
			got, _ := readN(ctx, t, s1, 9*perPartition)
			require.True(t, s1.Ready())
			next := map[string]int64{}
			for _, r := range got {
				require.False(t, r.msg.Restored)
				require.Positive(t, r.msg.Generation)
				require.Equal(t, next[partKey(r.msg)], r.msg.Offset, "per-partition order")
				next[partKey(r.msg)]++
				require.Equal(t, fmt.Sprintf("%s/%d/%d", r.msg.Topic, r.msg.Partition, r.msg.Offset), string(r.msg.Value))
				require.Equal(t, kafkaT0.Add(time.Duration(r.msg.Offset)*time.Minute), r.msg.Time.UTC())
			}
			// Ack in reverse order: out-of-order acks must not commit past
			// an unacked message.
			for _, r := range slices.Backward(got) {
				if tt.acked(r.msg.Offset) {
					require.NoError(t, r.ack(ctx, nil))
				}
			}
			closeSource(t, s1)
			for p, c := range committedOffsets(t, b, group, topics, 3) {
				require.Equal(t, tt.wantCommitted, c, p)
			}
			_, _, err := s1.Read(ctx)
			require.ErrorIs(t, err, pipeline.ErrSourceClosed)

			// Second run, same group: read until the new message of every
			// partition; per-partition order means everything before it
			// has come by then.
			s2 := newTestSource(t, cfg)
			for _, topic := range topics {
				produceMinutes(t, b, topic, 3, perPartition, 1)
			}
			restored := map[string][]int64{}
			live := map[string][]int64{}
			newOnes := 0
			for newOnes < 9 {
				m, ack, err := s2.Read(ctx)
				require.NoError(t, err)
				if m.Offset == perPartition {
					require.False(t, m.Restored)
					newOnes++
				} else if m.Restored {
					restored[partKey(m)] = append(restored[partKey(m)], m.Offset)
				} else {
					live[partKey(m)] = append(live[partKey(m)], m.Offset)
				}
				require.NoError(t, ack(ctx, nil))
			}
			for _, topic := range topics {
				for p := range 3 {
					key := fmt.Sprintf("%s/%d", topic, p)
					require.Equal(t, tt.wantRestored, restored[key], "restored offsets of %s", key)
					require.Equal(t, tt.wantLive, live[key], "live offsets of %s", key)
				}
			}
			closeSource(t, s2)
			for p, c := range committedOffsets(t, b, group, topics, 3) {
				require.Equal(t, int64(perPartition+1), c, p)
			}
		})
	}
}

// TestKafkaSourceCommitsInPartitionOrder acks one partition's messages in
// various orders and checks the committed offset never passes an unacked
// message, both while running and at Close.
func TestKafkaSourceCommitsInPartitionOrder(t *testing.T) {
	tests := []struct {
		name          string
		ackOrder      []int64
		wantCommitted int64
	}{
		{name: "reverse, oldest never acked", ackOrder: []int64{9, 8, 7, 6, 5, 4, 3, 2, 1}, wantCommitted: -1},
		{name: "reverse, all", ackOrder: []int64{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}, wantCommitted: 10},
		{name: "hole in the middle", ackOrder: []int64{0, 1, 2, 3, 5, 6, 7, 8, 9}, wantCommitted: 4},
		{name: "shuffled prefix", ackOrder: []int64{2, 0, 3, 1, 6}, wantCommitted: 4},
	}
	b := startKafkaBroker(t, "ordered")
	produceMinutes(t, b, "ordered", 1, 0, 10)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			group := fmt.Sprintf("ordered-%d", i)
			s := newTestSource(t, testSourceConfig(b, group, "ordered"))
			got, _ := readN(ctx, t, s, 10)
			for _, o := range tt.ackOrder {
				require.NoError(t, got[o].ack(ctx, nil))
			}
			require.Error(t, got[tt.ackOrder[0]].ack(ctx, nil), "double ack")
			if tt.wantCommitted >= 0 {
				// The periodic commit gets there while running...
				require.Eventually(t, func() bool {
					return committedOffsets(t, b, group, []string{"ordered"}, 1)["ordered/0"] == tt.wantCommitted
				}, 10*time.Second, 20*time.Millisecond)
			}
			closeSource(t, s)
			// ...and the final commit does not go further.
			require.Equal(t, tt.wantCommitted, committedOffsets(t, b, group, []string{"ordered"}, 1)["ordered/0"])
		})
	}
}

// TestKafkaSourceNack: a nack ends the generation; the nacked message and
// all after it come again, after the restored prefix.
func TestKafkaSourceNack(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := startKafkaBroker(t, "nack")
	produceMinutes(t, b, "nack", 1, 0, 10)
	cfg := testSourceConfig(b, "nack", "nack")
	cfg.RestoreWindow = time.Hour
	s := newTestSource(t, cfg)
	got, _ := readN(ctx, t, s, 10)
	for _, r := range got[:4] {
		require.NoError(t, r.ack(ctx, nil))
	}
	require.NoError(t, got[4].ack(ctx, errors.New("sink failed")))
	require.NoError(t, got[5].ack(ctx, nil), "acks after the nack are ignored")

	_, _, err := s.Read(ctx)
	require.ErrorIs(t, err, pipeline.ErrGenerationEnded)
	again, ends := readN(ctx, t, s, 10)
	require.Zero(t, ends)
	for i, r := range again {
		require.Equal(t, int64(i), r.msg.Offset)
		require.Equal(t, i < 4, r.msg.Restored, "offset %d", i)
	}
	closeSource(t, s)
	require.Equal(t, int64(4), committedOffsets(t, b, "nack", []string{"nack"}, 1)["nack/0"])
}

// pump reads s into a channel until ctx ends or s closes, acking every
// message.
func pump(ctx context.Context, s *kafkasource.Source) <-chan pipeline.Message {
	ch := make(chan pipeline.Message, 1000)
	go func() {
		defer close(ch)
		for {
			m, ack, err := s.Read(ctx)
			if errors.Is(err, pipeline.ErrGenerationEnded) {
				// Marked with Generation -1, for the test to see.
				ch <- pipeline.Message{Generation: -1}
				continue
			}
			if err != nil {
				return
			}
			_ = ack(ctx, nil)
			ch <- m
		}
	}()
	return ch
}

// TestKafkaSourceGroupTakeover: two sources in one group split the
// partitions; when one closes, the other takes all of them over in a new
// generation and re-reads each from its restore point.
func TestKafkaSourceGroupTakeover(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	topics := []string{"ta", "tb", "tc"}
	b := startKafkaBroker(t, topics...)
	for _, topic := range topics {
		produceMinutes(t, b, topic, 3, 0, 5)
	}
	cfg := testSourceConfig(b, "takeover", topics...)
	cfg.RestoreWindow = time.Hour

	// A alone reads and commits everything.
	a := newTestSource(t, cfg)
	aCh := pump(ctx, a)
	gen1 := 0
	for n := 0; n < 45; {
		m := <-aCh
		require.NotEqual(t, -1, m.Generation)
		require.False(t, m.Restored)
		gen1, n = m.Generation, n+1
	}
	require.Eventually(t, func() bool {
		for _, c := range committedOffsets(t, b, "takeover", topics, 3) {
			if c != 5 {
				return false
			}
		}
		return true
	}, 10*time.Second, 20*time.Millisecond)

	// B joins: both get a new generation and split the partitions, each
	// re-reading its partitions' restore window.
	bs := newTestSource(t, cfg)
	bCh := pump(ctx, bs)
	gen2 := map[string]int{}
	// collect reads from both until every partition's offset 5 came.
	collect := func(chs map[string]<-chan pipeline.Message, want int64) map[string]string {
		seen := map[string]string{}
		for len(seen) < 9 {
			var m pipeline.Message
			var who string
			select {
			case m = <-chs["a"]:
				who = "a"
			case m = <-chs["b"]:
				who = "b"
			case <-ctx.Done():
				t.Fatalf("timed out; seen %v", seen)
			}
			if m.Generation == -1 || m.Offset < want && m.Restored {
				continue
			}
			require.Equal(t, want, m.Offset, "live message %s/%d of %s", partKey(m), m.Offset, who)
			require.False(t, m.Restored)
			seen[partKey(m)] = who
			gen2[who] = m.Generation
		}
		return seen
	}
	// Wait for the rebalance: A's generation ends and B gets messages.
	sawEnd, sawB := false, false
	for !sawEnd || !sawB {
		select {
		case m := <-aCh:
			if m.Generation == -1 {
				sawEnd = true
			}
		case m := <-bCh:
			require.True(t, m.Restored, "B's first messages are restored ones")
			require.Greater(t, m.Generation, gen1)
			sawB = true
		case <-ctx.Done():
			t.Fatal("timed out waiting for the rebalance")
		}
	}
	for _, topic := range topics {
		produceMinutes(t, b, topic, 3, 5, 1)
	}
	owner := collect(map[string]<-chan pipeline.Message{"a": aCh, "b": bCh}, 5)
	require.Len(t, owner, 9)
	count := map[string]int{}
	for _, who := range owner {
		count[who]++
	}
	require.Positive(t, count["a"], "A owns some partitions: %v", owner)
	require.Positive(t, count["b"], "B owns some partitions: %v", owner)
	require.Equal(t, gen2["a"], gen2["b"], "one generation")
	require.Greater(t, gen2["a"], gen1)

	// B leaves: A takes all nine partitions in a later generation and
	// restores each of them, B's former ones included.
	closeSource(t, bs)
	restoredFrom := map[string]bool{}
	sawEnd = false
	for len(restoredFrom) < 9 {
		select {
		case m := <-aCh:
			if m.Generation == -1 {
				sawEnd = true
				continue
			}
			if sawEnd {
				require.True(t, m.Restored)
				require.Greater(t, m.Generation, gen2["a"])
				restoredFrom[partKey(m)] = true
			}
		case <-ctx.Done():
			t.Fatalf("timed out waiting for the takeover: %v", restoredFrom)
		}
	}
	for _, topic := range topics {
		produceMinutes(t, b, topic, 3, 6, 1)
	}
	all := collect(map[string]<-chan pipeline.Message{"a": aCh}, 6)
	for p, who := range all {
		require.Equal(t, "a", who, p)
	}
	require.Greater(t, gen2["a"], gen2["b"])
}

// TestKafkaSourceBrokerDown: when the broker goes away, Ready turns false
// and Read keeps blocking until its ctx ends (no false messages); when a
// broker is back on the same address, the source rejoins and reads again.
func TestKafkaSourceBrokerDown(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	b := startKafkaBroker(t, "down")
	produceMinutes(t, b, "down", 3, 0, 2)
	s := newTestSource(t, testSourceConfig(b, "down", "down"))
	require.False(t, s.Ready(), "not ready before joining")
	got, _ := readN(ctx, t, s, 6)
	for _, r := range got {
		require.NoError(t, r.ack(ctx, nil))
	}
	require.True(t, s.Ready())
	require.Eventually(t, func() bool {
		lag := s.Lag()
		return len(lag) == 3 && lag["down/0"] == 0 && lag["down/1"] == 0 && lag["down/2"] == 0
	}, 10*time.Second, 20*time.Millisecond)

	addr := b.Addrs()[0]
	b.Close()
	require.Eventually(t, func() bool { return !s.Ready() }, 15*time.Second, 20*time.Millisecond)
	readCtx, readCancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer readCancel()
	for {
		_, _, err := s.Read(readCtx)
		if errors.Is(err, pipeline.ErrGenerationEnded) {
			continue
		}
		require.ErrorIs(t, err, context.DeadlineExceeded)
		break
	}

	// A new (empty) broker on the same address: the source rejoins and
	// reads what is produced there.
	b2, err := kfakebroker.Start(kfakebroker.Config{Addr: addr, Topics: []string{"down"}})
	require.NoError(t, err)
	t.Cleanup(b2.Close)
	produceMinutes(t, b2, "down", 3, 0, 1)
	again, _ := readN(ctx, t, s, 3)
	for _, r := range again {
		require.False(t, r.msg.Restored)
		require.Equal(t, int64(0), r.msg.Offset)
	}
	require.True(t, s.Ready())

	closeSource(t, s)
	_, _, err = s.Read(ctx)
	require.ErrorIs(t, err, pipeline.ErrSourceClosed)
}

// TestKafkaSourceReadContext: Read returns ctx.Err() when its ctx ends
// while no message is there.
func TestKafkaSourceReadContext(t *testing.T) {
	b := startKafkaBroker(t, "quiet")
	s := newTestSource(t, testSourceConfig(b, "quiet", "quiet"))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, _, err := s.Read(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

// BenchmarkKafkaSource reads 100k messages (about 200 bytes each) from
// three topics of three partitions on an in-process kfake broker over
// loopback TCP, acking each.
func BenchmarkKafkaSource(b *testing.B) {
	const total = 100_000
	topics := []string{"bench-a", "bench-b", "bench-c"}
	br := startKafkaBroker(b, topics...)
	value := []byte(`level=error ts=2026-11-24T10:15:32.123Z tenant=t-1042 mailbox=anna.berg@contoso.com run=7f3a9c event=record_failed record=AB12 type=appointment msg="Authentication error" http_status=401`)
	w := &kafka.Writer{Addr: kafka.TCP(br.Addrs()...), Balancer: &kafka.Hash{}, BatchTimeout: 2 * time.Millisecond, BatchSize: 1000, RequiredAcks: kafka.RequireAll}
	msgs := make([]kafka.Message, 0, total)
	for i := range total {
		msgs = append(msgs, kafka.Message{Topic: topics[i%3], Key: fmt.Appendf(nil, "mbx-%d", i%997), Value: value, Time: kafkaT0})
	}
	require.NoError(b, w.WriteMessages(context.Background(), msgs...))
	require.NoError(b, w.Close())

	b.SetBytes(int64(total * len(value)))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cfg := testSourceConfig(br, fmt.Sprintf("bench-%d", i), topics...)
		cfg.MaxWait = 0 // default
		s, err := kafkasource.New(cfg)
		require.NoError(b, err)
		for n := 0; n < total; {
			_, ack, err := s.Read(ctx)
			if errors.Is(err, pipeline.ErrGenerationEnded) {
				continue
			}
			require.NoError(b, err)
			if err := ack(ctx, nil); err != nil {
				b.Fatal(err)
			}
			n++
		}
		require.NoError(b, s.Close(ctx))
		cancel()
	}
	b.ReportMetric(float64(b.N*total)/time.Since(start).Seconds(), "msgs/s")
}

// TestKafkaSourceAtEnd: AtEnd is false before the first generation and
// while messages wait to be read, true once Read returned every message
// of every partition (an empty partition is at its end from the start),
// and false again when more are produced, until they are read.
func TestKafkaSourceAtEnd(t *testing.T) {
	b := startKafkaBroker(t, "atend")
	produceMinutes(t, b, "atend", 1, 0, 5) // partition 0 only; the others stay empty
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := newTestSource(t, testSourceConfig(b, "atend", "atend"))
	require.False(t, s.AtEnd(), "no generation yet")
	readN(ctx, t, s, 4)
	require.False(t, s.AtEnd(), "one message not read yet")
	readN(ctx, t, s, 1)
	require.Eventually(t, s.AtEnd, 10*time.Second, 20*time.Millisecond, "every message read")

	produceMinutes(t, b, "atend", 1, 5, 3)
	require.Eventually(t, func() bool { return !s.AtEnd() }, 10*time.Second, 10*time.Millisecond, "new messages wait at the broker")
	readN(ctx, t, s, 3)
	require.Eventually(t, s.AtEnd, 10*time.Second, 20*time.Millisecond, "the new messages read")
	closeSource(t, s)
}
