// Command ingest is syncwatch's production consumer: it reads the logs of
// the ExchangeConnector, the sync engine and the C4CC Connector from Kafka
// as a member of a consumer group, detects sync errors and sync issues, and
// publishes incident events (CloudEvents) to Kafka, committing offsets only
// after everything a message caused was delivered (at-least-once).
//
//	ingest --brokers host:9092 [flags]
//	ingest --demo [--follow] [--json]
//	ingest validate --config FILE
//	ingest healthcheck [--addr HOST:PORT]
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-multierror"

	"github.com/syncwatch/syncwatch/cmd/internal/cliusage"
	"github.com/syncwatch/syncwatch/cmd/internal/gctune"
	"github.com/syncwatch/syncwatch/detectors"
	"github.com/syncwatch/syncwatch/pipeline"
	"github.com/syncwatch/syncwatch/pipeline/kafkasource"
	"github.com/syncwatch/syncwatch/pipeline/known"
	"github.com/syncwatch/syncwatch/pipeline/parse"
	"github.com/syncwatch/syncwatch/pipeline/repartition/repeats"
	"github.com/syncwatch/syncwatch/schemas"
	"github.com/syncwatch/syncwatch/sinks"
)

const (
	exitOK     = 0
	exitUsage  = 1 // bad usage or configuration
	exitFailed = 2 // the consumer failed
)

const usageText = `ingest: syncwatch's Kafka consumer for C4C <-> Exchange sync logs.

Usage:
  ingest --demo [--follow] [--json]    run on an embedded Kafka broker with generated logs
  ingest --brokers HOST:PORT [flags]   consume a real cluster
  ingest validate --config FILE        check a config file and exit
  ingest config example                print every config key with its flag, env variable and default
  ingest healthcheck [--addr H:P]      GET /healthz once, exit 0 if healthy (container HEALTHCHECK)

ingest reads the producers' topics (one log entry per message, any of the
three formats) as a member of a consumer group, runs the same pipeline as
replay, and publishes one CloudEvent per incident change (opened, updated,
resolved) to the incidents topic, keyed by incident id, and unparseable
entries to the dead-letter topic. A sync_error means a mailbox's sync is
completely non-functional; a sync_issue means specific records fail.
Offsets are committed only after everything a message caused was delivered.

Every flag has an environment variable (SYNCWATCH_ + the flag name in upper
case with - as _, e.g. SYNCWATCH_BROKERS) and a key in the YAML config file
(--config, or SYNCWATCH_CONFIG): flags win over the environment, which wins
over the file. Secrets (the SASL password, the webhook secret, the PagerDuty
routing key) come from the environment (SYNCWATCH_SASL_PASSWORD,
SYNCWATCH_WEBHOOK_SECRET, SYNCWATCH_PAGERDUTY_ROUTING_KEY) or a file
(--sasl-password-file, --webhook-secret-file, --pagerduty-routing-key-file),
never a flag, and are never printed. Routing, muting and inhibition of the
notification sinks are configured in the file (routing:).

Endpoints (--metrics-addr): /metrics (Prometheus), /healthz, /readyz, and the
live view of the whole group's incidents (--api-addr to serve it apart): the
page / and the read-only JSON API /api/v1/incidents, /api/v1/incidents/{id},
/api/v1/mailboxes/{tenant}/{mailbox}, /api/v1/events (server-sent events).
SIGTERM/SIGINT: stop fetching, deliver and commit what is in flight, leave
the group, within --shutdown-timeout.
SIGHUP: reload the catalog (--catalog) and the routing (the routing:
section of --config): the next message is classified under the new
catalog, the next events routed by the new routes and mutes; incidents
already open keep their class. A file with problems is refused, every
problem logged, and the running configuration kept. Other settings
changed in the file are named in a warning and apply at the next start.
--watch-config reloads when the files change, too.

Flags:
`

func main() {
	// A small live heap and a string per message: see gctune.Start.
	gctune.Start(0)
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

type cliFlags struct {
	config               string
	brokers, topics      string
	acceptTenants        string
	demo, follow, asJSON bool
	demoMailboxes        int
	demoHours            float64
	demoSeed             int64
	stopAfter            int64
	logLevel             string
	fs                   *flag.FlagSet
	help                 func()
	stderr               io.Writer
	cfg                  Config
}

func newFlags(stderr io.Writer) *cliFlags {
	f := &cliFlags{cfg: defaultConfig()}
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &f.cfg
	fs.StringVar(&f.config, "config", "", "YAML config `FILE` (env SYNCWATCH_CONFIG)")
	fs.StringVar(&f.brokers, "brokers", "", "Kafka bootstrap brokers, comma-separated `host:port` list")
	fs.StringVar(&c.Group, "group", c.Group, "consumer group")
	fs.StringVar(&f.topics, "topics", strings.Join(c.Topics, ","), "log topics, comma-separated")
	fs.StringVar(&f.acceptTenants, "accept-tenants", "", "judge only the entries of these `TENANTS` (comma-separated); entries naming another tenant are dead-lettered, so a producer cannot raise or resolve another tenant's incidents (docs/security.md)")
	fs.StringVar(&c.IncidentsTopic, "incidents-topic", c.IncidentsTopic, "topic for incident events")
	fs.StringVar(&c.DLQTopic, "dlq-topic", c.DLQTopic, "topic for dead letters")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", c.MetricsAddr, "`address` of /metrics, /healthz, /readyz (\"off\" disables)")
	fs.StringVar(&c.Catalog, "catalog", "", "catalog `FILE` merged over the embedded catalog of known errors (reloaded on SIGHUP)")
	fs.BoolVar(&c.WatchConfig, "watch-config", false, "also reload the catalog and the routing (routing: of --config) when the catalog file or the config file changes, as SIGHUP does (files polled every second)")
	fs.BoolVar(&c.Stdout, "stdout", false, "also print incident events as JSON lines on stdout")
	fs.DurationVar(&c.Lateness, "lateness", c.Lateness, "how long after a run's end its lines still count")
	fs.DurationVar(&c.RunTimeout, "run-timeout", c.RunTimeout, "a run with no end line is over after this much event time of silence")
	fs.IntVar(&c.ConsecutiveRuns, "consecutive-runs", c.ConsecutiveRuns, "failed runs in a row that make a run-dependent class a sync error")
	fs.StringVar(&c.Envelope, "envelope", c.Envelope, "the log shippers' envelope messages come in: auto (recognised per message), raw, json (Filebeat, Logstash, Fluent Bit, Fluentd, Vector), syslog (rsyslog, syslog-ng, RFC 3164/5424) or otlp (OpenTelemetry collector)")
	fs.DurationVar(&c.JoinWait, "join-wait", c.JoinWait, "how long an ExchangeConnector entry sent on its own waits for the stack trace lines a shipper without a multiline rule sends after it")
	fs.StringVar(&c.DeadLetterRaw, "dead-letter-raw", c.DeadLetterRaw, "what dead letters carry of their entry: redacted (passwords, tokens and credentials replaced by [REDACTED]) or full (the original bytes, secrets included: dead letters end up in tickets)")
	fs.DurationVar(&c.QuietAfter, "quiet-after", c.QuietAfter, "once the input has brought nothing new for this long, take the decisions that wait for more event time, as a replay does at the end of its input: held records are released and their offsets committed, so the group shows no lag (0: never)")
	fs.DurationVar(&c.ReorderWindow, "reorder-window", c.ReorderWindow, "how far out of event-time order one partition may be: with --reorder-adaptive the most a partition is held by, without it every partition's window; an incident is published about its partition's window after its log line")
	fs.BoolVar(&c.ReorderAdaptive, "reorder-adaptive", c.ReorderAdaptive, "learn each partition's window from the disorder it shows (20ms plus twice the furthest a record came behind, at most --reorder-window; the whole --reorder-window until the partition has shown 1,000 records over 5s): incidents within tens of milliseconds on ordered partitions, lines out of order still in order")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", c.IdleTimeout, "a partition silent this long stops holding the watermark back")
	fs.DurationVar(&c.RestoreWindow, "restore-window", c.RestoreWindow, "how far back an assigned partition is re-read to rebuild detector state")
	fs.BoolVar(&c.ResumeIncidents, "resume-incidents", c.ResumeIncidents, "on every assignment, read the incidents topic and carry on the incidents still open from before --restore-window, with their ids, so that the first healthy run resolves them")
	fs.StringVar(&c.Repartition, "repartition", c.Repartition, "`MODE` auto, always or never: first write the normalized records, keyed by tenant/mailbox, to a repartition topic and judge them from there, so that a group of any size is exact whatever keys the shippers use (auto: when the raw topics' last messages are not keyed by tenant/mailbox, or the repartition topic exists)")
	fs.StringVar(&c.RepartitionTopic, "repartition-topic", "", "the repartition `TOPIC`, created when missing with the raw topics' partition count (default: <group>.repartition)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "bound of the graceful stop")
	fs.DurationVar(&c.SessionTimeout, "session-timeout", c.SessionTimeout, "how long the group coordinator waits for a silent member before moving its partitions (the broker sets a minimum)")
	fs.DurationVar(&c.HeartbeatInterval, "heartbeat-interval", c.HeartbeatInterval, "how often a member heartbeats to the group coordinator; shorter than --session-timeout")
	fs.DurationVar(&c.RebalanceTimeout, "rebalance-timeout", c.RebalanceTimeout, "how long the group coordinator waits for members to rejoin a rebalance")
	c.Security.RegisterFlags(fs)
	fs.StringVar(&c.Webhook.URL, "webhook-url", "", "also POST every incident event, signed (HMAC-SHA256), as a CloudEvent to this `URL`")
	fs.StringVar(&c.Webhook.SecretFile, "webhook-secret-file", "", "`FILE` holding the webhook's signing secret (or env SYNCWATCH_WEBHOOK_SECRET)")
	fs.StringVar(&c.Webhook.CAFile, "webhook-ca-file", "", "PEM `FILE` of CAs to trust for an https webhook (default: the system's)")
	fs.DurationVar(&c.Webhook.Timeout, "webhook-timeout", c.Webhook.Timeout, "bound of one webhook request; failures are retried with backoff, then dead-lettered")
	fs.StringVar(&c.Alertmanager.URL, "alertmanager-url", "", "also post incidents as alerts to the Alertmanager at this base `URL` (API v2)")
	fs.DurationVar(&c.Alertmanager.ResendInterval, "alertmanager-resend-interval", c.Alertmanager.ResendInterval, "how often open alerts are posted again so that Alertmanager keeps them firing")
	fs.StringVar(&c.PagerDuty.RoutingKeyFile, "pagerduty-routing-key-file", "", "`FILE` holding a PagerDuty Events API v2 routing key (or env SYNCWATCH_PAGERDUTY_ROUTING_KEY): also trigger and resolve PagerDuty alerts")
	fs.StringVar(&c.PagerDuty.URL, "pagerduty-url", "", "PagerDuty Events API v2 `URL` (default: https://events.pagerduty.com/v2/enqueue)")
	fs.StringVar(&c.API.Addr, "api-addr", "", "`address` of the live view (/api/v1/ and the page /): every member reads the incidents topic whole and answers for the group (default: on --metrics-addr; \"off\" disables it)")
	fs.StringVar(&c.API.TokenFile, "api-token-file", "", "`FILE` holding a bearer token the live view requires (or env SYNCWATCH_API_TOKEN)")
	fs.StringVar(&c.API.TLSCertFile, "api-tls-cert-file", "", "PEM certificate `FILE`: serve --api-addr over HTTPS")
	fs.StringVar(&c.API.TLSKeyFile, "api-tls-key-file", "", "PEM private key `FILE` of --api-tls-cert-file")
	fs.StringVar(&c.API.ClientCAFile, "api-client-ca-file", "", "PEM `FILE` of CAs: the live view requires client certificates they signed (mutual TLS)")
	fs.DurationVar(&c.API.KeepResolved, "api-keep-resolved", c.API.KeepResolved, "how long resolved incidents stay in the live view (event time)")
	fs.IntVar(&c.API.MaxMB, "api-max-mb", c.API.MaxMB, "bound of the live view's memory, in MiB: over it, resolved incidents leave first, then old histories")
	fs.BoolVar(&f.demo, "demo", false, "start an embedded Kafka broker, produce generated logs, consume them, print incidents, exit")
	fs.BoolVar(&f.follow, "follow", false, "with --demo: keep producing live traffic until interrupted")
	fs.BoolVar(&f.asJSON, "json", false, "with --demo: print the events' JSON instead of readable lines")
	fs.IntVar(&f.demoMailboxes, "demo-mailboxes", 30, "with --demo: mailboxes in the generated logs")
	fs.Float64Var(&f.demoHours, "demo-hours", 24, "with --demo: hours of generated logs")
	fs.Int64Var(&f.demoSeed, "demo-seed", 1, "with --demo: generator seed")
	fs.Int64Var(&f.stopAfter, "stop-after", 0, "exit once this many messages were processed, their events delivered and offsets committed (benchmarks; 0: run until stopped)")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	f.help = func() {
		fmt.Fprint(stderr, usageText)
		cliusage.PrintDefaults(fs)
		fmt.Fprint(stderr, "\nEvery flag is also a key of the config file: its name with _ for - (metrics-addr:\n"+
			"metrics_addr), nested for sasl-*, tls-*, webhook-*, alertmanager-*, pagerduty-*\n"+
			"(sasl: {mechanism: ...}; --tls is tls: {enabled: true}). ingest config example prints\n"+
			"every key with its flag, environment variable, meaning and default.\n")
	}
	f.fs, f.stderr = fs, stderr
	return f
}

// parse parses args: help in full with --help, for a mistake the mistake
// and a line naming --help.
func (f *cliFlags) parse(args []string) error {
	return cliusage.Parse(f.fs, args, "ingest", f.stderr, f.help)
}

// resolve applies the config file and the environment under the flags
// that were set explicitly.
func (f *cliFlags) resolve(getenv func(string) string) (Config, error) {
	set := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	fromFlags := f.cfg
	cfg := defaultConfig()
	path := f.config
	if path == "" {
		path = getenv("SYNCWATCH_CONFIG")
	}
	if path != "" {
		if err := loadFile(path, &cfg); err != nil {
			return cfg, err
		}
	}
	var errs *multierror.Error
	// environment, then explicit flags, field by field
	f.fs.VisitAll(func(fl *flag.Flag) {
		env := "SYNCWATCH_" + strings.ToUpper(strings.ReplaceAll(fl.Name, "-", "_"))
		v, fromEnv := getenv(env), false
		if v != "" && !set[fl.Name] {
			fromEnv = true
		}
		if !fromEnv && !set[fl.Name] {
			return
		}
		if !fromEnv {
			v = fl.Value.String()
		}
		if err := applyField(&cfg, &fromFlags, fl.Name, v, fromEnv); err != nil {
			errs = multierror.Append(errs, fmt.Errorf("%s: %w", map[bool]string{true: env, false: "--" + fl.Name}[fromEnv], err))
		}
	})
	cfg.PasswordFromEnv(getenv)
	if s := getenv("SYNCWATCH_WEBHOOK_SECRET"); s != "" {
		cfg.Webhook.Secret = s
	}
	if k := getenv("SYNCWATCH_PAGERDUTY_ROUTING_KEY"); k != "" {
		cfg.PagerDuty.RoutingKey = k
	}
	if t := getenv("SYNCWATCH_API_TOKEN"); t != "" {
		cfg.API.Token = t
	}
	return cfg, errs.ErrorOrNil()
}

// applyField sets one field of cfg from a flag or environment value.
func applyField(cfg, flags *Config, name, v string, fromEnv bool) error {
	dur := func(dst *time.Duration, flagVal time.Duration) error {
		if !fromEnv {
			*dst = flagVal
			return nil
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			return err
		}
		*dst = d
		return nil
	}
	num := func(dst *int) error {
		if _, err := fmt.Sscan(v, dst); err != nil {
			return fmt.Errorf("not a number: %q", v)
		}
		return nil
	}
	list := func(s string) []string {
		var out []string
		for _, x := range strings.Split(s, ",") {
			if x = strings.TrimSpace(x); x != "" {
				out = append(out, x)
			}
		}
		return out
	}
	switch name {
	case "brokers":
		cfg.Brokers = list(v)
	case "topics":
		cfg.Topics = list(v)
	case "accept-tenants":
		cfg.AcceptTenants = list(v)
	case "group":
		cfg.Group = v
	case "incidents-topic":
		cfg.IncidentsTopic = v
	case "dlq-topic":
		cfg.DLQTopic = v
	case "metrics-addr":
		cfg.MetricsAddr = v
	case "catalog":
		cfg.Catalog = v
	case "watch-config":
		cfg.WatchConfig = v == "true" || v == "1"
	case "stdout":
		cfg.Stdout = v == "true" || v == "1"
	case "lateness":
		return dur(&cfg.Lateness, flags.Lateness)
	case "run-timeout":
		return dur(&cfg.RunTimeout, flags.RunTimeout)
	case "envelope":
		cfg.Envelope = v
	case "join-wait":
		return dur(&cfg.JoinWait, flags.JoinWait)
	case "dead-letter-raw":
		cfg.DeadLetterRaw = v
	case "quiet-after":
		return dur(&cfg.QuietAfter, flags.QuietAfter)
	case "reorder-window":
		return dur(&cfg.ReorderWindow, flags.ReorderWindow)
	case "reorder-adaptive":
		cfg.ReorderAdaptive = v == "true" || v == "1"
	case "idle-timeout":
		return dur(&cfg.IdleTimeout, flags.IdleTimeout)
	case "resume-incidents":
		cfg.ResumeIncidents = v == "true" || v == "1"
	case "restore-window":
		return dur(&cfg.RestoreWindow, flags.RestoreWindow)
	case "repartition":
		cfg.Repartition = v
	case "repartition-topic":
		cfg.RepartitionTopic = v
	case "shutdown-timeout":
		return dur(&cfg.ShutdownTimeout, flags.ShutdownTimeout)
	case "session-timeout":
		return dur(&cfg.SessionTimeout, flags.SessionTimeout)
	case "heartbeat-interval":
		return dur(&cfg.HeartbeatInterval, flags.HeartbeatInterval)
	case "rebalance-timeout":
		return dur(&cfg.RebalanceTimeout, flags.RebalanceTimeout)
	case "consecutive-runs":
		return num(&cfg.ConsecutiveRuns)
	case "sasl-mechanism":
		cfg.SASL.Mechanism = v
	case "sasl-username":
		cfg.SASL.Username = v
	case "sasl-password-file":
		cfg.SASL.PasswordFile = v
	case "tls":
		cfg.TLS.Enabled = v == "true" || v == "1"
	case "tls-ca-file":
		cfg.TLS.CAFile = v
	case "tls-cert-file":
		cfg.TLS.CertFile = v
	case "tls-key-file":
		cfg.TLS.KeyFile = v
	case "tls-insecure-skip-verify":
		cfg.TLS.InsecureSkipVerify = v == "true" || v == "1"
	case "webhook-url":
		cfg.Webhook.URL = v
	case "webhook-secret-file":
		cfg.Webhook.SecretFile = v
	case "webhook-ca-file":
		cfg.Webhook.CAFile = v
	case "webhook-timeout":
		return dur(&cfg.Webhook.Timeout, flags.Webhook.Timeout)
	case "alertmanager-url":
		cfg.Alertmanager.URL = v
	case "alertmanager-resend-interval":
		return dur(&cfg.Alertmanager.ResendInterval, flags.Alertmanager.ResendInterval)
	case "pagerduty-routing-key-file":
		cfg.PagerDuty.RoutingKeyFile = v
	case "pagerduty-url":
		cfg.PagerDuty.URL = v
	case "api-addr":
		cfg.API.Addr = v
	case "api-token-file":
		cfg.API.TokenFile = v
	case "api-tls-cert-file":
		cfg.API.TLSCertFile = v
	case "api-tls-key-file":
		cfg.API.TLSKeyFile = v
	case "api-client-ca-file":
		cfg.API.ClientCAFile = v
	case "api-keep-resolved":
		return dur(&cfg.API.KeepResolved, flags.API.KeepResolved)
	case "api-max-mb":
		return num(&cfg.API.MaxMB)
	}
	return nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "validate" {
		return runValidate(args[1:], stdout, stderr)
	}
	if len(args) > 1 && args[0] == "config" && args[1] == "example" {
		if err := writeExample(stdout, newFlags(stderr).fs); err != nil {
			fmt.Fprintf(stderr, "ingest: %v\n", err)
			return exitFailed
		}
		return exitOK
	}
	if len(args) > 0 && args[0] == "healthcheck" {
		return runHealthcheck(ctx, args[1:], os.Getenv, stdout, stderr)
	}
	f := newFlags(stderr)
	if err := f.parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if f.fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ingest: unexpected arguments %q (ingest --help)\n", f.fs.Args())
		return exitUsage
	}
	cfg, err := f.resolve(os.Getenv)
	if err == nil {
		err = cfg.Validate(f.demo)
	}
	if err != nil {
		fmt.Fprintf(stderr, "ingest: invalid configuration:\n%v\n", err)
		if len(cfg.Brokers) == 0 && !f.demo {
			fmt.Fprintln(stderr, "To try ingest without a Kafka cluster: ingest --demo (an embedded broker and generated logs). ingest --help lists every flag.")
		}
		return exitUsage
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		fmt.Fprintf(stderr, "ingest: --log-level: %v\n", err)
		return exitUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if f.demo {
		return runDemo(ctx, f, cfg, stdout, stderr, log)
	}
	cfg.source = f.source(os.Getenv) // for reloads (reload.go)
	if err := consumeKafka(ctx, cfg, log, stdout, nil, f.stopAfter); err != nil {
		log.Error("ingest failed", "err", err)
		return exitFailed
	}
	return exitOK
}

func runValidate(args []string, stdout, stderr io.Writer) int {
	f := newFlags(stderr)
	if err := f.parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	cfg, err := f.resolve(os.Getenv)
	if err == nil {
		err = cfg.Validate(false)
	}
	if err == nil {
		// the catalog too, as ingest loads it (and a reload does)
		if _, cerr := loadCatalog(cfg.Catalog); cerr != nil {
			err = fmt.Errorf("catalog: %w", cerr)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "ingest: invalid configuration:\n%v\n", err)
		return exitUsage
	}
	fmt.Fprintln(stdout, "configuration OK")
	return exitOK
}

// consumeKafka runs the consumer against cfg.Brokers until ctx ends (or,
// with stopAfter > 0, until that many messages were processed). extra, if
// not nil, also receives the events (the demo's printer).
func consumeKafka(ctx context.Context, cfg Config, log *slog.Logger, stdout io.Writer, extra sinks.Sink, stopAfter int64) (err error) {
	// the catalog is live: a reload swaps it under the running pipelines
	dets, live, err := liveDetectors(cfg.Catalog)
	if err != nil {
		return err
	}
	envelope, err := parse.ParseEnvelope(cfg.Envelope)
	if err != nil {
		return err
	}
	dialer, err := cfg.Dialer()
	if err != nil {
		return err
	}
	transport, err := cfg.Transport()
	if err != nil {
		return err
	}
	kafkaSink, err := sinks.NewKafka(sinks.KafkaConfig{
		Brokers: cfg.Brokers, IncidentsTopic: cfg.IncidentsTopic, DeadLetterTopic: cfg.DLQTopic, Transport: transport,
	})
	if err != nil {
		return fmt.Errorf("creating kafka sink: %w", err)
	}
	outs := []sinks.Sink{kafkaSink}
	// webhook, Alertmanager, PagerDuty, behind the routing (notify.go)
	notify, err := cfg.notifySinks(kafkaSink, log)
	if err != nil {
		kafkaSink.Close(context.Background())
		return err
	}
	if notify != nil {
		outs = append(outs, notify) // their dead letters go to the DLQ topic
	}
	// SIGHUP and --watch-config reload the catalog and the routing
	rl := startReloader(ctx, cfg, live, notify, log)
	defer rl.stop()
	if cfg.Stdout {
		outs = append(outs, sinks.NewJSONL(stdout, sinks.JSONLOptions{}))
	}
	if extra != nil {
		outs = append(outs, extra)
	}
	events := sinks.NewFanout(outs...)
	// /healthz answers, and /readyz says not ready, from the start: while
	// the brokers are waited for too
	m := newMetrics()
	lview, err := startLiveView(ctx, cfg, dialer, log)
	if err != nil {
		events.Close(context.Background())
		return err
	}
	defer lview.stop(context.Background())
	m.live = lview
	m.reloads = rl.stats
	var srv *http.Server
	if cfg.MetricsAddr != "" && cfg.MetricsAddr != "off" {
		ln, lerr := net.Listen("tcp", cfg.MetricsAddr)
		if lerr != nil {
			events.Close(context.Background())
			return fmt.Errorf("listening on --metrics-addr: %w", lerr)
		}
		mux := m.handler()
		if lview != nil && lview.srv == nil {
			lview.mount(mux, ln.Addr().String(), log)
		}
		srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, BaseContext: lview.baseContext}
		go srv.Serve(ln)
		defer srv.Close() // (a graceful Shutdown comes first on a normal stop; event streams then end here)
		log.Info("serving metrics", "addr", ln.Addr().String())
	}
	plan, err := planRepartition(ctx, &cfg, dialer, transport, envelope, log)
	if err != nil {
		events.Close(context.Background())
		if ctx.Err() != nil {
			return nil // stopped while waiting for the brokers
		}
		return err
	}
	normalize := pipeline.NormalizeConfig{
		Envelope: envelope, JoinWait: cfg.JoinWait, DeadLetterRaw: schemas.DeadLetterRaw(cfg.DeadLetterRaw),
		AcceptTenants: cfg.AcceptTenants,
	}
	srcCfg := kafkasource.Config{
		Brokers: cfg.Brokers, GroupID: cfg.Group, Topics: cfg.Topics, Dialer: dialer,
		RestoreWindow: cfg.RestoreWindow, Logger: log, Envelope: envelope,
		SessionTimeout: cfg.SessionTimeout, HeartbeatInterval: cfg.HeartbeatInterval, RebalanceTimeout: cfg.RebalanceTimeout,
	}
	var hop *firstHop
	if plan.on {
		log.Info("repartitioning: the records go through the repartition topic, keyed by tenant/mailbox", "reason", plan.reason, "topic", plan.topic, "partitions", plan.partitions)
		if hop, err = startFirstHop(ctx, srcCfg, plan, normalize, transport, log); err != nil {
			events.Close(context.Background())
			return err
		}
		defer func() {
			if herr := hop.stop(cfg.ShutdownTimeout); herr != nil && err == nil {
				err = herr
			}
		}()
		srcCfg.Topics = []string{plan.topic}
		srcCfg.MaxAhead = -1 // a partition mixes raw partitions: their marks align them
		normalize = pipeline.NormalizeConfig{Repartitioned: true, DeadLetterRaw: normalize.DeadLetterRaw}
	} else if cfg.Repartition == repartitionAuto {
		log.Info("not repartitioning", "reason", plan.reason)
	}
	src, err := kafkasource.New(srcCfg)
	if err != nil {
		events.Close(context.Background())
		return fmt.Errorf("creating kafka source: %w", err)
	}
	var knownReader *known.Reader
	if cfg.ResumeIncidents {
		knownReader = known.NewReader(known.ReadConfig{
			Brokers: cfg.Brokers, Topic: cfg.IncidentsTopic, Dialer: dialer, Horizon: cfg.RestoreWindow + knownMargin,
		})
	}
	var sources func([]string) []string
	if plan.on {
		sources = func(assigned []string) []string {
			var out []string
			for _, via := range assigned {
				for _, raw := range plan.sources {
					out = append(out, repeats.Pair(raw, via))
				}
			}
			return out
		}
	}
	var stop func(int64) bool
	if hop != nil && stopAfter > 0 {
		// --stop-after counts raw messages: the second hop stops once it
		// processed what the first forwarded of them
		raw := stopAfter
		stop = func(processed int64) bool {
			s := hop.fwd.Stats()
			return s.Forwarded >= raw && processed >= s.Written()
		}
		stopAfter = 0
	}
	c, err := pipeline.NewConsumer(src, pipeline.ConsumerConfig{
		StopAfter: stopAfter, Stop: stop, Logger: log, QuietAfter: cmp.Or(cfg.QuietAfter, -1), Sources: sources,
		NewPipeline: func() (*pipeline.Pipeline, error) {
			var k detectors.KnownIncidents
			if knownReader != nil {
				var err error
				if k, err = resumeIncidents(ctx, knownReader, cfg.IncidentsTopic, log); err != nil {
					return nil, err
				}
			}
			return pipeline.New(pipeline.Config{
				Detection: detectors.Config{
					Source: detectors.DefaultSource, Lateness: cfg.Lateness, RunTimeout: cfg.RunTimeout,
					ConsecutiveRuns: cfg.ConsecutiveRuns, Detectors: dets, Known: k,
				},
				Normalize:   normalize,
				Reorder:     pipeline.ReorderConfig{Window: cfg.ReorderWindow, Adaptive: cfg.ReorderAdaptive, IdleTimeout: cfg.IdleTimeout},
				Events:      events,
				DeadLetters: kafkaSink,
			})
		},
	})
	if err != nil {
		src.Close(context.Background())
		events.Close(context.Background())
		return err
	}
	m.mu.Lock() // (the server may be scraping)
	m.summary = c.Summary
	m.ready = src.Ready
	m.lag = src.Lag
	if hop != nil {
		m.ready = func() bool { return src.Ready() && hop.src.Ready() }
		m.lag = func() map[string]int64 {
			lag := src.Lag()
			maps.Copy(lag, hop.src.Lag())
			return lag
		}
		m.forwarded = hop.fwd.Stats
	}
	m.quietFlushes = c.QuietFlushes
	m.split = c.SplitMailboxes
	if notify != nil {
		m.routes = notify.Stats
	}
	m.mu.Unlock()
	log.Info("consuming", "brokers", cfg.Brokers, "group", cfg.Group, "topics", cfg.Topics, "incidents_topic", cfg.IncidentsTopic)
	var runErr error
	if hop != nil {
		// the first hop failing ends the second: nothing more would come
		rctx, rcancel := context.WithCancel(ctx)
		stopWatch := context.AfterFunc(hop.ctx, func() {
			if hop.failed() {
				rcancel()
			}
		})
		runErr = c.Run(rctx)
		stopWatch()
		rcancel()
		if herr := hop.err(); herr != nil && ctx.Err() == nil {
			runErr = herr
		}
	} else {
		runErr = c.Run(ctx)
	}

	// graceful stop: commit what was delivered, leave the group, close sinks
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	var errs *multierror.Error
	errs = multierror.Append(errs, runErr)
	if cerr := src.Close(sctx); cerr != nil {
		errs = multierror.Append(errs, fmt.Errorf("closing source: %w", cerr))
	}
	if cerr := events.Close(sctx); cerr != nil {
		errs = multierror.Append(errs, fmt.Errorf("closing sinks: %w", cerr))
	}
	if srv != nil {
		lview.stop(sctx) // its event streams would hold Shutdown up
		srv.Shutdown(sctx)
	}
	s := c.Summary()
	log.Info("stopped", "processed", c.Processed(), "events", s.Events, "dead_letters", sum(s.Normalize.DeadLettered[:]))
	return errs.ErrorOrNil()
}

func sum(xs []int64) int64 {
	var n int64
	for _, x := range xs {
		n += x
	}
	return n
}

// knownMargin is how much older than the restore window the events kept
// of an incident may be: restore points are found by message timestamp,
// the logs' event time can lag it by that much.
const knownMargin = 24 * time.Hour

// resumeIncidents brings r up to date with the incidents topic (whole,
// the first time; what was added since, later), for a new pipeline to
// carry on the incidents that opened before the restore window. A read
// that fails (the broker down, credentials refused) is retried with
// backoff, saying so at every attempt: the pipeline must not start without
// knowing what is open. Once ctx ends it gives up quietly (nil: ingest is
// stopping).
func resumeIncidents(ctx context.Context, r *known.Reader, topic string, log *slog.Logger) (detectors.KnownIncidents, error) {
	wait := time.Second
	for attempt := 1; ; attempt++ {
		st, err := r.Refresh(ctx)
		if err == nil {
			k := r.Incidents()
			log.Info("read the incidents published since the last read, to carry on those still open",
				"topic", topic, "messages", st.Messages, "open", k.Open(), "events_kept", k.Events(),
				"undecoded", st.Undecoded, "took", st.Took.Round(time.Millisecond))
			return k.Session(), nil
		}
		if ctx.Err() != nil {
			return nil, nil
		}
		log.Warn("reading the incidents topic failed (--resume-incidents); retrying before consuming",
			"topic", topic, "attempt", attempt, "retry_in", wait, "err", err)
		select {
		case <-ctx.Done():
			return nil, nil
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}
