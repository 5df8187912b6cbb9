package filesource

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
)

// Archives. Logs handed over for analysis often come as one archive: a
// support ticket's .zip, a host's /var/log/c4c as .tar.gz. Read as one
// file, an archive is binary headers with the producers' logs laid end to
// end in it (a .tar.gz) or compressed beyond recognition (a .zip). Its
// files are read as a directory's instead: each a Source of its own named
// ARCHIVE/FILE, in lexical order, hidden files, directories and corpus
// metadata skipped; a file of an archive may itself be gzip-compressed, or
// hold several streams (split). They are extracted into temporary files,
// removed when their Sources close.

// Archive kinds (archiveKind).
const (
	kindZip   = "zip"
	kindTar   = "tar"
	kindTarGz = "tar.gz"
)

// maxArchiveDepth bounds archives inside archives.
const maxArchiveDepth = 2

// archiveKind tells an archive by its first bytes: "zip", "tar",
// "tar.gz", or "" for any other file.
func archiveKind(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return "", err
	}
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return kindZip, nil
	case isTarHeader(head):
		return kindTar, nil
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return "", err
		}
		zr, err := gzip.NewReader(bufio.NewReader(f))
		if err != nil {
			return "", nil // read whole, it fails where it fails
		}
		inner := make([]byte, 512)
		n, _ := io.ReadFull(zr, inner)
		if isTarHeader(inner[:n]) {
			return kindTarGz, nil
		}
	}
	return "", nil
}

// isTarHeader reports whether b starts with a tar header (POSIX ustar or
// GNU tar: "ustar" at offset 257).
func isTarHeader(b []byte) bool {
	return len(b) >= 262 && string(b[257:262]) == "ustar"
}

// archived is a file of an archive, extracted; err says why it is cut
// short (the archive broke off in it or after it).
type archived struct {
	name, temp string
	err        error
}

// expandArchive opens the files of the archive at name, of the given
// kind, as Sources named name/FILE.
func expandArchive(name, kind string, maxEntry int) ([]*Source, error) {
	return expandArchiveDepth(name, name, kind, maxEntry, 1)
}

func expandArchiveDepth(name, file, kind string, maxEntry, depth int) (out []*Source, err error) {
	var files []archived
	defer func() {
		if err != nil {
			for _, s := range out {
				s.Close()
			}
			out = nil
		}
		for _, a := range files {
			if a.temp != "" && err != nil {
				os.Remove(a.temp)
			}
		}
	}()
	switch kind {
	case kindZip:
		files, err = extractZip(name, file)
	case kindTar, kindTarGz:
		files, err = extractTar(name, file, kind == kindTarGz)
	default:
		err = fmt.Errorf("%s: unknown archive kind %q", name, kind)
	}
	if err != nil {
		return nil, err
	}
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	for i := range files {
		a := &files[i]
		if depth < maxArchiveDepth {
			if k, kerr := archiveKind(a.temp); kerr == nil && k != "" {
				inner, err := expandArchiveDepth(a.name, a.temp, k, maxEntry, depth+1)
				if err != nil {
					return out, err
				}
				os.Remove(a.temp) // extracted again, file by file
				a.temp = ""
				out = append(out, inner...)
				continue
			}
		}
		parts, err := split(a.name, a.temp, maxEntry)
		if err != nil {
			return out, fmt.Errorf("%s: %w", a.name, err)
		}
		if parts == nil {
			s, err := openFile(a.name, a.temp, maxEntry)
			if err != nil {
				return out, err
			}
			parts = []*Source{s}
		}
		parts[0].temps = append(parts[0].temps, a.temp)
		a.temp = "" // its Sources remove it
		if a.err != nil {
			// read what there is, then report it (replay goes on with
			// the other files, and exits with its partial status)
			parts[len(parts)-1].cut = a.err
		}
		out = append(out, parts...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: the %s archive holds no log file", name, kind)
	}
	return out, nil
}

// skipMember reports whether the file p of an archive is not a log: a
// hidden file or one in a hidden directory (macOS's __MACOSX/ and
// ._ files too), or a corpus's metadata.
func skipMember(p string) bool {
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	for _, part := range strings.Split(p, "/") {
		if strings.HasPrefix(part, ".") || part == "__MACOSX" {
			return true
		}
	}
	return corpusMetadata[path.Base(p)]
}

// extractTo copies r into a new temporary file and returns its name. A
// read error keeps what was read (cut says why it stops there); a write
// error removes the file.
func extractTo(r io.Reader, what string) (name string, cut, err error) {
	tmp, err := os.CreateTemp("", "syncwatch-replay-*.log")
	if err != nil {
		return "", nil, fmt.Errorf("extracting %s: %w", what, err)
	}
	_, err = io.Copy(tmp, r)
	var werr *os.PathError
	if errors.As(err, &werr) && werr.Path == tmp.Name() {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", nil, fmt.Errorf("extracting %s: %w", what, err)
	}
	if err != nil {
		cut = fmt.Errorf("extracting %s: %w", what, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return "", nil, fmt.Errorf("extracting %s: %w", what, err)
	}
	return tmp.Name(), cut, nil
}

func extractZip(name, file string) (files []archived, err error) {
	zr, err := zip.OpenReader(file)
	if err != nil {
		return nil, fmt.Errorf("%s: reading zip archive: %w", name, err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if !f.Mode().IsRegular() || skipMember(f.Name) {
			continue
		}
		member := name + "/" + strings.TrimPrefix(path.Clean("/"+f.Name), "/")
		rc, err := f.Open()
		if err != nil {
			return files, fmt.Errorf("%s: %w", member, err)
		}
		temp, cut, err := extractTo(rc, member)
		rc.Close()
		if err != nil {
			return files, err
		}
		files = append(files, archived{name: member, temp: temp, err: cut})
	}
	return files, nil
}

func extractTar(name, file string, gz bool) (files []archived, err error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = bufio.NewReader(f)
	if gz {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("%s: reading gzip header: %w", name, err)
		}
		r = zr
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			err = fmt.Errorf("%s: reading tar archive: %w", name, err)
			if len(files) == 0 {
				return files, err
			}
			// broken off after a file: read the files before it
			files[len(files)-1].err = err
			return files, nil
		}
		if !h.FileInfo().Mode().IsRegular() || skipMember(h.Name) {
			continue
		}
		member := name + "/" + strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		temp, cut, err := extractTo(tr, member)
		if err != nil {
			return files, err
		}
		files = append(files, archived{name: member, temp: temp, err: cut})
		if cut != nil {
			return files, nil // broken off inside this file
		}
	}
}
