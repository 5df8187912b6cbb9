// Package health is the pipeline watching its own input: it counts every
// entry by producer and event-time window and raises incidents of kind
// "pipeline" when a producer's lines stop parsing (format drift, a new
// version changed its log layout) or when a producer stops logging while
// the others go on (a stopped service or a broken shipper). Both would
// otherwise hide every sync error of the mailboxes behind them.
//
// A Monitor decides on event time only, at window boundaries, so a replay
// gives the same pipeline incidents as the live consumer did; the
// pipeline's normalize stage feeds it Observations and its detect stage
// closes windows as event time passes them (pipeline.New wires both).
package health
