package detectors_test

import (
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/detectors"
	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/pipeline/parse"
	"github.com/syncwatch/syncwatch/schemas"
)

// BenchmarkEngine is detection alone: records of a generated corpus,
// parsed beforehand and in event-time order, through the catalog and
// unknown-template detectors, the run engine and the incident tracker.
// ns/op is per record.
func BenchmarkEngine(b *testing.B) {
	benchEngine(b, engineCorpus, func(cat *detectors.Catalog) detectors.Options { return detectors.Options{Catalog: cat} })
}

// BenchmarkEngineLiveCatalog is BenchmarkEngine with the catalog read
// from a LiveCatalog, as ingest builds it so that a reload reaches the
// running engines: one atomic load more per record asked about.
func BenchmarkEngineLiveCatalog(b *testing.B) {
	benchEngine(b, engineCorpus, func(cat *detectors.Catalog) detectors.Options {
		return detectors.Options{Live: detectors.NewLiveCatalog(cat)}
	})
}

// engineCorpus is the corpus of BenchmarkEngine.
var engineCorpus = loggen.Config{Seed: 4, Mailboxes: 60, Duration: 24 * time.Hour}

// benchEngine runs the records of corpus, parsed beforehand, through an
// engine with the detectors opts builds; ns/op is per record.
func benchEngine(b *testing.B, corpus loggen.Config, opts func(*detectors.Catalog) detectors.Options) {
	var recs []schemas.LogRecord
	_, _, err := loggen.Generate(corpus, func(e loggen.Entry) error {
		var r schemas.LogRecord
		if parse.Entry(e.Raw, &r) == nil {
			recs = append(recs, r)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	cat, err := detectors.DefaultCatalog()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var out []schemas.IncidentEvent
	events := 0
	for done := 0; done < b.N; done += len(recs) {
		dets, err := detectors.Build(nil, opts(cat))
		if err != nil {
			b.Fatal(err)
		}
		eng, err := detectors.NewEngine(detectors.Config{Detectors: dets})
		if err != nil {
			b.Fatal(err)
		}
		for i := range recs {
			if done+i >= b.N {
				break
			}
			out = eng.Process(&recs[i], out[:0])
			events += len(out)
		}
		events += len(eng.Flush(out[:0]))
	}
	if b.N >= len(recs) && events == 0 {
		b.Fatal("the corpus gave no incident events")
	}
}
