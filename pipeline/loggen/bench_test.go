package loggen_test

import (
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
)

// BenchmarkGenerate generates the default corpus (30 mailboxes x 24h),
// clean and dirty; it reports bytes/s and lines/s.
func BenchmarkGenerate(b *testing.B) {
	for _, dirty := range []bool{false, true} {
		b.Run(map[bool]string{false: "clean", true: "dirty"}[dirty], func(b *testing.B) {
			cfg := loggen.Config{Dirty: dirty}
			var bytes, lines int64
			emit := func(e loggen.Entry) error {
				bytes += int64(len(e.Raw)) + 1
				lines++
				return nil
			}
			if _, _, err := loggen.Generate(cfg, emit); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(bytes)
			b.ReportAllocs()
			bytes, lines = 0, 0
			start := time.Now()
			for b.Loop() {
				if _, _, err := loggen.Generate(cfg, emit); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(lines)/time.Since(start).Seconds(), "lines/s")
		})
	}
}
