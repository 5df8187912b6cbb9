package loggen

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/syncwatch/syncwatch/schemas"
)

// Truth is one true incident episode: what a correct pipeline reports for
// the corpus (detection.md). Its JSON form is one line of
// incidents.truth.jsonl:
//
//	{"tenant": "t-1042", "mailbox": "...", "kind": "sync_error", "class": "exchange.auth.password", "start": "2026-11-24T00:24:43.760Z", "end": null}
type Truth struct {
	// Tenant is the mailbox's tenant id, e.g. t-1042.
	Tenant string
	// Mailbox is the mailbox's address.
	Mailbox string
	// Kind is sync_error or sync_issue.
	Kind string
	// Class is the catalog class, or unknown / record.unknown.
	Class string
	// Start is the time of the episode's first evidence: the first line
	// of its class (for a depends-on-run sync_error, in the first of its
	// consecutive failing runs).
	Start time.Time
	// End is the time of the run_finished entry of the run that resolves
	// it, nil when it is still open at the end of the input.
	End *time.Time
}

const truthTimeLayout = "2006-01-02T15:04:05.000Z"

// MarshalJSON writes the truth line format (keys in the samples' order,
// times in UTC with milliseconds, end null when open).
func (t Truth) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	str := func(s string) {
		q, _ := json.Marshal(s)
		b.Write(q)
	}
	b.WriteString(`{"tenant": `)
	str(t.Tenant)
	b.WriteString(`, "mailbox": `)
	str(t.Mailbox)
	b.WriteString(`, "kind": `)
	str(t.Kind)
	b.WriteString(`, "class": `)
	str(t.Class)
	b.WriteString(`, "start": "`)
	b.WriteString(t.Start.UTC().Format(truthTimeLayout))
	b.WriteString(`", "end": `)
	if t.End == nil {
		b.WriteString("null")
	} else {
		b.WriteByte('"')
		b.WriteString(t.End.UTC().Format(truthTimeLayout))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

type truthJSON struct {
	Tenant  string  `json:"tenant"`
	Mailbox string  `json:"mailbox"`
	Kind    string  `json:"kind"`
	Class   string  `json:"class"`
	Start   string  `json:"start"`
	End     *string `json:"end"`
}

// UnmarshalJSON reads one truth line; times may be any RFC 3339 time.
func (t *Truth) UnmarshalJSON(b []byte) error {
	var j truthJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	start, err := time.Parse(time.RFC3339Nano, j.Start)
	if err != nil {
		return fmt.Errorf("parsing start: %w", err)
	}
	*t = Truth{Tenant: j.Tenant, Mailbox: j.Mailbox, Kind: j.Kind, Class: j.Class, Start: start.UTC()}
	if j.End != nil {
		end, err := time.Parse(time.RFC3339Nano, *j.End)
		if err != nil {
			return fmt.Errorf("parsing end: %w", err)
		}
		end = end.UTC()
		t.End = &end
	}
	return nil
}

// writeTruth writes truth as JSON lines (incidents.truth.jsonl). It
// returns the first write error.
func writeTruth(w io.Writer, truth []Truth) error {
	bw := bufio.NewWriter(w)
	for _, t := range truth {
		b, _ := t.MarshalJSON()
		bw.Write(b)
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing truth: %w", err)
	}
	return nil
}

// ReadTruth reads the JSON lines that WriteDir writes to TruthFile (or a
// sample's incidents.truth.jsonl), skipping blank lines. It reads r to its
// end. It returns an error naming the line for a line that is not a truth
// object, or the error of reading r, with the truth read so far.
func ReadTruth(r io.Reader) ([]Truth, error) {
	var out []Truth
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var t Truth
		if err := json.Unmarshal(line, &t); err != nil {
			return out, fmt.Errorf("decoding truth line %d: %w", n, err)
		}
		out = append(out, t)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("reading truth: %w", err)
	}
	return out, nil
}

// tracker applies detection.md's rules to one mailbox's run outcomes, in
// run order, and records the true episodes. It is the single source of the
// truth: the scenarios only decide what the runs do.
type tracker struct {
	errs   map[string]int // open sync_error by class -> index in generator.truth
	issues map[string]int // open sync_issue by class
	// the current streak of consecutive runs that synced nothing and
	// failed with the same depends-on-run class
	chainClass string
	chainN     int
	chainFirst int64
}

// dependsThreshold is the number of consecutive failed runs after which a
// depends-on-run class is a sync_error (detection.md's default).
const dependsThreshold = 2

func (t *tracker) open(g *generator, mb *mailbox, kind, class string, start int64) int {
	g.truth = append(g.truth, Truth{
		Tenant: mb.tenant, Mailbox: mb.name, Kind: kind, Class: class,
		Start: time.UnixMilli(start).UTC(),
	})
	return len(g.truth) - 1
}

func (t *tracker) apply(g *generator, mb *mailbox, r *runSummary) {
	if t.errs == nil {
		t.errs, t.issues = map[string]int{}, map[string]int{}
	}
	switch {
	case r.total != "" && alwaysTotal(r.total):
		t.chainClass, t.chainN = "", 0
		if _, ok := t.errs[r.total]; !ok {
			t.errs[r.total] = t.open(g, mb, schemas.KindSyncError, r.total, r.totalFirst)
		}
	case r.total != "":
		if t.chainClass == r.total {
			t.chainN++
		} else {
			t.chainClass, t.chainN, t.chainFirst = r.total, 1, r.totalFirst
		}
		if _, ok := t.errs[r.total]; !ok && t.chainN >= dependsThreshold {
			t.errs[r.total] = t.open(g, mb, schemas.KindSyncError, r.total, t.chainFirst)
		}
	case r.synced > 0:
		t.chainClass, t.chainN = "", 0
	}
	if r.total == "" && r.synced > 0 && r.hasEnd {
		end := time.UnixMilli(r.end).UTC()
		for c, i := range t.errs {
			g.truth[i].End = &end
			delete(t.errs, c)
		}
	}
	if r.total != "" {
		return
	}
	failing := map[string]bool{}
	for _, ct := range r.issues {
		failing[ct.class] = true
		if _, ok := t.issues[ct.class]; !ok {
			t.issues[ct.class] = t.open(g, mb, schemas.KindSyncIssue, ct.class, ct.t)
		}
	}
	if r.finished {
		end := time.UnixMilli(r.end).UTC()
		for c, i := range t.issues {
			if !failing[c] {
				g.truth[i].End = &end
				delete(t.issues, c)
			}
		}
	}
}
