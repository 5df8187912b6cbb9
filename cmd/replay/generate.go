package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-multierror"

	"github.com/syncwatch/syncwatch/cmd/internal/cliusage"
	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/pipeline/loggen/ship"
)

const generateUsage = `replay generate: write a generated corpus of the three producers' logs.

Writes exchange.log, engine.log, c4cc.jsonl, incidents.truth.jsonl (the
incidents a correct pipeline reports, one JSON object per line) and
manifest.json into --out. The same seed gives the same bytes. Use it for
demos, load tests, and to score a pipeline:

  replay generate --out /tmp/corpus --mailboxes 100 --hours 48 --dirty
  replay /tmp/corpus > events.jsonl

With --shipper KIND the three logs are written as a log shipper reading
them from /var/log/c4c/ on --shipper-host would archive or send them,
INSTEAD of the raw files (so that replay DIR reads every entry once; run
generate again without --shipper, same seed, for the raw files): one
file holding all three logs, one event per line, oldest first —

  filebeat        filebeat.ndjson: Filebeat's output.file (the JSON of its
                  output.kafka codec, one event per line)
  logstash-plain, logstash-json, fluent-bit, fluent-bit-gelf, fluentd, vector, otlp-json
                  KIND.kcat: the Kafka message values as
                  "kcat -C -e -o beginning -t TOPIC" prints them, each
                  followed by a newline (a logstash-plain value with a
                  multiline event keeps its raw newlines, as kcat prints it)

otlp-proto has no such file (kcat prints binary values without a
separator); produce it to Kafka with the pipeline/loggen/ship package.
Without --multiline each physical line of a stack trace is an event of
its own, as a shipper without a multiline rule sends it. The truth and
manifest are written as without --shipper.

  replay generate --out /tmp/fb --dirty --shipper filebeat && replay /tmp/fb

Flags:
`

func runGenerate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("replay generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "output `DIR` (created if missing); required")
	seed := fs.Int64("seed", 1, "generator seed")
	mailboxes := fs.Int("mailboxes", 30, "number of mailboxes")
	tenants := fs.Int("tenants", 6, "number of tenants")
	hours := fs.Float64("hours", 24, "hours of logs")
	dirty := fs.Bool("dirty", false, "add the dirt of real input (CRLF, offsets, duplicates, garbage, wording noise)")
	disorder := fs.Duration("disorder", 0, "write 2% of the entries that carry no failure after later ones, by up to this much event time (`DURATION`, at most 1m; a multi-threaded producer's disorder): replay orders them back within --reorder-window")
	wording := fs.Int("wording", 0, "0: the knowledge base's wording; 1: an alternative paraphrase of every message")
	shipper := fs.String("shipper", "", "write the logs as this log shipper archives them (`KIND`: filebeat, logstash-plain, logstash-json, fluent-bit, fluent-bit-gelf, fluentd, vector, otlp-json) instead of the raw files")
	multiline := fs.Bool("multiline", false, "with --shipper: the shipper has a multiline rule (one event per entry, stack trace included)")
	shipperHost := fs.String("shipper-host", ship.DefaultHost, "with --shipper: the `HOST` name the shipper runs on")
	fs.Usage = func() {
		fmt.Fprint(stderr, generateUsage)
		cliusage.PrintDefaults(fs)
	}
	if err := cliusage.Parse(fs, args, "replay generate", stderr, fs.Usage); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if *out == "" {
		fmt.Fprintln(stderr, "replay generate: --out DIR is required")
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "replay generate: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	cfg := loggen.Config{
		Seed: *seed, Mailboxes: *mailboxes, Tenants: *tenants, Dirty: *dirty, Disorder: *disorder, Wording: *wording,
		Duration: time.Duration(*hours * float64(time.Hour)),
	}
	var scfg *ship.Config
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *shipper == "" {
		if set["multiline"] || set["shipper-host"] {
			fmt.Fprintln(stderr, "replay generate: --multiline and --shipper-host need --shipper")
			return exitUsage
		}
	} else {
		kind, err := ship.ParseKind(*shipper)
		if err != nil {
			fmt.Fprintf(stderr, "replay generate: --shipper: %v\n", err)
			return exitUsage
		}
		if kind.ArchiveFile() == "" {
			fmt.Fprintf(stderr, "replay generate: --shipper %s: its Kafka values are binary protobuf, which kcat prints without a separator: no archive file to write (use otlp-json, or produce otlp-proto to Kafka with pipeline/loggen/ship)\n", kind)
			return exitUsage
		}
		scfg = &ship.Config{Kind: kind, Host: *shipperHost, Multiline: *multiline, Seed: *seed}
		if err := scfg.Validate(); err != nil {
			fmt.Fprintf(stderr, "replay generate: %v\n", err)
			return exitUsage
		}
	}
	start := time.Now()
	var st loggen.Stats
	var err error
	note := ""
	if scfg == nil {
		st, err = loggen.WriteDir(*out, cfg)
	} else {
		var msgs, records int
		st, msgs, records, err = writeShipped(*out, cfg, *scfg)
		note = fmt.Sprintf(", shipped by %s into %s (%d events in %d lines)", scfg.Kind, filepath.Join(*out, scfg.Kind.ArchiveFile()), records, msgs)
	}
	if err != nil {
		fmt.Fprintf(stderr, "replay generate: %v\n", err)
		if errors.Is(err, loggen.ErrInvalidConfig) {
			return exitUsage
		}
		return exitFail
	}
	total := 0
	for _, n := range st.Lines {
		total += n
	}
	fmt.Fprintf(stdout, "wrote %s: %d lines%s, %d runs, %d true incidents (%d sync errors, %d sync issues), dirt: %d duplicates, %d bad, %d out of order, in %s\n",
		*out, total, note, st.Runs, st.Episodes, st.ByKind["sync_error"], st.ByKind["sync_issue"], st.Dup, st.Bad, st.Delayed, time.Since(start).Round(time.Millisecond))
	return exitOK
}

// writeShipped writes the corpus cfg describes into dir as scfg's shipper
// archives it (scfg.Kind.ArchiveFile(): one message value per line), with
// the truth and manifest WriteDir writes. It returns the corpus's stats,
// the lines written and the log events they hold.
func writeShipped(dir string, cfg loggen.Config, scfg ship.Config) (st loggen.Stats, msgs, records int, err error) {
	if err := cfg.Validate(); err != nil {
		return st, 0, 0, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return st, 0, 0, fmt.Errorf("creating corpus dir: %w", err)
	}
	// The truth and the manifest, exactly as WriteDir writes them: from a
	// WriteDir into a hidden directory (replay skips it, should it stay),
	// whose raw logs are then dropped.
	tmp, err := os.MkdirTemp(dir, ".generate-")
	if err != nil {
		return st, 0, 0, fmt.Errorf("creating temporary dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	if _, err := loggen.WriteDir(tmp, cfg); err != nil {
		return st, 0, 0, err
	}
	for _, name := range []string{loggen.TruthFile, loggen.ManifestFile} {
		if err := os.Rename(filepath.Join(tmp, name), filepath.Join(dir, name)); err != nil {
			return st, 0, 0, fmt.Errorf("moving %s: %w", name, err)
		}
	}
	f, err := os.Create(filepath.Join(dir, scfg.Kind.ArchiveFile()))
	if err != nil {
		return st, 0, 0, fmt.Errorf("creating archive: %w", err)
	}
	w := bufio.NewWriterSize(f, 256*1024)
	_, st, err = ship.Generate(cfg, scfg, func(m ship.Message) error {
		msgs++
		records += m.Records
		w.Write(m.Value)
		return w.WriteByte('\n')
	})
	if err := multierror.Append(err, w.Flush(), f.Close()).ErrorOrNil(); err != nil {
		return st, msgs, records, fmt.Errorf("writing %s: %w", scfg.Kind.ArchiveFile(), err)
	}
	return st, msgs, records, nil
}
