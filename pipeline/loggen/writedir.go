package loggen

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-multierror"

	"github.com/syncwatch/syncwatch/schemas"
)

// File names WriteDir uses, as in the samples.
const (
	ExchangeFile = "exchange.log"
	EngineFile   = "engine.log"
	C4CCFile     = "c4cc.jsonl"
	TruthFile    = "incidents.truth.jsonl"
	ManifestFile = "manifest.json"
)

// FileFor returns the file WriteDir writes producer p's entries to ("" for
// an unknown producer).
func FileFor(p schemas.Producer) string {
	switch p {
	case schemas.ProducerExchange:
		return ExchangeFile
	case schemas.ProducerEngine:
		return EngineFile
	case schemas.ProducerC4CC:
		return C4CCFile
	}
	return ""
}

// manifest is the content of manifest.json: the corpus's config and
// counts, like the samples' (plus tenants, wording, by_class, foreign).
type manifest struct {
	Seed          int64          `json:"seed"`
	Mailboxes     int            `json:"mailboxes"`
	Tenants       int            `json:"tenants"`
	Start         string         `json:"start"`
	Hours         float64        `json:"hours"`
	Hidden        bool           `json:"hidden"`
	Dirty         bool           `json:"dirty"`
	Wording       int            `json:"wording"`
	Runs          int            `json:"runs"`
	Lines         map[string]int `json:"lines"`
	TruthEpisodes int            `json:"truth_episodes"`
	ByKind        map[string]int `json:"by_kind"`
	ByClass       map[string]int `json:"by_class"`
	Dirt          manifestDirt   `json:"dirt"`
}

// manifestDirt counts the dirt of a corpus.
type manifestDirt struct {
	Dup     int `json:"dup"`
	Bad     int `json:"bad"`
	Foreign int `json:"foreign"`
}

// WriteDir generates the corpus cfg describes into dir (created if
// missing): exchange.log, engine.log, c4cc.jsonl (one entry per line,
// "\n"-terminated), incidents.truth.jsonl and manifest.json. Existing
// files of those names are replaced. It blocks until everything is
// written; errors are ErrInvalidConfig or I/O errors, wrapped.
func WriteDir(dir string, cfg Config) (Stats, error) {
	if err := cfg.Validate(); err != nil {
		return Stats{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Stats{}, fmt.Errorf("creating corpus dir: %w", err)
	}
	var files [schemas.NumProducers]*os.File
	var ws [schemas.NumProducers]*bufio.Writer
	closeAll := func() error {
		var errs *multierror.Error
		for p, f := range files {
			if f == nil {
				continue
			}
			errs = multierror.Append(errs, ws[p].Flush(), f.Close())
			files[p] = nil
		}
		return errs.ErrorOrNil()
	}
	defer closeAll()
	for p := schemas.ProducerExchange; p <= schemas.ProducerC4CC; p++ {
		f, err := os.Create(filepath.Join(dir, FileFor(p)))
		if err != nil {
			return Stats{}, fmt.Errorf("creating log file: %w", err)
		}
		files[p], ws[p] = f, bufio.NewWriterSize(f, 256*1024)
	}
	truth, st, err := Generate(cfg, func(e Entry) error {
		w := ws[e.Producer]
		w.Write(e.Raw)
		return w.WriteByte('\n')
	})
	if err != nil {
		return st, err
	}
	if err := closeAll(); err != nil {
		return st, fmt.Errorf("writing log files: %w", err)
	}
	if err := writeFile(filepath.Join(dir, TruthFile), func(w *bufio.Writer) error { return writeTruth(w, truth) }); err != nil {
		return st, err
	}
	m := manifest{
		Seed: cfg.seed(), Mailboxes: cfg.mailboxes(), Tenants: cfg.tenants(),
		Start: cfg.start().Format(truthTimeLayout), Hours: cfg.duration().Hours(),
		Dirty: cfg.Dirty, Wording: cfg.Wording, Runs: st.Runs,
		Lines: map[string]int{
			ExchangeFile: st.Lines[schemas.ProducerExchange],
			EngineFile:   st.Lines[schemas.ProducerEngine],
			C4CCFile:     st.Lines[schemas.ProducerC4CC],
		},
		TruthEpisodes: st.Episodes, ByKind: st.ByKind, ByClass: st.ByClass,
		Dirt: manifestDirt{Dup: st.Dup, Bad: st.Bad, Foreign: st.Foreign},
	}
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return st, fmt.Errorf("encoding manifest: %w", err)
	}
	if err := writeFile(filepath.Join(dir, ManifestFile), func(w *bufio.Writer) error {
		w.Write(b)
		return w.WriteByte('\n')
	}); err != nil {
		return st, err
	}
	return st, nil
}

// writeFile creates path and lets fill write it through a buffer; the
// error combines those of filling, flushing and closing.
func writeFile(path string, fill func(*bufio.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Base(path), err)
	}
	w := bufio.NewWriter(f)
	if err := multierror.Append(nil, fill(w), w.Flush(), f.Close()).ErrorOrNil(); err != nil {
		return fmt.Errorf("writing %s: %w", filepath.Base(path), err)
	}
	return nil
}
