// Package incidenthtml is what the HTML pages about incidents share:
// replay's --report and the live page of ingest. It folds incident events
// into incidents and lays them out (cards, incident rows with remediation
// and evidence, an SVG timeline per mailbox), and holds the html/template
// parts that draw them (the CSS and the {{define}} blocks of parts.html.tmpl),
// so that both pages look alike and escape log text the same way.
package incidenthtml

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/syncwatch/syncwatch/schemas"
)

// Geometry of a timeline, in SVG user units.
const (
	PlotWidth  = 1100.0 // plot width
	PlotLeft   = 10.0   // margin left of the plot
	tlTickRow  = 16.0   // height of the evidence-tick row
	tlLane     = 18.0   // height of one episode lane
	tlAxis     = 22.0   // height of the axis labels below the lanes
	tlBarInset = 3.0    // gap between lanes
)

// classPalette colours classes in the order they first sort; it is long
// enough that a page rarely repeats a colour (and the legend says which).
var classPalette = []string{
	"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
	"#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#393b79", "#637939",
	"#8c6d31", "#843c39", "#7b4173", "#3182bd",
}

// Incident is one incident folded from its events.
type Incident struct {
	ID, Kind, Class, Tenant, Mailbox, Title, Remediation, Template string
	// Opened is the earliest first_seen; Resolved the time of the
	// resolving event (zero while open); Last the latest last_seen.
	Opened, Resolved, Last time.Time
	Occurrences            int
	Runs                   map[string]bool
	// Evidence is every distinct evidence entry (by origin and message),
	// in the order the events carried them.
	Evidence []schemas.Evidence

	seen map[string]bool
}

// Card is a summary figure.
type Card struct {
	Label, Value, Sub string
}

// LegendItem names a class's colour.
type LegendItem struct{ Class, Color string }

// Row is an incident as a table row.
type Row struct {
	// ID is rendered as the row's data-id when set (the live page sets
	// it; the report leaves it empty).
	ID                                                      string
	Tenant, Mailbox, Kind, Class, Color, Title, Remediation string
	Opened, Resolved                                        string // Resolved is "open" while open
	Occurrences                                             int
	Evidence                                                []EvidenceRow
	MoreEvidence                                            int
}

// EvidenceRow is one evidence entry of a Row.
type EvidenceRow struct{ Time, Producer, Message, Origin string }

// Timeline is a mailbox's episodes on a time axis, as SVG geometry.
type Timeline struct {
	Tenant, Mailbox string
	Runs            int // runs named by the mailbox's incidents
	Width, Height   float64
	PlotLeft        float64
	PlotRight       float64
	TickTop         float64
	TickBottom      float64
	AxisY           float64
	Grid            []GridLine
	Ticks           []EvidenceTick
	Bars            []EpisodeBar
}

// GridLine is a labelled vertical line of a Timeline's axis.
type GridLine struct {
	X     float64
	Label string
}

// EvidenceTick marks an evidence entry's time.
type EvidenceTick struct {
	X     float64
	Title string
}

// EpisodeBar is an incident from opened to resolved (or to the end).
type EpisodeBar struct {
	X, Y, W, H  float64
	Kind, Class string
	Color       string
	Open        bool
	Title       string
}

// Fold folds events into incidents, in the order they were opened (by
// first_seen, then id, so a page is stable). An incident's events must
// come in the order they were published; events of different incidents
// may interleave.
func Fold(events []schemas.IncidentEvent) []*Incident {
	byID := map[string]*Incident{}
	var order []*Incident
	for i := range events {
		ev := &events[i]
		d := &ev.Data
		inc := byID[d.IncidentID]
		if inc == nil {
			inc = &Incident{
				ID: d.IncidentID, Kind: d.Kind, Class: d.Class, Tenant: d.Tenant, Mailbox: d.Mailbox,
				Title: d.Title, Remediation: d.Remediation, Template: d.Template,
				Opened: d.FirstSeen.Time, Runs: map[string]bool{}, seen: map[string]bool{},
			}
			byID[d.IncidentID] = inc
			order = append(order, inc)
		}
		if d.FirstSeen.Before(inc.Opened) {
			inc.Opened = d.FirstSeen.Time
		}
		inc.Last = MaxTime(inc.Last, d.LastSeen.Time)
		inc.Occurrences = max(inc.Occurrences, d.Occurrences)
		if ev.Type == schemas.TypeResolved || d.Status == schemas.StatusResolved {
			inc.Resolved = ev.Time.Time
		}
		for _, r := range d.Runs {
			inc.Runs[r] = true
		}
		for _, e := range d.Evidence {
			k := e.Origin + "\x00" + e.Message
			if !inc.seen[k] {
				inc.seen[k] = true
				inc.Evidence = append(inc.Evidence, e)
			}
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
		if !order[i].Opened.Equal(order[j].Opened) {
			return order[i].Opened.Before(order[j].Opened)
		}
		return order[i].ID < order[j].ID
	})
	return order
}

// Palette colours the classes of incs, in sorted order, and returns the
// colours by class with the legend.
func Palette(incs []*Incident) (map[string]string, []LegendItem) {
	colors := map[string]string{}
	var classes []string
	for _, inc := range incs {
		if _, ok := colors[inc.Class]; !ok {
			colors[inc.Class] = ""
			classes = append(classes, inc.Class)
		}
	}
	sort.Strings(classes)
	legend := make([]LegendItem, 0, len(classes))
	for i, c := range classes {
		colors[c] = classPalette[i%len(classPalette)]
		legend = append(legend, LegendItem{Class: c, Color: colors[c]})
	}
	return colors, legend
}

// CountMailboxes is how many distinct mailboxes incs are about.
func CountMailboxes(incs []*Incident) int {
	seen := map[string]bool{}
	for _, inc := range incs {
		seen[inc.Tenant+"/"+inc.Mailbox] = true
	}
	return len(seen)
}

// Timelines lays out each mailbox's episodes on the time axis [start,
// end], packing overlapping episodes into lanes; mailboxes sort by tenant
// and name. Open episodes run to end.
func Timelines(incs []*Incident, colors map[string]string, start, end time.Time) []Timeline {
	if start.IsZero() {
		return nil
	}
	total := end.Sub(start).Seconds()
	x := func(t time.Time) float64 {
		f := t.Sub(start).Seconds() / total
		return PlotLeft + PlotWidth*min(max(f, 0), 1)
	}
	grid := axisGrid(start, end, x)
	byMB := map[string][]*Incident{}
	var keys []string
	for _, inc := range incs {
		k := inc.Tenant + "/" + inc.Mailbox
		if byMB[k] == nil {
			keys = append(keys, k)
		}
		byMB[k] = append(byMB[k], inc)
	}
	sort.Strings(keys)
	var out []Timeline
	for _, k := range keys {
		list := byMB[k]
		tl := Timeline{Tenant: list[0].Tenant, Mailbox: list[0].Mailbox, Grid: grid,
			PlotLeft: PlotLeft, PlotRight: PlotLeft + PlotWidth, Width: PlotLeft*2 + PlotWidth}
		runs := map[string]bool{}
		ticks := map[float64]bool{}
		var laneEnd []float64 // right edge of the last bar in each lane
		for _, inc := range list {
			for r := range inc.Runs {
				runs[r] = true
			}
			for _, e := range inc.Evidence {
				tx := x(e.Time.Time)
				if !ticks[tx] {
					ticks[tx] = true
					tl.Ticks = append(tl.Ticks, EvidenceTick{X: tx, Title: FmtTime(e.Time.Time) + " " + e.Producer + ": " + e.Message})
				}
			}
			to, open := inc.Resolved, inc.Resolved.IsZero()
			if open {
				to = end
			}
			x0, x1 := x(inc.Opened), x(to)
			w := max(x1-x0, 3) // a short episode still shows
			lane := 0
			for lane < len(laneEnd) && laneEnd[lane] > x0 {
				lane++
			}
			if lane == len(laneEnd) {
				laneEnd = append(laneEnd, 0)
			}
			laneEnd[lane] = x0 + w + 1
			state := "resolved " + FmtTime(inc.Resolved)
			if open {
				state = "still open at the end"
			}
			tl.Bars = append(tl.Bars, EpisodeBar{
				X: x0, Y: tlTickRow + float64(lane)*tlLane + tlBarInset, W: w, H: tlLane - 2*tlBarInset,
				Kind: inc.Kind, Class: inc.Class, Color: colors[inc.Class], Open: open,
				Title: fmt.Sprintf("%s %s: %s\nopened %s, %s\n%d occurrences", inc.Kind, inc.Class, inc.Title, FmtTime(inc.Opened), state, inc.Occurrences),
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
func axisGrid(start, end time.Time, x func(time.Time) float64) []GridLine {
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
	var out []GridLine
	for t := start.Truncate(step); !t.After(end); t = t.Add(step) {
		if t.Before(start) {
			continue
		}
		out = append(out, GridLine{X: x(t), Label: t.UTC().Format(layout)})
	}
	return out
}

// MaxEvidence is how many evidence entries a Row shows.
const MaxEvidence = 5

// Rows turns incidents into table rows, in their order.
func Rows(incs []*Incident, colors map[string]string) []Row {
	rows := make([]Row, 0, len(incs))
	for _, inc := range incs {
		r := Row{
			Tenant: inc.Tenant, Mailbox: inc.Mailbox, Kind: inc.Kind, Class: inc.Class, Color: colors[inc.Class],
			Title: inc.Title, Remediation: strings.TrimSpace(inc.Remediation),
			Opened: FmtTime(inc.Opened), Resolved: "open", Occurrences: inc.Occurrences,
		}
		if !inc.Resolved.IsZero() {
			r.Resolved = FmtTime(inc.Resolved)
		}
		for i, e := range inc.Evidence {
			if i == MaxEvidence {
				r.MoreEvidence = len(inc.Evidence) - MaxEvidence
				break
			}
			r.Evidence = append(r.Evidence, EvidenceRow{Time: FmtTime(e.Time.Time), Producer: e.Producer, Message: e.Message, Origin: e.Origin})
		}
		rows = append(rows, r)
	}
	return rows
}

// FmtTime formats t in UTC to the second ("2026-11-24 10:15:32Z"), "–"
// for the zero time.
func FmtTime(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// ShortTime formats t for a card ("11-24 00:16").
func ShortTime(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("01-02 15:04")
}

// Span formats a duration for a card ("36h 0m").
func Span(start, end time.Time) string {
	if start.IsZero() {
		return "–"
	}
	d := end.Sub(start).Round(time.Minute)
	return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
}

// MinTime is the earlier of a and b, a zero time counting as unset.
func MinTime(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// MaxTime is the later of a and b.
func MaxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
