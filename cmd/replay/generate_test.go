package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/pipeline/loggen/ship"
)

// generate runs `replay generate` with args into a new dir and returns it.
func generate(t *testing.T, args ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "corpus")
	code, stdout, stderr := runReplay(t, "", append([]string{"generate", "--out", dir}, args...)...)
	require.Equal(t, exitOK, code, "generate %v: %s", args, stderr)
	require.Contains(t, stdout, "wrote "+dir)
	return dir
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// smallCorpus has stack traces (8 lines of them) and dirt.
var smallCorpus = []string{"--seed", "2", "--mailboxes", "8", "--hours", "12", "--dirty"}

func TestGenerateShipper(t *testing.T) {
	raw := generate(t, smallCorpus...)
	var rawLines int
	for _, f := range corpusFiles(raw) {
		rawLines += bytes.Count(readFile(t, f), []byte{'\n'})
	}
	for _, kind := range ship.Kinds() {
		if kind.Binary() {
			continue
		}
		for _, multiline := range []bool{false, true} {
			name := string(kind)
			args := append(append([]string{}, smallCorpus...), "--shipper", string(kind), "--shipper-host", "conn07")
			if multiline {
				name += "/multiline"
				args = append(args, "--multiline")
			}
			t.Run(name, func(t *testing.T) {
				dir := generate(t, args...)
				archive := kind.ArchiveFile()
				require.ElementsMatch(t, []string{archive, loggen.TruthFile, loggen.ManifestFile}, dirNames(t, dir),
					"the archive replaces the raw files; no temporary dir is left")
				for _, f := range []string{loggen.TruthFile, loggen.ManifestFile} {
					require.Equal(t, readFile(t, filepath.Join(raw, f)), readFile(t, filepath.Join(dir, f)), "%s as without --shipper", f)
				}
				b := readFile(t, filepath.Join(dir, archive))
				require.True(t, bytes.HasSuffix(b, []byte{'\n'}))
				lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
				switch {
				case kind == ship.LogstashPlain:
					// text values, multi-line ones keep their newlines
					require.True(t, strings.HasPrefix(lines[0], "2026-11-24T"), lines[0])
					require.Contains(t, lines[0], " {name=conn07} ")
					if !multiline {
						require.Equal(t, rawLines, len(lines), "one line per physical line, as in the raw files")
					}
				case kind.Batched():
					require.Less(t, len(lines), rawLines, "otlp: batches")
					for _, l := range lines {
						require.True(t, strings.HasPrefix(l, `{"resourceLogs":[`), l)
					}
				default:
					for _, l := range lines {
						require.True(t, json.Valid([]byte(l)), "%s: %s", archive, l)
					}
					if kind == ship.Filebeat || kind == ship.Vector {
						require.Contains(t, lines[0], `"conn07"`)
					}
					if multiline {
						require.Less(t, len(lines), rawLines, "stack traces are one event")
					} else if kind != ship.Filebeat { // Filebeat drops the blank lines
						require.Equal(t, rawLines, len(lines))
					}
				}
				again := generate(t, args...)
				require.Equal(t, b, readFile(t, filepath.Join(again, archive)), "the same seed gives the same bytes")
			})
		}
	}
}

func TestGenerateShipperUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--shipper", "otlp-proto"}, "binary protobuf"},
		{[]string{"--shipper", "otel"}, "binary protobuf"},
		{[]string{"--shipper", "rsyslog"}, "unknown name"},
		{[]string{"--multiline"}, "need --shipper"},
		{[]string{"--shipper-host", "h"}, "need --shipper"},
		{[]string{"--shipper", "vector", "--shipper-host", "two words"}, "Host"},
		{[]string{"--shipper", "vector", "extra"}, "unexpected argument"},
	}
	for _, tt := range tests {
		dir := filepath.Join(t.TempDir(), "out")
		code, _, stderr := runReplay(t, "", append([]string{"generate", "--out", dir}, tt.args...)...)
		require.Equal(t, exitUsage, code, "%v", tt.args)
		require.Contains(t, stderr, tt.want, "%v", tt.args)
		_, err := os.Stat(dir)
		require.True(t, os.IsNotExist(err), "%v: nothing written on bad usage", tt.args)
	}
	code, _, stderr := runReplay(t, "", "generate", "--help")
	require.Equal(t, exitOK, code)
	require.Contains(t, stderr, "filebeat.ndjson")
	require.Contains(t, stderr, "-shipper KIND")
}
