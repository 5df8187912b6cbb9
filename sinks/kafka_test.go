package sinks

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/syncwatch/syncwatch/pipeline/kfakebroker"
	"github.com/syncwatch/syncwatch/schemas"
)

func startKafkaSinkBroker(t testing.TB) *kfakebroker.Broker {
	t.Helper()
	b, err := kfakebroker.Start(kfakebroker.Config{})
	require.NoError(t, err)
	t.Cleanup(b.Close)
	return b
}

func newKafkaSink(t testing.TB, cfg KafkaConfig) *Kafka {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	k, err := NewKafka(cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = k.Close(ctx)
	})
	return k
}

// readTopic reads every message of every partition of topic, partition
// by partition, each in offset order.
func readTopic(t testing.TB, b *kfakebroker.Broker, topic string) map[int][]kafka.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := kafka.DialContext(ctx, "tcp", b.Addrs()[0])
	require.NoError(t, err)
	parts, err := conn.ReadPartitions(topic)
	require.NoError(t, err)
	require.NoError(t, conn.Close())
	out := map[int][]kafka.Message{}
	for _, p := range parts {
		pc, err := kafka.DialLeader(ctx, "tcp", b.Addrs()[0], topic, p.ID)
		require.NoError(t, err)
		last, err := pc.ReadLastOffset()
		require.NoError(t, err)
		require.NoError(t, pc.Close())
		if last == 0 {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: b.Addrs(), Topic: topic, Partition: p.ID, MaxWait: 50 * time.Millisecond})
		for int64(len(out[p.ID])) < last {
			m, err := r.FetchMessage(ctx)
			require.NoError(t, err)
			out[p.ID] = append(out[p.ID], m)
		}
		require.NoError(t, r.Close())
	}
	return out
}

func header(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

func TestKafkaConfigValidate(t *testing.T) {
	brokers := []string{"localhost:9092"}
	tests := []struct {
		name    string
		cfg     KafkaConfig
		wantErr []string // one substring per problem; none: valid
	}{
		{name: "brokers only", cfg: KafkaConfig{Brokers: brokers}},
		{name: "every field set", cfg: KafkaConfig{Brokers: brokers, IncidentsTopic: "a.b_c-1", DeadLetterTopic: "dl", BatchTimeout: time.Millisecond,
			RetryMaxInterval: time.Second, DeadLetterMaxRaw: 1, DisableAutoTopicCreation: true}},
		{name: "no brokers", wantErr: []string{"Brokers: at least one"}},
		{name: "broker without port", cfg: KafkaConfig{Brokers: []string{"a:1", "x"}}, wantErr: []string{`Brokers[1] "x": not a host:port`}},
		{name: "illegal incidents topic", cfg: KafkaConfig{Brokers: brokers, IncidentsTopic: "sync incidents"}, wantErr: []string{`IncidentsTopic "sync incidents": ' '`}},
		{name: "incidents topic too long", cfg: KafkaConfig{Brokers: brokers, IncidentsTopic: strings.Repeat("t", 250)}, wantErr: []string{fmt.Sprintf("IncidentsTopic %q: longer than 249 characters", strings.Repeat("t", 250))}},
		{name: "illegal dead-letter topic", cfg: KafkaConfig{Brokers: brokers, DeadLetterTopic: ".."}, wantErr: []string{`DeadLetterTopic "..": not a legal topic name`}},
		{name: "dead letters onto the incidents topic", cfg: KafkaConfig{Brokers: brokers, IncidentsTopic: "t", DeadLetterTopic: "t"}, wantErr: []string{`DeadLetterTopic "t": same as IncidentsTopic`}},
		{name: "dead letters default onto the incidents topic", cfg: KafkaConfig{Brokers: brokers, IncidentsTopic: DefaultDeadLetterTopic}, wantErr: []string{"DeadLetterTopic"}},
		{name: "negative batch timeout", cfg: KafkaConfig{Brokers: brokers, BatchTimeout: -1}, wantErr: []string{"BatchTimeout -1ns: must not be negative"}},
		{name: "negative retry max interval", cfg: KafkaConfig{Brokers: brokers, RetryMaxInterval: -1}, wantErr: []string{"RetryMaxInterval -1ns: must not be negative"}},
		{name: "negative dead-letter max raw", cfg: KafkaConfig{Brokers: brokers, DeadLetterMaxRaw: -1}, wantErr: []string{"DeadLetterMaxRaw -1: must not be negative"}},
		{
			name:    "every problem at once",
			cfg:     KafkaConfig{Brokers: []string{"x"}, IncidentsTopic: "t", DeadLetterTopic: "t", BatchTimeout: -1, RetryMaxInterval: -1, DeadLetterMaxRaw: -1},
			wantErr: []string{"Brokers[0]", "DeadLetterTopic", "BatchTimeout", "RetryMaxInterval", "DeadLetterMaxRaw"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireProblems(t, tt.cfg.Validate(), tt.wantErr)
			k, err := NewKafka(tt.cfg)
			if len(tt.wantErr) == 0 {
				require.NoError(t, err)
				require.NoError(t, k.Close(t.Context()))
				return
			}
			require.ErrorContains(t, err, "validating kafka sink config")
		})
	}
}

// TestKafkaWriteReadBack writes events and dead letters and reads them back
// with a kafka-go Reader: key, header and value bytes, per-incident order.
func TestKafkaWriteReadBack(t *testing.T) {
	tests := []struct {
		name   string
		topics KafkaConfig
	}{
		{name: "default topics"},
		{name: "custom topics", topics: KafkaConfig{IncidentsTopic: "inc", DeadLetterTopic: "dlq"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			b := startKafkaSinkBroker(t)
			cfg := tt.topics
			cfg.Brokers = b.Addrs()
			k := newKafkaSink(t, cfg)

			// The events.md example, then 30 events of 10 incidents, each
			// incident's events in sequence over three Writes.
			require.NoError(t, k.Write(ctx, []schemas.IncidentEvent{fixedEvent()}))
			events := testEvents(t, 10)
			for seq := 1; seq <= 3; seq++ {
				batch := make([]schemas.IncidentEvent, len(events))
				for i, e := range events {
					e.ID = fmt.Sprintf("%s-%d", e.Data.IncidentID, seq)
					batch[i] = e
				}
				require.NoError(t, k.Write(ctx, batch))
			}
			require.NoError(t, k.WriteDeadLetters(ctx, []schemas.DeadLetter{fixedDeadLetter()}))
			require.NoError(t, k.Write(ctx, nil), "empty write")

			got := readTopic(t, b, cfg.incidentsTopic())
			seqs := map[string][]string{}
			n := 0
			for _, msgs := range got {
				for _, m := range msgs {
					n++
					require.Equal(t, schemas.ContentType, header(m, "content-type"))
					require.NoError(t, schemas.Validate(schemas.SchemaIncidentEvent, m.Value))
					var e schemas.IncidentEvent
					require.NoError(t, json.Unmarshal(m.Value, &e))
					require.Equal(t, e.Data.IncidentID, string(m.Key))
					if e.ID == fixedEvent().ID {
						require.Equal(t, strings.TrimSuffix(fixedLine, "\n"), string(m.Value), "the same bytes as every other sink")
						continue
					}
					want, err := json.Marshal(e)
					require.NoError(t, err)
					require.Equal(t, string(want), string(m.Value))
					seqs[e.Data.IncidentID] = append(seqs[e.Data.IncidentID], e.ID)
				}
			}
			require.Equal(t, 31, n)
			require.Len(t, seqs, 10)
			for id, s := range seqs {
				require.Equal(t, []string{id + "-1", id + "-2", id + "-3"}, s, "events of one incident in order")
			}

			dlq := readTopic(t, b, cfg.deadLetterTopic())
			var letters []kafka.Message
			for _, msgs := range dlq {
				letters = append(letters, msgs...)
			}
			require.Len(t, letters, 1)
			require.Equal(t, strings.TrimSuffix(fixedDeadLetterLine, "\n"), string(letters[0].Value))
			require.Equal(t, schemas.DataContentType, header(letters[0], "content-type"))
		})
	}
}

// TestKafkaWriteFailures: a failing broker never yields an early success.
// Transient failures are retried until the events are acknowledged; a
// broker that keeps failing, or is gone, makes Write return an error
// wrapping ctx's once ctx ends.
func TestKafkaWriteFailures(t *testing.T) {
	tests := []struct {
		name string
		// fault is injected into the broker before the write, if set.
		fault *kfake.Fault
		// closeBroker stops the broker before the write.
		closeBroker bool
		// timeout of the Write's ctx.
		timeout time.Duration
		// wantWritten: the write succeeds and the events are there.
		wantWritten bool
		// wantMinHits is how many produce requests the fault must have
		// refused: more than kafka-go's own attempts proves Write retried.
		wantMinHits int
	}{
		{
			name:        "transient produce errors are retried",
			fault:       &kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: DefaultIncidentsTopic, Err: kerr.NotEnoughReplicas, Count: 8},
			timeout:     20 * time.Second,
			wantWritten: true,
			wantMinHits: 8,
		},
		{
			name:        "produce keeps failing until ctx ends",
			fault:       &kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: DefaultIncidentsTopic, Err: kerr.NotEnoughReplicas, Count: -1},
			timeout:     time.Second,
			wantMinHits: 4,
		},
		{
			name:        "broker gone",
			closeBroker: true,
			timeout:     time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := startKafkaSinkBroker(t)
			k := newKafkaSink(t, KafkaConfig{Brokers: b.Addrs(), RetryMaxInterval: 200 * time.Millisecond})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			// A first write creates the topic and warms the metadata.
			require.NoError(t, k.Write(ctx, testEvents(t, 1)))

			var fault *kfake.FaultHandle
			if tt.fault != nil {
				fault = b.Cluster().Fault(*tt.fault)
			}
			if tt.closeBroker {
				b.Close()
			}
			events := testEvents(t, 20)
			wctx, wcancel := context.WithTimeout(context.Background(), tt.timeout)
			defer wcancel()
			err := k.Write(wctx, events)
			if fault != nil {
				require.GreaterOrEqual(t, fault.Hits(), tt.wantMinHits)
				defer fault.Remove()
			}
			if !tt.wantWritten {
				require.Error(t, err)
				require.ErrorIs(t, err, context.DeadlineExceeded, "retried until ctx ended: %v", err)
				if !tt.closeBroker {
					// Refused produce requests wrote nothing. (Once the
					// fault is gone, kafka-go may still finish a batch
					// queued before ctx ended: a cancelled Write leaves
					// delivery undefined, as the Sink contract says.)
					n := 0
					for _, msgs := range readTopic(t, b, DefaultIncidentsTopic) {
						n += len(msgs)
					}
					require.Equal(t, 1, n)
				}
				return
			}
			require.NoError(t, err)
			ids := map[string]bool{}
			for _, msgs := range readTopic(t, b, DefaultIncidentsTopic) {
				for _, m := range msgs {
					ids[string(m.Key)] = true
				}
			}
			for _, e := range events {
				require.True(t, ids[e.Data.IncidentID], "event %s written", e.ID)
			}
		})
	}
}

func TestKafkaClose(t *testing.T) {
	b := startKafkaSinkBroker(t)
	k := newKafkaSink(t, KafkaConfig{Brokers: b.Addrs()})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, k.Write(ctx, testEvents(t, 2)))
	require.NoError(t, k.Close(ctx))
	require.ErrorIs(t, k.Write(ctx, testEvents(t, 1)), ErrClosed)
	require.ErrorIs(t, k.WriteDeadLetters(ctx, []schemas.DeadLetter{fixedDeadLetter()}), ErrClosed)
}

// BenchmarkKafkaWrite writes batches of 500 events to an in-process kfake
// broker over loopback TCP, each Write waiting for acks=all.
func BenchmarkKafkaWrite(b *testing.B) {
	br := startKafkaSinkBroker(b)
	k := newKafkaSink(b, KafkaConfig{Brokers: br.Addrs()})
	const batch = 500
	events := testEvents(b, batch)
	size := 0
	for _, e := range events {
		v, err := json.Marshal(e)
		require.NoError(b, err)
		size += len(v)
	}
	ctx := context.Background()
	require.NoError(b, k.Write(ctx, events)) // create the topic
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if err := k.Write(ctx, events); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/time.Since(start).Seconds(), "events/s")
}
