// Package pipeline moves log entries from sources to sinks: it frames and
// normalizes the three producers' formats into schemas.LogRecord, orders
// records by event time across sources with a watermark, runs them through
// the detectors and hands the resulting incident events and dead letters to
// the sinks, acknowledging each input only after everything it caused was
// delivered.
//
// The work is done by small stages (Stage, with NormalizeStage,
// ReorderStage, DetectStage and DeliverStage) that a Batch flows through;
// New wires them in one place. The sources are files (Replay, for
// cmd/replay) and a Kafka consumer group (KafkaSource, for cmd/ingest); the
// same stages serve both, so replay and live give the same events.
package pipeline
