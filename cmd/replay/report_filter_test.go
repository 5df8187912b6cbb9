package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
)

// TestFilteredReportSaysSo: a report written with event filters says it
// is filtered and with which flags, and each card says whether it counts
// the matching incidents or the whole input; an unfiltered one says
// neither.
func TestFilteredReportSaysSo(t *testing.T) {
	dir := newCorpus(t, loggen.Config{Seed: 9, Mailboxes: 12, Tenants: 3})
	report := func(args ...string) string {
		path := filepath.Join(t.TempDir(), "report.html")
		replayLines(t, append([]string{"--report", path}, append(args, dir)...)...)
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		return string(b)
	}
	filtered := report("--tenant", "t-1000", "--kind", "sync_error")
	require.Contains(t, filtered, `id="filtered"`)
	require.Contains(t, filtered, "--tenant t-1000 --kind sync_error")
	require.Contains(t, filtered, "(matching the filter)")
	require.Contains(t, filtered, "(whole input)")

	plain := report()
	require.NotContains(t, plain, `id="filtered"`)
	require.False(t, strings.Contains(plain, "(matching the filter)") || strings.Contains(plain, "(whole input)"))
}
