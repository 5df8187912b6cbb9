package detectors

import "errors"

// Errors of the package. None is exported: no caller branches on them.
var (
	// errNoCatalog is returned by the "catalog" detector's constructor
	// when it is called without a catalog (Build always passes one).
	errNoCatalog = errors.New("detectors: no catalog")
	// errNoLiveCatalog: likewise, with an Options.Live that holds none
	// (a zero LiveCatalog instead of NewLiveCatalog's).
	errNoLiveCatalog = errors.New("detectors: the live catalog holds no catalog (use NewLiveCatalog)")
)
