package known

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/hashicorp/go-multierror"
	"github.com/segmentio/kafka-go"

	"github.com/syncwatch/syncwatch/pipeline"
	"github.com/syncwatch/syncwatch/pipeline/kafkasource"
	"github.com/syncwatch/syncwatch/schemas"
)

// ReadConfig configures a Reader.
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

// Stats describes one Refresh.
type Stats struct {
	Messages  int           // messages read
	Undecoded int           // messages that are not incident events, skipped
	Took      time.Duration // how long the read took
}

// Reader keeps a set of Incidents up to date with the incidents topic:
// the first Refresh reads the topic whole, each later one what was
// added since. It is not safe for concurrent use; its set is.
type Reader struct {
	cfg  ReadConfig
	set  *Incidents
	next map[string]int64 // "topic/partition" -> first offset not read yet
}

// NewReader returns a reader that has read nothing yet.
func NewReader(cfg ReadConfig) *Reader {
	return &Reader{cfg: cfg, set: New(cfg.Horizon), next: map[string]int64{}}
}

// Incidents is the set the reader fills.
func (r *Reader) Incidents() *Incidents { return r.set }

// Refresh reads the incidents topic from where the last Refresh stopped
// (the start, the first time) up to its end offsets as of the call, with
// no consumer group and no commits. A topic that does not exist yet
// holds no incident. Messages that are not incident events are skipped
// and counted. Partitions are read side by side: decoding the events is
// what costs, and it spreads over the cores.
func (r *Reader) Refresh(ctx context.Context) (Stats, error) {
	start := time.Now()
	var st Stats
	srcs, err := kafkasource.OpenRange(ctx, kafkasource.RangeConfig{
		Brokers: r.cfg.Brokers, Topics: []string{r.cfg.Topic}, Dialer: r.cfg.Dialer, Margin: -1,
		Offsets: r.next, NotLogs: true,
	})
	if errors.Is(err, kafkasource.ErrNoSuchTopic) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("reading incidents topic: %w", err)
	}
	defer func() {
		for _, s := range srcs {
			s.Close()
		}
	}()
	var (
		mu   sync.Mutex
		errs *multierror.Error
		wg   sync.WaitGroup
		todo = make(chan *kafkasource.RangeSource, len(srcs))
	)
	for _, s := range srcs {
		todo <- s
	}
	close(todo)
	for range min(runtime.GOMAXPROCS(0), len(srcs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range todo {
				n, bad, err := readPartition(ctx, s, r.set)
				mu.Lock()
				st.Messages += n
				st.Undecoded += bad
				if err != nil {
					errs = multierror.Append(errs, err)
				} else {
					r.next[s.SourceName()] = s.End
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	r.set.Compact()
	st.Took = time.Since(start)
	if err := errs.ErrorOrNil(); err != nil {
		return st, fmt.Errorf("reading incidents topic: %w", err)
	}
	return st, nil
}

// compactEvery is how many events Add takes between two compactions.
const compactEvery = 50000

// readPartition adds the events of one partition's range to k,
// returning the messages read and how many of them were not incident
// events.
func readPartition(ctx context.Context, s *kafkasource.RangeSource, k *Incidents) (n, bad int, err error) {
	var en pipeline.Entry
	for {
		err := s.ReadEntry(ctx, &en)
		if errors.Is(err, io.EOF) {
			return n, bad, nil
		}
		if err != nil {
			return n, bad, err
		}
		n++
		var w wireEvent
		if json.Unmarshal(en.Raw, &w) != nil || w.Data.IncidentID == "" {
			bad++
			continue
		}
		ev := w.IncidentEvent
		ev.Data = w.Data.IncidentData
		if k.Add(ev)%compactEvery == 0 {
			k.Compact()
		}
	}
}

// wireEvent decodes an incident event without its evidence, which is not
// part of the incident's state and costs the most to decode.
type wireEvent struct {
	schemas.IncidentEvent
	Data struct {
		schemas.IncidentData
		Evidence skipped `json:"evidence"`
	} `json:"data"`
}

// skipped is a JSON value that is not decoded.
type skipped struct{}

func (skipped) UnmarshalJSON([]byte) error { return nil }
