package main

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/syncwatch/syncwatch/cmd/internal/incidenthtml"
	"github.com/syncwatch/syncwatch/pipeline"
	"github.com/syncwatch/syncwatch/schemas"
)

// reportTemplate is the --report page. It is one self-contained file: inline
// CSS and SVG, no scripts and no network resources, so it can be mailed or
// attached to a ticket and opened anywhere. Its cards, timelines and
// incident table are the parts it shares with ingest's live page
// (cmd/internal/incidenthtml).
//
//go:embed report.html.tmpl
var reportTemplate string

var reportTmpl = template.Must(incidenthtml.Page("report", reportTemplate))

// reportInput is what the report is made of: the events as written (after
// the filters) and the pipeline's counters.
type reportInput struct {
	Events    []schemas.IncidentEvent
	Summary   pipeline.Summary
	Inputs    []string  // what was replayed, for the header
	From, To  time.Time // --from/--to, zero when not given
	Generated time.Time // when the report was written (wall clock)
	// Filter describes the event filters (--tenant, --kind, ...), "" when
	// none: Events are the matching ones, Summary is the whole input's.
	Filter string
}

// reportPage is the data of reportTemplate: everything precomputed, so the
// template only lays it out and html/template escapes every string.
type reportPage struct {
	Title     string
	Inputs    string
	Generated string
	Filter    string // the filters, "" when none
	Cards     []incidenthtml.Card
	Start     string
	End       string
	Legend    []incidenthtml.LegendItem
	Timelines []incidenthtml.Timeline
	Incidents []incidenthtml.Row
	Unknown   []unknownRow
	Dead      []countRow
	DeadTotal int64
	Notes     []string
}

type countRow struct {
	Key   string
	Count int64
}

type unknownRow struct {
	Class, Template string
	Incidents       int
	Occurrences     int
	Mailboxes       int
	FirstSeen       string
}

// writeReport renders the report for in to path.
func writeReport(path string, in reportInput) error {
	var buf bytes.Buffer
	if err := reportTmpl.Execute(&buf, buildReport(in)); err != nil {
		return fmt.Errorf("rendering report: %w", err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	return nil
}

func buildReport(in reportInput) reportPage {
	incs := incidenthtml.Fold(in.Events)
	s := in.Summary

	// The corpus's time axis: the pipeline keeps the latest event time
	// parsed per producer but not the earliest, so the start is --from or
	// the earliest incident time.
	var start, end time.Time
	for _, t := range s.Normalize.Latest {
		end = incidenthtml.MaxTime(end, t)
	}
	for _, inc := range incs {
		start = incidenthtml.MinTime(start, inc.Opened)
		for _, e := range inc.Evidence {
			start = incidenthtml.MinTime(start, e.Time.Time)
			end = incidenthtml.MaxTime(end, e.Time.Time)
		}
		end = incidenthtml.MaxTime(end, incidenthtml.MaxTime(inc.Last, inc.Resolved))
	}
	if !in.From.IsZero() {
		start = in.From
	}
	if !in.To.IsZero() && (end.IsZero() || in.To.Before(end)) {
		end = in.To
	}
	if !start.IsZero() && !end.After(start) {
		end = start.Add(time.Hour)
	}

	colors, legend := incidenthtml.Palette(incs)
	page := reportPage{
		Title:     "syncwatch replay report",
		Inputs:    strings.Join(in.Inputs, " "),
		Generated: incidenthtml.FmtTime(in.Generated),
		Filter:    in.Filter,
		Start:     incidenthtml.FmtTime(start),
		End:       incidenthtml.FmtTime(end),
		Legend:    legend,
	}

	// cards
	byKind := map[string]int{}
	for _, inc := range incs {
		byKind[inc.Kind]++
	}
	var dead int64
	for _, n := range s.Normalize.DeadLettered {
		dead += n
	}
	d := s.Detection
	// With a filter, the incident figures are the matching incidents' and
	// the input figures the whole input's: each card says which.
	whole, matching := "", ""
	if in.Filter != "" {
		whole, matching = " (whole input)", " (matching the filter)"
	}
	page.Cards = []incidenthtml.Card{
		{Label: "Mailboxes seen", Value: fmt.Sprint(d.Mailboxes + d.Evicted), Sub: fmt.Sprintf("%d affected%s", incidenthtml.CountMailboxes(incs), matching)},
		{Label: "Runs", Value: fmt.Sprint(d.RunsDecided), Sub: fmt.Sprintf("%d timed out%s", d.RunsTimedOut, whole)},
		{Label: "Sync errors", Value: fmt.Sprint(byKind[schemas.KindSyncError]), Sub: "mailbox not syncing" + matching},
		{Label: "Sync issues", Value: fmt.Sprint(byKind[schemas.KindSyncIssue]), Sub: "records failing" + matching},
	}
	if n := byKind[schemas.KindPipeline]; n > 0 {
		page.Cards = append(page.Cards, incidenthtml.Card{Label: "Pipeline incidents", Value: fmt.Sprint(n), Sub: "format drift, silent producers"})
	}
	page.Cards = append(page.Cards,
		incidenthtml.Card{Label: "Events", Value: fmt.Sprint(len(in.Events)), Sub: "incident events" + matching},
		incidenthtml.Card{Label: "Dead letters", Value: fmt.Sprint(dead), Sub: "unparseable entries" + whole},
		incidenthtml.Card{Label: "Time range", Value: incidenthtml.Span(start, end), Sub: incidenthtml.ShortTime(start) + " – " + incidenthtml.ShortTime(end) + " UTC"},
	)

	page.Timelines = incidenthtml.Timelines(incs, colors, start, end)
	page.Incidents = incidenthtml.Rows(incs, colors)
	page.Unknown = unknownRows(incs)
	for _, k := range sortedKeys(s.Normalize.Reasons) {
		page.Dead = append(page.Dead, countRow{Key: k, Count: s.Normalize.Reasons[k]})
	}
	sort.SliceStable(page.Dead, func(i, j int) bool { return page.Dead[i].Count > page.Dead[j].Count })
	page.DeadTotal = dead
	page.Notes = []string{
		"Runs counts the runs the detection engine decided; the timelines' ticks are the times of the incidents' evidence, because the events do not carry every run of a mailbox.",
		"The time axis ends at the latest event time parsed and starts at --from or the earliest incident time.",
	}
	return page
}

// maxUnknown is how many unknown-error templates the report lists.
const maxUnknown = 15

// unknownRows groups the incidents of the template-grouped classes by their
// template (data.template, the masked message), most occurrences first.
func unknownRows(incs []*incidenthtml.Incident) []unknownRow {
	type agg struct {
		row       unknownRow
		first     time.Time
		mailboxes map[string]bool
	}
	byKey := map[string]*agg{}
	for _, inc := range incs {
		if inc.Class != "unknown" && inc.Class != "record.unknown" {
			continue
		}
		k := inc.Class + "\x00" + inc.Template
		a := byKey[k]
		if a == nil {
			a = &agg{row: unknownRow{Class: inc.Class, Template: inc.Template}, mailboxes: map[string]bool{}}
			byKey[k] = a
		}
		a.row.Incidents++
		a.row.Occurrences += inc.Occurrences
		a.mailboxes[inc.Tenant+"/"+inc.Mailbox] = true
		a.first = incidenthtml.MinTime(a.first, inc.Opened)
	}
	rows := make([]unknownRow, 0, len(byKey))
	for _, a := range byKey {
		a.row.Mailboxes = len(a.mailboxes)
		a.row.FirstSeen = incidenthtml.FmtTime(a.first)
		rows = append(rows, a.row)
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Occurrences != rows[j].Occurrences {
			return rows[i].Occurrences > rows[j].Occurrences
		}
		if rows[i].Template != rows[j].Template {
			return rows[i].Template < rows[j].Template
		}
		return rows[i].Class < rows[j].Class
	})
	if len(rows) > maxUnknown {
		rows = rows[:maxUnknown]
	}
	return rows
}
