package view

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
)

// TailConfig configures Tail.
type TailConfig struct {
	// Brokers are the bootstrap addresses ("host:port"). Required.
	Brokers []string
	// Topic is the incidents topic. Required.
	Topic string
	// Dialer opens every connection (TLS, SASL, timeouts).
	//
	// Default: kafka.DefaultDialer
	Dialer *kafka.Dialer
	// Logger reports a topic that cannot be read, and its recovery.
	//
	// Default: slog.Default()
	Logger *slog.Logger
	// Rediscover is how often the topic's partitions are looked up again
	// (a topic created later, partitions added).
	//
	// Default: 10s
	Rediscover time.Duration
}

// Tailer reads an incidents topic into a view, from the beginning of
// every partition's retention and then as events are published, with no
// consumer group and no commits: every reader holds the whole topic.
type Tailer struct {
	cfg  TailConfig
	v    *View
	log  *slog.Logger
	read atomic.Int64

	mu      sync.Mutex
	parts   map[int]*partition
	synced  bool // the partitions known at the start were read to their end then
	started bool
}

type partition struct {
	end    int64 // end offset when first seen: read to it, the view is caught up
	next   atomic.Int64
	cancel context.CancelFunc
}

// NewTailer returns a tailer of cfg.Topic into v; Run starts it.
func NewTailer(cfg TailConfig, v *View) (*Tailer, error) {
	if len(cfg.Brokers) == 0 || cfg.Topic == "" {
		return nil, errors.New("view: TailConfig needs Brokers and Topic")
	}
	if cfg.Dialer == nil {
		cfg.Dialer = kafka.DefaultDialer
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Rediscover <= 0 {
		cfg.Rediscover = 10 * time.Second
	}
	return &Tailer{cfg: cfg, v: v, log: cfg.Logger, parts: map[int]*partition{}}, nil
}

// Read is how many messages were read.
func (t *Tailer) Read() int64 { return t.read.Load() }

// CaughtUp reports whether every partition was read up to where it ended
// when the tailer first found it: the view holds what was published
// before it started (a topic that does not exist yet holds nothing).
func (t *Tailer) CaughtUp() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.started {
		return false
	}
	if t.synced {
		return true
	}
	for _, p := range t.parts {
		if p.next.Load() < p.end {
			return false
		}
	}
	t.synced = true
	return true
}

// Run reads until ctx ends; it returns nil then. A broker that cannot be
// reached is retried, saying so.
func (t *Tailer) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	failing := false
	for {
		err := t.discover(ctx, &wg)
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			t.log.Warn("live view: cannot read the incidents topic's partitions; retrying", "topic", t.cfg.Topic, "err", err)
			failing = true
		case err == nil && failing:
			t.log.Info("live view: reading the incidents topic again", "topic", t.cfg.Topic)
			failing = false
		}
		wait := t.cfg.Rediscover
		if err != nil {
			wait = min(wait, 2*time.Second)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// discover starts a reader on every partition not read yet.
func (t *Tailer) discover(ctx context.Context, wg *sync.WaitGroup) error {
	parts, err := t.lookup(ctx)
	if errors.Is(err, kafka.UnknownTopicOrPartition) {
		t.mu.Lock()
		t.started = true // no topic: nothing published yet
		t.mu.Unlock()
		return nil
	}
	if err != nil {
		return err
	}
	for _, p := range parts {
		t.mu.Lock()
		_, have := t.parts[p.ID]
		t.mu.Unlock()
		if have {
			continue
		}
		end, err := t.endOffset(ctx, p)
		if err != nil {
			return err
		}
		pctx, cancel := context.WithCancel(ctx)
		ps := &partition{end: end, cancel: cancel}
		t.mu.Lock()
		t.parts[p.ID] = ps
		t.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.tail(pctx, p.ID, ps)
		}()
	}
	t.mu.Lock()
	t.started = true
	t.mu.Unlock()
	return nil
}

func (t *Tailer) lookup(ctx context.Context) ([]kafka.Partition, error) {
	var errs []error
	for _, b := range t.cfg.Brokers {
		lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		parts, err := t.cfg.Dialer.LookupPartitions(lctx, "tcp", b, t.cfg.Topic)
		cancel()
		if err == nil {
			return parts, nil
		}
		if errors.Is(err, kafka.UnknownTopicOrPartition) {
			return nil, err
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

func (t *Tailer) endOffset(ctx context.Context, p kafka.Partition) (int64, error) {
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := t.cfg.Dialer.DialLeader(lctx, "tcp", fmt.Sprintf("%s:%d", p.Leader.Host, p.Leader.Port), p.Topic, p.ID)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	first, last, err := conn.ReadOffsets()
	if err != nil {
		return 0, err
	}
	if last <= first {
		return 0, nil
	}
	return last, nil
}

// tail reads one partition from its first offset into the view.
func (t *Tailer) tail(ctx context.Context, id int, p *partition) {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: t.cfg.Brokers, Topic: t.cfg.Topic, Partition: id, Dialer: t.cfg.Dialer,
		StartOffset: kafka.FirstOffset, MinBytes: 1, MaxBytes: 16 << 20, MaxWait: 250 * time.Millisecond,
		ErrorLogger: kafka.LoggerFunc(func(msg string, args ...any) {
			t.log.Debug("live view: reader", "partition", id, "msg", fmt.Sprintf(msg, args...))
		}),
	})
	defer r.Close()
	for {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			t.log.Warn("live view: reading a partition of the incidents topic failed; retrying", "topic", t.cfg.Topic, "partition", id, "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		t.read.Add(1)
		if _, err := t.v.Apply(m.Value); err != nil {
			t.log.Debug("live view: skipped a message that is not an incident event", "partition", id, "offset", m.Offset)
		}
		p.next.Store(m.Offset + 1)
	}
}
