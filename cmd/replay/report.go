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

	"github.com/syncwatch/syncwatch/pipeline"
	"github.com/syncwatch/syncwatch/schemas"
)

// reportTemplate is the --report page. It is one self-contained file: inline
// CSS and SVG, no scripts and no network resources, so it can be mailed or
// attached to a ticket and opened anywhere.
//
//go:embed report.html.tmpl
var reportTemplate string

var reportTmpl = template.Must(template.New("report").Parse(reportTemplate))

// Geometry of a timeline, in SVG user units.
const (
	tlWidth    = 1100.0 // plot width
	tlLeft     = 10.0   // margin left of the plot
	tlTickRow  = 16.0   // height of the evidence-tick row
	tlLane     = 18.0   // height of one episode lane
	tlAxis     = 22.0   // height of the axis labels below the lanes
	tlBarInset = 3.0    // gap between lanes
)

// classPalette colours classes in the order they first sort; it is long
// enough that a report rarely repeats a colour (and the legend says which).
var classPalette = []string{
	"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
	"#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#393b79", "#637939",
	"#8c6d31", "#843c39", "#7b4173", "#3182bd",
}

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
	Cards     []reportCard
	Start     string
	End       string
	Legend    []legendItem
	Timelines []timeline
	Incidents []incidentRow
	Unknown   []unknownRow
	Dead      []countRow
	DeadTotal int64
	Notes     []string
}

type reportCard struct {
	Label, Value, Sub string
}

type legendItem struct{ Class, Color string }

type countRow struct {
	Key   string
	Count int64
}

// incident is one incident folded from its events.
type incident struct {
	id, kind, class, tenant, mailbox, title, remediation, template string
	opened, resolved, last                                         time.Time
	occurrences                                                    int
	runs                                                           map[string]bool
	evidence                                                       []schemas.Evidence
	seenOrigin                                                     map[string]bool
}

type incidentRow struct {
	Tenant, Mailbox, Kind, Class, Color, Title, Remediation string
	Opened, Resolved                                        string
	Occurrences                                             int
	Evidence                                                []evidenceRow
	MoreEvidence                                            int
}

type evidenceRow struct{ Time, Producer, Message, Origin string }

type timeline struct {
	Tenant, Mailbox string
	Runs            int // runs named by the mailbox's incidents
	Width, Height   float64
	PlotLeft        float64
	PlotRight       float64
	TickTop         float64
	TickBottom      float64
	AxisY           float64
	Grid            []gridLine
	Ticks           []evidenceTick
	Bars            []episodeBar
}

type gridLine struct {
	X     float64
	Label string
}

type evidenceTick struct {
	X     float64
	Title string
}

type episodeBar struct {
	X, Y, W, H  float64
	Kind, Class string
	Color       string
	Open        bool
	Title       string
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

// foldIncidents folds events into incidents, in the order they were opened
// (by first_seen, then id, so the report is stable).
func foldIncidents(events []schemas.IncidentEvent) []*incident {
	byID := map[string]*incident{}
	var order []*incident
	for i := range events {
		ev := &events[i]
		d := &ev.Data
		inc := byID[d.IncidentID]
		if inc == nil {
			inc = &incident{
				id: d.IncidentID, kind: d.Kind, class: d.Class, tenant: d.Tenant, mailbox: d.Mailbox,
				title: d.Title, remediation: d.Remediation, template: d.Template,
				opened: d.FirstSeen.Time, runs: map[string]bool{}, seenOrigin: map[string]bool{},
			}
			byID[d.IncidentID] = inc
			order = append(order, inc)
		}
		if d.FirstSeen.Before(inc.opened) {
			inc.opened = d.FirstSeen.Time
		}
		inc.last = maxTime(inc.last, d.LastSeen.Time)
		inc.occurrences = max(inc.occurrences, d.Occurrences)
		if ev.Type == schemas.TypeResolved || d.Status == schemas.StatusResolved {
			inc.resolved = ev.Time.Time
		}
		for _, r := range d.Runs {
			inc.runs[r] = true
		}
		for _, e := range d.Evidence {
			k := e.Origin + "\x00" + e.Message
			if !inc.seenOrigin[k] {
				inc.seenOrigin[k] = true
				inc.evidence = append(inc.evidence, e)
			}
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
		if !order[i].opened.Equal(order[j].opened) {
			return order[i].opened.Before(order[j].opened)
		}
		return order[i].id < order[j].id
	})
	return order
}

func buildReport(in reportInput) reportPage {
	incs := foldIncidents(in.Events)
	s := in.Summary

	// The corpus's time axis: the pipeline keeps the latest event time
	// parsed per producer but not the earliest, so the start is --from or
	// the earliest incident time.
	var start, end time.Time
	for _, t := range s.Normalize.Latest {
		end = maxTime(end, t)
	}
	for _, inc := range incs {
		start = minTime(start, inc.opened)
		for _, e := range inc.evidence {
			start = minTime(start, e.Time.Time)
			end = maxTime(end, e.Time.Time)
		}
		end = maxTime(end, maxTime(inc.last, inc.resolved))
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

	colors := map[string]string{}
	var classes []string
	for _, inc := range incs {
		if _, ok := colors[inc.class]; !ok {
			colors[inc.class] = ""
			classes = append(classes, inc.class)
		}
	}
	sort.Strings(classes)
	page := reportPage{
		Title:     "syncwatch replay report",
		Inputs:    strings.Join(in.Inputs, " "),
		Generated: fmtTime(in.Generated),
		Filter:    in.Filter,
		Start:     fmtTime(start),
		End:       fmtTime(end),
	}
	for i, c := range classes {
		colors[c] = classPalette[i%len(classPalette)]
		page.Legend = append(page.Legend, legendItem{Class: c, Color: colors[c]})
	}

	// cards
	byKind := map[string]int{}
	for _, inc := range incs {
		byKind[inc.kind]++
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
	page.Cards = []reportCard{
		{Label: "Mailboxes seen", Value: fmt.Sprint(d.Mailboxes + d.Evicted), Sub: fmt.Sprintf("%d affected%s", countMailboxes(incs), matching)},
		{Label: "Runs", Value: fmt.Sprint(d.RunsDecided), Sub: fmt.Sprintf("%d timed out%s", d.RunsTimedOut, whole)},
		{Label: "Sync errors", Value: fmt.Sprint(byKind[schemas.KindSyncError]), Sub: "mailbox not syncing" + matching},
		{Label: "Sync issues", Value: fmt.Sprint(byKind[schemas.KindSyncIssue]), Sub: "records failing" + matching},
	}
	if n := byKind[schemas.KindPipeline]; n > 0 {
		page.Cards = append(page.Cards, reportCard{Label: "Pipeline incidents", Value: fmt.Sprint(n), Sub: "format drift, silent producers"})
	}
	page.Cards = append(page.Cards,
		reportCard{Label: "Events", Value: fmt.Sprint(len(in.Events)), Sub: "incident events" + matching},
		reportCard{Label: "Dead letters", Value: fmt.Sprint(dead), Sub: "unparseable entries" + whole},
		reportCard{Label: "Time range", Value: span(start, end), Sub: shortTime(start) + " – " + shortTime(end) + " UTC"},
	)

	page.Timelines = timelines(incs, colors, start, end)
	page.Incidents = incidentRows(incs, colors)
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

func countMailboxes(incs []*incident) int {
	seen := map[string]bool{}
	for _, inc := range incs {
		seen[inc.tenant+"/"+inc.mailbox] = true
	}
	return len(seen)
}

// timelines lays out each affected mailbox's episodes on the shared time
// axis, packing overlapping episodes into lanes.
func timelines(incs []*incident, colors map[string]string, start, end time.Time) []timeline {
	if start.IsZero() {
		return nil
	}
	total := end.Sub(start).Seconds()
	x := func(t time.Time) float64 {
		f := t.Sub(start).Seconds() / total
		return tlLeft + tlWidth*min(max(f, 0), 1)
	}
	grid := axisGrid(start, end, x)
	byMB := map[string][]*incident{}
	var keys []string
	for _, inc := range incs {
		k := inc.tenant + "/" + inc.mailbox
		if byMB[k] == nil {
			keys = append(keys, k)
		}
		byMB[k] = append(byMB[k], inc)
	}
	sort.Strings(keys)
	var out []timeline
	for _, k := range keys {
		list := byMB[k]
		tl := timeline{Tenant: list[0].tenant, Mailbox: list[0].mailbox, Grid: grid,
			PlotLeft: tlLeft, PlotRight: tlLeft + tlWidth, Width: tlLeft*2 + tlWidth}
		runs := map[string]bool{}
		ticks := map[float64]bool{}
		var laneEnd []float64 // right edge of the last bar in each lane
		for _, inc := range list {
			for r := range inc.runs {
				runs[r] = true
			}
			for _, e := range inc.evidence {
				tx := x(e.Time.Time)
				if !ticks[tx] {
					ticks[tx] = true
					tl.Ticks = append(tl.Ticks, evidenceTick{X: tx, Title: fmtTime(e.Time.Time) + " " + e.Producer + ": " + e.Message})
				}
			}
			to, open := inc.resolved, inc.resolved.IsZero()
			if open {
				to = end
			}
			x0, x1 := x(inc.opened), x(to)
			w := max(x1-x0, 3) // a short episode still shows
			lane := 0
			for lane < len(laneEnd) && laneEnd[lane] > x0 {
				lane++
			}
			if lane == len(laneEnd) {
				laneEnd = append(laneEnd, 0)
			}
			laneEnd[lane] = x0 + w + 1
			state := "resolved " + fmtTime(inc.resolved)
			if open {
				state = "still open at the end"
			}
			tl.Bars = append(tl.Bars, episodeBar{
				X: x0, Y: tlTickRow + float64(lane)*tlLane + tlBarInset, W: w, H: tlLane - 2*tlBarInset,
				Kind: inc.kind, Class: inc.class, Color: colors[inc.class], Open: open,
				Title: fmt.Sprintf("%s %s: %s\nopened %s, %s\n%d occurrences", inc.kind, inc.class, inc.title, fmtTime(inc.opened), state, inc.occurrences),
			})
		}
		sort.Slice(tl.Ticks, func(i, j int) bool { return tl.Ticks[i].X < tl.Ticks[j].X })
		tl.Runs = len(runs)
		tl.TickTop, tl.TickBottom = 2, tlTickRow-2
		tl.AxisY = tlTickRow + float64(len(laneEnd))*tlLane
		tl.Height = tl.AxisY + tlAxis
		out = append(out, tl)
	}
	return out
}

// axisGrid returns the gridlines of [start, end] at a round step giving at
// most about 12 lines.
func axisGrid(start, end time.Time, x func(time.Time) float64) []gridLine {
	steps := []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
		48 * time.Hour, 7 * 24 * time.Hour, 28 * 24 * time.Hour}
	step := steps[len(steps)-1]
	for _, s := range steps {
		if end.Sub(start)/s <= 12 {
			step = s
			break
		}
	}
	layout := "15:04"
	if step >= 24*time.Hour || end.Sub(start) > 24*time.Hour {
		layout = "01-02 15:04"
	}
	var out []gridLine
	for t := start.Truncate(step); !t.After(end); t = t.Add(step) {
		if t.Before(start) {
			continue
		}
		out = append(out, gridLine{X: x(t), Label: t.UTC().Format(layout)})
	}
	return out
}

// maxEvidence is how many evidence entries an incident row shows.
const maxEvidence = 5

func incidentRows(incs []*incident, colors map[string]string) []incidentRow {
	rows := make([]incidentRow, 0, len(incs))
	for _, inc := range incs {
		r := incidentRow{
			Tenant: inc.tenant, Mailbox: inc.mailbox, Kind: inc.kind, Class: inc.class, Color: colors[inc.class],
			Title: inc.title, Remediation: strings.TrimSpace(inc.remediation),
			Opened: fmtTime(inc.opened), Resolved: "open", Occurrences: inc.occurrences,
		}
		if !inc.resolved.IsZero() {
			r.Resolved = fmtTime(inc.resolved)
		}
		for i, e := range inc.evidence {
			if i == maxEvidence {
				r.MoreEvidence = len(inc.evidence) - maxEvidence
				break
			}
			r.Evidence = append(r.Evidence, evidenceRow{Time: fmtTime(e.Time.Time), Producer: e.Producer, Message: e.Message, Origin: e.Origin})
		}
		rows = append(rows, r)
	}
	return rows
}

// maxUnknown is how many unknown-error templates the report lists.
const maxUnknown = 15

// unknownRows groups the incidents of the template-grouped classes by their
// template (data.template, the masked message), most occurrences first.
func unknownRows(incs []*incident) []unknownRow {
	type agg struct {
		row       unknownRow
		first     time.Time
		mailboxes map[string]bool
	}
	byKey := map[string]*agg{}
	for _, inc := range incs {
		if inc.class != "unknown" && inc.class != "record.unknown" {
			continue
		}
		k := inc.class + "\x00" + inc.template
		a := byKey[k]
		if a == nil {
			a = &agg{row: unknownRow{Class: inc.class, Template: inc.template}, mailboxes: map[string]bool{}}
			byKey[k] = a
		}
		a.row.Incidents++
		a.row.Occurrences += inc.occurrences
		a.mailboxes[inc.tenant+"/"+inc.mailbox] = true
		a.first = minTime(a.first, inc.opened)
	}
	rows := make([]unknownRow, 0, len(byKey))
	for _, a := range byKey {
		a.row.Mailboxes = len(a.mailboxes)
		a.row.FirstSeen = fmtTime(a.first)
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

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// shortTime formats t for a card ("11-24 00:16").
func shortTime(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("01-02 15:04")
}

// span formats a duration for a card ("36h 0m").
func span(start, end time.Time) string {
	if start.IsZero() {
		return "–"
	}
	d := end.Sub(start).Round(time.Minute)
	return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
}

func minTime(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
