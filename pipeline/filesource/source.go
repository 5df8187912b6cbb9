package filesource

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

	"github.com/syncwatch/syncwatch/pipeline"
	"github.com/syncwatch/syncwatch/pipeline/parse"
)

// Source is one file (or stdin) read entry by entry, or one stream of a
// file that holds several laid end to end (see split).
type Source struct {
	// Name is the path as given (or "-" for stdin); origins are Name:line.
	Name string
	// Size is the file's size in bytes on disk (0 for stdin).
	Size int64
	// Stream, for a file read as several Sources, names the stream this
	// one reads ("log4net", "filebeat conn01:/var/log/engine.log"); "" when
	// it reads the whole file.
	Stream string

	source    string    // the reorder stage's name: Name, unless a stream of it
	stretches []stretch // the parts of the file it reads; nil: all of it
	temps     []string  // temporary files to remove on Close
	cut       error     // returned at the end: the file was cut (of an archive that broke off)
	f         io.Closer
	counted   *countingReader
	sc        *parse.Scanner
	done      bool
	obuf      []byte // origin being formatted
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
func (s *Source) BytesRead() int64 { return s.counted.n.Load() }

// SourceName names the source for the reorder stage: Name, and for one
// stream of a file the stream's number and name.
func (s *Source) SourceName() string { return s.source }

// ReadEntry reads the file's next entry into en, with the origin
// "Name:line". en.Raw is valid until the next call. It returns io.EOF at
// the end of the file. ctx is not used: a file read does not block for
// long, and stdin cannot be interrupted anyway.
func (s *Source) ReadEntry(_ context.Context, en *pipeline.Entry) error {
	if !s.sc.Scan() {
		if err := s.sc.Err(); err != nil {
			return err
		}
		if s.cut != nil {
			return s.cut
		}
		return io.EOF
	}
	*en = pipeline.Entry{
		Source:   s.source,
		Raw:      s.sc.Entry(),
		Origin:   s.origin(s.sc.Line()),
		Oversize: s.sc.Oversize(),
	}
	return nil
}

// origin is "Name:line" in one allocation (concatenating a formatted
// number took two); line counts the lines read, which for a Source of
// stretches of the file is mapped onto the file's.
func (s *Source) origin(line int) string {
	for _, st := range s.stretches {
		if line <= st.lines {
			line += st.line - 1
			break
		}
		line -= st.lines
	}
	s.obuf = strconv.AppendInt(append(append(s.obuf[:0], s.Name...), ':'), int64(line), 10)
	return string(s.obuf)
}

// Close releases the file.
func (s *Source) Close() error {
	var err error
	if s.f != nil {
		err = s.f.Close()
	}
	for _, t := range s.temps {
		os.Remove(t)
	}
	return err
}

// errNoInput is returned by Open when the paths hold no file.
var errNoInput = errors.New("no input files")

// corpusMetadata are the files a corpus directory holds beside its logs
// (replay generate's and the samples' truth and manifest): a directory walk
// skips them, so that 'replay DIR' reads logs only. Named explicitly, they
// are read like any file.
var corpusMetadata = map[string]bool{"incidents.truth.jsonl": true, "manifest.json": true}

// Open opens every path: files, directories (recursively, in lexical
// order, hidden files and corpus metadata skipped), .gz files
// (decompressed), archives (.zip, .tar, .tar.gz: their files, as a
// directory's; see expandArchive), and "-" for stdin. A file that holds several streams laid
// end to end is opened as one Source per stream (see split). A path that
// does not exist or cannot be read is an error naming it; nothing is left
// open then.
func Open(paths []string, stdin io.Reader, maxEntry int) ([]*Source, error) {
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
	var out []*Source
	closeAll := func() {
		for _, s := range out {
			s.Close()
		}
	}
	for _, name := range files {
		if name != "-" {
			if kind, err := archiveKind(name); err != nil || kind != "" {
				var parts []*Source
				if err == nil {
					parts, err = expandArchive(name, kind, maxEntry)
				}
				if err != nil {
					closeAll()
					return nil, fmt.Errorf("opening input: %w", err)
				}
				out = append(out, parts...)
				continue
			}
			parts, err := split(name, name, maxEntry)
			if err != nil {
				closeAll()
				return nil, fmt.Errorf("opening input: %w", err)
			}
			if parts != nil {
				out = append(out, parts...)
				continue
			}
		}
		s, err := openOne(name, stdin, maxEntry)
		if err != nil {
			closeAll()
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func openOne(name string, stdin io.Reader, maxEntry int) (*Source, error) {
	if name != "-" {
		return openFile(name, name, maxEntry)
	}
	if stdin == nil {
		return nil, fmt.Errorf("opening input: stdin not available")
	}
	return newSource(&Source{Name: name}, stdin, maxEntry)
}

// openFile opens the file at path as the Source name (its origins).
func openFile(name, path string, maxEntry int) (*Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening input: %w", err)
	}
	s := &Source{Name: name, f: f}
	if st, err := f.Stat(); err == nil {
		s.Size = st.Size()
	}
	return newSource(s, f, maxEntry)
}

// openStretches opens the stretches of the file at path as the Source name.
func openStretches(name, path string, parts []stretch, maxEntry int) (*Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening input: %w", err)
	}
	s := &Source{Name: name, f: f, stretches: parts}
	rs := make([]io.Reader, len(parts))
	for i, p := range parts {
		rs[i] = io.NewSectionReader(f, p.from, p.to-p.from)
		s.Size += p.to - p.from
	}
	return newSource(s, io.MultiReader(rs...), maxEntry)
}

// newSource reads s from r, decompressed when it is gzip, decoded when
// it is UTF-16 (decodeText).
func newSource(s *Source, r io.Reader, maxEntry int) (*Source, error) {
	s.source = s.Name
	s.counted = &countingReader{r: r}
	r = s.counted
	name := s.Name
	br := bufio.NewReaderSize(r, 256<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("opening %s: reading gzip header: %w", name, err)
		}
		s.sc = parse.NewScanner(decodeText(bufio.NewReaderSize(zr, 256<<10)), maxEntry)
	} else {
		s.sc = parse.NewScanner(decodeText(br), maxEntry)
	}
	return s, nil
}
