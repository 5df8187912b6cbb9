package pipeline

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/detectors"
	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/pipeline/parse"
	"github.com/syncwatch/syncwatch/sinks"
)

// TestStagedMatchesExec: the same batches give the same events, in the
// same order, whether each runs through every stage in turn (exec) or the
// stages run side by side on consecutive batches (staged), health
// monitor's pipeline incidents and dead letters included.
func TestStagedMatchesExec(t *testing.T) {
	dir := t.TempDir()
	_, err := loggen.WriteDir(dir, loggen.Config{Seed: 11, Mailboxes: 20, Duration: 12 * time.Hour, Dirty: true})
	require.NoError(t, err)
	batches := readBatches(t, dir, 333)
	ctx := context.Background()

	seq, seqMem := newTestPipeline(t)
	for _, entries := range batches {
		b := &Batch{Entries: entries}
		require.NoError(t, seq.exec(ctx, b))
	}
	require.NoError(t, seq.exec(ctx, &Batch{Final: true}))

	par, parMem := newTestPipeline(t)
	stages := par.start(ctx)
	b := &Batch{}
	for _, entries := range batches {
		b.Entries = append(b.Entries, entries...)
		b, err = stages.Exec(ctx, b)
		require.NoError(t, err)
	}
	b.Final = true
	_, err = stages.Exec(ctx, b)
	require.NoError(t, err)
	require.NoError(t, stages.Close())

	want, err := json.Marshal(seqMem.Events())
	require.NoError(t, err)
	got, err := json.Marshal(parMem.Events())
	require.NoError(t, err)
	require.Greater(t, len(seqMem.Events()), 20, "the corpus must give incidents")
	require.True(t, string(want) == string(got), "staged gives other events than exec")
	require.Equal(t, seq.Summary(), stages.Summary(), "the counters differ")
}

// readBatches reads the corpus in dir, the three files' entries
// interleaved, into batches of n entries (their bytes copied).
func readBatches(t *testing.T, dir string, n int) [][]Entry {
	t.Helper()
	var scanners []*parse.Scanner
	for _, name := range []string{"exchange.log", "engine.log", "c4cc.jsonl"} {
		f, err := os.Open(filepath.Join(dir, name))
		require.NoError(t, err)
		defer f.Close()
		scanners = append(scanners, parse.NewScanner(f, 0))
	}
	var all []Entry
	for live := len(scanners); live > 0; {
		live = 0
		for i, sc := range scanners {
			if !sc.Scan() {
				require.NoError(t, sc.Err())
				continue
			}
			name := []string{"exchange.log", "engine.log", "c4cc.jsonl"}[i]
			all = append(all, Entry{Source: name, Raw: append([]byte{}, sc.Entry()...), Origin: name + ":" + strconv.Itoa(sc.Line())})
			live++
		}
	}
	var batches [][]Entry
	for len(all) > 0 {
		k := min(n, len(all))
		batches = append(batches, all[:k:k])
		all = all[k:]
	}
	return batches
}

// newTestPipeline is a pipeline with the default detectors, writing its
// events to memory.
func newTestPipeline(t *testing.T) (*Pipeline, *sinks.Memory) {
	t.Helper()
	mem := sinks.NewMemory()
	p, err := New(Config{Detection: detectors.Config{Source: "test"}, Events: mem})
	require.NoError(t, err)
	return p, mem
}
