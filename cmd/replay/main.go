// Command replay runs syncwatch's pipeline over historical log files and
// writes the incident events (CloudEvents, one JSON object per line) that
// the live consumer would have written for the same logs.
//
//	replay [flags] PATH...
//	replay [flags] --brokers HOST:PORT [--from T] [--to T] [--topics A,B,C]
//	replay --diff GOLDEN.jsonl [flags] PATH...
//	replay --report report.html [flags] PATH...
//	replay generate --out DIR [--seed N] [--mailboxes N] [--hours H] [--dirty]
//	replay catalog [check FILE [--samples FILE]]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-multierror"

	"github.com/syncwatch/syncwatch/cmd/internal/cliusage"
	"github.com/syncwatch/syncwatch/cmd/internal/gctune"
	"github.com/syncwatch/syncwatch/cmd/internal/kafkaopts"
	"github.com/syncwatch/syncwatch/detectors"
	"github.com/syncwatch/syncwatch/pipeline"
	"github.com/syncwatch/syncwatch/pipeline/kafkasource"
	"github.com/syncwatch/syncwatch/pipeline/parse"
	"github.com/syncwatch/syncwatch/schemas"
	"github.com/syncwatch/syncwatch/sinks"
)

// exit codes
const (
	exitOK    = 0
	exitUsage = 1 // bad usage or unreadable input
	exitFail  = 2 // the run failed (a sink could not be written)
	exitDiff  = 3 // --diff: the events differ from the golden file; catalog check: flagged samples
	// exitPartial: an input could not be read to its end (a truncated
	// .gz, a Kafka partition that failed); the others were replayed in
	// full and every output was written.
	exitPartial = 4
	// exitInterrupted: stopped by SIGINT or SIGTERM (128 + SIGINT, as
	// shells report Ctrl-C); what was read was written out.
	exitInterrupted = 130
)

func main() {
	// A small live heap, no allocation per line: GOGC's default, lowered
	// past 128 MB of live heap (a million mailboxes): see gctune.Limit.
	gctune.Limit(0)
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usageText = `replay: run syncwatch over historical C4C/Exchange sync logs.

Usage:
  replay [flags] PATH...          replay files, directories (recursively), .gz files, archives
                                  (.zip, .tar, .tar.gz: their files, as a directory's), or - (stdin)
  replay [flags] --brokers HOST:PORT[,...] [--from T] [--to T] [--topics A,B,C]
                                  replay a time range of the Kafka topics
  replay --diff GOLDEN.jsonl [flags] PATH...
                                  compare the events with a golden file
  replay generate [flags]         write a generated corpus with its true incidents
  replay catalog                  print the active catalog of known errors
  replay catalog check FILE [--samples FILE]
                                  validate a user catalog; show what each class matches

replay reads the logs of the ExchangeConnector (log4net text), the sync
engine (logfmt) and the C4CC Connector (JSON lines) in any mix, recognizes
each entry's format from its shape, merges the producers by event time, and
writes one incident event per line (CloudEvents 1.0 JSON: opened, updated,
resolved; see docs/events.md) to stdout or --out. A sync_error means the
mailbox's synchronization is completely non-functional; a sync_issue means
specific records fail. Entries that cannot be parsed are counted and, with
--dead-letter, written there with the reason. A summary goes to stderr.

The same input gives byte-identical output on every run.

Filters (--tenant, --mailbox, --kind, --class, --since, --until) select the
events written; detection still sees every entry, so a filtered run writes
exactly the matching events of an unfiltered one. --from/--to instead cut
the input: only entries with an event time in [from, to) are replayed.

Kafka: --brokers reads the topics' partitions without a consumer group and
commits nothing, so the live consumer is not disturbed. Each partition is
read from the first message stamped at or after from minus --time-margin
until a message stamped after to plus the margin, or the partition's end
offset when the replay started; the entries are then cut to [from, to) by
their event time. Message timestamps (the producers' clock) must be within
the margin of the logs' event time; a negative margin reads whole
partitions. One message is one entry; origins are topic/partition/offset.

--diff GOLDEN compares the events (after the filters) with a golden file of
events by event id and prints each added, removed and changed event (with
the fields that changed, golden value first) to stdout instead of the
events; --out still writes them.

--report FILE also writes one self-contained HTML page (no scripts, no
network resources): summary cards, a timeline of each affected mailbox,
the incidents with remediation and evidence, the top unknown-error
templates and the dead letters by reason. The events are written as usual.

A progress bar (bytes and lines read, their rates, ETA for files) is drawn
on stderr when it is a terminal, unless --quiet.

Exit status: 0 success, 1 bad usage or unreadable input, 2 output failure,
3 --diff found a difference (catalog check: a sample was flagged),
4 partial: an input could not be read to its end (the others were replayed
in full, every output written), 130 interrupted (Ctrl-C, SIGTERM).

Flags:
`

type options struct {
	out, deadLetter, catalog, source string
	lateness, runTimeout, reorder    time.Duration
	consecutive                      int
	maxEntry                         int
	envelope                         parse.Envelope
	deadLetterRaw                    string
	quiet                            bool
	cpuProfile, memProfile           string
	peakProfile                      string

	filter            eventFilter
	from, to          time.Time
	brokers, topics   []string
	acceptTenants     []string
	security          kafkaopts.Security // TLS and SASL of --brokers
	margin            time.Duration
	diff              string
	diffIgnoreOrigins bool
	report            string
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "generate":
			return runGenerate(args[1:], stdout, stderr)
		case "catalog":
			if len(args) > 1 && args[1] == "check" {
				return runCatalogCheck(args[2:], stdout, stderr)
			}
			return runCatalog(args[1:], stdout, stderr)
		}
	}
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.out, "out", "", "write incident events to `FILE` instead of stdout")
	fs.StringVar(&o.deadLetter, "dead-letter", "", "write unparseable entries as dead letters (JSON lines) to `FILE`")
	fs.StringVar(&o.deadLetterRaw, "dead-letter-raw", string(schemas.DeadLetterRedacted), "what dead letters carry of their entry: redacted (passwords, tokens and credentials replaced by [REDACTED]) or full (the original bytes, secrets included: dead letters end up in tickets)")
	fs.StringVar(&o.catalog, "catalog", "", "catalog `FILE` (YAML) merged over the embedded catalog of known errors")
	fs.StringVar(&o.source, "source", detectors.DefaultSource, "CloudEvents source of the events (the same as the live consumer's, so outputs compare)")
	fs.DurationVar(&o.lateness, "lateness", detectors.DefaultLateness, "how long after a run's end its lines still count (producer clock skew)")
	fs.DurationVar(&o.runTimeout, "run-timeout", detectors.DefaultRunTimeout, "a run with no end line is over after this much event time of silence")
	fs.DurationVar(&o.reorder, "reorder-window", pipeline.DefaultReorderWindow, "how far out of order one input may be in event time")
	fs.IntVar(&o.consecutive, "consecutive-runs", detectors.DefaultConsecutiveRuns, "failed runs in a row that make a run-dependent class a sync error")
	fs.IntVar(&o.maxEntry, "max-entry", parse.DefaultMaxEntry, "largest entry in bytes; larger ones are dead-lettered")
	fs.Var(envelopeFlag{&o.envelope}, "envelope", "the log shippers' envelope the input comes in: auto (recognised per line or message), raw, json (Filebeat, Logstash, Fluent Bit, Fluentd, Vector), syslog (rsyslog, syslog-ng, RFC 3164/5424) or otlp")
	fs.BoolVar(&o.quiet, "quiet", false, "no summary on stderr")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile (pprof) of the replay to `FILE`")
	fs.StringVar(&o.memProfile, "memprofile", "", "write a heap profile (pprof, allocations) at the end to `FILE`")
	fs.StringVar(&o.peakProfile, "peakprofile", "", "write the heap profile (pprof) taken at the largest live heap to `FILE`: what holds the memory")
	fs.Var(listFlag{&o.filter.tenants}, "tenant", "write only the events of these `TENANTS` (comma-separated; repeatable)")
	fs.Var(listFlag{&o.filter.mailboxes}, "mailbox", "write only the events of these `MAILBOXES` (comma-separated, any case)")
	fs.Var(listFlag{&o.filter.kinds}, "kind", "write only the events of these `KINDS`: sync_error, sync_issue, pipeline")
	fs.Var(listFlag{&o.filter.classes}, "class", "write only the events of these `CLASSES` (comma-separated; exchange.auth.* for a family)")
	fs.Var(timeFlag{&o.filter.since}, "since", "write only the events whose time is at or after `TIME` (RFC 3339)")
	fs.Var(timeFlag{&o.filter.until}, "until", "write only the events whose time is before `TIME` (RFC 3339)")
	fs.Var(timeFlag{&o.from}, "from", "replay only the entries whose event time is at or after `TIME` (RFC 3339; files and Kafka)")
	fs.Var(timeFlag{&o.to}, "to", "replay only the entries whose event time is before `TIME` (RFC 3339; files and Kafka)")
	fs.Var(listFlag{&o.brokers}, "brokers", "read a time range of Kafka topics from these `HOST:PORT`s instead of files")
	fs.Var(listFlag{&o.topics}, "topics", "the `TOPICS` to read with --brokers (default "+strings.Join(kafkasource.DefaultTopics, ",")+")")
	fs.Var(listFlag{&o.acceptTenants}, "accept-tenants", "judge only the entries of these `TENANTS` (comma-separated); entries naming another tenant are dead-lettered, as ingest --accept-tenants does")
	o.security.RegisterFlags(fs)
	fs.DurationVar(&o.margin, "time-margin", kafkasource.DefaultRangeMargin, "with --brokers: how far message timestamps may be from the logs' event time (negative: read whole partitions)")
	fs.StringVar(&o.diff, "diff", "", "compare the events with the golden `FILE` (JSON lines) and report the differences instead of writing the events")
	fs.StringVar(&o.report, "report", "", "also write an HTML report (summary, timelines, incidents, dead letters) to `FILE`")
	fs.BoolVar(&o.diffIgnoreOrigins, "diff-ignore-origins", false, "with --diff: do not compare evidence origins (a Kafka replay against a golden file from files)")
	help := func() {
		fmt.Fprint(stderr, usageText)
		cliusage.PrintDefaults(fs)
	}
	if err := cliusage.Parse(fs, args, "replay", stderr, help); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() == 0 && len(o.brokers) == 0 {
		fmt.Fprintln(stderr, "replay: no input: give files, directories or - for stdin, or --brokers (replay --help)")
		return exitUsage
	}
	if fs.NArg() > 0 && len(o.brokers) > 0 {
		fmt.Fprintln(stderr, "replay: give either paths or --brokers, not both")
		return exitUsage
	}
	o.security.PasswordFromEnv(os.Getenv)
	if err := o.validate(); err != nil {
		fmt.Fprintf(stderr, "replay: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	stopProfiles, err := startProfiles(o.cpuProfile, o.memProfile, o.peakProfile)
	if err != nil {
		fmt.Fprintf(stderr, "replay: %v\n", err)
		return exitUsage
	}
	code := replay(ctx, o, fs.Args(), stdin, stdout, stderr)
	if err := stopProfiles(); err != nil {
		fmt.Fprintf(stderr, "replay: %v\n", err)
		return max(code, exitFail)
	}
	return code
}

func (o *options) validate() error {
	var errs *multierror.Error
	if o.lateness < 0 {
		errs = multierror.Append(errs, fmt.Errorf("--lateness: must not be negative"))
	}
	if o.runTimeout <= 0 {
		errs = multierror.Append(errs, fmt.Errorf("--run-timeout: must be positive"))
	}
	if o.reorder < 0 {
		errs = multierror.Append(errs, fmt.Errorf("--reorder-window: must not be negative"))
	}
	if o.consecutive < 1 {
		errs = multierror.Append(errs, fmt.Errorf("--consecutive-runs: must be at least 1"))
	}
	if o.maxEntry < 1024 {
		errs = multierror.Append(errs, fmt.Errorf("--max-entry: must be at least 1024"))
	}
	errs = multierror.Append(errs, o.filter.validate()...)
	if !o.from.IsZero() && !o.to.IsZero() && !o.to.After(o.from) {
		errs = multierror.Append(errs, fmt.Errorf("--to: must be after --from"))
	}
	if _, err := schemas.ParseDeadLetterRaw(o.deadLetterRaw); err != nil {
		errs = multierror.Append(errs, fmt.Errorf("--dead-letter-raw %w", err))
	}
	if len(o.brokers) > 0 {
		o.security.Validate(func(format string, args ...any) {
			errs = multierror.Append(errs, fmt.Errorf(format, args...))
		})
	} else if o.security != (kafkaopts.Security{}) {
		errs = multierror.Append(errs, fmt.Errorf("--tls and --sasl-*: only with --brokers"))
	}
	if len(o.brokers) == 0 && len(o.topics) > 0 {
		errs = multierror.Append(errs, fmt.Errorf("--topics: only with --brokers"))
	}
	if o.diff == "" && o.diffIgnoreOrigins {
		errs = multierror.Append(errs, fmt.Errorf("--diff-ignore-origins: only with --diff"))
	}
	return errs.ErrorOrNil()
}

// checkWritable reports whether a file can be written at path, leaving
// what is there untouched: an existing file must open for writing; a new
// one must be creatable in its directory.
func checkWritable(path string) error {
	if fi, err := os.Stat(path); err == nil {
		if fi.IsDir() {
			return fmt.Errorf("%s is a directory", path)
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		return f.Close()
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".check-*")
	if err != nil {
		return fmt.Errorf("cannot create %s: %w", path, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

func loadCatalog(path string) (*detectors.Catalog, error) {
	if path == "" {
		return detectors.DefaultCatalog()
	}
	return detectors.LoadCatalog(path)
}

func replay(ctx context.Context, o options, paths []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cat, err := loadCatalog(o.catalog)
	if err != nil {
		fmt.Fprintf(stderr, "replay: %v\n", err)
		return exitUsage
	}
	dets, err := detectors.Build(nil, detectors.Options{Catalog: cat})
	if err != nil {
		fmt.Fprintf(stderr, "replay: %v\n", err)
		return exitUsage
	}
	if o.report != "" {
		// before any input is read: a report that cannot be written
		// must not cost a whole replay first
		if err := checkWritable(o.report); err != nil {
			fmt.Fprintf(stderr, "replay: --report: %v\n", err)
			return exitUsage
		}
	}
	var golden []goldenEvent
	if o.diff != "" {
		if golden, err = readGolden(o.diff); err != nil {
			fmt.Fprintf(stderr, "replay: %v\n", err)
			return exitUsage
		}
	}
	sources, total, note, err := openInputs(ctx, o, paths, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "replay: %v\n", err)
		return exitUsage
	}
	tolerant := make([]*tolerantInput, len(sources))
	for i, s := range sources {
		tolerant[i] = &tolerantInput{EntryReader: s}
		sources[i] = tolerant[i]
	}
	closeInputs := func() {
		for _, s := range sources {
			s.Close()
		}
	}
	var events sinks.Sink
	if o.out != "" {
		f, err := sinks.NewFile(o.out, sinks.JSONLOptions{})
		if err != nil {
			closeInputs()
			fmt.Fprintf(stderr, "replay: --out: %v\n", err)
			return exitUsage
		}
		events = f
	} else if o.diff == "" {
		events = sinks.NewJSONL(stdout, sinks.JSONLOptions{BufferSize: 256 << 10})
	}
	var diffed *sinks.Memory // with --diff, the events compared
	if o.diff != "" {
		diffed = sinks.NewMemory()
		if events != nil {
			events = sinks.NewFanout(events, diffed)
		} else {
			events = diffed
		}
	}
	var reported *sinks.Memory // with --report, the events written
	if o.report != "" {
		reported = sinks.NewMemory()
		events = sinks.NewFanout(events, reported)
	}
	var dlq sinks.DeadLetterSink
	if o.deadLetter != "" {
		d, err := sinks.NewDeadLetterFile(o.deadLetter, sinks.JSONLOptions{})
		if err != nil {
			closeInputs()
			fmt.Fprintf(stderr, "replay: --dead-letter: %v\n", err)
			return exitUsage
		}
		dlq = d
	}
	p, err := pipeline.New(pipeline.Config{
		Detection: detectors.Config{
			Source: o.source, Lateness: o.lateness, RunTimeout: o.runTimeout,
			ConsecutiveRuns: o.consecutive, Detectors: dets,
		},
		Reorder:     pipeline.ReorderConfig{Window: o.reorder},
		Normalize:   pipeline.NormalizeConfig{MaxEntry: o.maxEntry, Envelope: o.envelope, DeadLetterRaw: schemas.DeadLetterRaw(o.deadLetterRaw), AcceptTenants: o.acceptTenants},
		Events:      events,
		DeadLetters: dlq,
	})
	if err != nil {
		closeInputs()
		fmt.Fprintf(stderr, "replay: %v\n", err)
		return exitUsage
	}
	if o.filter.active() {
		p.Deliver.SetFilter(o.filter.keep)
	}
	ropt := pipeline.ReplayOptions{From: o.from, To: o.to}
	var bar *progress
	if !o.quiet {
		if bar = newProgress(stderr, total); bar != nil {
			ropt.Progress = bar.update
		}
	}
	start := time.Now()
	runErr := pipeline.Replay(ctx, p, sources, ropt)
	bar.finish()
	var closeErr *multierror.Error
	cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := events.Close(cctx); err != nil {
		closeErr = multierror.Append(closeErr, fmt.Errorf("closing events output: %w", err))
	}
	if dlq != nil {
		if err := dlq.Close(cctx); err != nil {
			closeErr = multierror.Append(closeErr, fmt.Errorf("closing dead-letter output: %w", err))
		}
	}
	if !o.quiet {
		if n := note(); n != "" {
			fmt.Fprintf(stderr, "replay: %s\n", strings.ReplaceAll(n, "\n", "\nreplay: "))
		}
		printSummary(stderr, p.Summary(), time.Since(start))
	}
	if ctx.Err() != nil {
		// Ctrl-C: not an output failure, whatever the sinks said about
		// their cancelled writes.
		fmt.Fprintln(stderr, "replay: interrupted; the output holds what was written before the stop")
		return exitInterrupted
	}
	if runErr != nil {
		fmt.Fprintf(stderr, "replay: %v\n", runErr)
		return exitFail
	}
	if err := closeErr.ErrorOrNil(); err != nil {
		fmt.Fprintf(stderr, "replay: %v\n", err)
		return exitFail
	}
	if reported != nil {
		err := writeReport(o.report, reportInput{Events: reported.Events(), Summary: p.Summary(),
			Inputs: append(append([]string(nil), paths...), o.brokers...), From: o.from, To: o.to, Generated: time.Now(),
			Filter: o.filter.describe()})
		if err != nil {
			fmt.Fprintf(stderr, "replay: %v\n", err)
			return exitFail
		}
	}
	code := exitOK
	if diffed != nil {
		got := diffed.Events()
		rep, err := diffEvents(golden, got, o.diffIgnoreOrigins)
		if err != nil {
			fmt.Fprintf(stderr, "replay: %v\n", err)
			return exitFail
		}
		code = printDiff(stdout, o.diff, rep, len(got), len(golden))
	}
	for _, t := range tolerant {
		if f := t.failure(); f != "" {
			fmt.Fprintf(stderr, "replay: partial: %s\n", f)
			code = exitPartial
		}
	}
	return code
}

func printSummary(w io.Writer, s pipeline.Summary, took time.Duration) {
	var total, parsed, dead int64
	fmt.Fprintf(w, "replay: summary (%s)\n", took.Round(time.Millisecond))
	fmt.Fprintf(w, "  %-18s %10s %10s %10s\n", "producer", "read", "parsed", "dead")
	for p := schemas.Producer(0); p < schemas.NumProducers; p++ {
		n := s.Normalize
		if n.Read[p] == 0 {
			continue
		}
		fmt.Fprintf(w, "  %-18s %10d %10d %10d\n", p, n.Read[p], n.Parsed[p], n.DeadLettered[p])
		total += n.Read[p]
		parsed += n.Parsed[p]
		dead += n.DeadLettered[p]
	}
	fmt.Fprintf(w, "  %-18s %10d %10d %10d\n", "total", total, parsed, dead)
	if len(s.Normalize.Shippers) > 0 {
		fmt.Fprintf(w, "  entries by shipper's envelope:\n")
		for _, k := range sortedKeys(s.Normalize.Shippers) {
			fmt.Fprintf(w, "    %6d  %s\n", s.Normalize.Shippers[k], k)
		}
	}
	if s.Normalize.Joined > 0 {
		fmt.Fprintf(w, "  stack-trace lines sent on their own, joined to their entries: %d\n", s.Normalize.Joined)
	}
	if len(s.Normalize.Reasons) > 0 {
		fmt.Fprintf(w, "  dead letters by reason:\n")
		for _, k := range sortedKeys(s.Normalize.Reasons) {
			fmt.Fprintf(w, "    %6d  %s\n", s.Normalize.Reasons[k], k)
		}
	}
	d := s.Detection
	late := int64(d.Late) + s.Late
	fmt.Fprintf(w, "  runs decided %d (timed out %d), duplicates ignored %d, late lines %d\n",
		d.RunsDecided, d.RunsTimedOut, d.Duplicates, late)
	if late > 0 && late*200 > parsed {
		fmt.Fprintf(w, "  warning: %d lines (%.1f%%) came after decisions they belonged to: the input's event time goes back\n"+
			"  further than --reorder-window allows. Streams laid end to end that replay cannot tell apart (stdin,\n"+
			"  or two files of one format concatenated) do this: replay them as separate files, or set\n"+
			"  --reorder-window to the largest step back in time.\n", late, 100*float64(late)/float64(parsed))
	}
	var only []string
	for p := schemas.Producer(0); p < schemas.NumProducers; p++ {
		if p != schemas.ProducerUnknown && s.Normalize.Parsed[p] > 0 {
			only = append(only, p.String())
		}
	}
	if len(only) == 1 && d.RunsTimedOut > 0 && d.RunsTimedOut*2 >= d.RunsDecided {
		fmt.Fprintf(w, "  note: only %s's entries were read, and %d of %d runs timed out: a run's start and end are in the\n"+
			"  sync engine's logs, its records in all three producers'. Replay the three producers' logs together.\n",
			only[0], d.RunsTimedOut, d.RunsDecided)
	}
	if d.MailboxesCapped > 0 {
		fmt.Fprintf(w, "  warning: %d records of new mailboxes were not judged: %d mailboxes held at once is the maximum (input naming ever new mailboxes?)\n",
			d.MailboxesCapped, detectors.DefaultMaxMailboxes)
	}
	fmt.Fprintf(w, "  events written %d; incidents opened by kind/class:\n", s.Events)
	for _, k := range sortedKeys(d.Opened) {
		fmt.Fprintf(w, "    %6d  %s\n", d.Opened[k], k)
	}
	fmt.Fprintf(w, "  still open at end of input: %d\n", d.OpenIncidents)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func runCatalog(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("replay catalog", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("catalog", "", "catalog `FILE` merged over the embedded one")
	asYAML := fs.Bool("yaml", false, "print the catalog as a commented YAML file that --catalog accepts as it is (a starting point for your own)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: replay catalog [--catalog FILE] [--yaml]\n\nPrints the active catalog of known errors: the embedded one, with FILE merged over it,\nas a table or (--yaml) as a catalog file.\nreplay catalog check FILE checks a catalog file (replay catalog check --help).\n\nFlags:\n")
		cliusage.PrintDefaults(fs)
	}
	if err := cliusage.Parse(fs, args, "replay catalog", stderr, fs.Usage); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	cat, err := loadCatalog(*path)
	if err != nil {
		fmt.Fprintf(stderr, "replay: %v\n", err)
		return exitUsage
	}
	if *asYAML {
		b, err := cat.YAML()
		if err != nil {
			fmt.Fprintf(stderr, "replay: %v\n", err)
			return exitFail
		}
		if _, err := stdout.Write(b); err != nil {
			fmt.Fprintf(stderr, "replay: %v\n", err)
			return exitFail
		}
		return exitOK
	}
	for _, e := range cat.Entries() {
		scope := e.Scope
		if scope == "" {
			scope = "run"
		}
		fmt.Fprintf(stdout, "%-34s scope=%-7s %s\n", e.Class, scope, e.Title)
		fmt.Fprintf(stdout, "%-34s remediation: %s\n", "", strings.TrimSpace(e.Remediation))
	}
	return exitOK
}
