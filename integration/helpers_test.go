package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/schemas"
)

var binDir string

// TestMain builds the binaries once, as a user would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "syncwatch-bin-")
	if err != nil {
		panic(err)
	}
	binDir = dir
	root := repoRoot()
	for _, b := range []string{"replay", "ingest"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, b), "./cmd/"+b)
		cmd.Dir = root
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			panic("building " + b + ": " + err.Error())
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

func bin(name string) string { return filepath.Join(binDir, name) }

// requireTool skips when a tool is missing on a developer's machine, and
// fails in CI (CI=true), where .ci/run installs it.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed; .ci/run should have installed it", name)
		}
		t.Skipf("%s is not installed (apt-get install %s); skipping", name, name)
	}
	return p
}

// corpus writes a generated corpus and returns its dir and truth.
func corpus(t *testing.T, cfg loggen.Config) (string, []loggen.Truth) {
	t.Helper()
	dir := t.TempDir()
	_, err := loggen.WriteDir(dir, cfg)
	require.NoError(t, err)
	f, err := os.Open(filepath.Join(dir, "incidents.truth.jsonl"))
	require.NoError(t, err)
	defer f.Close()
	truth, err := loggen.ReadTruth(f)
	require.NoError(t, err)
	return dir, truth
}

// decodeEvents parses JSON lines of events, validating each against the
// schema.
func decodeEvents(t *testing.T, b []byte) []schemas.IncidentEvent {
	t.Helper()
	var out []schemas.IncidentEvent
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		ev, err := schemas.DecodeEvent(line)
		require.NoError(t, err, "event %s", line)
		out = append(out, ev)
	}
	require.NoError(t, sc.Err())
	return out
}

// f1 scores events against truth as docs/detection.md says (and
// samples/score.py does): an episode is correct when a true episode with
// the same (tenant, mailbox, kind, class) overlaps it in event time.
func f1(truth []loggen.Truth, events []schemas.IncidentEvent) (precision, recall float64) {
	type ep struct {
		key        string
		start, end time.Time
	}
	far := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	byID := map[string]*ep{}
	var ids []string
	for _, e := range events {
		if e.Data.Kind != schemas.KindSyncError && e.Data.Kind != schemas.KindSyncIssue {
			continue
		}
		p := byID[e.Data.IncidentID]
		if p == nil {
			p = &ep{key: e.Data.Tenant + "|" + e.Data.Mailbox + "|" + e.Data.Kind + "|" + e.Data.Class, end: far}
			byID[e.Data.IncidentID] = p
			ids = append(ids, e.Data.IncidentID)
		}
		switch e.Type {
		case schemas.TypeOpened:
			if p.start.IsZero() || e.Time.Before(p.start) {
				p.start = e.Time.Time
			}
		case schemas.TypeResolved:
			p.end = e.Time.Time
		}
	}
	sort.Strings(ids)
	var tr []ep
	for _, x := range truth {
		end := far
		if x.End != nil {
			end = *x.End
		}
		tr = append(tr, ep{key: x.Tenant + "|" + x.Mailbox + "|" + x.Kind + "|" + x.Class, start: x.Start, end: end})
	}
	hit := map[int]bool{}
	tp := 0
	for _, id := range ids {
		p := byID[id]
		ok := false
		for i, x := range tr {
			if x.key == p.key && !p.start.After(x.end) && !x.start.After(p.end) {
				ok = true
				hit[i] = true
			}
		}
		if ok {
			tp++
		}
	}
	precision, recall = 1, 1
	if len(ids) > 0 {
		precision = float64(tp) / float64(len(ids))
	}
	if len(tr) > 0 {
		recall = float64(len(hit)) / float64(len(tr))
	}
	return precision, recall
}

// withoutOrigins returns the events as JSON with evidence origins blanked:
// the one field that tells a file replay from a Kafka run.
func withoutOrigins(t *testing.T, evs []schemas.IncidentEvent) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, e := range evs {
		for i := range e.Data.Evidence {
			e.Data.Evidence[i].Origin = ""
		}
		b, err := json.Marshal(e)
		require.NoError(t, err)
		out[e.ID] = string(b)
	}
	return out
}

// logEventDiff logs, for a failing comparison, the events (as
// withoutOrigins gives them) that got has and want has not, that want has
// and got has not, and that both have but differ, so that a failure says
// which incidents went wrong rather than only how many.
func logEventDiff(t *testing.T, label string, want, got map[string]string) {
	t.Helper()
	var ids []string
	for id := range want {
		ids = append(ids, id)
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		w, inWant := want[id]
		g, inGot := got[id]
		switch {
		case !inGot:
			t.Logf("%s: missing %s", label, w)
		case !inWant:
			t.Logf("%s: extra %s", label, g)
		case w != g:
			t.Logf("%s: differs\n  want %s\n  got  %s", label, w, g)
		}
	}
}

// syncBuffer is a buffer a running process writes to (its Stderr) that
// the test may read meanwhile: exec copies the output on a goroutine of
// its own.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
