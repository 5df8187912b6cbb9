package pipeline_test

import (
	"context"
	"encoding/json"
	"hash/crc32"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/detectors"
	"github.com/syncwatch/syncwatch/pipeline"
	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/pipeline/loggen/ship"
	"github.com/syncwatch/syncwatch/schemas"
	"github.com/syncwatch/syncwatch/sinks"
)

// TestAdaptiveReorderMatchesReplay: a dirty corpus (producer clock skew,
// duplicates copied into another producer's file) with 2% of the safe
// entries written up to 800ms late (loggen's Disorder) read as a live
// consumer reads it: three topics of three partitions keyed by mailbox,
// the partitions' messages interleaved in chunks of random size, as
// fetchers hand them over. With learned windows (ingest's default) no
// record is late and the events are replay's, which holds every input by
// the whole 2s window. The same harness with a fixed window shorter than
// the corpus' disorder makes late records and other events: the check can
// fail.
func TestAdaptiveReorderMatchesReplay(t *testing.T) {
	cfg := loggen.Config{Seed: 21, Mailboxes: 40, Duration: 12 * time.Hour, Dirty: true, Disorder: 800 * time.Millisecond}
	dir := t.TempDir()
	_, err := loggen.WriteDir(dir, cfg)
	require.NoError(t, err)
	want := replayEvents(t, dir)
	require.Greater(t, len(want), 50, "the corpus must give incidents")

	msgs := partitionedMessages(t, cfg, 3, rand.New(rand.NewPCG(1, 2)))
	for _, tt := range []struct {
		name    string
		reorder pipeline.ReorderConfig
		same    bool
	}{
		{"adaptive", pipeline.ReorderConfig{Adaptive: true}, true},
		{"adaptive, window 2s", pipeline.ReorderConfig{Adaptive: true, Window: 2 * time.Second}, true},
		{"fixed 2s", pipeline.ReorderConfig{}, true},
		{"fixed 5ms", pipeline.ReorderConfig{Window: 5 * time.Millisecond}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mem := sinks.NewMemory()
			c := adaptiveConsumer(t, &fakeSource{msgs: msgs}, len(msgs), mem, tt.reorder, pipeline.NormalizeConfig{})
			require.NoError(t, c.Run(context.Background()))
			got := stripOrigins(t, mem.Events())
			if tt.same {
				require.Zero(t, c.Summary().Late, "late records")
				require.Equal(t, len(want), len(got), "events")
				for i := range want {
					require.Equal(t, want[i], got[i], "event %d", i)
				}
				return
			}
			require.Positive(t, c.Summary().Late, "a window shorter than the disorder makes late records")
		})
	}
}

// replayEvents replays the corpus in dir as cmd/replay does (the fixed
// default window) and returns its events without origins.
func replayEvents(t *testing.T, dir string) []string {
	t.Helper()
	files := []string{filepath.Join(dir, "exchange.log"), filepath.Join(dir, "engine.log"), filepath.Join(dir, "c4cc.jsonl")}
	var evs []schemas.IncidentEvent
	require.NoError(t, json.Unmarshal(replayDir(t, files, pipeline.ReplayOptions{}), &evs))
	return stripOrigins(t, evs)
}

// stripOrigins returns the events as JSON without their evidence origins
// (file:line in replay, topic/partition@offset live).
func stripOrigins(t *testing.T, evs []schemas.IncidentEvent) []string {
	t.Helper()
	out := make([]string, len(evs))
	for i, e := range evs {
		e.Data.Evidence = append([]schemas.Evidence(nil), e.Data.Evidence...)
		for j := range e.Data.Evidence {
			e.Data.Evidence[j].Origin = ""
		}
		b, err := json.Marshal(e)
		require.NoError(t, err)
		out[i] = string(b)
	}
	return out
}

// TestLiveShippedLinesMatchReplay: the live consumer, caught up (no
// backlog to hold), on a shipper's messages without a multiline rule: one
// topic for the three files, keyed by mailbox over three partitions, each
// stack-trace line a message of its own, the partitions interleaved as
// fetchers hand them over, one message per batch. The joiner holds every
// ExchangeConnector entry until its stream moves on, minutes of the other
// streams' event time on these sparse partitions; the reorder stage must
// not release past it (Batch.held). No record is late and the events are
// those of replay of the raw files.
func TestLiveShippedLinesMatchReplay(t *testing.T) {
	cfg := loggen.Config{Seed: 64, Mailboxes: 16, Duration: 12 * time.Hour, Dirty: true}
	dir := t.TempDir()
	_, err := loggen.WriteDir(dir, cfg)
	require.NoError(t, err)
	want := replayEvents(t, dir)
	require.Greater(t, len(want), 50, "the corpus must give incidents")

	const topic, parts = "c4c.logs", 3
	queues := make([][]pipeline.Message, parts)
	bal := &kafka.Hash{}
	_, _, err = ship.Generate(cfg, ship.Config{Kind: ship.Filebeat, Keying: ship.KeyMailbox, Seed: 1}, func(m ship.Message) error {
		p := bal.Balance(kafka.Message{Key: m.Key}, 0, 1, 2)
		src := topic + "/" + strconv.Itoa(p)
		queues[p] = append(queues[p], pipeline.Message{Topic: topic, Partition: p, Source: src, Offset: int64(len(queues[p])), Value: m.Value})
		return nil
	})
	require.NoError(t, err)
	var msgs []pipeline.Message
	rng := rand.New(rand.NewPCG(3, 4))
	for left := parts; left > 0; {
		p := rng.IntN(parts)
		n := min(len(queues[p]), 1+rng.IntN(16))
		if n == 0 {
			continue
		}
		msgs = append(msgs, queues[p][:n]...)
		if queues[p] = queues[p][n:]; len(queues[p]) == 0 {
			left--
		}
	}

	mem := sinks.NewMemory()
	// JoinWait out of the way: the test's wall clock (-race, a busy
	// machine) says nothing about the shipper's
	src := &partsSource{fakeSource{msgs: msgs}, []string{topic + "/0", topic + "/1", topic + "/2"}}
	c := adaptiveConsumer(t, src, len(msgs), mem, pipeline.ReorderConfig{Adaptive: true}, pipeline.NormalizeConfig{JoinWait: time.Hour})
	require.NoError(t, c.Run(context.Background()))
	require.Positive(t, c.Summary().Normalize.Joined, "stack-trace lines sent on their own")
	require.Zero(t, c.Summary().Late, "late records")
	got := stripOrigins(t, mem.Events())
	require.Equal(t, len(want), len(got), "events")
	for i := range want {
		require.Equal(t, want[i], got[i], "event %d", i)
	}
}

// partsSource is a fakeSource assigned the partitions given, and no
// other (fakeSource's are sync.engine/0 and those of its messages).
type partsSource struct {
	fakeSource
	parts []string
}

func (s *partsSource) Assigned() []string { return s.parts }

// partitionedMessages is cfg's corpus as a consumer of the three topics,
// each of parts partitions keyed by tenant/mailbox, reads it: each
// partition's messages in order, the partitions interleaved in chunks of
// 1 to 256 messages.
func partitionedMessages(t *testing.T, cfg loggen.Config, parts int, rng *rand.Rand) []pipeline.Message {
	t.Helper()
	queues := map[string][]pipeline.Message{}
	var names []string
	_, _, err := loggen.Generate(cfg, func(e loggen.Entry) error {
		topic := map[schemas.Producer]string{
			schemas.ProducerExchange: "sync.exchange-connector", schemas.ProducerEngine: "sync.engine", schemas.ProducerC4CC: "sync.c4cc-connector",
		}[e.Producer]
		src := topic + "/" + strconv.Itoa(int(crc32.ChecksumIEEE([]byte(e.Key))%uint32(parts)))
		if queues[src] == nil {
			names = append(names, src)
		}
		queues[src] = append(queues[src], pipeline.Message{Topic: topic, Source: src, Offset: int64(len(queues[src])), Value: append([]byte(nil), e.Raw...)})
		return nil
	})
	require.NoError(t, err)
	var out []pipeline.Message
	for len(names) > 0 {
		i := rng.IntN(len(names))
		q := queues[names[i]]
		n := min(len(q), 1+rng.IntN(16))
		out = append(out, q[:n]...)
		if queues[names[i]] = q[n:]; len(q) == n {
			names = append(names[:i], names[i+1:]...)
		}
	}
	return out
}

// adaptiveConsumer consumes src's n messages into events with replay's
// detectors and the reorder and normalize configurations given, until
// every message is processed.
func adaptiveConsumer(t *testing.T, src pipeline.MessageSource, n int, events sinks.Sink, reorder pipeline.ReorderConfig, normalize pipeline.NormalizeConfig) *pipeline.Consumer {
	t.Helper()
	cat, err := detectors.DefaultCatalog()
	require.NoError(t, err)
	dets, err := detectors.Build(nil, detectors.Options{Catalog: cat})
	require.NoError(t, err)
	c, err := pipeline.NewConsumer(src, pipeline.ConsumerConfig{
		StopAfter: int64(n), BatchSize: 1, BatchWait: 5 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		NewPipeline: func() (*pipeline.Pipeline, error) {
			return pipeline.New(pipeline.Config{Detection: detectors.Config{Source: "test", Detectors: dets}, Events: events, Reorder: reorder, Normalize: normalize})
		},
	})
	require.NoError(t, err)
	return c
}
