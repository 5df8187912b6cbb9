package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/syncwatch/syncwatch/pipeline/kfakebroker"
	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/schemas"
)

// topicFor maps a producer onto its default topic.
func topicFor(cfg Config, p schemas.Producer) string {
	i := map[schemas.Producer]int{schemas.ProducerExchange: 0, schemas.ProducerEngine: 1, schemas.ProducerC4CC: 2}[p]
	if i < len(cfg.Topics) {
		return cfg.Topics[i]
	}
	return cfg.Topics[0]
}

// runDemo starts an embedded Kafka-protocol broker on a free local port,
// produces generated logs of the three producers into their topics, runs
// the real consumer against it over TCP and prints each incident.
func runDemo(ctx context.Context, f *cliFlags, cfg Config, stdout, stderr io.Writer, log *slog.Logger) int {
	topics := append(append([]string(nil), cfg.Topics...), cfg.IncidentsTopic, cfg.DLQTopic)
	broker, err := kfakebroker.Start(kfakebroker.Config{Topics: topics, Partitions: 3})
	if err != nil {
		fmt.Fprintf(stderr, "ingest: starting the embedded broker: %v\n", err)
		return exitFailed
	}
	defer broker.Close()
	cfg.Brokers = broker.Addrs()
	if cfg.Group == "syncwatch" {
		cfg.Group = "syncwatch-demo"
	}
	if !isSet(f, "metrics-addr") {
		cfg.MetricsAddr = "127.0.0.1:0"
	}
	fmt.Fprintf(stderr, "demo: embedded Kafka broker at %v (topics %v)\n", cfg.Brokers, topics)

	w := &kafka.Writer{
		Addr: kafka.TCP(cfg.Brokers...), Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireAll,
		BatchTimeout: 5 * time.Millisecond, BatchSize: 1000, AllowAutoTopicCreation: true,
	}
	defer w.Close()
	// The logs end now, so that event time and the wall clock agree
	// (syncwatch_event_time_lag_seconds reads about zero).
	span := time.Duration(f.demoHours * float64(time.Hour))
	gen := loggen.Config{Seed: f.demoSeed, Mailboxes: f.demoMailboxes, Duration: span, Start: time.Now().UTC().Truncate(time.Second).Add(-span)}
	start := time.Now()
	truth, stats, n, err := produce(ctx, w, cfg, gen)
	if err != nil {
		fmt.Fprintf(stderr, "ingest: producing demo logs: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(stderr, "demo: produced %d log messages (%d runs of %d mailboxes over %.0fh) in %s; the generator planted %d incidents (%d sync errors, %d sync issues)\n",
		n, stats.Runs, f.demoMailboxes, f.demoHours, time.Since(start).Round(time.Millisecond), len(truth), stats.ByKind["sync_error"], stats.ByKind["sync_issue"])

	pr := newPrinter(stdout, f.asJSON)
	stopAfter := n
	if f.follow {
		stopAfter = 0
		fmt.Fprintln(stderr, "demo: following: a new hour of logs after the first, and so on, about 200 messages a second (faster than real time); Ctrl-C stops")
		go follow(ctx, w, cfg, gen, log)
	}
	cstart := time.Now()
	if err := consumeKafka(ctx, cfg, log, stdout, pr, stopAfter); err != nil {
		fmt.Fprintf(stderr, "ingest: %v\n", err)
		return exitFailed
	}
	counts := pr.summary()
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintf(stderr, "demo: consumed %d messages in %s; events published to %s:\n", n, time.Since(cstart).Round(time.Millisecond), cfg.IncidentsTopic)
	for _, k := range keys {
		fmt.Fprintf(stderr, "  %5d %s\n", counts[k], k)
	}
	return exitOK
}

func isSet(f *cliFlags, name string) bool {
	set := false
	f.fs.Visit(func(fl *flag.Flag) { set = set || fl.Name == name })
	return set
}

// produce writes a generated corpus into the topics, in batches.
func produce(ctx context.Context, w *kafka.Writer, cfg Config, gen loggen.Config) ([]loggen.Truth, loggen.Stats, int64, error) {
	var batch []kafka.Message
	var n int64
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := w.WriteMessages(ctx, batch...); err != nil {
			return err
		}
		n += int64(len(batch))
		batch = batch[:0]
		return nil
	}
	truth, stats, err := loggen.Generate(gen, func(e loggen.Entry) error {
		batch = append(batch, kafka.Message{Topic: topicFor(cfg, e.Producer), Key: []byte(e.Key), Value: e.Raw})
		if len(batch) >= 5000 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	return truth, stats, n, err
}

// follow keeps producing fresh hours of logs, paced to about 200 messages
// a second, until ctx ends.
func follow(ctx context.Context, w *kafka.Writer, cfg Config, gen loggen.Config, log *slog.Logger) {
	next := gen.Start
	if next.IsZero() {
		next = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	}
	next = next.Add(gen.Duration)
	for i := int64(1); ctx.Err() == nil; i++ {
		g := gen
		g.Seed, g.Start, g.Duration = gen.Seed+i, next, time.Hour
		next = next.Add(time.Hour)
		tick := time.NewTicker(5 * time.Millisecond)
		_, _, err := loggen.Generate(g, func(e loggen.Entry) error {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-tick.C:
			}
			return w.WriteMessages(ctx, kafka.Message{Topic: topicFor(cfg, e.Producer), Key: []byte(e.Key), Value: e.Raw})
		})
		tick.Stop()
		if err != nil && ctx.Err() == nil {
			log.Error("follow: producing", "err", err)
			return
		}
	}
}
