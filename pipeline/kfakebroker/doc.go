// Package kfakebroker runs an embedded, in-process Kafka-protocol broker
// (github.com/twmb/franz-go/pkg/kfake) reachable over real TCP, for
// `ingest --demo`, tests and benchmarks. Any Kafka client can talk to it:
// kafka-go's Reader, Writer (with RequiredAcks: RequireAll) and
// ConsumerGroup (JoinGroup/SyncGroup with the "range" and "roundrobin"
// protocols) work against it, and so do kcat and franz-go.
//
// The broker keeps everything in memory and forgets it on Close.
package kfakebroker
