package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/hashicorp/go-multierror"
	"gopkg.in/yaml.v3"

	"github.com/syncwatch/syncwatch/cmd/internal/cliusage"
	"github.com/syncwatch/syncwatch/detectors"
	"github.com/syncwatch/syncwatch/schemas"
)

const catalogCheckUsage = `replay catalog check: validate a user catalog and show what it matches.

Usage:
  replay catalog check FILE [--samples FILE]

FILE is merged over the embedded catalog, as --catalog does. Every problem
of the file is reported at once (exit status 1). For a valid file, each
match list of the file's classes (its terms joined by spaces) is a sample
message, and so is each non-blank line of --samples. Every sample is
matched against every class of the merged catalog; for each class the
samples it matches are listed, and samples that match no class, more than
one class, or (for a match list) not their own class are flagged (exit
status 3; 0 when nothing is flagged).

Flags:
`

// sample is a message a catalog check matches against the classes.
type sample struct {
	text  string
	from  string // "match[1] of CLASS" or "FILE:LINE"
	class string // the class whose match list it is, if any
}

func (s sample) String() string { return strconv.Quote(s.text) + " (" + s.from + ")" }

func runCatalogCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("replay catalog check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	samplesFile := fs.String("samples", "", "sample messages, one per line, to match besides the file's match lists")
	fs.Usage = func() {
		fmt.Fprint(stderr, catalogCheckUsage)
		cliusage.PrintDefaults(fs)
	}
	// FILE may come before or after the flags.
	if err := cliusage.Parse(fs, args, "replay catalog check", stderr, fs.Usage); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	rest := fs.Args()
	if len(rest) == 0 {
		fmt.Fprintln(stderr, "replay catalog check: give the catalog FILE (replay catalog check --help)")
		return exitUsage
	}
	file := rest[0]
	if err := cliusage.Parse(fs, rest[1:], "replay catalog check", stderr, fs.Usage); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "replay catalog check: one catalog FILE, not %d\n", fs.NArg()+1)
		return exitUsage
	}

	cat, err := detectors.LoadCatalog(file)
	if err != nil {
		problems := catalogProblems(err)
		fmt.Fprintf(stdout, "catalog %s: invalid, %d problem(s):\n", file, len(problems))
		for _, p := range problems {
			fmt.Fprintf(stdout, "  %s\n", p)
		}
		return exitUsage
	}
	own, err := fileClasses(file)
	if err != nil {
		fmt.Fprintf(stderr, "replay catalog check: %v\n", err)
		return exitUsage
	}
	var samples []sample
	embedded := map[string]bool{}
	if base, err := detectors.DefaultCatalog(); err == nil {
		for _, e := range base.Entries() {
			embedded[e.Class] = true
		}
	}
	replaced := 0
	for _, e := range own {
		if embedded[e.Class] {
			replaced++
		}
		for j, terms := range e.Match {
			samples = append(samples, sample{text: strings.Join(terms, " "), from: fmt.Sprintf("match[%d] of %s", j, e.Class), class: e.Class})
		}
	}
	fromLists := len(samples)
	if *samplesFile != "" {
		more, err := readSamples(*samplesFile)
		if err != nil {
			fmt.Fprintf(stderr, "replay catalog check: %v\n", err)
			return exitUsage
		}
		samples = append(samples, more...)
	}

	entries := cat.Entries()
	fmt.Fprintf(stdout, "catalog %s: valid, %d classes (%d in the file: %d new, %d replacing embedded ones)\n",
		file, len(entries), len(own), len(own)-replaced, replaced)
	fmt.Fprintf(stdout, "samples: %d (%d from the file's match lists, %d from --samples)\n", len(samples), fromLists, len(samples)-fromLists)

	// matches[i] are the classes sample i matches, in catalog order.
	matches := make([][]string, len(samples))
	inFile := map[string]bool{}
	for _, e := range own {
		inFile[e.Class] = true
	}
	for _, e := range entries {
		one, err := singleClass(e)
		if err != nil {
			fmt.Fprintf(stderr, "replay catalog check: %v\n", err)
			return exitFail
		}
		var hit []sample
		for i, s := range samples {
			if _, ok := one.Match(schemas.ProducerUnknown, 0, s.text); ok {
				matches[i] = append(matches[i], e.Class)
				hit = append(hit, s)
			}
		}
		if len(hit) == 0 && !inFile[e.Class] {
			continue // an embedded class nothing here concerns
		}
		origin := "embedded"
		switch {
		case inFile[e.Class] && embedded[e.Class]:
			origin = "replaced"
		case inFile[e.Class]:
			origin = "new"
		}
		scope := e.Scope
		if scope == "" {
			scope = "run"
		}
		fmt.Fprintf(stdout, "\n%s (%s, scope=%s): %d sample(s)\n", e.Class, origin, scope, len(hit))
		for _, s := range hit {
			fmt.Fprintf(stdout, "  %s\n", s)
		}
	}

	var flagged []string
	for i, s := range samples {
		best := ""
		if sig, ok := cat.Match(schemas.ProducerUnknown, 0, s.text); ok {
			best = sig.Class
		}
		switch m := matches[i]; {
		case len(m) == 0:
			flagged = append(flagged, fmt.Sprintf("sample %s matches no class", s))
		case len(m) > 1:
			flagged = append(flagged, fmt.Sprintf("sample %s matches %d classes: %s; detection reports %s", s, len(m), strings.Join(m, ", "), best))
		}
		if s.class != "" && best != s.class {
			flagged = append(flagged, fmt.Sprintf("sample %s is reported as %s, not as its own class", s, orNone(best)))
		}
	}
	if len(flagged) == 0 {
		fmt.Fprintln(stdout, "\nno sample flagged")
		return exitOK
	}
	fmt.Fprintf(stdout, "\nflagged (%d):\n", len(flagged))
	for _, f := range flagged {
		fmt.Fprintf(stdout, "  %s\n", f)
	}
	return exitDiff
}

func orNone(s string) string {
	if s == "" {
		return "(no class)"
	}
	return s
}

// catalogProblems splits a LoadCatalog error into its problems, one line
// each: a compile error holds them all (multierror); a decoding error is
// one problem, or a header ending in ":" and one problem per line after it
// (yaml's "unmarshal errors:").
func catalogProblems(err error) []string {
	var me *multierror.Error
	if errors.As(err, &me) {
		out := make([]string, 0, len(me.Errors))
		for _, e := range me.Errors {
			out = append(out, e.Error())
		}
		return out
	}
	var lines []string
	for l := range strings.SplitSeq(err.Error(), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) < 2 || !strings.HasSuffix(lines[0], ":") {
		return []string{strings.Join(lines, " ")}
	}
	out := make([]string, 0, len(lines)-1)
	for _, l := range lines[1:] {
		out = append(out, lines[0]+" "+l)
	}
	return out
}

// fileClasses decodes the classes of a catalog file that LoadCatalog
// accepted.
func fileClasses(path string) ([]detectors.Entry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading catalog: %w", err)
	}
	var f struct {
		Classes []detectors.Entry `yaml:"classes"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("decoding catalog %s: %w", path, err)
	}
	return f.Classes, nil
}

// singleClass compiles a catalog of e alone, to ask whether e matches a
// message whichever class would win in the whole catalog.
func singleClass(e detectors.Entry) (*detectors.Catalog, error) {
	b, err := yaml.Marshal(map[string]any{"version": 1, "classes": []detectors.Entry{e}})
	if err != nil {
		return nil, fmt.Errorf("encoding class %s: %w", e.Class, err)
	}
	c, err := detectors.ParseCatalog(b)
	if err != nil {
		return nil, fmt.Errorf("compiling class %s: %w", e.Class, err)
	}
	return c, nil
}

// readSamples reads one sample message per non-blank line.
func readSamples(path string) ([]sample, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening samples: %w", err)
	}
	defer f.Close()
	var out []sample
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		if t := strings.TrimSpace(sc.Text()); t != "" {
			out = append(out, sample{text: t, from: path + ":" + strconv.Itoa(n)})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading samples %s: %w", path, err)
	}
	return out, nil
}
