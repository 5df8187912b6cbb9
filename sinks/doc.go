// Package sinks delivers syncwatch's output: incident events (CloudEvents,
// see schemas.IncidentEvent) and dead letters. A Sink is small: Write a
// batch, Close. Several sinks are combined with Fanout (every event to
// every sink) or Router (each event to the sinks its routes name), whose
// errors report every failed member at once (see SinkError).
package sinks
