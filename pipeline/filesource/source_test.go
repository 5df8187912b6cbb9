package filesource_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline"
	"github.com/syncwatch/syncwatch/pipeline/filesource"
	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/pipeline/loggen/ship"
	"github.com/syncwatch/syncwatch/schemas"
	"github.com/syncwatch/syncwatch/sinks"
)

// TestOpenSkipsCorpusMetadata: walking a corpus directory reads its logs,
// not the truth and manifest files beside them (which would only become
// dead letters); named explicitly, a file is read whatever its name.
func TestOpenSkipsCorpusMetadata(t *testing.T) {
	dir := t.TempDir()
	_, err := loggen.WriteDir(dir, loggen.Config{Seed: 2, Mailboxes: 3, Duration: time.Hour})
	require.NoError(t, err)
	srcs, err := filesource.Open([]string{dir}, nil, 0)
	require.NoError(t, err)
	var names []string
	for _, s := range srcs {
		names = append(names, filepath.Base(s.Name))
		require.Empty(t, s.Stream, "a producer's file is one stream")
		s.Close()
	}
	require.Equal(t, []string{"c4cc.jsonl", "engine.log", "exchange.log"}, names)
	srcs, err = filesource.Open([]string{filepath.Join(dir, loggen.ManifestFile)}, nil, 0)
	require.NoError(t, err)
	require.Len(t, srcs, 1)
	srcs[0].Close()
}

// replayEvents replays srcs and returns the events, origins aside.
func replayEvents(t *testing.T, srcs []*filesource.Source) []string {
	t.Helper()
	mem := sinks.NewMemory()
	p, err := pipeline.New(pipeline.Config{Events: mem})
	require.NoError(t, err)
	in := make([]pipeline.EntryReader, len(srcs))
	for i, s := range srcs {
		in[i] = s
	}
	require.NoError(t, pipeline.Replay(context.Background(), p, in, pipeline.ReplayOptions{}))
	var out []string
	for _, ev := range mem.Events() {
		for i := range ev.Data.Evidence {
			ev.Data.Evidence[i].Origin = ""
		}
		b, err := json.Marshal(ev)
		require.NoError(t, err)
		out = append(out, string(b))
	}
	return out
}

func open(t *testing.T, paths ...string) []*filesource.Source {
	t.Helper()
	srcs, err := filesource.Open(paths, nil, 0)
	require.NoError(t, err)
	return srcs
}

// TestOpenStreamsLaidEndToEnd: a file that holds the three producers'
// logs one after another is read as one source per stream, merged by
// event time: it gives the events of the three files, not the ones of
// hours of late lines. The same as a Filebeat archive of the three files
// read one by one, plain or compressed; an archive whose files'
// lines are interleaved is read whole, as are the producers' own files.
func TestOpenStreamsLaidEndToEnd(t *testing.T) {
	dir := t.TempDir()
	cfg := loggen.Config{Seed: 21, Mailboxes: 12, Duration: 12 * time.Hour, Dirty: true}
	_, err := loggen.WriteDir(dir, cfg)
	require.NoError(t, err)
	files := []string{filepath.Join(dir, loggen.ExchangeFile), filepath.Join(dir, loggen.EngineFile), filepath.Join(dir, loggen.C4CCFile)}
	want := replayEvents(t, open(t, files...))
	require.Greater(t, len(want), 20, "the corpus must give incidents")

	var cat bytes.Buffer
	for _, f := range []string{files[1], files[0], files[2]} {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		cat.Write(b)
	}
	concatenated := filepath.Join(t.TempDir(), "all.log")
	require.NoError(t, os.WriteFile(concatenated, cat.Bytes(), 0o644))
	srcs := open(t, concatenated)
	var streams []string
	for _, s := range srcs {
		streams = append(streams, s.Stream)
		require.Equal(t, concatenated, s.Name, "origins name the file")
	}
	require.Equal(t, []string{"logfmt", "log4net", "json"}, streams)
	require.Equal(t, want, replayEvents(t, srcs))

	// a Filebeat archive of the three files, one after another, and the
	// same lines as a live shipper writes them: in the order they came
	var byFile [3][][]byte
	var interleaved bytes.Buffer
	sh, err := ship.New(ship.Config{Kind: ship.Filebeat, Seed: 1})
	require.NoError(t, err)
	_, _, err = loggen.Generate(cfg, func(e loggen.Entry) error {
		return sh.Ship(e, func(m ship.Message) error {
			i := map[schemas.Producer]int{schemas.ProducerExchange: 0, schemas.ProducerEngine: 1, schemas.ProducerC4CC: 2}[m.Producer]
			l := append(append([]byte(nil), m.Value...), '\n')
			byFile[i] = append(byFile[i], l)
			interleaved.Write(l)
			return nil
		})
	})
	require.NoError(t, err)
	var archive bytes.Buffer
	for _, lines := range byFile {
		for _, l := range lines {
			archive.Write(l)
		}
	}
	arch := filepath.Join(t.TempDir(), "filebeat.ndjson")
	require.NoError(t, os.WriteFile(arch, archive.Bytes(), 0o644))
	srcs = open(t, arch)
	require.Len(t, srcs, 3, "three files' streams")
	require.Equal(t, want, replayEvents(t, srcs))

	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	_, err = zw.Write(archive.Bytes())
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(arch+".gz", z.Bytes(), 0o644))
	srcs = open(t, arch+".gz")
	require.Len(t, srcs, 3, "a compressed archive too")
	require.Equal(t, want, replayEvents(t, srcs))
	tmp, err := filepath.Glob(filepath.Join(os.TempDir(), "syncwatch-replay-*"))
	require.NoError(t, err)
	require.Empty(t, tmp, "the decompressed copy is removed")

	require.NoError(t, os.WriteFile(arch, interleaved.Bytes(), 0o644))
	srcs = open(t, arch)
	require.Len(t, srcs, 1, "interleaved streams are in time order already")
	require.Empty(t, srcs[0].Stream)
	srcs[0].Close()
}

// TestStretchesKeepOrigins: every entry of a file read as several streams
// is read once, and its origin names its own line of the file.
func TestStretchesKeepOrigins(t *testing.T) {
	dir := t.TempDir()
	_, err := loggen.WriteDir(dir, loggen.Config{Seed: 22, Mailboxes: 6, Duration: 6 * time.Hour, Dirty: true})
	require.NoError(t, err)
	var cat bytes.Buffer
	for _, f := range []string{loggen.C4CCFile, loggen.ExchangeFile, loggen.EngineFile} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		cat.Write(b)
	}
	path := filepath.Join(t.TempDir(), "all.log")
	require.NoError(t, os.WriteFile(path, cat.Bytes(), 0o644))
	lines := bytes.Split(cat.Bytes(), []byte("\n"))

	whole := open(t, path)
	require.Len(t, whole, 3)
	seen := map[string]bool{}
	for _, s := range whole {
		for {
			var en pipeline.Entry
			err := s.ReadEntry(context.Background(), &en)
			if err != nil {
				break
			}
			require.False(t, seen[en.Origin], "%s read twice", en.Origin)
			seen[en.Origin] = true
			n, err := strconv.Atoi(en.Origin[strings.LastIndexByte(en.Origin, ':')+1:])
			require.NoError(t, err)
			first, _, _ := bytes.Cut(en.Raw, []byte("\n"))
			require.Equal(t, string(bytes.TrimRight(lines[n-1], "\r")), string(bytes.TrimRight(first, "\r")), "origin %s", en.Origin)
		}
		s.Close()
	}
	var scanned int
	for _, s := range open(t, filepath.Join(dir, loggen.C4CCFile), filepath.Join(dir, loggen.ExchangeFile), filepath.Join(dir, loggen.EngineFile)) {
		for {
			var en pipeline.Entry
			if s.ReadEntry(context.Background(), &en) != nil {
				break
			}
			scanned++
		}
		s.Close()
	}
	require.Equal(t, scanned, len(seen), "as many entries as the three files have")
}
