// Package detectors turns normalized log records into incident events.
//
// Detection has three layers, each small and pure (no I/O, no wall clock:
// all time comes from the records):
//
//   - Detectors (the Detector interface, registered by name) look at one
//     record and say what failure it shows, if any: the catalog of known
//     errors from the knowledge base ("catalog") and the grouping of
//     unknown messages by masked template ("unknown") are built in.
//   - The Engine keeps the context of every sync run (across the three
//     producers) and decides, once a run is over, whether its failures are
//     a sync error (nothing got through), sync issues (some records failed)
//     or nothing (retries, blips); see docs/detection.md.
//   - The incident tracker gives incidents deterministic ids and emits
//     opened / updated / resolved events; it resolves only on positive
//     evidence from a later run, never on silence.
//
// The Engine expects records in event-time order (the pipeline's reorder
// stage provides that) and is not safe for concurrent use.
package detectors
