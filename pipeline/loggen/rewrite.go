package loggen

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"
)

// entryTime finds an entry's timestamp near the start of its first line,
// in any of the three formats ("2026-11-24 10:15:32,123",
// "ts=2026-11-24T10:15:32.123Z", {"@timestamp":"2026-11-24T10:15:32.123Z").
var entryTime = regexp.MustCompile(`(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})`)

// RewriteEntries edits a generated log file in place, entry by entry, to
// make scenarios a generator config cannot (a producer that changes its
// format for an hour, one that goes quiet): fn gets each entry's first
// line (with its "\n") and its event time, to the second, and returns the
// line to write instead, or false to drop the entry. The continuation
// lines of a multi-line entry (a stack trace) stay only with an entry kept
// unchanged. It holds the whole file in memory and returns once the file
// is rewritten; the error is that of reading or writing path (naming it),
// or of an entry time it cannot parse, in which case path is unchanged.
func RewriteEntries(path string, fn func(line string, at time.Time) (string, bool)) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var out strings.Builder
	same := false
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if line == "" {
			continue
		}
		m := entryTime.FindStringSubmatchIndex(line)
		if m == nil || m[0] > 20 { // not a first line: no time near its start
			if same {
				out.WriteString(line)
			}
			continue
		}
		at, err := time.Parse("2006-01-02T15:04:05", line[m[2]:m[3]]+"T"+line[m[4]:m[5]])
		if err != nil {
			return fmt.Errorf("%s: entry time of %q: %w", path, strings.TrimSpace(line), err)
		}
		l, keep := fn(line, at)
		same = keep && l == line
		if keep {
			out.WriteString(l)
		}
	}
	return os.WriteFile(path, []byte(out.String()), 0o644)
}
