// Package gctune tunes the garbage collector of the syncwatch binaries.
//
// The pipeline's live heap is small (tens of MB: open runs and
// the reorder window), while it allocates about one short-lived string per
// log line. With the default GOGC=100 the collector then runs every few MB
// of allocation and takes a quarter to a third of the CPU of a replay.
//
// Start raises GOGC while the live heap is small, so that the heap goal
// (live × (1 + GOGC/100)) grows towards budget, and lowers it back towards
// the default as the live heap grows, so that the goal never exceeds
// budget because of the tuning. It re-computes GOGC after every collection
// from the live heap that collection measured. It does nothing when the
// user set GOGC or GOMEMLIMIT: they asked for their own policy.
//
// Past budget the live heap is mostly state that lives long (a replay of
// a million mailboxes: 300 MB of them), and the default's goal of twice
// the live heap would double the memory for garbage: Start lowers GOGC
// further, so that the heap holds at most budget bytes of garbage, down
// to GOGC=25 (beyond a live heap of 4 × budget, a quarter of it). Each
// collection then marks more than it frees: CPU traded for memory (the
// figures of a replay of a million mailboxes are in docs/performance.md).
//
// This is the technique of Uber's "GC tuner" for services with a small
// live heap and a high allocation rate. Limit keeps only the lowering:
// replay's parsers no longer allocate per line, and there a heap grown to
// the budget cost more (fresh pages faulted in, a larger working set)
// than the collections it saved: 25% of the wall time of a one-core
// replay (docs/performance.md). ingest still allocates per message and
// keeps Start.
package gctune
