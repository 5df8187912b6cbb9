package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/schemas"
)

// TestGoldenDiff is how the project checks a generated corpus against a
// stored golden file: equal events exit 0; a golden file with one event
// dropped, one class changed and one event id renamed gives exactly one
// line per difference and exit status 3.
func TestGoldenDiff(t *testing.T) {
	dir := newCorpus(t, loggen.Config{Seed: 11, Mailboxes: 20, Duration: 12 * time.Hour, Dirty: true})
	tmp := t.TempDir()
	golden := filepath.Join(tmp, "golden.jsonl")
	code, _, stderr := runReplay(t, "", "--quiet", "--out", golden, dir)
	require.Equal(t, exitOK, code, stderr)
	lines := readLines(t, golden)
	evs := decodeLines(t, lines)
	require.Greater(t, len(evs), 10)

	code, stdout, stderr := runReplay(t, "", "--quiet", "--diff", golden, dir)
	require.Equal(t, exitOK, code, stderr)
	require.Equal(t, fmt.Sprintf("replay: no difference from %s (%d events)\n", golden, len(evs)), stdout)

	// The same corpus split per producer or whole gives the same events.
	code, stdout, _ = runReplay(t, "", "--quiet", "--diff", golden, corpusFiles(dir)[2], corpusFiles(dir)[0], corpusFiles(dir)[1])
	require.Equal(t, exitOK, code, stdout)

	// Alter the golden file: drop event 2, change the class of event 5,
	// give event 7 another id.
	const drop, reclass, rename = 2, 5, 7
	var altered []string
	for i, l := range lines {
		switch i {
		case drop:
			continue
		case reclass:
			old := `"class":"` + evs[i].Data.Class + `"`
			require.Contains(t, l, old)
			l = strings.Replace(l, old, `"class":"exchange.auth.password"`, 1)
		case rename:
			l = strings.Replace(l, `"id":"`+evs[i].ID+`"`, `"id":"inc-000000000000-9"`, 1)
		}
		altered = append(altered, l)
	}
	alteredFile := filepath.Join(tmp, "altered.jsonl")
	require.NoError(t, os.WriteFile(alteredFile, []byte(strings.Join(altered, "\n")+"\n"), 0o644))
	require.NotEqual(t, "exchange.auth.password", evs[reclass].Data.Class)

	code, stdout, stderr = runReplay(t, "", "--quiet", "--diff", alteredFile, dir)
	require.Equal(t, exitDiff, code, stderr)
	desc := func(e schemas.IncidentEvent) string {
		return fmt.Sprintf("%s %s incident=%s kind=%s class=%s subject=%s time=%s", e.ID,
			strings.TrimPrefix(e.Type, "com.syncwatch.incident."), e.Data.IncidentID, e.Data.Kind, e.Data.Class,
			e.Subject, e.Time.Format("2006-01-02T15:04:05.000Z"))
	}
	renamed := evs[rename]
	renamed.ID = "inc-000000000000-9"
	want := []string{
		"added   " + desc(evs[drop]),
		"changed " + desc(evs[reclass]) + `: data.class: "exchange.auth.password" -> "` + evs[reclass].Data.Class + `"`,
		"removed " + desc(renamed),
		"added   " + desc(evs[rename]),
		fmt.Sprintf("replay: %s differs: 2 added, 1 removed, 1 changed (%d events, %d in the golden file)", alteredFile, len(evs), len(evs)-1),
	}
	// the report is in time order; the renamed pair shares a time and
	// sorts by id
	require.Equal(t, strings.Join(want, "\n")+"\n", stdout)
}

// TestGoldenDiffFields: a changed event lists every field that differs,
// nested ones by path, and --diff-ignore-origins leaves evidence origins
// out of the comparison.
func TestGoldenDiffFields(t *testing.T) {
	dir := newCorpus(t, loggen.Config{Seed: 12, Mailboxes: 10, Duration: 6 * time.Hour})
	tmp := t.TempDir()
	golden := filepath.Join(tmp, "golden.jsonl")
	code, _, _ := runReplay(t, "", "--quiet", "--out", golden, dir)
	require.Equal(t, exitOK, code)
	lines := readLines(t, golden)
	require.NotEmpty(t, lines)

	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &doc))
	data := doc["data"].(map[string]any)
	data["occurrences"] = 999.0
	data["details"].(map[string]any)["extra"] = "x"
	for _, e := range data["evidence"].([]any) {
		e.(map[string]any)["origin"] = "sync.engine/0/1"
	}
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	lines[0] = string(b)
	altered := filepath.Join(tmp, "altered.jsonl")
	require.NoError(t, os.WriteFile(altered, []byte(strings.Join(lines, "\n")+"\n"), 0o644))

	code, stdout, _ := runReplay(t, "", "--quiet", "--diff", altered, dir)
	require.Equal(t, exitDiff, code)
	first := strings.SplitN(stdout, "\n", 2)[0]
	require.Contains(t, first, `: data.details.extra: "x" -> (none); data.evidence[0].origin: "sync.engine/0/1" -> "`)
	require.Contains(t, first, `; data.occurrences: 999 -> `)

	code, stdout, _ = runReplay(t, "", "--quiet", "--diff", altered, "--diff-ignore-origins", dir)
	require.Equal(t, exitDiff, code)
	first = strings.SplitN(stdout, "\n", 2)[0]
	require.NotContains(t, first, "data.evidence")
	require.Contains(t, first, `: data.details.extra: "x" -> (none); data.occurrences: 999 -> `)
}

// TestGoldenDiffBadGolden: a golden file that is not events is refused
// with the line that is wrong, before anything is replayed.
func TestGoldenDiffBadGolden(t *testing.T) {
	dir := newCorpus(t, loggen.Config{Seed: 12, Mailboxes: 5, Duration: 2 * time.Hour})
	tmp := t.TempDir()
	bad := filepath.Join(tmp, "bad.jsonl")
	require.NoError(t, os.WriteFile(bad, []byte("\n{\"id\":1}\n"), 0o644))
	code, stdout, stderr := runReplay(t, "", "--diff", bad, dir)
	require.Equal(t, exitUsage, code)
	require.Empty(t, stdout)
	require.Contains(t, stderr, bad+":2:")
	require.NotContains(t, stderr, "summary")
}
