package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/syncwatch/syncwatch/schemas"
)

// goldenEvent is one event of a golden file.
type goldenEvent struct {
	ev   schemas.IncidentEvent
	doc  map[string]any // the JSON document, compared field by field
	line int
}

// readGolden reads a golden file: incident events as JSON lines, as
// replay writes them (blank lines are skipped). Every event is validated
// against the event schema; an invalid line or an event id given twice is
// an error naming the line.
func readGolden(path string) ([]goldenEvent, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening golden file: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 256<<10)
	var (
		out  []goldenEvent
		seen = map[string]int{}
	)
	for line := 1; ; line++ {
		b, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(b)) > 0 {
			ev, derr := schemas.DecodeEvent(b)
			if derr != nil {
				return nil, fmt.Errorf("reading golden file %s:%d: %w", path, line, derr)
			}
			if first, dup := seen[ev.ID]; dup {
				return nil, fmt.Errorf("reading golden file %s:%d: event id %s is also on line %d", path, line, ev.ID, first)
			}
			seen[ev.ID] = line
			doc, derr := jsonDoc(b)
			if derr != nil {
				return nil, fmt.Errorf("reading golden file %s:%d: %w", path, line, derr)
			}
			out = append(out, goldenEvent{ev: ev, doc: doc, line: line})
		}
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading golden file %s: %w", path, err)
		}
	}
}

func jsonDoc(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("decoding event: %w", err)
	}
	return doc, nil
}

// diffReport is what differs between a golden file and a replay's events.
type diffReport struct {
	lines                   []diffLine
	added, removed, changed int
}

type diffLine struct {
	t    time.Time
	id   string
	text string
}

// diffEvents compares the events of a replay with the golden ones by
// event id: an id only in got is added, one only in golden is removed, and
// one in both with other content is changed (the fields that differ are
// listed, golden value first). With ignoreOrigins the evidence origins
// are not compared, so that a Kafka replay compares with a file replay.
func diffEvents(golden []goldenEvent, got []schemas.IncidentEvent, ignoreOrigins bool) (diffReport, error) {
	var rep diffReport
	byID := make(map[string]int, len(got))
	for i, e := range got {
		byID[e.ID] = i
	}
	inGolden := make(map[string]bool, len(golden))
	for _, g := range golden {
		inGolden[g.ev.ID] = true
		i, ok := byID[g.ev.ID]
		if !ok {
			rep.removed++
			rep.lines = append(rep.lines, diffLine{g.ev.Time.Time, g.ev.ID, "removed " + describeEvent(&g.ev)})
			continue
		}
		b, err := json.Marshal(got[i])
		if err != nil {
			return rep, fmt.Errorf("encoding event %s: %w", got[i].ID, err)
		}
		doc, err := jsonDoc(b)
		if err != nil {
			return rep, err
		}
		gdoc := g.doc
		if ignoreOrigins {
			gdoc, doc = withoutOrigins(gdoc), withoutOrigins(doc)
		}
		var fields []string
		diffDocs("", gdoc, doc, &fields)
		if len(fields) > 0 {
			rep.changed++
			rep.lines = append(rep.lines, diffLine{got[i].Time.Time, got[i].ID,
				"changed " + describeEvent(&got[i]) + ": " + strings.Join(fields, "; ")})
		}
	}
	for i := range got {
		if !inGolden[got[i].ID] {
			rep.added++
			rep.lines = append(rep.lines, diffLine{got[i].Time.Time, got[i].ID, "added   " + describeEvent(&got[i])})
		}
	}
	sort.SliceStable(rep.lines, func(a, b int) bool {
		la, lb := rep.lines[a], rep.lines[b]
		if !la.t.Equal(lb.t) {
			return la.t.Before(lb.t)
		}
		return la.id < lb.id
	})
	return rep, nil
}

// describeEvent names an event in a diff line: its id and type, then its
// incident, kind, class and subject.
func describeEvent(e *schemas.IncidentEvent) string {
	return terminalSafe(fmt.Sprintf("%s %s incident=%s kind=%s class=%s subject=%s time=%s",
		e.ID, strings.TrimPrefix(e.Type, "com.syncwatch.incident."), e.Data.IncidentID,
		e.Data.Kind, e.Data.Class, e.Subject, e.Time.UTC().Format(schemas.TimeLayout)))
}

// terminalSafe escapes what a terminal would act on rather than show:
// control characters (C0, DEL, C1: escape sequences, bells, carriage
// returns) and bidirectional overrides, as Go escapes them (\x1b,
// \u202e). Log text reaches the terminal in tenants and mailboxes, which
// a JSON entry can spell with \u001b escapes.
func terminalSafe(s string) string {
	unsafe := func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) }
	if strings.IndexFunc(s, unsafe) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unsafe(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// diffDocs appends the paths ("data.class") where a and b differ, with
// both values; objects are compared key by key, anything else whole.
func diffDocs(path string, a, b map[string]any, out *[]string) {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		p := k
		if path != "" {
			p = path + "." + k
		}
		va, oka := a[k]
		vb, okb := b[k]
		switch {
		case !oka:
			*out = append(*out, p+": (none) -> "+shortJSON(vb))
		case !okb:
			*out = append(*out, p+": "+shortJSON(va)+" -> (none)")
		default:
			diffValues(p, va, vb, out)
		}
	}
}

// diffValues appends where a and b differ: objects key by key, arrays of
// the same length item by item ("data.evidence[0].origin"), anything
// else whole.
func diffValues(path string, a, b any, out *[]string) {
	if ma, ok := a.(map[string]any); ok {
		if mb, ok := b.(map[string]any); ok {
			diffDocs(path, ma, mb, out)
			return
		}
	}
	if sa, ok := a.([]any); ok {
		if sb, ok := b.([]any); ok {
			if len(sa) != len(sb) {
				*out = append(*out, fmt.Sprintf("%s: %d items -> %d items", path, len(sa), len(sb)))
				return
			}
			for i := range sa {
				diffValues(path+"["+strconv.Itoa(i)+"]", sa[i], sb[i], out)
			}
			return
		}
	}
	if !reflect.DeepEqual(a, b) {
		*out = append(*out, path+": "+shortJSON(a)+" -> "+shortJSON(b))
	}
}

// shortJSON renders v as JSON, cut to 60 bytes.
func shortJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 60 {
		return string(b[:57]) + "..."
	}
	return string(b)
}

// withoutOrigins returns doc without data.evidence[].origin (a copy where
// it changes anything).
func withoutOrigins(doc map[string]any) map[string]any {
	data, ok := doc["data"].(map[string]any)
	if !ok {
		return doc
	}
	evs, ok := data["evidence"].([]any)
	if !ok {
		return doc
	}
	nevs := make([]any, len(evs))
	for i, e := range evs {
		m, ok := e.(map[string]any)
		if !ok {
			nevs[i] = e
			continue
		}
		c := make(map[string]any, len(m))
		for k, v := range m {
			if k != "origin" {
				c[k] = v
			}
		}
		nevs[i] = c
	}
	ndata := make(map[string]any, len(data))
	for k, v := range data {
		ndata[k] = v
	}
	ndata["evidence"] = nevs
	ndoc := make(map[string]any, len(doc))
	for k, v := range doc {
		ndoc[k] = v
	}
	ndoc["data"] = ndata
	return ndoc
}

// printDiff writes the report to w and returns the exit code: exitOK when
// nothing differs, exitDiff otherwise.
func printDiff(w io.Writer, golden string, rep diffReport, got, want int) int {
	for _, l := range rep.lines {
		fmt.Fprintln(w, l.text)
	}
	if len(rep.lines) == 0 {
		fmt.Fprintf(w, "replay: no difference from %s (%d events)\n", golden, got)
		return exitOK
	}
	fmt.Fprintf(w, "replay: %s differs: %d added, %d removed, %d changed (%d events, %d in the golden file)\n",
		golden, rep.added, rep.removed, rep.changed, got, want)
	return exitDiff
}
