package detectors

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/schemas"
)

const frobMsg = "Quux frobnicator jammed on the gateway"

// frobCatalog is a user catalog that knows frobMsg as a total class.
const frobCatalog = `version: 1
classes:
  - class: custom.frobnicator
    scope: total
    title: Frobnicator jammed
    remediation: Unjam the frobnicator.
    match:
      - [frobnicator jammed]
`

func lifeOf(evs []schemas.IncidentEvent) []string {
	var life []string
	for _, ev := range evs {
		life = append(life, ev.Type[len("com.syncwatch.incident."):]+" "+ev.Data.Kind+" "+ev.Data.Class)
	}
	return life
}

// TestLiveCatalogReload: an engine built on a LiveCatalog classifies the
// record that follows a Store under the new catalog, the incident opened
// under the old one keeps its class, and a catalog file with several
// problems is refused with every one of them while the running catalog
// still classifies.
func TestLiveCatalogReload(t *testing.T) {
	live := NewLiveCatalog(mustDefault(t))
	dets, err := Build(nil, Options{Live: live})
	require.NoError(t, err)
	eng, err := NewEngine(Config{Detectors: dets, ConsecutiveRuns: 1})
	require.NoError(t, err)
	s := &script{at: t0}
	var out []schemas.IncidentEvent
	feed := func() {
		for i := range s.recs {
			out = eng.Process(&s.recs[i], out)
		}
		s.recs = s.recs[:0]
	}

	// the embedded catalog does not know the message: an unknown error
	s.start("r1").exchErr("r1", frobMsg).runFailed("r1", "Mailbox access denied by connector")
	feed()
	out = eng.Advance(s.at.Add(time.Minute), out)
	require.Equal(t, []string{"opened sync_error unknown"}, lifeOf(out))

	// a catalog file that knows it, stored while the engine runs
	dir := t.TempDir()
	path := filepath.Join(dir, "catalog.yaml")
	require.NoError(t, os.WriteFile(path, []byte(frobCatalog), 0o644))
	cat, err := LoadCatalog(path)
	require.NoError(t, err)
	live.Store(cat)

	out = out[:0]
	s.at = s.at.Add(time.Minute)
	s.start("r2").exchErr("r2", frobMsg) // total, at ERROR: opens at once
	feed()
	require.Equal(t, []string{"opened sync_error custom.frobnicator"}, lifeOf(out),
		"the next matching record is classified under the new catalog")
	require.Equal(t, 2, eng.Stats().OpenIncidents, "the unknown incident stays open under its class")

	// broken files: refused with every problem, nothing stored
	for _, bad := range []struct {
		name, text string
		want       []string
	}{
		{"invalid YAML", "version: 1\nclasses:\n  - class: custom.gizmo\n    match: [[gizmo broke]\n", []string{"catalog " + filepath.Join(dir, "invalid YAML.yaml")}},
		{"several bad entries", `version: 1
classes:
  - class: custom.gizmo
    scope: sometimes
    match:
      - [gizmo broke]
  - class: custom.widget
    title: Widget
    http_status: [999]
    extract: [nonsense]
  - class: custom.gizmo
    title: Gizmo again
    match: [[gizmo]]
`, []string{
			":3: class custom.gizmo: scope: unknown scope \"sometimes\"",
			":3: class custom.gizmo: title: must not be empty",
			":7: class custom.widget: http_status[0]: 999 is not an HTTP status",
			":7: class custom.widget: extract: unknown extractor \"nonsense\"",
			"class custom.gizmo: defined twice",
		}},
	} {
		p := filepath.Join(dir, bad.name+".yaml")
		require.NoError(t, os.WriteFile(p, []byte(bad.text), 0o644))
		_, err := LoadCatalog(p)
		require.Error(t, err, bad.name)
		for _, w := range bad.want {
			require.Contains(t, err.Error(), w, bad.name)
		}
	}
	require.Same(t, cat, live.Load())
	out = out[:0]
	s.recs = nil
	s.add(schemas.ProducerExchange, schemas.EventRunStarted, schemas.SeverityInfo, "r3", "", "",
		func(r *schemas.LogRecord) { r.Mailbox = "bob@contoso.com" })
	s.add(schemas.ProducerExchange, schemas.EventMessage, schemas.SeverityError, "r3", "", frobMsg,
		func(r *schemas.LogRecord) { r.Mailbox = "bob@contoso.com" })
	feed()
	require.Equal(t, []string{"opened sync_error custom.frobnicator"}, lifeOf(out), "the running catalog still classifies")
}

// TestLiveCatalogConcurrentStore: catalogs stored while an engine
// classifies (go test -race): every record is classified under one
// catalog or the other, whole.
func TestLiveCatalogConcurrentStore(t *testing.T) {
	base := mustDefault(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "catalog.yaml")
	require.NoError(t, os.WriteFile(path, []byte(frobCatalog), 0o644))
	frob, err := LoadCatalog(path)
	require.NoError(t, err)
	live := NewLiveCatalog(base)
	dets, err := Build(nil, Options{Live: live})
	require.NoError(t, err)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			live.Store([]*Catalog{base, frob}[i%2])
		}
	}()
	rec := schemas.LogRecord{Producer: schemas.ProducerExchange, Severity: schemas.SeverityError, Body: frobMsg}
	seen := map[string]int{}
	for deadline := time.Now().Add(10 * time.Second); len(seen) < 2 && time.Now().Before(deadline); {
		for _, d := range dets {
			if sig, ok := d.Detect(&rec); ok {
				seen[sig.Class]++
				break
			}
		}
	}
	close(stop)
	wg.Wait()
	require.Len(t, seen, 2, "both catalogs classified: %v", seen)
	require.Contains(t, seen, "custom.frobnicator")
	require.Contains(t, seen, classUnknown)
}

func TestLiveCatalogBuild(t *testing.T) {
	_, err := Build(nil, Options{Live: &LiveCatalog{}})
	require.ErrorIs(t, err, errNoLiveCatalog)
	require.Panics(t, func() { NewLiveCatalog(nil) })
}
