package loggen

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRewriteEntries(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "exchange.log")
	in := "2026-11-24 01:00:00,001 [1] ERROR X - [t/m/run:a] boom\n" +
		"System.Exception: boom\n   at X.Y()\n" +
		"2026-11-24 02:30:00,002 [1] ERROR X - [t/m/run:b] gone\n" +
		"System.Exception: gone\n" +
		"2026-11-24 03:00:00,003 [1] INFO  X - [t/m/run:c] changed\n" +
		"System.Exception: after a changed line\n"
	require.NoError(t, os.WriteFile(path, []byte(in), 0o644))
	var seen []time.Time
	require.NoError(t, RewriteEntries(path, func(l string, at time.Time) (string, bool) {
		seen = append(seen, at)
		switch {
		case strings.Contains(l, "run:b"):
			return l, false // dropped, with its stack trace
		case strings.Contains(l, "run:c"):
			return strings.Replace(l, "changed", "CHANGED", 1), true // kept, without it
		}
		return l, true
	}))
	out, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "2026-11-24 01:00:00,001 [1] ERROR X - [t/m/run:a] boom\n"+
		"System.Exception: boom\n   at X.Y()\n"+
		"2026-11-24 03:00:00,003 [1] INFO  X - [t/m/run:c] CHANGED\n", string(out))
	require.Equal(t, []time.Time{
		time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 24, 2, 30, 0, 0, time.UTC),
		time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC),
	}, seen)
	require.Error(t, RewriteEntries(filepath.Join(dir, "missing.log"), nil))
}
