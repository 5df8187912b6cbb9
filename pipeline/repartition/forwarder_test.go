package repartition_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/detectors"
	"github.com/syncwatch/syncwatch/pipeline"
	"github.com/syncwatch/syncwatch/pipeline/filesource"
	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/pipeline/repartition"
	"github.com/syncwatch/syncwatch/schemas"
	"github.com/syncwatch/syncwatch/sinks"
)

// memInput hands out messages in a fixed order and counts acks: a raw
// topic set read by one first-hop member.
type memInput struct {
	msgs      []pipeline.Message
	committed map[string]int64
	mu        sync.Mutex
	next      int
	acked     int
}

func (m *memInput) Read(ctx context.Context) (pipeline.Message, pipeline.AckFunc, error) {
	m.mu.Lock()
	if m.next == len(m.msgs) {
		m.mu.Unlock()
		<-ctx.Done()
		return pipeline.Message{}, nil, ctx.Err()
	}
	msg := m.msgs[m.next]
	m.next++
	m.mu.Unlock()
	return msg, func(context.Context, error) error {
		m.mu.Lock()
		m.acked++
		m.mu.Unlock()
		return nil
	}, nil
}

func (m *memInput) Assigned() []string                 { return nil }
func (m *memInput) ObserveEventTime(string, time.Time) {}
func (m *memInput) CaughtUp() bool                     { return true }
func (m *memInput) Committed() map[string]int64        { return m.committed }

func (m *memInput) AtEnd() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.next == len(m.msgs)
}

func (m *memInput) acks() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.acked
}

// memOutput places what the forwarder writes on partitions with its
// Balancer, as a kafka.Writer would.
type memOutput struct {
	bal   repartition.Balancer
	parts [][]kafka.Message
}

func (o *memOutput) WriteMessages(_ context.Context, msgs ...kafka.Message) error {
	ids := make([]int, len(o.parts))
	for i := range ids {
		ids[i] = i
	}
	for _, m := range msgs {
		p := o.bal.Balance(m, ids...)
		o.parts[p] = append(o.parts[p], m)
	}
	return nil
}

// forward runs a forwarder over in until every message is acknowledged.
func forward(t *testing.T, in *memInput, out *memOutput) {
	t.Helper()
	f, err := repartition.New(in, out, repartition.Config{Partitions: len(out.parts), BatchSize: 97})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for in.acks() < len(in.msgs) {
		require.True(t, time.Now().Before(deadline), "forwarder acknowledged %d of %d messages", in.acks(), len(in.msgs))
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	require.NoError(t, <-done)
}

// partitionReader is one partition of the repartition topic, as replay
// entries.
type partitionReader struct {
	name string
	msgs []kafka.Message
	i    int
}

func (r *partitionReader) ReadEntry(_ context.Context, en *pipeline.Entry) error {
	if r.i == len(r.msgs) {
		return io.EOF
	}
	*en = pipeline.Entry{Source: r.name, Raw: r.msgs[r.i].Value, Origin: r.name + "/" + strconv.Itoa(r.i), Message: true}
	r.i++
	return nil
}
func (r *partitionReader) SourceName() string { return r.name }
func (r *partitionReader) BytesRead() int64   { return 0 }
func (r *partitionReader) Close() error       { return nil }

func newPipeline(t *testing.T, normalize pipeline.NormalizeConfig) (*pipeline.Pipeline, *sinks.Memory) {
	t.Helper()
	cat, err := detectors.DefaultCatalog()
	require.NoError(t, err)
	dets, err := detectors.Build(nil, detectors.Options{Catalog: cat})
	require.NoError(t, err)
	mem := sinks.NewMemory()
	p, err := pipeline.New(pipeline.Config{Detection: detectors.Config{Source: "test", Detectors: dets}, Normalize: normalize, Events: mem})
	require.NoError(t, err)
	return p, mem
}

// eventsWithoutOrigins is the events as JSON, evidence origins blanked
// (a file's line numbers against a partition's offsets).
func eventsWithoutOrigins(t *testing.T, evs []schemas.IncidentEvent) string {
	t.Helper()
	for i := range evs {
		for j := range evs[i].Data.Evidence {
			evs[i].Data.Evidence[j].Origin = ""
		}
	}
	b, err := json.Marshal(evs)
	require.NoError(t, err)
	return string(b)
}

// TestForwardedEqualsReplay: a dirty corpus produced unkeyed (each entry
// on a random partition of its topic), forwarded by a first hop, and a
// stretch of one raw partition forwarded again as by the member that
// takes it over after a crash; the second hop, reading the repartition
// topic's partitions, gives exactly the events of a replay of the files,
// and drops every repeat.
func TestForwardedEqualsReplay(t *testing.T) {
	dir := t.TempDir()
	topics := map[schemas.Producer]string{schemas.ProducerExchange: "sync.exchange-connector", schemas.ProducerEngine: "sync.engine", schemas.ProducerC4CC: "sync.c4cc-connector"}
	files := map[schemas.Producer]*bytes.Buffer{}
	rng := rand.New(rand.NewPCG(7, 7))
	perPart := map[string][]pipeline.Message{}
	_, _, err := loggen.Generate(loggen.Config{Seed: 9, Mailboxes: 30, Duration: 18 * time.Hour, Dirty: true}, func(e loggen.Entry) error {
		if files[e.Producer] == nil {
			files[e.Producer] = &bytes.Buffer{}
		}
		files[e.Producer].Write(e.Raw)
		files[e.Producer].WriteByte('\n')
		tp, p := topics[e.Producer], rng.IntN(3)
		src := tp + "/" + strconv.Itoa(p)
		perPart[src] = append(perPart[src], pipeline.Message{Topic: tp, Partition: p, Source: src, Offset: int64(len(perPart[src])), Value: e.Raw, Generation: 1})
		return nil
	})
	require.NoError(t, err)
	var paths []string
	for p, b := range files {
		path := filepath.Join(dir, topics[p]+".log")
		require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
		paths = append(paths, path)
	}

	// the files, replayed
	p, mem := newPipeline(t, pipeline.NormalizeConfig{})
	srcs, err := filesource.Open(paths, nil, 0)
	require.NoError(t, err)
	readers := make([]pipeline.EntryReader, len(srcs))
	for i, s := range srcs {
		readers[i] = s
	}
	require.NoError(t, pipeline.Replay(context.Background(), p, readers, pipeline.ReplayOptions{}))
	want := eventsWithoutOrigins(t, mem.Events())
	require.Greater(t, len(mem.Events()), 20, "the corpus must give incidents")

	// the partitions read interleaved, each in order
	var interleaved []pipeline.Message
	var left []string
	for n := range perPart {
		left = append(left, n)
	}
	next := map[string]int{}
	for len(left) > 0 {
		i := rng.IntN(len(left))
		n := left[i]
		for k := 1 + rng.IntN(50); k > 0 && next[n] < len(perPart[n]); k-- {
			interleaved = append(interleaved, perPart[n][next[n]])
			next[n]++
		}
		if next[n] == len(perPart[n]) {
			left = append(left[:i], left[i+1:]...)
		}
	}
	out := &memOutput{parts: make([][]kafka.Message, 3)}
	forward(t, &memInput{msgs: interleaved, committed: map[string]int64{}}, out)

	// a crash: the next owner of sync.engine/1 forwards again from the
	// committed offset, 300 messages before the end
	again := perPart["sync.engine/1"]
	from := len(again) - 300
	forward(t, &memInput{msgs: again[from:], committed: map[string]int64{"sync.engine/1": int64(from)}}, out)

	p, mem = newPipeline(t, pipeline.NormalizeConfig{Repartitioned: true})
	var parts []pipeline.EntryReader
	for i, msgs := range out.parts {
		parts = append(parts, &partitionReader{name: "sync.repartition/" + strconv.Itoa(i), msgs: msgs})
	}
	require.NoError(t, pipeline.Replay(context.Background(), p, parts, pipeline.ReplayOptions{BatchSize: 113}))
	got := eventsWithoutOrigins(t, mem.Events())
	require.Equal(t, want, got, "the second hop's events differ from replay's")
	s := p.Summary()
	require.EqualValues(t, 300, s.Normalize.Repeated, "every record forwarded twice is dropped once")
	t.Logf("%d entries on 9 partitions, %d forwarded messages on 3, %d events equal to replay's, %d repeats dropped",
		len(interleaved), len(out.parts[0])+len(out.parts[1])+len(out.parts[2]), len(mem.Events()), s.Normalize.Repeated)
}
