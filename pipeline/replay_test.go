package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/detectors"
	"github.com/syncwatch/syncwatch/pipeline"
	"github.com/syncwatch/syncwatch/pipeline/filesource"
	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/pipeline/loggen/ship"
	"github.com/syncwatch/syncwatch/sinks"
)

func newReplayPipeline(t *testing.T) (*pipeline.Pipeline, *sinks.Memory) {
	t.Helper()
	cat, err := detectors.DefaultCatalog()
	require.NoError(t, err)
	dets, err := detectors.Build(nil, detectors.Options{Catalog: cat})
	require.NoError(t, err)
	mem := sinks.NewMemory()
	p, err := pipeline.New(pipeline.Config{Detection: detectors.Config{Source: "test", Detectors: dets}, Events: mem})
	require.NoError(t, err)
	return p, mem
}

func replayDir(t *testing.T, paths []string, opt pipeline.ReplayOptions) []byte {
	t.Helper()
	p, mem := newReplayPipeline(t)
	srcs, err := filesource.Open(paths, nil, 0)
	require.NoError(t, err)
	require.NoError(t, pipeline.Replay(context.Background(), p, entryReaders(srcs), opt))
	out, err := json.Marshal(mem.Events())
	require.NoError(t, err)
	return out
}

// TestReplayMergeIsDeterministic: the sources are parsed on their own
// goroutines, but what comes out must not depend on their timing nor on
// the batch size (a live consumer's batches end anywhere), nor on the
// order the sources are given in.
func TestReplayMergeIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	_, err := loggen.WriteDir(dir, loggen.Config{Seed: 5, Mailboxes: 25, Duration: 12 * time.Hour, Dirty: true})
	require.NoError(t, err)
	files := []string{filepath.Join(dir, "exchange.log"), filepath.Join(dir, "engine.log"), filepath.Join(dir, "c4cc.jsonl")}
	want := replayDir(t, files, pipeline.ReplayOptions{})
	require.Greater(t, bytes.Count(want, []byte(`"incident_id"`)), 20, "the corpus must give incidents")
	for _, bs := range []int{1, 7, 100000} {
		got := replayDir(t, files, pipeline.ReplayOptions{BatchSize: bs})
		require.True(t, string(want) == string(got), "batch size %d gives other events", bs)
	}
	reversed := []string{files[2], files[0], files[1]}
	require.True(t, string(want) == string(replayDir(t, reversed, pipeline.ReplayOptions{})), "the order of the sources changes the events")
}

// TestReplayCancel: cancelling stops Replay promptly, even with a source
// (stdin) whose read never returns, and leaves no reader of a file behind.
func TestReplayCancel(t *testing.T) {
	dir := t.TempDir()
	_, err := loggen.WriteDir(dir, loggen.Config{Seed: 6, Mailboxes: 50, Duration: 24 * time.Hour})
	require.NoError(t, err)
	stdin, w := io.Pipe() // one line, then a stuck stdin
	defer w.Close()
	go w.Write([]byte("ts=2026-11-24T00:00:00.000Z level=info tenant=t-1 mailbox=a@b.c run=r1 event=run_started\n"))
	before := runtime.NumGoroutine()
	p, _ := newReplayPipeline(t)
	srcs, err := filesource.Open([]string{filepath.Join(dir, "engine.log"), filepath.Join(dir, "c4cc.jsonl"), "-"}, stdin, 0)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	done := make(chan error, 1)
	go func() { done <- pipeline.Replay(ctx, p, entryReaders(srcs), pipeline.ReplayOptions{BatchSize: 64}) }()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(5 * time.Second):
		t.Fatal("Replay did not return within 5s of cancel")
	}
	w.Close() // the stuck stdin reader can end now
	require.Eventually(t, func() bool { return runtime.NumGoroutine() <= before+1 }, 5*time.Second, 10*time.Millisecond,
		"reader goroutines left behind: %d, before %d", runtime.NumGoroutine(), before)
}

// TestReplayReadError: a source that fails mid-way ends Replay with an
// error naming it, after the entries before the failure.
func TestReplayReadError(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "cut.log.gz")
	// a gzip header and then garbage: the reader fails after the header
	require.NoError(t, os.WriteFile(bad, []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 1, 2, 3, 4, 5, 6, 7}, 0o644))
	p, _ := newReplayPipeline(t)
	srcs, err := filesource.Open([]string{bad}, nil, 0)
	require.NoError(t, err)
	err = pipeline.Replay(context.Background(), p, entryReaders(srcs), pipeline.ReplayOptions{})
	require.Error(t, err)
	require.Contains(t, err.Error(), "reading "+bad)
	require.False(t, errors.Is(err, context.Canceled))
}

// entryReaders is files as Replay's inputs.
func entryReaders(files []*filesource.Source) []pipeline.EntryReader {
	out := make([]pipeline.EntryReader, len(files))
	for i, f := range files {
		out[i] = f
	}
	return out
}

// msgReader is one Kafka partition's messages as a replay input.
type msgReader struct {
	name string
	msgs [][]byte
	i    int
}

func (r *msgReader) ReadEntry(_ context.Context, en *pipeline.Entry) error {
	if r.i == len(r.msgs) {
		return io.EOF
	}
	*en = pipeline.Entry{Source: r.name, Raw: r.msgs[r.i], Origin: r.name + "/" + strconv.Itoa(r.i), Message: true}
	r.i++
	return nil
}
func (r *msgReader) SourceName() string { return r.name }
func (r *msgReader) BytesRead() int64   { return 0 }
func (r *msgReader) Close() error       { return nil }

// TestReplayShippedLinesIndependentOfBatches: a shipper without a
// multiline rule sends a stack trace's lines as messages of their own, and
// the joiner holds an ExchangeConnector entry until its stream moves on,
// which on a partition shared by a few mailboxes is minutes of the other
// streams' event time. The reorder stage must not release past such an
// entry, wherever a batch ends: before, batches of 512 entries gave late
// records and events that batches of 4,096 did not.
func TestReplayShippedLinesIndependentOfBatches(t *testing.T) {
	const partitions = 3
	parts := make([][][]byte, partitions)
	bal := &kafka.Hash{} // keyed by hash as a Kafka client does; unkeyed round robin
	_, _, err := ship.Generate(loggen.Config{Seed: 64, Mailboxes: 16, Duration: 12 * time.Hour, Dirty: true},
		ship.Config{Kind: ship.Filebeat, Keying: ship.KeyMailbox, Seed: 1}, func(m ship.Message) error {
			p := bal.Balance(kafka.Message{Key: m.Key}, 0, 1, 2)
			parts[p] = append(parts[p], m.Value)
			return nil
		})
	require.NoError(t, err)
	replay := func(bs int) (string, pipeline.Summary) {
		p, mem := newReplayPipeline(t)
		var srcs []pipeline.EntryReader
		for i, msgs := range parts {
			srcs = append(srcs, &msgReader{name: "c4c.logs/" + strconv.Itoa(i), msgs: msgs})
		}
		require.NoError(t, pipeline.Replay(context.Background(), p, srcs, pipeline.ReplayOptions{BatchSize: bs}))
		out, err := json.Marshal(mem.Events())
		require.NoError(t, err)
		return string(out), p.Summary()
	}
	want, st := replay(100000)
	require.Zero(t, st.Late, "late records")
	require.Greater(t, strings.Count(want, `"incident_id"`), 20, "the corpus must give incidents")
	require.Positive(t, st.Normalize.Joined, "the corpus must have stack traces sent line by line")
	for _, bs := range []int{1, 7, 512, 4096} {
		got, st := replay(bs)
		require.Zero(t, st.Late, "batch size %d: late records", bs)
		require.True(t, want == got, "batch size %d gives other events", bs)
	}
}
