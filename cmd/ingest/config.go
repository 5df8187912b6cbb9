package main

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-multierror"

	"github.com/syncwatch/syncwatch/cmd/internal/kafkaopts"
	"github.com/syncwatch/syncwatch/detectors"
	"github.com/syncwatch/syncwatch/pipeline"
	"github.com/syncwatch/syncwatch/pipeline/kafkasource"
	"github.com/syncwatch/syncwatch/pipeline/parse"
	"github.com/syncwatch/syncwatch/schemas"
	"github.com/syncwatch/syncwatch/sinks"
)

// Config is ingest's configuration. Every field can be set in the YAML
// config file (--config), by an environment variable, or by a flag; flags
// win over the environment, which wins over the file.
type Config struct {
	// Brokers are the Kafka bootstrap addresses. Env SYNCWATCH_BROKERS.
	Brokers stringList `yaml:"brokers"`
	// Group is the consumer group. Default: syncwatch. Env SYNCWATCH_GROUP.
	Group string `yaml:"group"`
	// Topics are the log topics. Default: sync.exchange-connector,
	// sync.engine, sync.c4cc-connector. Env SYNCWATCH_TOPICS.
	Topics stringList `yaml:"topics"`
	// IncidentsTopic receives incident events. Default: sync.incidents.
	IncidentsTopic string `yaml:"incidents_topic"`
	// DLQTopic receives dead letters. Default: sync.deadletter.
	DLQTopic string `yaml:"dlq_topic"`
	// MetricsAddr serves /metrics, /healthz, /readyz. Default:
	// 127.0.0.1:9108; "off" disables it.
	MetricsAddr string `yaml:"metrics_addr"`
	// Catalog is a user catalog file merged over the embedded one. It is
	// read again, with the routing, on SIGHUP (reload.go).
	Catalog string `yaml:"catalog"`
	// WatchConfig also reloads the catalog and the routing when the
	// catalog file or the config file changes (polled every second), as
	// SIGHUP does. Default: false.
	WatchConfig bool `yaml:"watch_config"`
	// Stdout also prints incident events as JSON lines on stdout.
	Stdout bool `yaml:"stdout"`
	// Lateness, RunTimeout, ConsecutiveRuns: detection (docs/detection.md).
	Lateness        time.Duration `yaml:"lateness"`
	RunTimeout      time.Duration `yaml:"run_timeout"`
	ConsecutiveRuns int           `yaml:"consecutive_runs"`
	// Envelope is the log shippers' envelope the messages come in: auto
	// (recognised per message), raw, json, syslog or otlp, or a
	// shipper's name (parse.ParseEnvelope). Default: auto. Env
	// SYNCWATCH_ENVELOPE.
	Envelope string `yaml:"envelope"`
	// JoinWait is how long an ExchangeConnector entry sent as a message of
	// its own waits for the stack trace lines a shipper without a
	// multiline rule sends after it. Default: 20ms.
	JoinWait time.Duration `yaml:"join_wait"`
	// AcceptTenants, when set, are the only tenants whose entries are
	// judged; entries naming another are dead-lettered (docs/security.md).
	AcceptTenants stringList `yaml:"accept_tenants"`
	// DeadLetterRaw is what dead letters carry of their entry: redacted
	// (secrets replaced) or full (the original bytes, secrets included).
	// Default: redacted.
	DeadLetterRaw string `yaml:"dead_letter_raw"`
	// QuietAfter is how long the input may bring nothing new, every
	// partition read to its end, before the decisions that wait for more
	// event time are taken as at the end of a replay: held records are
	// released, ended runs decided, offsets committed (no lag remains).
	// Default: 30s; 0: never.
	QuietAfter time.Duration `yaml:"quiet_after"`
	// ReorderWindow and IdleTimeout: event-time alignment across partitions.
	// With ReorderAdaptive (the default), each partition's window is
	// learned from the disorder it shows, at most ReorderWindow.
	ReorderWindow   time.Duration `yaml:"reorder_window"`
	ReorderAdaptive bool          `yaml:"reorder_adaptive"`
	IdleTimeout     time.Duration `yaml:"idle_timeout"`
	// RestoreWindow: how far back a newly assigned partition is re-read to
	// rebuild detector state (docs/rebalancing.md). Default: 6h.
	RestoreWindow time.Duration `yaml:"restore_window"`
	// ResumeIncidents: on every assignment, read the incidents topic and
	// carry on the incidents still open from before the restore window,
	// with their ids, so that they are resolved by the first healthy run
	// (docs/rebalancing.md). Default: true.
	ResumeIncidents bool `yaml:"resume_incidents"`
	// Repartition: whether members first write the normalized records,
	// keyed by tenant/mailbox, to a repartition topic and judge them from
	// there, so that a group of any size is exact whatever the shippers'
	// keys: auto, always or never (docs/rebalancing.md). Default: auto
	// (when the producers' messages are not keyed by tenant/mailbox).
	Repartition string `yaml:"repartition"`
	// RepartitionTopic is the repartition topic, created when missing
	// with the raw topics' partition count. Default: <group>.repartition.
	RepartitionTopic string `yaml:"repartition_topic"`
	// ShutdownTimeout bounds the graceful stop. Default: 30s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// SessionTimeout is how long the group coordinator waits for a
	// heartbeat before it gives a silent member's partitions to others: the
	// delay before a crashed instance's work moves. The broker bounds it
	// (group.min.session.timeout.ms, 6s by default). Default: 30s.
	SessionTimeout time.Duration `yaml:"session_timeout"`
	// HeartbeatInterval is how often a member tells the coordinator it is
	// alive, and so how soon it learns of a rebalance; shorter than
	// SessionTimeout. Default: 3s.
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval"`
	// RebalanceTimeout is how long the coordinator waits for every member
	// to rejoin once a rebalance starts; a member killed during one holds
	// the whole group up this long. Default: 30s.
	RebalanceTimeout time.Duration `yaml:"rebalance_timeout"`

	// Security is the brokers' TLS and SASL (the keys sasl: and tls:),
	// shared with replay --brokers.
	kafkaopts.Security `yaml:",inline"`

	// Webhook, when its URL is set, also POSTs every incident event to a
	// subscriber (webhook.go).
	Webhook WebhookConfig `yaml:"webhook"`
	// Alertmanager and PagerDuty, when configured, also receive incidents
	// in their own protocols (notify.go).
	Alertmanager AlertmanagerConfig `yaml:"alertmanager"`
	PagerDuty    PagerDutyConfig    `yaml:"pagerduty"`
	// Routing decides which notification sinks (webhook, alertmanager,
	// pagerduty) get which events, and mutes, inhibits and rate-limits
	// them (sinks.RouterConfig). The Kafka topic and stdout always get
	// every event. Default: every event to every notification sink.
	Routing sinks.RouterConfig `yaml:"routing"`
	// API is the live view: the incidents of the whole group, as JSON
	// and as a page (liveview.go, docs/live-view.md).
	API APIConfig `yaml:"api"`

	// source is where the configuration came from, for a reload to read
	// it again (reload.go); nil: nothing to read but the catalog file.
	source *configSource
}

func defaultConfig() Config {
	return Config{
		Group:           kafkasource.DefaultGroupID,
		Topics:          append([]string(nil), kafkasource.DefaultTopics...),
		IncidentsTopic:  sinks.DefaultIncidentsTopic,
		DLQTopic:        sinks.DefaultDeadLetterTopic,
		MetricsAddr:     "127.0.0.1:9108",
		Lateness:        detectors.DefaultLateness,
		RunTimeout:      detectors.DefaultRunTimeout,
		ConsecutiveRuns: detectors.DefaultConsecutiveRuns,
		Envelope:        parse.EnvelopeAuto.String(),
		JoinWait:        pipeline.DefaultJoinWait,
		QuietAfter:      pipeline.DefaultQuietAfter,
		DeadLetterRaw:   string(schemas.DeadLetterRedacted),
		ReorderWindow:   pipeline.DefaultReorderWindow,
		ReorderAdaptive: true,
		IdleTimeout:     pipeline.DefaultIdleTimeout,
		RestoreWindow:   kafkasource.DefaultRestoreWindow,
		ResumeIncidents: true,
		Repartition:     repartitionAuto,
		ShutdownTimeout: 30 * time.Second,

		SessionTimeout:    kafkasource.DefaultSessionTimeout,
		HeartbeatInterval: kafkasource.DefaultHeartbeatInterval,
		RebalanceTimeout:  kafkasource.DefaultRebalanceTimeout,

		Webhook: WebhookConfig{Timeout: sinks.DefaultWebhookTimeout},

		Alertmanager: AlertmanagerConfig{ResendInterval: sinks.DefaultAlertmanagerResendInterval, Timeout: sinks.DefaultHTTPSinkTimeout},
		PagerDuty:    PagerDutyConfig{Timeout: sinks.DefaultHTTPSinkTimeout},

		API: APIConfig{KeepResolved: 24 * time.Hour, MaxMB: 256},
	}
}

// loadFile reads a YAML config file over cfg; unknown keys are errors.
// checkHostPort checks a host:port address: a port from 1 to 65535 (a
// host may be empty: all interfaces).
func checkHostPort(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("not host:port")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %s is not a number from 1 to 65535", port)
	}
	return nil
}

// Validate reports every problem at once, naming the field.
func (c *Config) Validate(demo bool) error {
	var errs *multierror.Error
	add := func(format string, a ...any) { errs = multierror.Append(errs, fmt.Errorf(format, a...)) }
	if len(c.Brokers) == 0 && !demo {
		add("brokers: at least one broker address is required (--brokers, SYNCWATCH_BROKERS, or brokers: in the config file)")
	}
	for _, b := range c.Brokers {
		if err := checkHostPort(b); err != nil {
			add("brokers: %q: %v", b, err)
		}
	}
	if c.Group == "" {
		add("group: must not be empty")
	}
	if len(c.Topics) == 0 {
		add("topics: at least one topic is required")
	}
	for _, t := range c.Topics {
		if t == "" || strings.ContainsAny(t, " /\\") {
			add("topics: %q is not a valid topic name", t)
		}
		if t == c.IncidentsTopic || t == c.DLQTopic {
			add("topics: %q is also an output topic; consuming our own output would loop", t)
		}
	}
	if c.IncidentsTopic == "" {
		add("incidents_topic: must not be empty")
	}
	if c.DLQTopic == "" {
		add("dlq_topic: must not be empty")
	}
	if c.MetricsAddr != "off" && c.MetricsAddr != "" {
		if err := checkHostPort(c.MetricsAddr); err != nil {
			add("metrics_addr: %q: %v (or \"off\")", c.MetricsAddr, err)
		}
	}
	if c.Lateness < 0 {
		add("lateness: must not be negative")
	}
	if c.RunTimeout <= 0 {
		add("run_timeout: must be positive")
	}
	if c.ConsecutiveRuns < 1 {
		add("consecutive_runs: must be at least 1")
	}
	if _, err := parse.ParseEnvelope(c.Envelope); err != nil {
		add("envelope: %v", err)
	}
	if c.JoinWait < 0 {
		add("join_wait: must not be negative")
	}
	if _, err := schemas.ParseDeadLetterRaw(c.DeadLetterRaw); err != nil {
		add("dead_letter_raw: %v", err)
	}
	if c.QuietAfter < 0 {
		add("quiet_after: must not be negative (0: never)")
	}
	if c.ReorderWindow < 0 {
		add("reorder_window: must not be negative")
	}
	if c.IdleTimeout <= 0 {
		add("idle_timeout: must be positive")
	}
	switch c.Repartition {
	case repartitionAuto, repartitionAlways, repartitionNever:
	default:
		add("repartition: %q is not auto, always or never", c.Repartition)
	}
	if t := c.repartitionTopic(); strings.ContainsAny(t, " /\\") || slices.Contains(c.Topics, t) || t == c.IncidentsTopic || t == c.DLQTopic {
		add("repartition_topic: %q is not a valid topic name, or names an input or output topic", t)
	}
	if c.ShutdownTimeout <= 0 {
		add("shutdown_timeout: must be positive")
	}
	if c.SessionTimeout <= 0 {
		add("session_timeout: must be positive")
	}
	if c.RebalanceTimeout <= 0 {
		add("rebalance_timeout: must be positive")
	}
	if c.HeartbeatInterval <= 0 {
		add("heartbeat_interval: must be positive")
	} else if c.HeartbeatInterval >= c.SessionTimeout {
		add("heartbeat_interval: %v must be shorter than session_timeout %v", c.HeartbeatInterval, c.SessionTimeout)
	}
	c.Security.Validate(add)
	c.Webhook.validate(add)
	c.validateNotify(add)
	c.API.validate(c.MetricsAddr, add)
	return errs.ErrorOrNil()
}

// redacted returns a copy fit for printing: secrets blanked.
func (c Config) redacted() Config {
	c.Security = c.Security.Redacted()
	c.Webhook = c.Webhook.redacted()
	c.Alertmanager = c.Alertmanager.redacted()
	c.PagerDuty = c.PagerDuty.redacted()
	c.API = c.API.redacted()
	return c
}
