package pipeline_test

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline"
	"github.com/syncwatch/syncwatch/pipeline/loggen"
)

// TestNormalizeExecParallel: a large batch is parsed on several
// goroutines, and gives exactly what one goroutine gives, in order,
// garbage and dead letters included.
func TestNormalizeExecParallel(t *testing.T) {
	var entries []pipeline.Entry
	_, _, err := loggen.Generate(loggen.Config{Seed: 12, Mailboxes: 30, Duration: 6 * time.Hour, Dirty: true}, func(e loggen.Entry) error {
		entries = append(entries, pipeline.Entry{Source: "t/0", Raw: append([]byte(nil), e.Raw...), Origin: "t/0/" + strconv.Itoa(len(entries))})
		return nil
	})
	require.NoError(t, err)
	run := func(procs int) pipeline.Batch {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		s := pipeline.NewNormalizeStage(pipeline.NormalizeConfig{})
		var out pipeline.Batch
		for lo := 0; lo < len(entries); lo += 2000 {
			b := pipeline.Batch{Entries: append([]pipeline.Entry(nil), entries[lo:min(lo+2000, len(entries))]...)}
			require.NoError(t, s.Exec(context.Background(), &b))
			out.Records = append(out.Records, b.Records...)
			out.DeadLetters = append(out.DeadLetters, b.DeadLetters...)
		}
		return out
	}
	one, four := run(1), run(4)
	require.NotEmpty(t, one.DeadLetters, "the dirty corpus has garbage")
	require.Equal(t, len(one.Records), len(four.Records))
	for i := range one.Records {
		require.Equal(t, one.Records[i].LogRecord, four.Records[i].LogRecord, "record %d", i)
	}
	require.Equal(t, one.DeadLetters, four.DeadLetters)
}
