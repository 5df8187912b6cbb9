// Package pipeline is the stage runner: it moves log entries from sources
// to sinks. Entries are normalized into schemas.LogRecord (by package
// parse), ordered by event time across sources with a watermark, run
// through the detectors and the pipeline's health monitor, and the
// resulting incident events and dead letters are handed to the sinks; an
// input is acknowledged only after everything it caused was delivered.
//
// The work is done by small stages (Stage, with NormalizeStage,
// ReorderStage, DetectStage and DeliverStage) that a Batch flows through;
// New wires them in one place, and detection and delivery run on their
// own goroutines behind the caller's, on the batches before.
//
// Two loops drive a Pipeline: Replay, over EntryReaders read to their end
// (files, with filesource.Source; a Kafka time range, with kafkasource.RangeSource),
// for cmd/replay; and Consumer, over a MessageSource that acknowledges and
// rebalances (a consumer group member, kafkasource.Source), for
// cmd/ingest. The same stages serve both, so replay and live give the
// same events for the same logs.
package pipeline
