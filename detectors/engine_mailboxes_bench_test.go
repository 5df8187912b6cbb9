package detectors_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/detectors"
	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/pipeline/parse"
	"github.com/syncwatch/syncwatch/schemas"
)

// BenchmarkEngineMailboxes is BenchmarkEngine with the mailboxes of the
// benchmark corpus (700) and with many more, logging less each: the
// mailboxes' lookups and state weigh more. ns/op is per record.
func BenchmarkEngineMailboxes(b *testing.B) {
	for _, n := range []int{700, 20000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			hours := max(0.2, 8*700/float64(n))
			var recs []schemas.LogRecord
			_, _, err := loggen.Generate(loggen.Config{Seed: 4, Mailboxes: n, Duration: time.Duration(hours * float64(time.Hour))}, func(e loggen.Entry) error {
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
			for done := 0; done < b.N; done += len(recs) {
				dets, err := detectors.Build(nil, detectors.Options{Catalog: cat})
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
				}
				eng.Flush(out[:0])
			}
		})
	}
}
