package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
)

// TestPeakProfile: --peakprofile writes a heap profile (gzipped pprof
// with the in-use sample types), next to --memprofile's at the end.
func TestPeakProfile(t *testing.T) {
	dir := newCorpus(t, loggen.Config{Seed: 2, Mailboxes: 200, Duration: 2 * time.Hour})
	peak := filepath.Join(t.TempDir(), "peak.pprof")
	mem := filepath.Join(t.TempDir(), "mem.pprof")
	code, _, errOut := runReplay(t, "", "--quiet", "--out", os.DevNull, "--peakprofile", peak, "--memprofile", mem, dir)
	require.Equal(t, exitOK, code, errOut)
	for _, f := range []string{peak, mem} {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		zr, err := gzip.NewReader(bytes.NewReader(b))
		require.NoError(t, err, "%s is gzipped (pprof)", f)
		raw, err := io.ReadAll(zr)
		require.NoError(t, err)
		require.Contains(t, string(raw), "inuse_space", f)
	}
}
