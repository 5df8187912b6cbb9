// Package kafkasource reads the producers' log topics from Kafka with
// github.com/segmentio/kafka-go, for the pipeline.
//
// Source is a member of a consumer group (ingest): one fetcher per
// assigned partition, explicit commits in partition order once the
// pipeline acknowledged a message (offsets.go), a restore window re-read
// on every assignment so that detector state survives rebalances,
// event-time alignment of partitions (generation.go), and a group balancer
// that gives partition p of every topic to one member, so that each member
// sees all of a mailbox's logs (coPartitionBalancer). It implements
// pipeline.MessageSource; pipeline.Consumer is the loop that drives it.
//
// RangeSource reads one partition between two points in time, with no
// group and no commits (replay --brokers); it implements
// pipeline.EntryReader.
package kafkasource
