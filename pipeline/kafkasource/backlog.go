package kafkasource

import (
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/syncwatch/syncwatch/pipeline/parse"
)

// Backlogs out of order. A log shipper that finds files waiting sends one
// file's backlog after another's, or in large chunks of each (rsyslog's
// imfile reads a waiting file to its end before the next), so a
// partition's event time goes back by hours at each file. When a partition
// is assigned with a backlog, a few windows spread over it are sampled; if
// their event time goes back by more than a minute (parse.OrderSample),
// the partition holds the pipeline back until it is read up to its end
// (CaughtUp), so that the streams further back meet the ones before them.
// A partition in time order (one producer's, or streams interleaved as
// live shipping sends them) holds nothing back.

const (
	// sampleWindows is how many windows of a backlog are sampled, and
	// sampleBytes the most a window's fetch asks for. A broker may
	// return more (a whole record batch, or more: kfake), so a window
	// also stops at sampleMessages, and at the next window's start.
	sampleWindows  = 16
	sampleBytes    = 64 << 10
	sampleMessages = 256
	// sampleMin is the smallest backlog, in messages, that is sampled.
	sampleMin = 64
)

// sampleBacklog samples the messages [from, to) of the partition conn
// reads, in envelope, and reports whether their event time goes back
// (parse.OrderSample).
func sampleBacklog(conn *kafka.Conn, from, to int64, maxWait time.Duration, envelope parse.Envelope) (bool, error) {
	if to-from < sampleMin {
		return false, nil
	}
	o := parse.OrderSample{Envelope: envelope}
	for i := range int64(sampleWindows) {
		off := from + (to-from)*i/sampleWindows
		end := min(from+(to-from)*(i+1)/sampleWindows, off+sampleMessages)
		if _, err := conn.Seek(off, kafka.SeekAbsolute|kafka.SeekDontCheck); err != nil {
			return false, fmt.Errorf("seeking to %d: %w", off, err)
		}
		batch := conn.ReadBatchWith(kafka.ReadBatchConfig{MinBytes: 1, MaxBytes: sampleBytes, MaxWait: maxWait})
		o.Window()
		for {
			m, err := batch.ReadMessage()
			if err != nil || m.Offset >= end {
				break
			}
			o.Add(m.Value)
		}
		if err := batch.Close(); err != nil {
			return false, fmt.Errorf("sampling offset %d: %w", off, err)
		}
	}
	return o.OutOfOrder(), nil
}
