// Package schemas holds the wire types that every other package of
// syncwatch shares: the normalized LogRecord that the three producers' log
// formats are turned into, the CloudEvents incident event that syncwatch
// emits, and the dead letter written for input it cannot parse. The JSON
// Schemas of the public types are embedded (see Schema) so that producers
// and subscribers can validate what they send and receive.
package schemas
