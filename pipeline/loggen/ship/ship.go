package ship

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-multierror"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/schemas"
)

// Sentinel errors.
var (
	// ErrInvalidConfig is wrapped by Config.Validate (and so by New and
	// Generate) when a field is out of range.
	ErrInvalidConfig = errors.New("ship: invalid config")
	// ErrUnknownKind is wrapped by ParseKind and ParseKeying for a name
	// they do not know.
	ErrUnknownKind = errors.New("ship: unknown name")
)

// Kind is a log shipper with the Kafka output (or archive) it uses by
// default; see the package documentation for what each one produces.
type Kind string

// The shippers. The names are what `replay generate --shipper` accepts.
const (
	Filebeat      Kind = "filebeat"        // filestream input, output.kafka / output.file, codec.json
	LogstashPlain Kind = "logstash-plain"  // file input, kafka output with its default codec (plain)
	LogstashJSON  Kind = "logstash-json"   // file input, kafka output with codec => json
	FluentBit     Kind = "fluent-bit"      // tail input, kafka output (format json)
	FluentBitGELF Kind = "fluent-bit-gelf" // tail input, kafka output with format gelf (gelf_short_message_key log)
	Fluentd       Kind = "fluentd"         // in_tail (parse none), out_kafka2 with <format> @type json
	Vector        Kind = "vector"          // file source, kafka sink with encoding.codec = "json"
	OTLPProto     Kind = "otlp-proto"      // filelog receiver, kafka exporter, encoding otlp_proto (its default)
	OTLPJSON      Kind = "otlp-json"       // filelog receiver, kafka exporter, encoding otlp_json
)

// Kinds returns every Kind, in the order of the package documentation.
func Kinds() []Kind {
	return []Kind{Filebeat, LogstashPlain, LogstashJSON, FluentBit, FluentBitGELF, Fluentd, Vector, OTLPProto, OTLPJSON}
}

// kindAliases are other names ParseKind accepts.
var kindAliases = map[string]Kind{
	"logstash":   LogstashPlain, // the kafka output's default codec is plain
	"fluentbit":  FluentBit,
	"gelf":       FluentBitGELF,
	"otel":       OTLPProto, // the kafka exporter's default encoding for logs
	"otlp":       OTLPProto,
	"otlp_proto": OTLPProto,
	"otlp_json":  OTLPJSON,
}

// ParseKind returns the Kind named s (case-insensitive; also "logstash"
// for logstash-plain, "otel" and "otlp" for otlp-proto), or an error
// wrapping ErrUnknownKind that lists the names.
func ParseKind(s string) (Kind, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if k, ok := kindAliases[s]; ok {
		return k, nil
	}
	if slices.Contains(Kinds(), Kind(s)) {
		return Kind(s), nil
	}
	names := make([]string, 0, len(Kinds()))
	for _, k := range Kinds() {
		names = append(names, string(k))
	}
	return "", fmt.Errorf("%w: shipper %q (one of %s)", ErrUnknownKind, s, strings.Join(names, ", "))
}

// Binary reports whether k's Kafka values are binary (otlp-proto):
// they have no line-oriented archive.
func (k Kind) Binary() bool { return k == OTLPProto }

// Batched reports whether one Kafka message of k carries many log lines
// (the OpenTelemetry collector's kinds).
func (k Kind) Batched() bool { return k == OTLPProto || k == OTLPJSON }

// ArchiveFile is the name `replay generate --shipper` gives k's archive:
// Filebeat's output.file NDJSON ("filebeat.ndjson"), or for the
// Kafka-only kinds a dump of the message values as `kcat -C` prints them
// ("<kind>.kcat"); "" for otlp-proto, whose binary values kcat prints
// without a separator that could split them again.
func (k Kind) ArchiveFile() string {
	switch {
	case k == Filebeat:
		return "filebeat.ndjson"
	case k.Binary() || !slices.Contains(Kinds(), k):
		return ""
	}
	return string(k) + ".kcat"
}

// Keying is how the shipper keys its Kafka messages.
type Keying int

const (
	// KeyNone sends no key: the default of every shipper here. The
	// producer client then spreads messages over the partitions (random
	// or round-robin, depending on the client).
	KeyNone Keying = iota
	// KeyHost keys every message by Config.Host (e.g. Filebeat
	// `output.kafka.key: '%{[host.name]}'`): one partition per host.
	KeyHost
	// KeyMailbox keys every message by the "tenant/mailbox" of its entry
	// (loggen.Entry.Key), as syncwatch's producers must key
	// (docs/rebalancing.md); a deployment would extract it with a parser
	// before the output. Every physical line of a multi-line entry gets
	// the entry's key, and garbage entries, which name no mailbox, get
	// none. An otlp batch holds the records of one key only.
	KeyMailbox
)

var keyingNames = [...]string{"none", "host", "mailbox"}

// String returns the name ParseKeying accepts.
func (k Keying) String() string {
	if k >= 0 && int(k) < len(keyingNames) {
		return keyingNames[k]
	}
	return fmt.Sprintf("Keying(%d)", int(k))
}

// ParseKeying returns the Keying named s: "none" (or ""), "host" or
// "mailbox".
func ParseKeying(s string) (Keying, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "none":
		return KeyNone, nil
	case "host":
		return KeyHost, nil
	case "mailbox", "tenant/mailbox":
		return KeyMailbox, nil
	}
	return 0, fmt.Errorf("%w: keying %q (none, host or mailbox)", ErrUnknownKind, s)
}

// Defaults of Config.
const (
	DefaultHost         = "conn01"
	DefaultDir          = "/var/log/c4c"
	DefaultDelay        = 200 * time.Millisecond
	DefaultJitter       = 100 * time.Millisecond
	DefaultBatchSize    = 100
	DefaultBatchTimeout = 200 * time.Millisecond
)

// Config configures a Shipper. Kind is required; the other fields work
// at their zero value. A zero field means its default.
type Config struct {
	// Kind is the shipper. Required.
	Kind Kind

	// Host is the host name the shipper runs on (Filebeat host.name and
	// agent.name, Logstash host.name, Vector host). A host name: not
	// empty, no white space or control characters.
	//
	// Default: "conn01" (DefaultHost)
	Host string

	// Paths are the files the shipper reads each producer's entries
	// from, by producer (a producer not listed reads from its default).
	// Absolute paths without control characters.
	//
	// Default: /var/log/c4c/ + loggen.FileFor(producer) (DefaultDir):
	// /var/log/c4c/exchange.log, /var/log/c4c/engine.log,
	// /var/log/c4c/c4cc.jsonl
	Paths map[schemas.Producer]string

	// Multiline turns on the shipper's multiline rule: one event per
	// entry, its physical lines joined with "\n" (an ExchangeConnector
	// entry with a stack trace is one event). Off, every physical line
	// of an entry is an event of its own, as a shipper without a
	// multiline rule sends it.
	//
	// Default: false (no shipper has a multiline rule by default)
	Multiline bool

	// Seed selects the read-time jitter and the Filebeat agent ids;
	// equal configs over equal entries give identical bytes.
	//
	// Default: 0 (any value is valid)
	Seed int64

	// Delay is how long after an entry's event time the shipper reads
	// it: its read time, which every envelope's timestamp is, is the
	// event time plus Delay plus a jitter in [0, Jitter), and never
	// before the read time of the line before it in the same file. Must
	// not be negative.
	//
	// Default: 200ms (DefaultDelay)
	Delay time.Duration

	// Jitter is the range of the seeded random part of the read delay. A
	// negative value means none.
	//
	// Default: 100ms (DefaultJitter)
	Jitter time.Duration

	// Keying selects the Kafka message key.
	//
	// Default: KeyNone (no key, as every shipper by default)
	Keying Keying

	// BatchSize is, for the otlp kinds, the most log records in one Kafka
	// message. Must not be negative.
	//
	// Default: 100 (DefaultBatchSize, the stanza adapter's batch)
	BatchSize int

	// BatchTimeout is, for the otlp kinds, how long (in read time) a
	// batch waits for more records before it is sent. Must not be
	// negative.
	//
	// Default: 200ms (DefaultBatchTimeout, the batch processor's timeout)
	BatchTimeout time.Duration
}

func (c Config) host() string                { return cmp.Or(c.Host, DefaultHost) }
func (c Config) delay() time.Duration        { return cmp.Or(c.Delay, DefaultDelay) }
func (c Config) batchSize() int              { return cmp.Or(c.BatchSize, DefaultBatchSize) }
func (c Config) batchTimeout() time.Duration { return cmp.Or(c.BatchTimeout, DefaultBatchTimeout) }

// jitter resolves Jitter: 0 when negative.
func (c Config) jitter() time.Duration {
	switch {
	case c.Jitter == 0:
		return DefaultJitter
	case c.Jitter < 0:
		return 0
	}
	return c.Jitter
}

// Path returns the file producer p's entries are read from.
func (c Config) Path(p schemas.Producer) string {
	if s := c.Paths[p]; s != "" {
		return s
	}
	name := loggen.FileFor(p)
	if name == "" {
		name = "unknown.log"
	}
	return DefaultDir + "/" + name
}

// Validate reports every field out of range at once, in one error that
// wraps ErrInvalidConfig; nil means valid. c is not changed.
func (c Config) Validate() error {
	var errs *multierror.Error
	add := func(format string, a ...any) { errs = multierror.Append(errs, fmt.Errorf(format, a...)) }
	if c.Kind == "" {
		add("Kind: required")
	} else if !slices.Contains(Kinds(), c.Kind) {
		add("Kind %q: unknown", c.Kind)
	}
	if strings.ContainsFunc(c.host(), func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		add("Host %q: white space or control characters", c.Host)
	}
	for p, s := range c.Paths {
		if s != "" && (!path.IsAbs(s) || strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f })) {
			add("Paths[%s] %q: not an absolute path without control characters", p, s)
		}
	}
	if c.Delay < 0 {
		add("Delay %s: must not be negative", c.Delay)
	}
	if c.Keying < KeyNone || c.Keying > KeyMailbox {
		add("Keying %d: not KeyNone, KeyHost or KeyMailbox", int(c.Keying))
	}
	if c.BatchSize < 0 {
		add("BatchSize %d: must not be negative", c.BatchSize)
	}
	if c.BatchTimeout < 0 {
		add("BatchTimeout %s: must not be negative", c.BatchTimeout)
	}
	if err := errs.ErrorOrNil(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return nil
}

// Message is one Kafka message a shipper sends, or one archived event.
type Message struct {
	// Key is the message key; nil for none (KeyNone, and garbage entries
	// with KeyMailbox).
	Key []byte
	// Value is the message value, exactly as the shipper sends it (no
	// trailing newline).
	Value []byte
	// Time is the record's timestamp: the read time of its event (of the
	// batch's flush for otlp), in milliseconds as Kafka stores it.
	Time time.Time
	// Producer is the producer whose file the event was read from (for an
	// otlp batch, that of its first record).
	Producer schemas.Producer
	// Records is the number of log events in the message: 1, or the
	// batch's size for otlp.
	Records int
}

// fileState is what a shipper tracks of one file.
type fileState struct {
	offset int64     // byte offset of the next line
	last   time.Time // read time of the last line
}

// Shipper turns the entries of the producers' log files into the
// messages a shipper of Config.Kind sends. Ship the entries in the order
// they were written to their files (as loggen emits them), then Flush.
// Not safe for concurrent use.
type Shipper struct {
	cfg   Config
	enc   encoder
	rng   *rand.Rand
	files [schemas.NumProducers]fileState
	otlp  *otlpBatcher
	toks  []token
}

// token is one event a shipper reads: a physical line, or with a
// multiline rule a whole entry.
type token struct {
	text      []byte
	offset    int64 // byte offset of its first line in the file
	lines     int   // physical lines joined into it
	read      time.Time
	producer  schemas.Producer
	key       []byte
	entryTime time.Time
}

// New returns a Shipper for cfg, or an error wrapping ErrInvalidConfig.
func New(cfg Config) (*Shipper, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Shipper{cfg: cfg, rng: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5e1f5111))}
	s.enc = newEncoder(cfg)
	if cfg.Kind.Batched() {
		s.otlp = newOTLPBatcher(cfg)
	}
	return s, nil
}

// Ship reads one entry of the file of e.Producer, as the shipper would
// when it is appended to that file, and emits the messages that are due:
// one per event for most kinds (none for an entry the shipper drops, such
// as an empty line for Filebeat), the batches that are full or timed out
// for otlp. An error of emit is returned as is.
func (s *Shipper) Ship(e loggen.Entry, emit func(Message) error) error {
	p := e.Producer
	if int(p) >= len(s.files) {
		p = schemas.ProducerUnknown
	}
	f := &s.files[p]
	read := e.Time.Add(s.cfg.delay())
	if j := s.cfg.jitter(); j > 0 {
		read = read.Add(time.Duration(s.rng.Int64N(int64(j))))
	}
	if read.Before(f.last) {
		read = f.last
	}
	f.last = read
	var key []byte
	switch s.cfg.Keying {
	case KeyHost:
		key = []byte(s.cfg.host())
	case KeyMailbox:
		if e.Key != "" {
			key = []byte(e.Key)
		}
	}
	s.toks = s.cfg.Kind.tokens(s.toks[:0], e.Raw, f.offset, s.cfg.Multiline)
	f.offset += int64(len(e.Raw)) + 1 // the file holds Raw and "\n"
	for i := range s.toks {
		t := &s.toks[i]
		// the lines of one read are stamped a microsecond apart
		t.read, t.producer, t.key, t.entryTime = read.Add(time.Duration(i)*time.Microsecond), p, key, e.Time
		if s.otlp != nil {
			if err := s.otlp.add(s, t, emit); err != nil {
				return err
			}
			continue
		}
		if err := emit(Message{
			Key: key, Value: s.enc(s, t), Time: t.read.Truncate(time.Millisecond), Producer: p, Records: 1,
		}); err != nil {
			return err
		}
	}
	return nil
}

// Flush emits what the shipper still holds (the otlp batches), as it does
// at shutdown. Ship may be called again afterwards.
func (s *Shipper) Flush(emit func(Message) error) error {
	if s.otlp == nil {
		return nil
	}
	return s.otlp.flushAll(emit)
}

// Generate generates the corpus gen describes (loggen.Generate) and ships
// its entries through a Shipper for cfg, emitting every message, the
// remaining batches last. It returns the truth and statistics of the
// corpus, and errors of gen or cfg (ErrInvalidConfig, loggen's) or of
// emit, wrapped.
func Generate(gen loggen.Config, cfg Config, emit func(Message) error) ([]loggen.Truth, loggen.Stats, error) {
	s, err := New(cfg)
	if err != nil {
		return nil, loggen.Stats{}, err
	}
	truth, st, err := loggen.Generate(gen, func(e loggen.Entry) error { return s.Ship(e, emit) })
	if err != nil {
		return truth, st, err
	}
	if err := s.Flush(emit); err != nil {
		return truth, st, fmt.Errorf("emitting message: %w", err)
	}
	return truth, st, nil
}
