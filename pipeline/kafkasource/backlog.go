package kafkasource

import (
	"errors"
	"fmt"
	"io"
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
	// sampleBuffer is the largest message sampled.
	sampleBuffer = 256 << 10
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
	buf := make([]byte, sampleBuffer)
	for i := range int64(sampleWindows) {
		off := from + (to-from)*i/sampleWindows
		end := min(from+(to-from)*(i+1)/sampleWindows, off+sampleMessages)
		if _, err := conn.Seek(off, kafka.SeekAbsolute|kafka.SeekDontCheck); err != nil {
			return false, fmt.Errorf("seeking to %d: %w", off, err)
		}
		batch := conn.ReadBatchWith(kafka.ReadBatchConfig{MinBytes: 1, MaxBytes: sampleBytes, MaxWait: maxWait})
		o.Window()
		// Read, not ReadMessage: the broker returns the whole record
		// batch holding off, and ReadMessage allocates every message
		// before off as it skips it (a producer's batch holds thousands:
		// half the backlog was decoded to sample it). Read copies each
		// into buf, which an entry larger than it ends the window at.
		for {
			n, err := batch.Read(buf)
			if err != nil {
				break
			}
			at := batch.Offset() - 1
			if at < off {
				continue
			}
			if at >= end {
				break
			}
			o.Add(buf[:n])
		}
		if err := batch.Close(); err != nil && !errors.Is(err, io.ErrShortBuffer) {
			return false, fmt.Errorf("sampling offset %d: %w", off, err)
		}
	}
	return o.OutOfOrder(), nil
}
