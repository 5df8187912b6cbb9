package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/cmd/internal/incidenthtml"
	"github.com/syncwatch/syncwatch/integration/cdp"
	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/schemas"
)

// reportCorpus is the generated corpus the report tests replay: dirty, so
// that there are dead letters, and long enough for several incidents.
var reportCorpus = loggen.Config{Seed: 7, Mailboxes: 12, Tenants: 4, Duration: 12 * time.Hour, Dirty: true}

// eventFacts is what the report's numbers must agree with, counted from
// the events written.
type eventFacts struct {
	events    int
	incidents map[string]string // incident id -> kind
	mailboxes map[string]bool   // tenant/mailbox with an incident
}

func (f eventFacts) byKind(kind string) int {
	n := 0
	for _, k := range f.incidents {
		if k == kind {
			n++
		}
	}
	return n
}

func factsOf(t *testing.T, lines []string) eventFacts {
	t.Helper()
	f := eventFacts{incidents: map[string]string{}, mailboxes: map[string]bool{}}
	for _, l := range lines {
		var ev schemas.IncidentEvent
		require.NoError(t, json.Unmarshal([]byte(l), &ev), l)
		f.events++
		f.incidents[ev.Data.IncidentID] = ev.Data.Kind
		f.mailboxes[ev.Data.Tenant+"/"+ev.Data.Mailbox] = true
	}
	return f
}

var cardRE = regexp.MustCompile(`<div class="label">([^<]*)</div><div class="value">([^<]*)</div>`)

// reportCards returns the summary cards' values by label.
func reportCards(html string) map[string]string {
	cards := map[string]string{}
	for _, m := range cardRE.FindAllStringSubmatch(html, -1) {
		cards[m[1]] = m[2]
	}
	return cards
}

// summaryFigure reads a figure from replay's stderr summary, which prints
// the same pipeline counters as text.
func summaryFigure(t *testing.T, stderr, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(stderr)
	require.NotNil(t, m, "%q not in summary:\n%s", pattern, stderr)
	return m[1]
}

// writeReportFor replays dir's logs with --report and returns the report
// path, its text, the events written and replay's stderr.
func writeReportFor(t *testing.T, paths ...string) (string, string, []string, string) {
	t.Helper()
	tmp := t.TempDir()
	report, out := filepath.Join(tmp, "report.html"), filepath.Join(tmp, "events.jsonl")
	code, stdout, stderr := runReplay(t, "", append([]string{"--out", out, "--report", report}, paths...)...)
	require.Equal(t, exitOK, code, stderr)
	require.Empty(t, stdout, "--out takes the events")
	b, err := os.ReadFile(report)
	require.NoError(t, err)
	return report, string(b), readLines(t, out), stderr
}

func TestReportGeneratedCorpus(t *testing.T) {
	dir := newCorpus(t, reportCorpus)
	_, html, lines, stderr := writeReportFor(t, dir)
	f := factsOf(t, lines)
	require.NotZero(t, f.byKind(schemas.KindSyncError), "the corpus should have sync errors")
	require.NotZero(t, f.byKind(schemas.KindSyncIssue), "the corpus should have sync issues")

	t.Run("events unchanged", func(t *testing.T) {
		// --report adds a file; the events are those of a plain replay.
		require.Equal(t, replayLines(t, dir), lines)
		code, stdout, stderr := runReplay(t, "", "--quiet", "--report", filepath.Join(t.TempDir(), "r.html"), dir)
		require.Equal(t, exitOK, code, stderr)
		require.Equal(t, strings.Join(lines, "\n")+"\n", stdout, "without --out the events still go to stdout")
	})

	t.Run("cards match the events and the summary", func(t *testing.T) {
		cards := reportCards(html)
		require.Equal(t, strconv.Itoa(f.events), cards["Events"])
		require.Equal(t, strconv.Itoa(f.byKind(schemas.KindSyncError)), cards["Sync errors"])
		require.Equal(t, strconv.Itoa(f.byKind(schemas.KindSyncIssue)), cards["Sync issues"])
		require.Equal(t, summaryFigure(t, stderr, `runs decided (\d+)`), cards["Runs"])
		require.Equal(t, summaryFigure(t, stderr, `(?m)^\s+total\s+\d+\s+\d+\s+(\d+)$`), cards["Dead letters"])
		require.Equal(t, strconv.Itoa(reportCorpus.Mailboxes), cards["Mailboxes seen"], "every generated mailbox logs runs")
		require.Contains(t, html, strconv.Itoa(len(f.mailboxes))+" affected")
		require.Regexp(t, `^\d+h \d+m$`, cards["Time range"])
	})

	t.Run("one bar and one row per incident", func(t *testing.T) {
		require.Equal(t, len(f.incidents), strings.Count(html, `<rect class="episode `))
		require.Equal(t, len(f.incidents), strings.Count(html, `<tr class="incident">`))
		require.Equal(t, len(f.mailboxes), strings.Count(html, `<svg class="timeline"`))
		require.Equal(t, f.byKind(schemas.KindSyncError), strings.Count(html, `<rect class="episode sync_error"`))
	})

	t.Run("dead letters by reason", func(t *testing.T) {
		reasons := regexp.MustCompile(`(?m)^\s+(\d+)  (\S.*)$`).FindAllStringSubmatch(
			summaryFigure(t, stderr, `(?s)dead letters by reason:\n(.*?)\n  runs decided`), -1)
		require.NotEmpty(t, reasons)
		for _, r := range reasons {
			require.Contains(t, html, `<tr class="dead-reason"><td>`+r[2]+`</td><td class="num">`+r[1]+`</td></tr>`)
		}
	})

	t.Run("self-contained", func(t *testing.T) {
		require.NotContains(t, html, "http://")
		require.NotContains(t, html, "https://")
		for _, bad := range []string{"<script", "<link", "<img", "<iframe", "<object", "<embed", " src=", " href=", "url(", "@import"} {
			require.NotContains(t, strings.ToLower(html), bad)
		}
	})
}

// hostileLog is one run of the sync engine whose failed record's message,
// tenant and mailbox carry markup; the message becomes evidence of an
// unknown record error (and its template).
const hostileLog = `ts=2026-11-24T10:00:00.000Z level=info component=sync-engine tenant=t-<b>1 mailbox=x<i>@evil.example run=r1 event=run_started direction=both
ts=2026-11-24T10:00:01.000Z level=info component=sync-engine tenant=t-<b>1 mailbox=x<i>@evil.example run=r1 event=record_synced record=TASK-1
ts=2026-11-24T10:00:02.000Z level=warn component=sync-engine tenant=t-<b>1 mailbox=x<i>@evil.example run=r1 event=record_failed record=CONT-2 msg="Frobnication refused <script>alert(1)</script> by gateway"
ts=2026-11-24T10:00:03.000Z level=info component=sync-engine tenant=t-<b>1 mailbox=x<i>@evil.example run=r1 event=run_finished synced=1 failed=1
`

func TestReportEscapesHostileContent(t *testing.T) {
	log := filepath.Join(t.TempDir(), "engine.log")
	require.NoError(t, os.WriteFile(log, []byte(hostileLog), 0o644))
	_, html, lines, _ := writeReportFor(t, log)
	require.Len(t, lines, 1)
	require.Contains(t, lines[0], `\u003cscript\u003ealert(1)`, "the message must reach the evidence for this test to mean anything")

	require.NotContains(t, html, "<script")
	require.NotContains(t, html, "<b>")
	require.NotContains(t, html, "<i>")
	require.Contains(t, html, `<code class="evidence-message">Frobnication refused &lt;script&gt;alert(1)&lt;/script&gt; by gateway</code>`)
	require.Contains(t, html, `<td>t-&lt;b&gt;1</td><td>x&lt;i&gt;@evil.example</td>`)
	require.Regexp(t, `<tr class="unknown-template"><td>record.unknown</td><td><code>frobnication refused &lt;[^<]*&gt; by gateway</code>`, html)
}

// chromium runs headless Chromium with args on page and returns stdout.
func chromium(t *testing.T, bin, page string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	all := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--window-size=1400,2000",
		"--user-data-dir=" + t.TempDir()}, args...)
	cmd := exec.CommandContext(ctx, bin, append(all, "file://"+page)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "chromium %v: %s", args, stderr.String())
	return stdout.Bytes()
}

func TestReportRendersInChromium(t *testing.T) {
	bin := cdp.RequireChromium(t)
	dir := newCorpus(t, reportCorpus)
	report, _, lines, _ := writeReportFor(t, dir)
	f := factsOf(t, lines)

	t.Run("dom", func(t *testing.T) {
		// The DOM as the browser built it, not the file's text: the bars
		// must end up inside the timelines' SVG and the rows inside the
		// incident table once the parser has placed every element.
		dom := string(chromium(t, bin, report, "--dump-dom"))
		svgs := regexp.MustCompile(`(?s)<svg class="timeline".*?</svg>`).FindAllString(dom, -1)
		require.Len(t, svgs, len(f.mailboxes))
		bars := 0
		for _, s := range svgs {
			require.NotContains(t, s, "<div", "a timeline holds only SVG")
			bars += strings.Count(s, `<rect class="episode `)
		}
		require.Equal(t, len(f.incidents), bars, "one bar per episode, inside the timelines")
		table := regexp.MustCompile(`(?s)<table id="incident-table">.*?</table>`).FindString(dom)
		require.Equal(t, len(f.incidents), strings.Count(table, `<tr class="incident">`), "one row per incident, inside the table")
		require.Equal(t, len(f.incidents), strings.Count(dom, `<tr class="incident">`))
		require.Contains(t, dom, `<div class="value">`+strconv.Itoa(f.events)+`</div>`)
		require.NotContains(t, dom, "<script")
		// Every bar lies inside its plot and has a width.
		rects := regexp.MustCompile(`<rect class="episode [^"]*" data-class="[^"]*" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"`).FindAllStringSubmatch(dom, -1)
		require.Len(t, rects, len(f.incidents))
		for _, b := range rects {
			x, _ := strconv.ParseFloat(b[1], 64)
			w, _ := strconv.ParseFloat(b[2], 64)
			require.Positive(t, w)
			require.LessOrEqual(t, x+w, incidenthtml.PlotLeft+incidenthtml.PlotWidth+3)
		}
	})

	t.Run("screenshot", func(t *testing.T) {
		shot := filepath.Join(t.TempDir(), "report.png")
		chromium(t, bin, report, "--screenshot="+shot)
		fh, err := os.Open(shot)
		require.NoError(t, err)
		defer fh.Close()
		img, err := png.Decode(fh)
		require.NoError(t, err)
		require.Equal(t, image.Rect(0, 0, 1400, 2000), img.Bounds())
		colours := map[[3]uint32]int{}
		for y := 0; y < 2000; y += 2 {
			for x := 0; x < 1400; x += 2 {
				r, g, b, _ := img.At(x, y).RGBA()
				colours[[3]uint32{r >> 8, g >> 8, b >> 8}]++
			}
		}
		require.Greater(t, len(colours), 20, "a rendered report has text, cards and bars, not one colour")
		// The first class's colour (legend swatch and its bars) is painted.
		require.Positive(t, colours[[3]uint32{0x1f, 0x77, 0xb4}]+colours[[3]uint32{0x1f, 0x77, 0xb5}], "the first class colour is not on screen")
	})
}
