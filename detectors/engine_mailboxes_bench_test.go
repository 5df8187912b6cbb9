package detectors_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/detectors"
	"github.com/syncwatch/syncwatch/pipeline/loggen"
)

// BenchmarkEngineMailboxes is BenchmarkEngine with the mailboxes of the
// benchmark corpus (700) and with many more, logging less each: the
// mailboxes' lookups and state weigh more. ns/op is per record.
func BenchmarkEngineMailboxes(b *testing.B) {
	for _, n := range []int{700, 20000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			hours := max(0.2, 8*700/float64(n))
			corpus := loggen.Config{Seed: 4, Mailboxes: n, Duration: time.Duration(hours * float64(time.Hour))}
			benchEngine(b, corpus, func(cat *detectors.Catalog) detectors.Options { return detectors.Options{Catalog: cat} })
		})
	}
}
