// Package integration holds syncwatch's end-to-end tests: the binaries run
// as a user runs them, against a real Kafka-protocol broker over TCP (the
// embedded kfake broker), with kcat (librdkafka) as an independent client.
package integration
