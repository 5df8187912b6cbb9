package detectors

import "errors"

// Sentinel errors of the package.
var (
	// ErrNoCatalog is returned by constructors that need a catalog and
	// got none.
	ErrNoCatalog = errors.New("detectors: no catalog")
)
