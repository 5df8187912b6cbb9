package sinks

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/hashicorp/go-multierror"
	"github.com/segmentio/kafka-go"

	"github.com/syncwatch/syncwatch/schemas"
)

// Defaults of KafkaConfig, each resolved by the accessor of its field.
const (
	DefaultIncidentsTopic        = "sync.incidents"
	DefaultDeadLetterTopic       = "sync.deadletter"
	DefaultKafkaBatchTimeout     = 100 * time.Microsecond
	DefaultKafkaRetryMaxInterval = 5 * time.Second
	DefaultDeadLetterMaxRaw      = 512 << 10
)

// Settings of the sink's kafka.Writers and of its retry loop that are not
// configurable: the writer retries a request a few times quickly, then
// Write's own backoff, capped by KafkaConfig.RetryMaxInterval, takes over.
const (
	kafkaWriterBatchSize      = 1000
	kafkaWriterMaxAttempts    = 3
	kafkaWriterBackoffMin     = 50 * time.Millisecond
	kafkaWriterBackoffMax     = 500 * time.Millisecond
	kafkaRetryInitialInterval = 100 * time.Millisecond
)

// KafkaConfig configures a Kafka sink. Its zero value with Brokers set
// works: a zero field means its default, and a negative number or
// duration is rejected by Validate.
type KafkaConfig struct {
	// Brokers are the bootstrap addresses ("host:port"). Required.
	Brokers []string

	// IncidentsTopic receives the incident events. A legal Kafka topic
	// name: up to 249 of [a-zA-Z0-9._-].
	//
	// Default: "sync.incidents" (DefaultIncidentsTopic)
	IncidentsTopic string

	// DeadLetterTopic receives the dead letters. A legal Kafka topic name,
	// not the incidents topic.
	//
	// Default: "sync.deadletter" (DefaultDeadLetterTopic)
	DeadLetterTopic string

	// Transport carries the requests (TLS, SASL, client id, timeouts). A
	// transport given here is shared, not closed by Close.
	//
	// Default: a transport of the sink's own, like kafka.DefaultTransport
	Transport *kafka.Transport

	// BatchTimeout is how long the writer waits for more messages of a
	// partition before sending. Write hands over a whole batch of events
	// at once and waits for the acknowledgement, so there is nothing to
	// wait for and this is added to every Write: kafka-go's own default
	// (1s) caps a producer at about a thousand messages per second, and
	// 5ms kept ingest blocked a third of its time (1.91M messages in
	// 13.4 s; 8.5 s at 100us).
	//
	// Default: 100us (DefaultKafkaBatchTimeout)
	BatchTimeout time.Duration

	// RetryMaxInterval is the longest wait between two attempts of a
	// failing write. Writes are retried, with exponential backoff and
	// jitter starting at 100ms, until the caller's ctx ends.
	//
	// Default: 5s (DefaultKafkaRetryMaxInterval)
	RetryMaxInterval time.Duration

	// DeadLetterMaxRaw bounds the entry bytes a dead letter carries: a
	// longer entry (an oversize one, up to anything the input topic took)
	// keeps its first DeadLetterMaxRaw bytes and its reason says so. An
	// unbounded letter would exceed the writer's batch size or the topic's
	// max.message.bytes (1 MB by default; base64 adds a third), fail on
	// every retry and stop the pipeline at the same entry after every
	// restart. The default fits a default topic. Only used by
	// WriteDeadLetters.
	//
	// Default: 512 KiB (DefaultDeadLetterMaxRaw)
	DeadLetterMaxRaw int

	// DisableAutoTopicCreation stops the sink from asking the broker to
	// create missing topics (which brokers do only if they allow it).
	//
	// Default: false (topics are created on first write)
	DisableAutoTopicCreation bool

	// Logger receives retry warnings.
	//
	// Default: slog.Default()
	Logger *slog.Logger
}

// incidentsTopic resolves IncidentsTopic.
func (c *KafkaConfig) incidentsTopic() string { return cmp.Or(c.IncidentsTopic, DefaultIncidentsTopic) }

// deadLetterTopic resolves DeadLetterTopic.
func (c *KafkaConfig) deadLetterTopic() string {
	return cmp.Or(c.DeadLetterTopic, DefaultDeadLetterTopic)
}

// batchTimeout resolves BatchTimeout.
func (c *KafkaConfig) batchTimeout() time.Duration {
	return cmp.Or(c.BatchTimeout, DefaultKafkaBatchTimeout)
}

// retryMaxInterval resolves RetryMaxInterval.
func (c *KafkaConfig) retryMaxInterval() time.Duration {
	return cmp.Or(c.RetryMaxInterval, DefaultKafkaRetryMaxInterval)
}

// deadLetterMaxRaw resolves DeadLetterMaxRaw.
func (c *KafkaConfig) deadLetterMaxRaw() int {
	return cmp.Or(c.DeadLetterMaxRaw, DefaultDeadLetterMaxRaw)
}

// logger resolves Logger.
func (c *KafkaConfig) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.Default()
	}
	return c.Logger
}

// Validate reports every problem of the configuration at once, each naming
// its field, combined into one error; nil means valid. Defaults are
// applied before checking; c is not changed. It does not connect.
func (c *KafkaConfig) Validate() error {
	var errs *multierror.Error
	add := func(format string, a ...any) { errs = multierror.Append(errs, fmt.Errorf(format, a...)) }
	if len(c.Brokers) == 0 {
		add("Brokers: at least one broker address is required")
	}
	for i, b := range c.Brokers {
		if _, port, err := net.SplitHostPort(b); err != nil || port == "" {
			add("Brokers[%d] %q: not a host:port address", i, b)
		}
	}
	if problem := topicProblem(c.incidentsTopic()); problem != "" {
		add("IncidentsTopic %q: %s", c.IncidentsTopic, problem)
	}
	if problem := topicProblem(c.deadLetterTopic()); problem != "" {
		add("DeadLetterTopic %q: %s", c.DeadLetterTopic, problem)
	} else if c.incidentsTopic() == c.deadLetterTopic() {
		add("DeadLetterTopic %q: same as IncidentsTopic", c.deadLetterTopic())
	}
	if c.BatchTimeout < 0 {
		add("BatchTimeout %v: must not be negative", c.BatchTimeout)
	}
	if c.RetryMaxInterval < 0 {
		add("RetryMaxInterval %v: must not be negative", c.RetryMaxInterval)
	}
	if c.DeadLetterMaxRaw < 0 {
		add("DeadLetterMaxRaw %d: must not be negative", c.DeadLetterMaxRaw)
	}
	return errs.ErrorOrNil()
}

// maxTopicLen is the longest topic name Kafka accepts.
const maxTopicLen = 249

// topicProblem says what makes name an illegal Kafka topic name, or "".
// Kafka allows up to 249 ASCII letters, digits, '.', '_' and '-', and not
// "." or "..".
func topicProblem(name string) string {
	switch {
	case name == "":
		return "empty topic name"
	case len(name) > maxTopicLen:
		return fmt.Sprintf("longer than %d characters", maxTopicLen)
	case name == "." || name == "..":
		return "not a legal topic name"
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Sprintf("%q is not allowed in a topic name (want [a-zA-Z0-9._-])", r)
		}
	}
	return ""
}

// Kafka writes incident events and dead letters to Kafka topics, waiting
// for every in-sync replica to acknowledge (acks=all) before a write
// returns.
//
// Events go to IncidentsTopic, keyed by incident id (so an incident's
// events stay in one partition, in order), with the header
// content-type: application/cloudevents+json and as value exactly
// encoding/json's bytes of the event, the same as every other sink. Dead
// letters go to DeadLetterTopic as encoding/json's bytes, with the header
// content-type: application/json.
type Kafka struct {
	cfg       KafkaConfig
	log       *slog.Logger
	events    *kafka.Writer
	letters   *kafka.Writer
	transport *kafka.Transport // ours to close, nil if given in the config

	mu     sync.Mutex
	closed bool
}

var (
	_ Sink           = (*Kafka)(nil)
	_ DeadLetterSink = (*Kafka)(nil)
)

// NewKafka validates cfg and returns a sink; it does not connect until
// the first write. The error wraps that of KafkaConfig.Validate.
func NewKafka(cfg KafkaConfig) (*Kafka, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("validating kafka sink config: %w", err)
	}
	k := &Kafka{cfg: cfg, log: cfg.logger().With("component", "kafka_sink")}
	transport := cfg.Transport
	if transport == nil {
		transport = &kafka.Transport{}
		k.transport = transport
	}
	newWriter := func(topic string) *kafka.Writer {
		return &kafka.Writer{
			Addr:                   kafka.TCP(slices.Clone(cfg.Brokers)...),
			Topic:                  topic,
			Balancer:               &kafka.Hash{},
			RequiredAcks:           kafka.RequireAll,
			BatchTimeout:           cfg.batchTimeout(),
			BatchSize:              kafkaWriterBatchSize,
			MaxAttempts:            kafkaWriterMaxAttempts,
			WriteBackoffMin:        kafkaWriterBackoffMin,
			WriteBackoffMax:        kafkaWriterBackoffMax,
			Transport:              transport,
			AllowAutoTopicCreation: !cfg.DisableAutoTopicCreation,
		}
	}
	k.events = newWriter(cfg.incidentsTopic())
	k.letters = newWriter(cfg.deadLetterTopic())
	return k, nil
}

// String names the sink in errors and logs.
func (k *Kafka) String() string { return "kafka:" + k.cfg.incidentsTopic() }

// Write writes events to IncidentsTopic and returns once the broker
// acknowledged every one of them (acks=all). Failures are retried with
// backoff until ctx ends; then Write returns an error wrapping ctx.Err()
// and the last failure, and some events may or may not have been written.
// It returns ErrClosed after Close. Not safe for concurrent use.
func (k *Kafka) Write(ctx context.Context, events []schemas.IncidentEvent) error {
	msgs := make([]kafka.Message, len(events))
	for i := range events {
		value, err := events[i].AppendJSON(make([]byte, 0, 1024))
		if err != nil {
			return fmt.Errorf("encoding event %s: %w", events[i].ID, err)
		}
		msgs[i] = kafka.Message{
			Key:     []byte(events[i].Data.IncidentID),
			Value:   value,
			Headers: []kafka.Header{{Key: "content-type", Value: []byte(schemas.ContentType)}},
		}
	}
	return k.write(ctx, k.events, msgs)
}

// WriteDeadLetters writes letters to DeadLetterTopic with the same
// contract as Write. A letter's entry is cut to DeadLetterMaxRaw bytes, with
// a note in its reason.
func (k *Kafka) WriteDeadLetters(ctx context.Context, letters []schemas.DeadLetter) error {
	msgs := make([]kafka.Message, len(letters))
	for i := range letters {
		dl := &letters[i]
		if n := k.cfg.deadLetterMaxRaw(); len(dl.RawBase64) > n {
			cut := *dl
			cut.Reason = fmt.Sprintf("%s (entry cut to its first %d of %d bytes)", dl.Reason, n, len(dl.RawBase64))
			cut.RawBase64 = dl.RawBase64[:n]
			dl = &cut
		}
		value, err := json.Marshal(dl)
		if err != nil {
			return fmt.Errorf("encoding dead letter from %s: %w", letters[i].Origin, err)
		}
		msgs[i] = kafka.Message{
			Value:   value,
			Headers: []kafka.Header{{Key: "content-type", Value: []byte(schemas.DataContentType)}},
		}
	}
	return k.write(ctx, k.letters, msgs)
}

// write sends msgs with w until the broker acknowledged all of them or
// ctx ends. After a partial failure only the failed messages are sent
// again.
func (k *Kafka) write(ctx context.Context, w *kafka.Writer, msgs []kafka.Message) error {
	k.mu.Lock()
	closed := k.closed
	k.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if len(msgs) == 0 {
		return nil
	}
	pending := msgs
	var last error
	attempts := 0
	op := func() (struct{}, error) {
		attempts++
		err := w.WriteMessages(ctx, pending...)
		if err == nil {
			return struct{}{}, nil
		}
		if ctx.Err() != nil {
			return struct{}{}, backoff.Permanent(err)
		}
		last = err
		var tooLarge kafka.MessageTooLargeError
		if errors.As(err, &tooLarge) || errors.Is(err, io.ErrClosedPipe) {
			return struct{}{}, backoff.Permanent(err) // retrying cannot help
		}
		var failed kafka.WriteErrors
		if errors.As(err, &failed) && len(failed) == len(pending) {
			var again []kafka.Message
			for i, e := range failed {
				if e != nil {
					again = append(again, pending[i])
				}
			}
			if len(again) > 0 {
				pending = again
			}
		}
		return struct{}{}, err
	}
	notify := func(err error, wait time.Duration) {
		level := slog.LevelDebug
		if attempts == 1 {
			level = slog.LevelWarn
		}
		k.log.Log(ctx, level, "writing to kafka failed, retrying", "topic", w.Topic, "messages", len(pending), "attempt", attempts, "retry_in", wait, "err", err)
	}
	_, err := backoff.Retry(ctx, op,
		backoff.WithBackOff(&backoff.ExponentialBackOff{
			InitialInterval:     kafkaRetryInitialInterval,
			RandomizationFactor: 0.5,
			Multiplier:          2,
			MaxInterval:         k.cfg.retryMaxInterval(),
		}),
		backoff.WithMaxElapsedTime(0),
		backoff.WithNotify(notify),
	)
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		if last != nil {
			return fmt.Errorf("writing %d messages to %s after %d attempts: %w (last error: %v)", len(pending), w.Topic, attempts, ctxErr, last)
		}
		return fmt.Errorf("writing %d messages to %s: %w", len(pending), w.Topic, ctxErr)
	}
	return fmt.Errorf("writing %d messages to %s: %w", len(pending), w.Topic, err)
}

// Close waits for writes in flight, closes both writers and, if the sink
// made its own transport, its connections. ctx bounds the wait: when it
// ends first, Close returns an error wrapping ctx.Err(). Otherwise it
// returns nil or one error combining the failures of both writers. Later
// writes return ErrClosed.
func (k *Kafka) Close(ctx context.Context) error {
	k.mu.Lock()
	k.closed = true
	k.mu.Unlock()
	done := make(chan error, 1)
	go func() {
		var errs *multierror.Error
		if err := k.events.Close(); err != nil {
			errs = multierror.Append(errs, fmt.Errorf("closing writer of %s: %w", k.events.Topic, err))
		}
		if err := k.letters.Close(); err != nil {
			errs = multierror.Append(errs, fmt.Errorf("closing writer of %s: %w", k.letters.Topic, err))
		}
		if k.transport != nil {
			k.transport.CloseIdleConnections()
		}
		done <- errs.ErrorOrNil()
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("closing kafka sink: %w", ctx.Err())
	}
}
