package detectors

import (
	"fmt"
	"sort"
	"sync"

	"github.com/syncwatch/syncwatch/schemas"
)

// Scope says how a class of failure relates to the sync of a mailbox.
type Scope uint8

const (
	// ScopeRun classes depend on the run: a sync error when runs end with
	// nothing synced, a sync issue when other records of the run got through.
	ScopeRun Scope = iota
	// ScopeTotal classes always mean that nothing syncs: one sighting at
	// ERROR level opens a sync error.
	ScopeTotal
	// ScopeRecord classes concern one record only: at most a sync issue.
	ScopeRecord
)

// String returns the scope's name as catalog files spell it.
func (s Scope) String() string {
	switch s {
	case ScopeTotal:
		return "total"
	case ScopeRecord:
		return "record"
	}
	return "run"
}

// parseScope reads a scope name ("total", "run", "record").
func parseScope(s string) (Scope, error) {
	switch s {
	case "total":
		return ScopeTotal, nil
	case "run", "":
		return ScopeRun, nil
	case "record":
		return ScopeRecord, nil
	}
	return ScopeRun, fmt.Errorf("unknown scope %q (want total, run or record)", s)
}

// Signal is what a Detector concludes from one record: the record shows a
// failure of Class.
type Signal struct {
	// Class is the stable class id, e.g. "exchange.auth.password".
	Class string
	// Scope of the class.
	Scope Scope
	// Title and Remediation come from the catalog (the knowledge base).
	Title       string
	Remediation string
	// Severity overrides the kind's default severity when set.
	Severity string
	// Template is the masked message, for classes grouped by template
	// ("unknown", "record.unknown"); part of the incident's identity.
	Template string
	// Details are class-specific facts extracted from the message.
	Details map[string]any
	// Specificity ranks signals of one run when its cause is chosen: the
	// most specific classified failure is the cause. Generic effects (a
	// run_failed that only says the connector failed) rank lowest.
	Specificity int
}

// Detector recognises failures in single records. Implementations must be
// pure and safe for concurrent use; Detect must not retain rec.
type Detector interface {
	// Name is the name the detector is registered under.
	Name() string
	// Detect returns the failure rec shows, or false if it shows none this
	// detector knows. It is called only for records that may carry a
	// failure (failed records, failed runs, messages at WARN or above).
	Detect(rec *schemas.LogRecord) (Signal, bool)
}

// Spec describes a registered detector.
type Spec struct {
	// Summary is one line for --help and `replay catalog`.
	Summary string
	// Constructor builds the detector from the options.
	Constructor func(Options) (Detector, error)
}

// Options are what constructors get. Every value is valid: Build fills in
// what is left zero.
type Options struct {
	// Catalog is the active catalog (the embedded one unless the user gave
	// --catalog). Build sets it before calling constructors; a constructor
	// called directly that needs it and finds it nil returns an error.
	//
	// Default: DefaultCatalog()
	Catalog *Catalog

	// Live, when set, is consulted instead of Catalog by the "catalog"
	// detector on every record, so that a catalog stored into it later
	// classifies the records that follow (ingest's reload). Catalog is
	// then ignored.
	//
	// Default: nil (the catalog is fixed: Catalog)
	Live *LiveCatalog
}

var (
	registryMu sync.RWMutex
	registry   = map[string]Spec{}
)

// Register makes a detector available by name. It panics on a duplicate
// name or a nil constructor, like database/sql.Register: registration is
// done from init functions.
func Register(name string, spec Spec) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if spec.Constructor == nil {
		panic("detectors: Register with nil constructor for " + name)
	}
	if _, dup := registry[name]; dup {
		panic("detectors: Register called twice for " + name)
	}
	registry[name] = spec
}

// Registered lists the registered detector names, sorted.
func Registered() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the spec registered under name.
func Lookup(name string) (Spec, bool) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	s, ok := registry[name]
	return s, ok
}

// DefaultDetectors is the detector chain used when none is configured:
// known errors first, then the template grouping of everything else.
var DefaultDetectors = []string{"catalog", "unknown"}

// Build constructs the named detectors, in order. Unknown names are an
// error.
func Build(names []string, opts Options) ([]Detector, error) {
	if len(names) == 0 {
		names = DefaultDetectors
	}
	if opts.Catalog == nil && opts.Live == nil {
		c, err := DefaultCatalog()
		if err != nil {
			return nil, err
		}
		opts.Catalog = c
	}
	out := make([]Detector, 0, len(names))
	for _, n := range names {
		spec, ok := Lookup(n)
		if !ok {
			return nil, fmt.Errorf("unknown detector %q (registered: %v)", n, Registered())
		}
		d, err := spec.Constructor(opts)
		if err != nil {
			return nil, fmt.Errorf("building detector %q: %w", n, err)
		}
		out = append(out, d)
	}
	return out, nil
}
