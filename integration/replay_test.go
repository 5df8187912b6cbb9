package integration

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
)

func runReplay(t *testing.T, args ...string) (stdout, stderr []byte, code int) {
	t.Helper()
	cmd := exec.Command(bin("replay"), args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.Bytes(), e.Bytes(), ee.ExitCode()
	}
	require.NoError(t, err)
	return o.Bytes(), e.Bytes(), 0
}

func TestReplayScoresGeneratedCorpora(t *testing.T) {
	tests := []struct {
		name string
		cfg  loggen.Config
	}{
		{"clean", loggen.Config{Seed: 11}},
		{"dirty", loggen.Config{Seed: 12, Dirty: true}},
		{"paraphrased and dirty", loggen.Config{Seed: 13, Dirty: true, Wording: 1}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			dir, truth := corpus(t, test.cfg)
			require.NotEmpty(t, truth)
			out, stderr, code := runReplay(t, "--dead-letter", filepath.Join(t.TempDir(), "dead.jsonl"),
				filepath.Join(dir, "exchange.log"), filepath.Join(dir, "engine.log"), filepath.Join(dir, "c4cc.jsonl"))
			require.Equal(t, 0, code, "stderr: %s", stderr)
			require.Contains(t, string(stderr), "incidents opened by kind/class")
			evs := decodeEvents(t, out)
			p, r := f1(truth, evs)
			t.Logf("%d true episodes, %d events: precision %.3f recall %.3f", len(truth), len(evs), p, r)
			require.GreaterOrEqual(t, p, 0.99)
			require.GreaterOrEqual(t, r, 0.99)
		})
	}
}

func TestReplayDeterministicWhateverTheSplit(t *testing.T) {
	dir, _ := corpus(t, loggen.Config{Seed: 21, Dirty: true, Mailboxes: 15, Duration: 12 * 3600e9})
	files := []string{filepath.Join(dir, "exchange.log"), filepath.Join(dir, "engine.log"), filepath.Join(dir, "c4cc.jsonl")}
	a, _, code := runReplay(t, append([]string{"--quiet"}, files...)...)
	require.Equal(t, 0, code)
	b, _, code := runReplay(t, append([]string{"--quiet"}, files...)...)
	require.Equal(t, 0, code)
	require.NotEmpty(t, a)
	require.Equal(t, a, b, "two replays of the same input must be byte-identical")

	// the same logs in one file (producer after producer) give the same incidents
	var all []byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		all = append(all, data...)
		if len(data) > 0 && data[len(data)-1] != '\n' {
			all = append(all, '\n')
		}
	}
	one := filepath.Join(t.TempDir(), "all.log")
	require.NoError(t, os.WriteFile(one, all, 0o644))
	c, _, code := runReplay(t, "--quiet", "--reorder-window", "48h", one)
	require.Equal(t, 0, code)
	require.Equal(t, withoutOrigins(t, decodeEvents(t, a)), withoutOrigins(t, decodeEvents(t, c)))
}

func TestReplayBadInput(t *testing.T) {
	_, stderr, code := runReplay(t, "/nonexistent/path")
	require.Equal(t, 1, code)
	require.Contains(t, string(stderr), "/nonexistent/path")

	_, stderr, code = runReplay(t)
	require.Equal(t, 1, code)
	require.Contains(t, string(stderr), "no input")

	_, _, code = runReplay(t, "--lateness", "-1s", "x")
	require.Equal(t, 1, code)

	// garbage around good lines: the good ones still count, the bad are dead letters
	dir := t.TempDir()
	in := filepath.Join(dir, "mixed.log")
	huge := bytes.Repeat([]byte("x"), 2<<20)
	content := []byte("\x00\x01\x02garbage\xc3\xbf\n" +
		"2026-11-24 10:15:32,123 [12] ERROR ExchangeConnector.SyncWorker - [t-1/anna@contoso.com/run:r1] Authentication error\n" +
		"{\"@timestamp\":\"2026-11-24T10:00:00Z\",\"level\":\n" +
		"ts=2026-11-24T10:00:00Z level=info msg=\"unclosed\n" + string(huge) + "\n")
	require.NoError(t, os.WriteFile(in, content, 0o644))
	dead := filepath.Join(dir, "dead.jsonl")
	out, _, code := runReplay(t, "--dead-letter", dead, in)
	require.Equal(t, 0, code)
	evs := decodeEvents(t, out)
	require.Len(t, evs, 1)
	require.Equal(t, "exchange.auth.password", evs[0].Data.Class)
	dl, err := os.ReadFile(dead)
	require.NoError(t, err)
	lines := bytes.Count(dl, []byte("\n"))
	require.Equal(t, 4, lines, "dead letters: %s", dl[:min(len(dl), 600)])
}
