package filesource_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline"
	"github.com/syncwatch/syncwatch/pipeline/filesource"
	"github.com/syncwatch/syncwatch/pipeline/loggen"
)

type member struct {
	name string
	data []byte
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return z.Bytes()
}

func writeZip(t *testing.T, path string, members ...member) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	_, err := zw.Create("c4c/") // a directory
	require.NoError(t, err)
	for _, m := range members {
		w, err := zw.Create(m.name)
		require.NoError(t, err)
		_, err = w.Write(m.data)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
}

func tarBytes(t *testing.T, members ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "var/log/c4c/", Typeflag: tar.TypeDir, Mode: 0o755}))
	for _, m := range members {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: m.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(m.data))}))
		_, err := tw.Write(m.data)
		require.NoError(t, err)
	}
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "var/log/c4c/current", Typeflag: tar.TypeSymlink, Linkname: "exchange.log"}))
	require.NoError(t, tw.Close())
	return buf.Bytes()
}

// TestOpenArchives: the files of a .zip, a .tar and a .tar.gz are read as
// a directory's (in lexical order, each a source named ARCHIVE/FILE),
// compressed or rotated files among them, an archive inside an archive
// too, and give the events the files give; what is not a log is skipped,
// and the extracted copies are removed.
func TestOpenArchives(t *testing.T) {
	dir := t.TempDir()
	_, err := loggen.WriteDir(dir, loggen.Config{Seed: 23, Mailboxes: 10, Duration: 12 * time.Hour, Dirty: true})
	require.NoError(t, err)
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		return b
	}
	exchange, engine, c4cc := read(loggen.ExchangeFile), read(loggen.EngineFile), read(loggen.C4CCFile)
	want := replayEvents(t, open(t, filepath.Join(dir, loggen.ExchangeFile), filepath.Join(dir, loggen.EngineFile), filepath.Join(dir, loggen.C4CCFile)))
	require.Greater(t, len(want), 10, "the corpus must give incidents")

	out := t.TempDir()
	zipPath := filepath.Join(out, "ticket-4711.zip")
	writeZip(t, zipPath,
		member{"c4c/exchange.log", exchange},
		member{"c4c/engine.log", engine},
		member{"c4c/c4cc.jsonl.gz", gzipped(t, c4cc)},
		member{"c4c/manifest.json", read(loggen.ManifestFile)},
		member{"__MACOSX/c4c/._exchange.log", []byte("\x00\x05\x16\x07 resource fork")},
		member{"c4c/.DS_Store", []byte("\x00\x00\x00\x01Bud1")},
	)
	srcs := open(t, zipPath)
	var names []string
	for _, s := range srcs {
		names = append(names, s.Name)
	}
	require.Equal(t, []string{zipPath + "/c4c/c4cc.jsonl.gz", zipPath + "/c4c/engine.log", zipPath + "/c4c/exchange.log"}, names)
	require.Equal(t, want, replayEvents(t, srcs))

	// rotated files, the oldest compressed: exchange.log.1 holds the
	// first half
	half := bytes.LastIndexByte(exchange[:len(exchange)/2], '\n') + 1
	for len(exchange) > half && (exchange[half] == ' ' || exchange[half] == 'S') { // not inside a stack trace
		half += bytes.IndexByte(exchange[half:], '\n') + 1
	}
	rotated := tarBytes(t,
		member{"var/log/c4c/exchange.log", exchange[half:]},
		member{"var/log/c4c/exchange.log.1.gz", gzipped(t, exchange[:half])},
		member{"var/log/c4c/engine.log", engine},
		member{"var/log/c4c/c4cc.jsonl", c4cc},
	)
	tgz := filepath.Join(out, "c4c-logs.tar.gz")
	require.NoError(t, os.WriteFile(tgz, gzipped(t, rotated), 0o644))
	srcs = open(t, tgz)
	require.Len(t, srcs, 4)
	require.Equal(t, tgz+"/var/log/c4c/c4cc.jsonl", srcs[0].Name)
	require.Equal(t, want, replayEvents(t, srcs))

	plain := filepath.Join(out, "c4c-logs.tar")
	require.NoError(t, os.WriteFile(plain, rotated, 0o644))
	require.Equal(t, want, replayEvents(t, open(t, plain)))

	// the zip inside a tar
	zipBytes, err := os.ReadFile(zipPath)
	require.NoError(t, err)
	nested := filepath.Join(out, "nested.tar")
	require.NoError(t, os.WriteFile(nested, tarBytes(t, member{"upload/ticket-4711.zip", zipBytes}), 0o644))
	srcs = open(t, nested)
	require.Len(t, srcs, 3)
	require.Equal(t, nested+"/upload/ticket-4711.zip/c4c/engine.log", srcs[1].Name)
	require.Equal(t, want, replayEvents(t, srcs))

	tmp, err := filepath.Glob(filepath.Join(os.TempDir(), "syncwatch-replay-*"))
	require.NoError(t, err)
	require.Empty(t, tmp, "the extracted copies are removed")
}

func TestOpenArchiveErrors(t *testing.T) {
	out := t.TempDir()
	empty := filepath.Join(out, "empty.zip")
	writeZip(t, empty, member{"manifest.json", []byte("{}")}, member{".hidden", []byte("x")})
	_, err := filesource.Open([]string{empty}, nil, 0)
	require.ErrorContains(t, err, empty+": the zip archive holds no log file")

	full := gzipped(t, tarBytes(t, member{"exchange.log", bytes.Repeat([]byte("2026-11-24 10:15:32,123 [12] INFO  X - [t/m/run:1] hello\n"), 2000)}))
	cut := filepath.Join(out, "cut.tar.gz")
	require.NoError(t, os.WriteFile(cut, full[:len(full)/2], 0o644))
	// what was there is read, then the file ends in the archive's error
	srcs, err := filesource.Open([]string{cut}, nil, 0)
	require.NoError(t, err)
	require.Len(t, srcs, 1)
	n := 0
	var en pipeline.Entry
	for err == nil {
		if err = srcs[0].ReadEntry(context.Background(), &en); err == nil {
			n++
		}
	}
	require.ErrorContains(t, err, "extracting "+cut+"/exchange.log: unexpected EOF")
	require.Greater(t, n, 10)
	require.Less(t, n, 2000)
	require.NoError(t, srcs[0].Close())

	notZip := filepath.Join(out, "cut.zip")
	zipBytes, err := os.ReadFile(empty)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(notZip, zipBytes[:len(zipBytes)-30], 0o644))
	_, err = filesource.Open([]string{notZip}, nil, 0)
	require.ErrorContains(t, err, notZip+": reading zip archive")

	tmp, err := filepath.Glob(filepath.Join(os.TempDir(), "syncwatch-replay-*"))
	require.NoError(t, err)
	require.Empty(t, tmp, "nothing is left behind")
}

// TestOpenUTF16: logs saved as UTF-16 (a Windows tool's default), little or
// big endian, plain or compressed, give the events their UTF-8 gives.
func TestOpenUTF16(t *testing.T) {
	dir := t.TempDir()
	_, err := loggen.WriteDir(dir, loggen.Config{Seed: 29, Mailboxes: 8, Duration: 8 * time.Hour, Dirty: true})
	require.NoError(t, err)
	names := []string{loggen.ExchangeFile, loggen.EngineFile, loggen.C4CCFile}
	var paths []string
	for _, n := range names {
		paths = append(paths, filepath.Join(dir, n))
	}
	want := replayEvents(t, open(t, paths...))
	require.Greater(t, len(want), 5)

	out := t.TempDir()
	var encoded []string
	for i, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		units := utf16.Encode([]rune(string(b)))
		enc := []byte{0xff, 0xfe}
		if i == 1 {
			enc = []byte{0xfe, 0xff}
		}
		for _, c := range units {
			if i == 1 {
				enc = append(enc, byte(c>>8), byte(c))
			} else {
				enc = append(enc, byte(c), byte(c>>8))
			}
		}
		name := filepath.Join(out, names[i])
		if i == 2 {
			enc, name = gzipped(t, enc), name+".gz"
		}
		require.NoError(t, os.WriteFile(name, enc, 0o644))
		encoded = append(encoded, name)
	}
	require.Equal(t, want, replayEvents(t, open(t, encoded...)))
}
