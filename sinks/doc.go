// Package sinks delivers syncwatch's output: incident events (CloudEvents,
// see schemas.IncidentEvent) and dead letters. A Sink is small: Write a
// batch, Close. Several sinks are combined with Fanout, whose errors are
// combined with go-multierror.
package sinks
