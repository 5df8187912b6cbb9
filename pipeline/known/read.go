package known

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/syncwatch/syncwatch/pipeline"
	"github.com/syncwatch/syncwatch/pipeline/kafkasource"
	"github.com/syncwatch/syncwatch/schemas"
)

// ReadConfig configures Read.
type ReadConfig struct {
	// Brokers are the bootstrap addresses ("host:port"). Required.
	Brokers []string
	// Topic is the incidents topic. Required.
	Topic string
	// Dialer opens every connection (TLS, SASL, timeouts).
	//
	// Default: kafkasource's default dialer
	Dialer *kafka.Dialer
	// Horizon is how much event time before the newest event is kept
	// (New): more than the longest restore window.
	//
	// Default: keep everything
	Horizon time.Duration
}

// Stats describes a Read.
type Stats struct {
	Messages  int           // messages read
	Undecoded int           // messages that are not incident events, skipped
	Took      time.Duration // how long the read took
}

// Read reads the incidents topic whole, up to its end offsets as of the
// call, with no consumer group and no commits, into a new set. A topic
// that does not exist yet holds no incident. Messages that are not
// incident events are skipped and counted.
func Read(ctx context.Context, cfg ReadConfig) (*Incidents, Stats, error) {
	start := time.Now()
	k := New(cfg.Horizon)
	var st Stats
	srcs, err := kafkasource.OpenRange(ctx, kafkasource.RangeConfig{
		Brokers: cfg.Brokers, Topics: []string{cfg.Topic}, Dialer: cfg.Dialer, Margin: -1,
	})
	if errors.Is(err, kafkasource.ErrNoSuchTopic) {
		return k, st, nil
	}
	if err != nil {
		return nil, st, fmt.Errorf("reading incidents topic: %w", err)
	}
	defer func() {
		for _, s := range srcs {
			s.Close()
		}
	}()
	var en pipeline.Entry
	for _, s := range srcs {
		for {
			err := s.ReadEntry(ctx, &en)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, st, fmt.Errorf("reading incidents topic: %w", err)
			}
			st.Messages++
			var ev schemas.IncidentEvent
			if json.Unmarshal(en.Raw, &ev) != nil || ev.Data.IncidentID == "" {
				st.Undecoded++
				continue
			}
			k.Add(ev)
			if st.Messages%10000 == 0 {
				k.Compact()
			}
		}
	}
	k.Compact()
	st.Took = time.Since(start)
	return k, st, nil
}
