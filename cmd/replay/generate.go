package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
)

const generateUsage = `replay generate: write a generated corpus of the three producers' logs.

Writes exchange.log, engine.log, c4cc.jsonl, incidents.truth.jsonl (the
incidents a correct pipeline reports, one JSON object per line) and
manifest.json into --out. The same seed gives the same bytes. Use it for
demos, load tests, and to score a pipeline:

  replay generate --out /tmp/corpus --mailboxes 100 --hours 48 --dirty
  replay /tmp/corpus > events.jsonl

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
	wording := fs.Int("wording", 0, "0: the knowledge base's wording; 1: an alternative paraphrase of every message")
	fs.Usage = func() {
		fmt.Fprint(stderr, generateUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if *out == "" {
		fmt.Fprintln(stderr, "replay generate: --out DIR is required")
		return exitUsage
	}
	cfg := loggen.Config{
		Seed: *seed, Mailboxes: *mailboxes, Tenants: *tenants, Dirty: *dirty, Wording: *wording,
		Duration: time.Duration(*hours * float64(time.Hour)),
	}
	start := time.Now()
	st, err := loggen.WriteDir(*out, cfg)
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
	fmt.Fprintf(stdout, "wrote %s: %d lines, %d runs, %d true incidents (%d sync errors, %d sync issues), dirt: %d duplicates, %d bad, in %s\n",
		*out, total, st.Runs, st.Episodes, st.ByKind["sync_error"], st.ByKind["sync_issue"], st.Dup, st.Bad, time.Since(start).Round(time.Millisecond))
	return exitOK
}
