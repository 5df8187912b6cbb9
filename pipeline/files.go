package pipeline

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/syncwatch/syncwatch/pipeline/parse"
)

// FileSource is one file (or stdin) read entry by entry.
type FileSource struct {
	// Name is the path as given (or "-" for stdin); origins are Name:line.
	Name string
	// Size is the file's size in bytes on disk (0 for stdin).
	Size int64

	f       io.Closer
	counted *countingReader
	sc      *parse.Scanner
	done    bool
	obuf    []byte // origin being formatted
}

// countingReader counts what it reads; atomically, since Replay reads a
// source on its own goroutine while the merge reports progress.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// BytesRead is how many bytes of the file (compressed, on disk) were read.
// It is safe to call while another goroutine reads the source.
func (s *FileSource) BytesRead() int64 { return s.counted.n.Load() }

// SourceName returns Name: a file is one source of the reorder stage.
func (s *FileSource) SourceName() string { return s.Name }

// ReadEntry reads the file's next entry into en, with the origin
// "Name:line". en.Raw is valid until the next call. It returns io.EOF at
// the end of the file. ctx is not used: a file read does not block for
// long, and stdin cannot be interrupted anyway.
func (s *FileSource) ReadEntry(_ context.Context, en *Entry) error {
	if !s.sc.Scan() {
		if err := s.sc.Err(); err != nil {
			return err
		}
		return io.EOF
	}
	*en = Entry{
		Source:   s.Name,
		Raw:      s.sc.Entry(),
		Origin:   s.origin(s.sc.Line()),
		Oversize: s.sc.Oversize(),
	}
	return nil
}

// origin is "Name:line" in one allocation (concatenating a formatted
// number took two).
func (s *FileSource) origin(line int) string {
	s.obuf = strconv.AppendInt(append(append(s.obuf[:0], s.Name...), ':'), int64(line), 10)
	return string(s.obuf)
}

// Close releases the file.
func (s *FileSource) Close() error {
	if s.f != nil {
		return s.f.Close()
	}
	return nil
}

// errNoInput is returned by OpenPaths when the paths hold no file.
var errNoInput = errors.New("no input files")

// corpusMetadata are the files a corpus directory holds beside its logs
// (replay generate's and the samples' truth and manifest): a directory walk
// skips them, so that 'replay DIR' reads logs only. Named explicitly, they
// are read like any file.
var corpusMetadata = map[string]bool{"incidents.truth.jsonl": true, "manifest.json": true}

// OpenPaths opens every path: files, directories (recursively, in lexical
// order, hidden files and corpus metadata skipped), .gz files
// (decompressed), and "-" for stdin. A path that does not exist or cannot be read is an error naming
// it; nothing is left open then.
func OpenPaths(paths []string, stdin io.Reader, maxEntry int) ([]*FileSource, error) {
	var files []string
	for _, p := range paths {
		if p == "-" {
			files = append(files, p)
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("opening input: %w", err)
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if path != p && strings.HasPrefix(name, ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() && !corpusMetadata[name] {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("reading directory %s: %w", p, err)
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	if len(files) == 0 {
		return nil, errNoInput
	}
	var out []*FileSource
	closeAll := func() {
		for _, s := range out {
			s.Close()
		}
	}
	for _, name := range files {
		s, err := openOne(name, stdin, maxEntry)
		if err != nil {
			closeAll()
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func openOne(name string, stdin io.Reader, maxEntry int) (*FileSource, error) {
	s := &FileSource{Name: name}
	var r io.Reader
	if name == "-" {
		if stdin == nil {
			return nil, fmt.Errorf("opening input: stdin not available")
		}
		r = stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("opening input: %w", err)
		}
		if st, err := f.Stat(); err == nil {
			s.Size = st.Size()
		}
		s.f = f
		r = f
	}
	s.counted = &countingReader{r: r}
	r = s.counted
	br := bufio.NewReaderSize(r, 256<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("opening %s: reading gzip header: %w", name, err)
		}
		s.sc = parse.NewScanner(zr, maxEntry)
	} else {
		s.sc = parse.NewScanner(br, maxEntry)
	}
	return s, nil
}
