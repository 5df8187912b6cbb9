package detectors

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/go-multierror"
	"gopkg.in/yaml.v3"

	"github.com/syncwatch/syncwatch/schemas"
	"github.com/syncwatch/syncwatch/schemas/didyoumean"
	"github.com/syncwatch/syncwatch/schemas/redact"
)

//go:embed catalog.yaml
var defaultCatalogYAML []byte

// Entry is one class of the catalog, as the YAML file spells it. A catalog
// is checked as it is compiled (ParseCatalog, LoadCatalog): every problem
// of every entry is reported at once, each naming its entry and field.
type Entry struct {
	// Class is the stable class id that incident events carry, e.g.
	// "exchange.auth.password". Required, unique within the catalog; the
	// classes of unmatched messages ("unknown", "record.unknown") are
	// reserved.
	Class string `yaml:"class"`
	// Scope is "total", "run" or "record" (see Scope).
	//
	// Default: "run"
	Scope string `yaml:"scope"`
	// Producers restricts the HTTPStatus match to these producers
	// (ExchangeConnector, SyncEngine, C4CCConnector).
	//
	// Default: any producer
	Producers []string `yaml:"producers,omitempty"`
	// Title names the failure in events. Required.
	Title string `yaml:"title"`
	// Remediation is what to do about it, from the knowledge base: free
	// text, possibly empty.
	Remediation string `yaml:"remediation"`
	// Severity overrides the kind's severity in events: "critical",
	// "warning" or "info".
	//
	// Default: critical for a sync error, warning for a sync issue
	Severity string `yaml:"severity,omitempty"`
	// Match lists the term lists that match a message: every term of one
	// list must occur in it, after normalization. Neither a list nor a
	// term may be empty; an entry needs Match or HTTPStatus.
	Match [][]string `yaml:"match"`
	// Not lists terms that veto a match when any occurs in the message.
	// A term may not be empty.
	Not []string `yaml:"not,omitempty"`
	// HTTPStatus lists HTTP statuses (100-599) that match a record of one
	// of Producers when no text matches.
	HTTPStatus []int `yaml:"http_status,omitempty"`
	// Extract names the details to extract: snapshot_figures,
	// http_status, url, organization, server, record_type, field.
	Extract []string `yaml:"extract,omitempty"`
}

// catalogFile is the YAML document.
type catalogFile struct {
	Version int     `yaml:"version"`
	Classes []Entry `yaml:"classes"`
	lines   []int   // the line of each class, when decoded from a file
}

// Catalog is a compiled set of entries. It is immutable and safe for
// concurrent use.
type Catalog struct {
	entries []compiled
}

type compiled struct {
	Entry
	scope     Scope
	producers []schemas.Producer
	match     [][]string // normalized terms
	not       []string
	extract   []string
}

var knownExtractors = map[string]bool{
	"snapshot_figures": true, "http_status": true, "url": true,
	"organization": true, "server": true, "record_type": true, "field": true,
}

// DefaultCatalog compiles the embedded catalog.
func DefaultCatalog() (*Catalog, error) {
	return ParseCatalog(defaultCatalogYAML)
}

// LoadCatalog reads a user catalog file and merges it over the embedded
// one: an entry whose class exists replaces it, new classes are added.
// Every problem in the file is reported at once.
func LoadCatalog(path string) (*Catalog, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening catalog: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("reading catalog %s: %w", path, err)
	}
	user, problems, err := decodeCatalogFile(b, path)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", path, err)
	}
	// the file's entries on their own, also when its keys or version are
	// wrong: every problem at once, each naming its line
	if _, err := compileEntries(user.Classes, user.where(path)); err != nil {
		problems = multierror.Append(problems, err)
	}
	if problems.ErrorOrNil() != nil {
		sortByLine(problems.Errors, path)
		return nil, fmt.Errorf("catalog %s: %w", path, problems)
	}
	base, err := decodeCatalog(defaultCatalogYAML)
	if err != nil {
		return nil, err
	}
	merged := mergeEntries(base.Classes, user.Classes)
	c, err := compileCatalog(merged)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", path, err)
	}
	return c, nil
}

// ParseCatalog compiles a catalog document on its own (no merge).
func ParseCatalog(b []byte) (*Catalog, error) {
	f, err := decodeCatalog(b)
	if err != nil {
		return nil, err
	}
	return compileEntries(f.Classes, f.where(""))
}

func decodeCatalog(b []byte) (catalogFile, error) {
	f, problems, err := decodeCatalogFile(b, "")
	if err == nil {
		err = problems.ErrorOrNil()
	}
	if err != nil {
		return f, fmt.Errorf("decoding catalog: %w", err)
	}
	return f, nil
}

// catalogKeys are the keys a catalog file may hold, top level and per
// entry (Entry's yaml tags).
var catalogKeys = struct{ top, entry []string }{
	top:   []string{"version", "classes"},
	entry: []string{"class", "scope", "producers", "title", "remediation", "severity", "match", "not", "http_status", "extract"},
}

// decodeCatalogFile decodes a catalog document as far as it can. Its
// problems are reported all at once, as "name:line: ..." (or "line N:
// ..." without a name): keys that do not exist (with the key meant, when
// one is close), a missing or unsupported version, values of the wrong
// type, a class defined twice. err is for a document that is not YAML or
// not a mapping: nothing could be decoded.
func decodeCatalogFile(b []byte, name string) (f catalogFile, problems *multierror.Error, err error) {
	at := func(line int) string {
		if name == "" {
			return fmt.Sprintf("line %d", line)
		}
		return fmt.Sprintf("%s:%d", name, line)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return f, nil, err
	}
	var errs *multierror.Error
	add := func(line int, format string, args ...any) {
		errs = multierror.Append(errs, fmt.Errorf("%s: %s", at(line), fmt.Sprintf(format, args...)))
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return f, nil, fmt.Errorf("%s: want a mapping with version: 1 and classes:", at(max(doc.Line, 1)))
	}
	top := doc.Content[0]
	checkKeys(top, catalogKeys.top, add)
	version := mapValue(top, "version")
	switch {
	case version == nil:
		add(top.Line, "version: missing (want version: 1)")
	case version.Value != "1":
		add(version.Line, "version %s not supported (want 1)", version.Value)
	}
	if classes := mapValue(top, "classes"); classes != nil && classes.Kind == yaml.SequenceNode {
		first := map[string]int{}
		for _, e := range classes.Content {
			f.lines = append(f.lines, e.Line)
			if e.Kind != yaml.MappingNode {
				add(e.Line, "a class: want a mapping of class:, scope:, title:, match: ...")
				continue
			}
			checkKeys(e, catalogKeys.entry, add)
			if c := mapValue(e, "class"); c != nil && c.Value != "" {
				if line, dup := first[c.Value]; dup {
					add(c.Line, "class %s: defined twice (first at line %d)", c.Value, line)
				} else {
					first[c.Value] = c.Line
				}
			}
		}
	}
	// Values: yaml's own errors name their lines ("line 12: cannot
	// unmarshal !!str `abc` into int").
	if err := doc.Decode(&f); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			prefix := "line " // yaml writes "line 12: cannot unmarshal ..."
			if name != "" {
				prefix = name + ":"
			}
			for _, e := range te.Errors {
				errs = multierror.Append(errs, errors.New(strings.Replace(e, "line ", prefix, 1)))
			}
		} else {
			errs = multierror.Append(errs, err)
		}
	}
	return f, errs, nil
}

// sortByLine orders problems "name:line: ..." by line, keeping the order
// of those on one line.
func sortByLine(problems []error, name string) {
	line := func(e error) int {
		rest, ok := strings.CutPrefix(e.Error(), name+":")
		if !ok {
			return 0
		}
		n, _ := strconv.Atoi(rest[:max(strings.IndexByte(rest, ':'), 0)])
		return n
	}
	slices.SortStableFunc(problems, func(a, b error) int { return line(a) - line(b) })
}

// mapValue is the value of key in the mapping n, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// checkKeys reports the keys of mapping n that are not in known, naming
// the key meant when one is a small edit away.
func checkKeys(n *yaml.Node, known []string, add func(line int, format string, args ...any)) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if slices.Contains(known, k.Value) {
			continue
		}
		if best := didyoumean.Nearest(k.Value, known); best != "" {
			add(k.Line, "unknown key %q (did you mean %q?)", k.Value, best)
		} else {
			add(k.Line, "unknown key %q (want one of %s)", k.Value, strings.Join(known, ", "))
		}
	}
}

func mergeEntries(base, user []Entry) []Entry {
	out := append([]Entry(nil), base...)
	idx := map[string]int{}
	for i, e := range out {
		idx[e.Class] = i
	}
	for _, e := range user {
		if i, ok := idx[e.Class]; ok {
			out[i] = e
			continue
		}
		idx[e.Class] = len(out)
		out = append(out, e)
	}
	return out
}

// where names entry i of the file for its problems: "name:line: class X"
// (or "line N: class X"), "classes[i] (X)" when its line is not known.
func (f *catalogFile) where(name string) func(i int, e Entry) string {
	return func(i int, e Entry) string {
		if i >= len(f.lines) {
			return fmt.Sprintf("classes[%d] (%s)", i, e.Class)
		}
		what := "class " + e.Class
		if e.Class == "" {
			what = "an entry"
		}
		if name == "" {
			return fmt.Sprintf("line %d: %s", f.lines[i], what)
		}
		return fmt.Sprintf("%s:%d: %s", name, f.lines[i], what)
	}
}

func compileCatalog(entries []Entry) (*Catalog, error) {
	return compileEntries(entries, func(i int, e Entry) string { return fmt.Sprintf("classes[%d] (%s)", i, e.Class) })
}

// compileEntries compiles entries, naming each entry's problems with at.
func compileEntries(entries []Entry, at func(i int, e Entry) string) (*Catalog, error) {
	var errs *multierror.Error
	c := &Catalog{}
	for i, e := range entries {
		where := at(i, e)
		if e.Class == "" {
			errs = multierror.Append(errs, fmt.Errorf("%s: class: must not be empty", where))
		}
		if e.Class == classUnknown || e.Class == classRecordUnknown {
			errs = multierror.Append(errs, fmt.Errorf("%s: class: %q is reserved for unmatched messages", where, e.Class))
		}
		sc, err := parseScope(e.Scope)
		if err != nil {
			errs = multierror.Append(errs, fmt.Errorf("%s: scope: %w", where, err))
		}
		ce := compiled{Entry: e, scope: sc}
		for _, p := range e.Producers {
			pp, ok := schemas.ParseProducer(p)
			if !ok {
				errs = multierror.Append(errs, fmt.Errorf("%s: producers: unknown producer %q (want ExchangeConnector, SyncEngine or C4CCConnector)", where, p))
				continue
			}
			ce.producers = append(ce.producers, pp)
		}
		if len(e.Match) == 0 && len(e.HTTPStatus) == 0 {
			errs = multierror.Append(errs, fmt.Errorf("%s: match: needs at least one term list or an http_status", where))
		}
		for j, terms := range e.Match {
			if len(terms) == 0 {
				errs = multierror.Append(errs, fmt.Errorf("%s: match[%d]: empty term list", where, j))
			}
			var nt []string
			for _, t := range terms {
				n := normalizeText(t)
				if n == "" {
					errs = multierror.Append(errs, fmt.Errorf("%s: match[%d]: empty term", where, j))
					continue
				}
				nt = append(nt, n)
			}
			if len(nt) > 0 {
				ce.match = append(ce.match, nt)
			}
		}
		for j, t := range e.Not {
			n := normalizeText(t)
			if n == "" {
				errs = multierror.Append(errs, fmt.Errorf("%s: not[%d]: empty term", where, j))
				continue
			}
			ce.not = append(ce.not, n)
		}
		for j, st := range e.HTTPStatus {
			if st < 100 || st > 599 {
				errs = multierror.Append(errs, fmt.Errorf("%s: http_status[%d]: %d is not an HTTP status (want 100-599)", where, j, st))
			}
		}
		for _, x := range e.Extract {
			if !knownExtractors[x] {
				errs = multierror.Append(errs, fmt.Errorf("%s: extract: unknown extractor %q", where, x))
			}
		}
		ce.extract = e.Extract
		if e.Severity != "" && e.Severity != schemas.SeverityCritical && e.Severity != schemas.SeverityWarning && e.Severity != "info" {
			errs = multierror.Append(errs, fmt.Errorf("%s: severity: %q (want critical, warning or info)", where, e.Severity))
		}
		if e.Title == "" {
			errs = multierror.Append(errs, fmt.Errorf("%s: title: must not be empty", where))
		}
		c.entries = append(c.entries, ce)
	}
	if err := errs.ErrorOrNil(); err != nil {
		return nil, err
	}
	return c, nil
}

// Entries returns the catalog's entries, in file order.
func (c *Catalog) Entries() []Entry {
	out := make([]Entry, len(c.entries))
	for i, e := range c.entries {
		out[i] = e.Entry
	}
	return out
}

// YAML renders the catalog as a file that --catalog accepts as it is:
// the embedded catalog's comments on the format, then every entry. It is
// the starting point for a user's own catalog.
func (c *Catalog) YAML() ([]byte, error) {
	var b bytes.Buffer
	for _, line := range strings.SplitAfter(string(defaultCatalogYAML), "\n") {
		if !strings.HasPrefix(line, "#") {
			break
		}
		b.WriteString(line)
	}
	b.WriteString("#\n# Written by `replay catalog --yaml`: the active catalog, every entry.\n")
	var doc yaml.Node
	if err := doc.Encode(catalogFile{Version: 1, Classes: c.Entries()}); err != nil {
		return nil, fmt.Errorf("encoding catalog: %w", err)
	}
	flowLists(&doc)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("encoding catalog: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encoding catalog: %w", err)
	}
	return b.Bytes(), nil
}

// flowLists writes lists of scalars in flow style ([a, b]), as the
// embedded catalog is written.
func flowLists(n *yaml.Node) {
	if n.Kind == yaml.SequenceNode {
		flow := len(n.Content) > 0
		for _, c := range n.Content {
			flow = flow && c.Kind == yaml.ScalarNode
		}
		if flow {
			n.Style = yaml.FlowStyle
		}
	}
	for _, c := range n.Content {
		flowLists(c)
	}
}

// Match finds the catalog entry that best matches a message and, when no
// text matches, its HTTP status. It returns the signal and the length of
// the matched terms (0 for a status-only match).
func (c *Catalog) Match(producer schemas.Producer, status int, message string) (Signal, bool) {
	norm := normalizeText(message)
	best, bestScore := -1, 0
	for i := range c.entries {
		e := &c.entries[i]
		if containsAny(norm, e.not) {
			continue
		}
		score := 0
		for _, terms := range e.match {
			if s := matchAll(norm, terms); s > score {
				score = s
			}
		}
		if score == 0 && status != 0 && e.hasStatus(status) && e.fromProducer(producer) {
			score = 1 // a status match ranks below any text match
		}
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	if best < 0 {
		return Signal{}, false
	}
	e := &c.entries[best]
	sig := Signal{
		Class:       e.Class,
		Scope:       e.scope,
		Title:       e.Title,
		Remediation: strings.TrimSpace(e.Remediation),
		Severity:    e.Severity,
		Specificity: 100 + bestScore,
	}
	sig.Details = extractDetails(e.extract, status, message)
	return sig, true
}

func (e *compiled) hasStatus(s int) bool {
	for _, x := range e.HTTPStatus {
		if x == s {
			return true
		}
	}
	return false
}

func (e *compiled) fromProducer(p schemas.Producer) bool {
	if len(e.producers) == 0 {
		return true
	}
	for _, x := range e.producers {
		if x == p {
			return true
		}
	}
	return false
}

// matchAll returns the summed length of terms if all occur in norm, else 0.
func matchAll(norm string, terms []string) int {
	n := 0
	for _, t := range terms {
		if !containsTerm(norm, t) {
			return 0
		}
		n += len(t)
	}
	return n
}

func containsAny(norm string, terms []string) bool {
	for _, t := range terms {
		if containsTerm(norm, t) {
			return true
		}
	}
	return false
}

// containsTerm reports whether term occurs in norm; a term that starts or
// ends with a digit must not touch other digits there (so "404" does not
// match "14041").
func containsTerm(norm, term string) bool {
	from := 0
	for {
		i := strings.Index(norm[from:], term)
		if i < 0 {
			return false
		}
		i += from
		j := i + len(term)
		okL := i == 0 || !isDigit(term[0]) || !isDigit(norm[i-1])
		okR := j == len(norm) || !isDigit(term[len(term)-1]) || !isDigit(norm[j])
		if okL && okR {
			return true
		}
		from = i + 1
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// normalizeText lower-cases s and turns every run of characters that are
// not ASCII letters or digits into one space, trimmed. It is what wording
// tolerance rests on: case, punctuation, dashes and spacing don't matter.
func normalizeText(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := true // drop leading separators
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
			b.WriteByte(c)
			space = false
		case 'A' <= c && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
			space = false
		default:
			if !space {
				b.WriteByte(' ')
				space = true
			}
		}
	}
	out := b.String()
	return strings.TrimRight(out, " ")
}

// catalogDetector is the "catalog" detector.
type catalogDetector struct{ c *Catalog }

func (d catalogDetector) Name() string { return "catalog" }

func (d catalogDetector) Detect(rec *schemas.LogRecord) (Signal, bool) {
	sig, ok := d.c.Match(rec.Producer, rec.HTTPStatus, rec.Body)
	if !ok {
		return sig, false
	}
	if sig.Details == nil {
		sig.Details = map[string]any{}
	}
	for _, x := range d.c.extractorsOf(sig.Class) {
		switch x {
		case "record_type":
			if rec.RecordType != "" {
				sig.Details["record_type"] = rec.RecordType
			}
		case "url":
			if _, has := sig.Details["url"]; !has {
				if u := rec.Attributes.Get("http.url"); u != "" {
					sig.Details["url"] = redact.URL(u)
				}
			}
		case "http_status":
			if rec.HTTPStatus != 0 {
				sig.Details["http_status"] = rec.HTTPStatus
			}
		}
	}
	return sig, true
}

func (c *Catalog) extractorsOf(class string) []string {
	for i := range c.entries {
		if c.entries[i].Class == class {
			return c.entries[i].extract
		}
	}
	return nil
}

func init() {
	Register("catalog", Spec{
		Summary: "known errors of the knowledge base, matched tolerantly, with details extracted",
		Constructor: func(o Options) (Detector, error) {
			if o.Live != nil {
				if o.Live.Load() == nil {
					return nil, errNoLiveCatalog
				}
				return liveCatalogDetector{o.Live}, nil
			}
			if o.Catalog == nil {
				return nil, errNoCatalog
			}
			return catalogDetector{o.Catalog}, nil
		},
	})
}
