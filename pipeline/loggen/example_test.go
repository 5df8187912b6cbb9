package loggen_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
)

// ExampleWriteDir writes a small dirty corpus (the three producers' logs,
// the truth and a manifest) into a directory, as replay tests and
// `ingest --demo` use it.
func ExampleWriteDir() {
	dir, err := os.MkdirTemp("", "corpus")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	st, err := loggen.WriteDir(dir, loggen.Config{Seed: 1, Mailboxes: 8, Duration: 6 * time.Hour, Dirty: true})
	if err != nil {
		log.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, n := range names {
		fmt.Println(filepath.Base(n))
	}
	f, err := os.Open(filepath.Join(dir, loggen.TruthFile))
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	truth, err := loggen.ReadTruth(f)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(truth) == st.Episodes, st.Runs > 0, st.Dup > 0)
	// Output:
	// c4cc.jsonl
	// engine.log
	// exchange.log
	// incidents.truth.jsonl
	// manifest.json
	// true true true
}
