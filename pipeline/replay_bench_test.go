package pipeline_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/detectors"
	"github.com/syncwatch/syncwatch/pipeline"
	"github.com/syncwatch/syncwatch/pipeline/filesource"
	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/sinks"
)

// BenchmarkReplay is the whole pipeline (read, parse, merge, reorder,
// detect, encode events) over a generated corpus of the three producers,
// per entry: ns/op is the cost of one log entry.
func BenchmarkReplay(b *testing.B) {
	dir := b.TempDir()
	st, err := loggen.WriteDir(dir, loggen.Config{Seed: 3, Mailboxes: 60, Duration: 24 * time.Hour, Dirty: true})
	if err != nil {
		b.Fatal(err)
	}
	entries := 0
	for _, n := range st.Lines {
		entries += n
	}
	var size int64
	files := []string{"exchange.log", "engine.log", "c4cc.jsonl"}
	for i, f := range files {
		files[i] = filepath.Join(dir, f)
		fi, err := os.Stat(files[i])
		if err != nil {
			b.Fatal(err)
		}
		size += fi.Size()
	}
	cat, err := detectors.DefaultCatalog()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size / int64(entries))
	b.ReportAllocs()
	b.ResetTimer()
	// b.N counts entries: replay the corpus as often as it takes.
	for done := 0; done < b.N; done += entries {
		dets, err := detectors.Build(nil, detectors.Options{Catalog: cat})
		if err != nil {
			b.Fatal(err)
		}
		events := sinks.NewJSONL(discard{}, sinks.JSONLOptions{})
		p, err := pipeline.New(pipeline.Config{Detection: detectors.Config{Detectors: dets}, Events: events})
		if err != nil {
			b.Fatal(err)
		}
		srcs, err := filesource.Open(files, nil, 0)
		if err != nil {
			b.Fatal(err)
		}
		if err := pipeline.Replay(context.Background(), p, entryReaders(srcs), pipeline.ReplayOptions{}); err != nil {
			b.Fatal(err)
		}
		if err := events.Close(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
