package filesource

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/syncwatch/syncwatch/pipeline/parse"
)

// Streams laid end to end. A file may hold several streams one after
// another, each in its own time order: the three producers' logs
// concatenated (cat exchange.log engine.log c4cc.jsonl), or a shipper's
// archive that holds one file's backlog after another's (rsyslog and
// Filebeat read waiting files one by one, or in large chunks). Read in
// file order, each stream's entries would come hours after the watermark
// passed them. Such a file is read as one Source per stream, each reading
// the stretches of the file that are its stream's, and Replay merges them
// by event time as it merges files.
//
// Whether a file is split at all is decided from samples of it first:
// windows spread over the file whose event time goes back by more than a
// minute (parse.OrderSample). It is then read once to find each stream's
// stretches: a line's stream is the file its envelope names (shipper, host
// and file) or, for a raw line, its format (parse.StreamOf). A stretch
// belongs to the stream that most of its lines are: a new one starts where
// switchLines lines in a row are another stream's, so that another
// producer's line in a file, garbage, or a stack trace (whose lines have
// no stream) stay where they are.

const (
	// sampleWindows is how many windows of a file are sampled, and
	// sampleBytes how many bytes each reads.
	sampleWindows = 32
	sampleBytes   = 32 << 10
	// switchLines is how many lines in a row of another stream start a
	// stretch of it.
	switchLines = 8
	// maxStreams bounds the streams a file is split into; a file with
	// more is read whole.
	maxStreams = 64
)

// lineStream tells the stream of a file's lines (parse.StreamOf).
type lineStream struct {
	u         parse.Unwrapper
	enveloped bool // a line came in a shipper's envelope
}

// of is line's stream, "" for none.
func (k *lineStream) of(line []byte) string {
	s := parse.StreamOf(&k.u, line)
	k.enveloped = k.enveloped || strings.Contains(s, ":")
	return s
}

// outOfOrder samples the file f (of size bytes) and reports whether its
// event time goes back (parse.OrderSample).
func outOfOrder(f io.ReaderAt, size int64) (bool, error) {
	var o parse.OrderSample
	buf := make([]byte, sampleBytes)
	for i := range sampleWindows {
		off := size * int64(i) / sampleWindows
		next := size * int64(i+1) / sampleWindows // windows must not overlap
		n, err := f.ReadAt(buf[:min(int64(len(buf)), next-off)], off)
		if err != nil && err != io.EOF {
			return false, err
		}
		b := buf[:n]
		if off > 0 { // start at a line
			j := bytes.IndexByte(b, '\n')
			if j < 0 {
				continue
			}
			b = b[j+1:]
		}
		o.Window()
		for len(b) > 0 {
			j := bytes.IndexByte(b, '\n')
			if j < 0 {
				if off+int64(n) < size {
					break // cut: not a whole line
				}
				j = len(b) - 1
			}
			o.Add(b[:j+1])
			b = b[j+1:]
		}
	}
	return o.OutOfOrder(), nil
}

// stretch is a part of a file: bytes [from, to), lines [line, line+lines).
type stretch struct {
	from, to    int64
	line, lines int
}

// stretches reads the file r and returns its stretches per stream, in
// the order the streams first appear (see the comment above); nil when
// the file is one stream, or more than maxStreams.
func stretches(r io.Reader) (names []string, parts [][]stretch, err error) {
	br := bufio.NewReaderSize(r, 256<<10)
	var (
		k         lineStream
		cur       = -1 // the current stretch's stream
		index     = map[string]int{}
		start     int64 // the current stretch's start, and its line
		startLine = 1
		cand      = -1 // a stream whose lines came in a row, since candAt
		candAt    int64
		candLine  int
		candN     int
		off       int64
		line      int
	)
	for {
		at := off
		b, rerr := br.ReadSlice('\n')
		long := false
		for rerr == bufio.ErrBufferFull { // a very long line stays where it is
			off += int64(len(b))
			b, rerr = br.ReadSlice('\n')
			long = true
		}
		if len(b) == 0 && rerr != nil {
			if rerr != io.EOF {
				return nil, nil, rerr
			}
			break
		}
		line++
		off += int64(len(b))
		s := ""
		if !long {
			s = k.of(b)
		}
		if s == "" {
			if rerr != nil {
				break
			}
			continue
		}
		i, ok := index[s]
		if !ok {
			if len(names) == maxStreams {
				return nil, nil, nil
			}
			i = len(names)
			index[s] = i
			names = append(names, s)
			parts = append(parts, nil)
		}
		switch {
		case cur < 0:
			cur = i
		case i == cur:
			cand, candN = -1, 0
		case i == cand:
			if candN++; candN == switchLines {
				parts[cur] = append(parts[cur], stretch{start, candAt, startLine, candLine - startLine})
				cur, start, startLine = cand, candAt, candLine
				cand, candN = -1, 0
			}
		default:
			cand, candAt, candLine, candN = i, at, line, 1
		}
		if rerr != nil {
			break
		}
	}
	if cur < 0 {
		return nil, nil, nil
	}
	parts[cur] = append(parts[cur], stretch{start, off, startLine, line + 1 - startLine})
	n := 0
	for _, p := range parts {
		if len(p) > 0 {
			n++
		}
	}
	if n < 2 {
		return nil, nil, nil
	}
	return names, parts, nil
}

// split opens the file at path as one Source per stream it holds laid end
// to end, or returns nil when it holds none; name is the file's name in
// the Sources (path, or a file of an archive). A compressed file is
// decompressed into a temporary file first when its first window shows
// an envelope or two streams, the signs of an archive; the temporary file
// is removed when its Sources close.
func split(name, path string, maxEntry int) ([]*Source, error) {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return nil, err
	}
	src, size := path, st.Size()
	gz, err := isGzip(path)
	if err != nil {
		return nil, err
	}
	var temp string
	if gz {
		if temp, size, err = decompressArchive(path, maxEntry); err != nil || temp == "" {
			return nil, err
		}
		src = temp
	}
	done := func(err error) ([]*Source, error) {
		if temp != "" {
			os.Remove(temp)
		}
		return nil, err
	}
	f, err := os.Open(src)
	if err != nil {
		return done(err)
	}
	defer f.Close()
	if ok, err := outOfOrder(f, size); err != nil || !ok {
		return done(err)
	}
	names, parts, err := stretches(io.NewSectionReader(f, 0, size))
	if err != nil || names == nil {
		return done(err)
	}
	var out []*Source
	for i, stream := range names {
		if len(parts[i]) == 0 {
			continue
		}
		s, err := openStretches(name, src, parts[i], maxEntry)
		if err != nil {
			for _, o := range out {
				o.Close()
			}
			return done(err)
		}
		s.Stream = stream
		s.source = fmt.Sprintf("%s [%s]", name, stream)
		out = append(out, s)
	}
	if temp != "" {
		// each Source holds the file open: any may remove it
		out[len(out)-1].temps = append(out[len(out)-1].temps, temp)
	}
	return out, nil
}

// isGzip reports whether the file at path starts like a gzip stream.
func isGzip(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	var magic [2]byte
	n, _ := io.ReadFull(f, magic[:])
	return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b, nil
}

// decompressArchive decompresses the gzip file at path into a temporary
// file when its first lines look like an archive of several streams (an
// envelope, or two streams), and returns its name and size; "" when they
// do not, or the file does not decompress (reading it whole says why).
func decompressArchive(path string, maxEntry int) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		return "", 0, nil
	}
	head := make([]byte, sampleBytes)
	n, _ := io.ReadFull(zr, head)
	var k lineStream
	streams := map[string]bool{}
	for _, l := range bytes.SplitAfter(head[:n], []byte("\n")) {
		if s := k.of(l); s != "" {
			streams[s] = true
		}
	}
	if !k.enveloped && len(streams) < 2 {
		return "", 0, nil
	}
	tmp, err := os.CreateTemp("", "syncwatch-replay-*.log")
	if err != nil {
		return "", 0, fmt.Errorf("decompressing %s: %w", path, err)
	}
	size, err := io.Copy(tmp, io.MultiReader(bytes.NewReader(head[:n]), zr))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", 0, nil // read whole, it fails where it fails
	}
	return tmp.Name(), size, nil
}
