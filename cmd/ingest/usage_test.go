package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestUsageMistakes: what a new user types first gets a short answer that
// says what to do, not a screenful of flags.
func TestUsageMistakes(t *testing.T) {
	t.Setenv("SYNCWATCH_BROKERS", "")
	t.Setenv("SYNCWATCH_CONFIG", "")
	for _, tt := range []struct {
		name string
		args []string
		want []string
	}{
		{"no arguments", nil, []string{"brokers: at least one broker", "ingest --demo"}},
		{"a misspelt flag", []string{"--broker", "k:9092"}, []string{"flag provided but not defined: -broker", "ingest --help lists every flag"}},
		{"a bad duration", []string{"--brokers", "k:9092", "--quiet-after", "soon"}, []string{"invalid value \"soon\" for flag -quiet-after", "ingest --help"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			require.Equal(t, exitUsage, run(context.Background(), tt.args, &stdout, &stderr))
			for _, w := range tt.want {
				require.Contains(t, stderr.String(), w)
			}
			require.Less(t, strings.Count(stderr.String(), "\n"), 8, "short: %s", stderr.String())
		})
	}
}
