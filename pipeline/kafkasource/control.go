package kafkasource

import "github.com/segmentio/kafka-go"

// isControlRecord reports whether m is a transaction marker: the record a
// transaction coordinator writes to each partition when a transactional
// producer (Kafka Streams or Connect with exactly-once, a Flink sink, any
// client with a transactional id) commits or aborts. kafka-go's Batch
// returns it as a message; its key is the marker's version (0) and type
// (0 abort, 1 commit), two int16s, and its value the version (0) and the
// coordinator's epoch, an int16 and an int32. No log entry has that shape.
//
// Read uncommitted (kafka-go's Batch does not filter aborted
// transactions), the records of an aborted transaction are read as
// well: a producer that retries a transaction sends the same entries
// again, and detection ignores an entry seen twice.
func isControlRecord(m *kafka.Message) bool {
	k, v := m.Key, m.Value
	return len(k) == 4 && k[0] == 0 && k[1] == 0 && k[2] == 0 && k[3] <= 1 &&
		len(v) == 6 && v[0] == 0 && v[1] == 0
}
