package detectors

import "errors"

// Errors of the package. None is exported: no caller branches on them.
var (
	// errNoCatalog is returned by the "catalog" detector's constructor
	// when it is called without a catalog (Build always passes one).
	errNoCatalog = errors.New("detectors: no catalog")
)
