// Command replay runs syncwatch's pipeline over historical log files and
// writes the incident events (CloudEvents, one JSON object per line) that
// the live consumer would have written for the same logs.
//
//	replay [flags] PATH...
//	replay generate --out DIR [--seed N] [--mailboxes N] [--hours H] [--dirty]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-multierror"

	"github.com/syncwatch/syncwatch/detectors"
	"github.com/syncwatch/syncwatch/pipeline"
	"github.com/syncwatch/syncwatch/schemas"
	"github.com/syncwatch/syncwatch/sinks"
)

// exit codes
const (
	exitOK    = 0
	exitUsage = 1 // bad usage or unreadable input
	exitFail  = 2 // the run failed (a sink could not be written)
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usageText = `replay: run syncwatch over historical C4C/Exchange sync logs.

Usage:
  replay [flags] PATH...          replay files, directories (recursively), .gz files, or - (stdin)
  replay generate [flags]         write a generated corpus with its true incidents
  replay catalog                  print the active catalog of known errors

replay reads the logs of the ExchangeConnector (log4net text), the sync
engine (logfmt) and the C4CC Connector (JSON lines) in any mix, recognizes
each entry's format from its shape, merges the producers by event time, and
writes one incident event per line (CloudEvents 1.0 JSON: opened, updated,
resolved; see docs/events.md) to stdout or --out. A sync_error means the
mailbox's synchronization is completely non-functional; a sync_issue means
specific records fail. Entries that cannot be parsed are counted and, with
--dead-letter, written there with the reason. A summary goes to stderr.

The same input gives byte-identical output on every run.

Exit status: 0 success, 1 bad usage or unreadable input, 2 output failure.

Flags:
`

type options struct {
	out, deadLetter, catalog, source string
	lateness, runTimeout, reorder    time.Duration
	consecutive                      int
	maxEntry                         int
	quiet                            bool
	cpuProfile, memProfile           string
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "generate":
			return runGenerate(args[1:], stdout, stderr)
		case "catalog":
			return runCatalog(args[1:], stdout, stderr)
		}
	}
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.out, "out", "", "write incident events to `FILE` instead of stdout")
	fs.StringVar(&o.deadLetter, "dead-letter", "", "write unparseable entries as dead letters (JSON lines) to `FILE`")
	fs.StringVar(&o.catalog, "catalog", "", "catalog `FILE` (YAML) merged over the embedded catalog of known errors")
	fs.StringVar(&o.source, "source", "syncwatch/ingest", "CloudEvents source of the events (the same as the live consumer's, so outputs compare)")
	fs.DurationVar(&o.lateness, "lateness", 5*time.Second, "how long after a run's end its lines still count (producer clock skew)")
	fs.DurationVar(&o.runTimeout, "run-timeout", 10*time.Minute, "a run with no end line is over after this much event time of silence")
	fs.DurationVar(&o.reorder, "reorder-window", 2*time.Second, "how far out of order one input may be in event time")
	fs.IntVar(&o.consecutive, "consecutive-runs", 2, "failed runs in a row that make a run-dependent class a sync error")
	fs.IntVar(&o.maxEntry, "max-entry", pipeline.DefaultMaxEntry, "largest entry in bytes; larger ones are dead-lettered")
	fs.BoolVar(&o.quiet, "quiet", false, "no summary on stderr")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile (pprof) of the replay to `FILE`")
	fs.StringVar(&o.memProfile, "memprofile", "", "write a heap profile (pprof, allocations) at the end to `FILE`")
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "replay: no input: give files, directories or - for stdin (replay --help)")
		return exitUsage
	}
	if err := o.validate(); err != nil {
		fmt.Fprintf(stderr, "replay: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	stopProfiles, err := startProfiles(o.cpuProfile, o.memProfile)
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
	return errs.ErrorOrNil()
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
	sources, err := pipeline.OpenPaths(paths, stdin, o.maxEntry)
	if err != nil {
		fmt.Fprintf(stderr, "replay: %v\n", err)
		return exitUsage
	}
	var events sinks.Sink
	if o.out != "" {
		f, err := sinks.NewFile(o.out, sinks.JSONLOptions{})
		if err != nil {
			fmt.Fprintf(stderr, "replay: %v\n", err)
			return exitUsage
		}
		events = f
	} else {
		events = sinks.NewJSONL(stdout, sinks.JSONLOptions{BufferSize: 256 << 10})
	}
	var dlq sinks.DeadLetterSink
	if o.deadLetter != "" {
		d, err := sinks.NewDeadLetterFile(o.deadLetter, sinks.JSONLOptions{})
		if err != nil {
			fmt.Fprintf(stderr, "replay: %v\n", err)
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
		MaxEntry:    o.maxEntry,
		Events:      events,
		DeadLetters: dlq,
	})
	if err != nil {
		fmt.Fprintf(stderr, "replay: %v\n", err)
		return exitUsage
	}
	start := time.Now()
	runErr := pipeline.Replay(ctx, p, sources, pipeline.ReplayOptions{})
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
		printSummary(stderr, p.Summary(), time.Since(start))
	}
	if runErr != nil {
		fmt.Fprintf(stderr, "replay: %v\n", runErr)
		return exitFail
	}
	if err := closeErr.ErrorOrNil(); err != nil {
		fmt.Fprintf(stderr, "replay: %v\n", err)
		return exitFail
	}
	return exitOK
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
	if len(s.Normalize.Reasons) > 0 {
		fmt.Fprintf(w, "  dead letters by reason:\n")
		for _, k := range sortedKeys(s.Normalize.Reasons) {
			fmt.Fprintf(w, "    %6d  %s\n", s.Normalize.Reasons[k], k)
		}
	}
	d := s.Detection
	fmt.Fprintf(w, "  runs decided %d (timed out %d), duplicates ignored %d, late lines %d\n",
		d.RunsDecided, d.RunsTimedOut, d.Duplicates, d.Late+int(s.Late))
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
	if err := fs.Parse(args); err != nil {
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
