package detectors

import (
	"sync/atomic"

	"github.com/syncwatch/syncwatch/schemas"
)

// LiveCatalog is the catalog of a long-running consumer, replaced as a
// whole while it runs (ingest reloads --catalog on SIGHUP): a "catalog"
// detector built with Options.Live reads it once per record it is asked
// about, so the next record is classified under a catalog stored now,
// whichever engine (consumer generation) asks. What engines concluded
// before keeps the class it had: open incidents, the failures of runs not
// decided yet. Replay never uses one: its detection depends on its input
// alone.
//
// The zero value holds no catalog: use NewLiveCatalog. Safe for
// concurrent use.
type LiveCatalog struct {
	p atomic.Pointer[Catalog]
}

// NewLiveCatalog returns a LiveCatalog holding c, which must not be nil.
func NewLiveCatalog(c *Catalog) *LiveCatalog {
	l := &LiveCatalog{}
	l.Store(c)
	return l
}

// Load returns the catalog stored last.
func (l *LiveCatalog) Load() *Catalog { return l.p.Load() }

// Store makes c the catalog of the records classified from now on. It
// panics if c is nil: a catalog that failed to load must leave the
// running one in place.
func (l *LiveCatalog) Store(c *Catalog) {
	if c == nil {
		panic("detectors: LiveCatalog.Store(nil)")
	}
	l.p.Store(c)
}

// liveCatalogDetector is the "catalog" detector over a LiveCatalog: one
// atomic load per record it is asked about (only records that may carry
// a failure are), the rest as catalogDetector.
type liveCatalogDetector struct{ l *LiveCatalog }

func (d liveCatalogDetector) Name() string { return "catalog" }

func (d liveCatalogDetector) Detect(rec *schemas.LogRecord) (Signal, bool) {
	// one catalog for the match and its details, whatever is stored meanwhile
	return catalogDetector{d.l.Load()}.Detect(rec)
}
