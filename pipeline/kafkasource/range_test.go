package kafkasource_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline"
	"github.com/syncwatch/syncwatch/pipeline/kafkasource"
	"github.com/syncwatch/syncwatch/pipeline/kfakebroker"
	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/schemas"
	"github.com/syncwatch/syncwatch/sinks"
)

func TestKafkaRangeConfigValidate(t *testing.T) {
	from := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	cfg := kafkasource.RangeConfig{
		Brokers: []string{"nohost"}, Topics: []string{"a", "", "a"},
		From: from, To: from, MaxBytes: -1, MaxWait: -time.Second,
	}
	err := cfg.Validate()
	require.Error(t, err)
	for _, want := range []string{
		`Brokers[0] "nohost": not a host:port address`, "Topics[1]: empty topic name", `Topics[2] "a": listed twice`,
		"To 2026-11-24T00:00:00Z: must be after From", "MaxBytes -1", "MaxWait -1s",
	} {
		require.Contains(t, err.Error(), want)
	}
	require.NoError(t, (&kafkasource.RangeConfig{Brokers: []string{"127.0.0.1:9092"}}).Validate())
}

// TestKafkaRangeOffsets: a partition is read from the first message
// stamped at or after From-Margin, and stops at the first message stamped
// after To+Margin, or at the end offset it had when it was opened.
func TestKafkaRangeOffsets(t *testing.T) {
	b, err := kfakebroker.Start(kfakebroker.Config{Topics: []string{"logs"}, Partitions: 1})
	require.NoError(t, err)
	defer b.Close()
	t0 := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	produce := func(from, n int) {
		w := &kafka.Writer{Addr: kafka.TCP(b.Addrs()...), Topic: "logs", BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireAll}
		defer w.Close()
		var msgs []kafka.Message
		for i := from; i < from+n; i++ {
			msgs = append(msgs, kafka.Message{Value: fmt.Appendf(nil, "m%d", i), Time: t0.Add(time.Duration(i) * time.Minute)})
		}
		require.NoError(t, w.WriteMessages(context.Background(), msgs...))
	}
	produce(0, 20) // m0..m19, stamped t0 + i minutes

	read := func(s *kafkasource.RangeSource) []string {
		var got []string
		for {
			var en pipeline.Entry
			err := s.ReadEntry(context.Background(), &en)
			if errors.Is(err, io.EOF) {
				return got
			}
			require.NoError(t, err)
			require.Equal(t, "logs/0", en.Source)
			require.True(t, strings.HasPrefix(en.Origin, "logs/0/"), en.Origin)
			got = append(got, string(en.Raw))
		}
	}
	tests := []struct {
		scenario   string
		from, to   time.Duration // from t0; 0: not set
		margin     time.Duration
		start, end int64
		want       string
	}{
		{"whole", 0, 0, 0, 0, 20, "m0 m1 m2 m3 m4 m5 m6 m7 m8 m9 m10 m11 m12 m13 m14 m15 m16 m17 m18 m19"},
		{"window with margin", 10 * time.Minute, 12 * time.Minute, 2 * time.Minute, 8, 20, "m8 m9 m10 m11 m12 m13 m14"},
		{"no margin", 10 * time.Minute, 12 * time.Minute, time.Millisecond, 10, 20, "m10 m11 m12"},
		{"negative margin reads all", 10 * time.Minute, 12 * time.Minute, -1, 0, 20, "m0 m1 m2 m3 m4 m5 m6 m7 m8 m9 m10 m11 m12 m13 m14 m15 m16 m17 m18 m19"},
		{"after the last message", time.Hour, 2 * time.Hour, time.Millisecond, 20, 20, ""},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			cfg := kafkasource.RangeConfig{Brokers: b.Addrs(), Topics: []string{"logs"}, Margin: tt.margin}
			if tt.from != 0 {
				cfg.From, cfg.To = t0.Add(tt.from), t0.Add(tt.to)
			}
			srcs, err := kafkasource.OpenRange(context.Background(), cfg)
			require.NoError(t, err)
			if tt.start == tt.end {
				require.Empty(t, srcs, "an empty range has no source")
				return
			}
			require.Len(t, srcs, 1)
			defer srcs[0].Close()
			require.Equal(t, [2]int64{tt.start, tt.end}, [2]int64{srcs[0].Start, srcs[0].End})
			require.Equal(t, tt.want, strings.Join(read(srcs[0]), " "))
		})
	}

	t.Run("end offset as of the open", func(t *testing.T) {
		srcs, err := kafkasource.OpenRange(context.Background(), kafkasource.RangeConfig{Brokers: b.Addrs(), Topics: []string{"logs"}})
		require.NoError(t, err)
		require.Len(t, srcs, 1)
		defer srcs[0].Close()
		produce(20, 5) // arrives after the open: not read
		got := read(srcs[0])
		require.Len(t, got, 20)
		require.Equal(t, "m19", got[19])
		require.Equal(t, int64(20), srcs[0].Messages())
	})
}

// TestKafkaRangeBrokerGone: a broker that goes away mid-range fails the
// replay after a few attempts, naming the partition; cancelling ends the
// retries at once.
func TestKafkaRangeBrokerGone(t *testing.T) {
	open := func(t *testing.T) *kafkasource.RangeSource {
		b, err := kfakebroker.Start(kfakebroker.Config{Topics: []string{"logs"}, Partitions: 1})
		require.NoError(t, err)
		defer b.Close()
		w := &kafka.Writer{Addr: kafka.TCP(b.Addrs()...), Topic: "logs", BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireAll}
		require.NoError(t, w.WriteMessages(context.Background(), kafka.Message{Value: []byte("x")}))
		require.NoError(t, w.Close())
		srcs, err := kafkasource.OpenRange(context.Background(), kafkasource.RangeConfig{Brokers: b.Addrs(), Topics: []string{"logs"}})
		require.NoError(t, err)
		require.Len(t, srcs, 1)
		return srcs[0] // the broker closes on return
	}
	t.Run("fails after retries", func(t *testing.T) {
		src := open(t)
		p := newPipeline(t)
		err := pipeline.Replay(context.Background(), p, []pipeline.EntryReader{src}, pipeline.ReplayOptions{})
		require.Error(t, err)
		require.Contains(t, err.Error(), "reading logs/0: fetching logs/0 at offset 0 (5 attempts)")
	})
	t.Run("cancel ends the retries", func(t *testing.T) {
		src := open(t)
		p := newPipeline(t)
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := pipeline.Replay(ctx, p, []pipeline.EntryReader{src}, pipeline.ReplayOptions{})
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Less(t, time.Since(start), time.Second, "the retries take longer than that")
	})
}

// newPipeline is a pipeline with the default detectors and no output.
func newPipeline(t *testing.T) *pipeline.Pipeline {
	t.Helper()
	p, err := pipeline.New(pipeline.Config{Events: sinks.NewMemory()})
	require.NoError(t, err)
	return p
}

// TestKafkaRangeHoldsBacklog: a partition whose producers' logs lie one
// after another (a shipper's backlog of files) holds its backlog; one in
// event-time order does not, however large the batches a broker returns
// for the sample's small fetches (kfake returns whole produce batches).
func TestKafkaRangeHoldsBacklog(t *testing.T) {
	var engine, exchange, all []kafka.Message
	_, _, err := loggen.Generate(loggen.Config{Seed: 5, Mailboxes: 30, Duration: 12 * time.Hour}, func(e loggen.Entry) error {
		m := kafka.Message{Key: []byte(e.Key), Value: append([]byte(nil), e.Raw...)}
		all = append(all, m)
		switch e.Producer {
		case schemas.ProducerEngine:
			engine = append(engine, m)
		case schemas.ProducerExchange:
			exchange = append(exchange, m)
		}
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, len(all), 5000)
	tests := []struct {
		scenario string
		msgs     []kafka.Message
		holds    bool
	}{
		{"producers interleaved", all, false},
		{"one producer", engine, false},
		{"files one after another", append(append([]kafka.Message(nil), engine...), exchange...), true},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			b, err := kfakebroker.Start(kfakebroker.Config{Topics: []string{"logs"}, Partitions: 1})
			require.NoError(t, err)
			defer b.Close()
			conn, err := kafka.DialLeader(context.Background(), "tcp", b.Addrs()[0], "logs", 0)
			require.NoError(t, err)
			for i := 0; i < len(tt.msgs); i += 2000 { // large batches (below 1 MB)
				_, err = conn.WriteMessages(tt.msgs[i:min(len(tt.msgs), i+2000)]...)
				require.NoError(t, err)
			}
			require.NoError(t, conn.Close())

			srcs, err := kafkasource.OpenRange(context.Background(), kafkasource.RangeConfig{Brokers: b.Addrs(), Topics: []string{"logs"}})
			require.NoError(t, err)
			require.Len(t, srcs, 1)
			defer srcs[0].Close()
			require.Equal(t, int64(len(tt.msgs)), srcs[0].End)
			require.Equal(t, tt.holds, srcs[0].HoldsBacklog())
		})
	}
}
