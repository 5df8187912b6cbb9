// Command kcatinput turns log files into kcat producer input for
// integration/bench.sh: one message per log entry (an ExchangeConnector
// entry keeps its stack-trace lines, as in Kafka), keyed by
// "tenant/mailbox" as the producers key them. Entries are split by
// parse.Scanner, the same splitter replay uses, so the topics hold
// exactly the entries replay reads from the files.
//
//	kcatinput FILE > FILE.kcat
//	kcat -P -b BROKER -t TOPIC -K $'\x1f' -D $'\x1e' -l FILE.kcat
//
// Output: key \x1f value \x1e per entry. It prints the entry count on
// stderr and fails on an entry it cannot key (the corpus is clean).
package main

import (
	"bufio"
	"fmt"
	"os"

	"github.com/syncwatch/syncwatch/pipeline/parse"
	"github.com/syncwatch/syncwatch/schemas"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: kcatinput FILE > FILE.kcat")
		os.Exit(1)
	}
	n, err := convert(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "kcatinput: %v\n", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "kcatinput: %s: %d entries\n", os.Args[1], n)
}

func convert(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	sc := parse.NewScanner(f, parse.DefaultMaxEntry)
	var rec schemas.LogRecord
	n := 0
	for sc.Scan() {
		e := sc.Entry()
		if err := parse.Entry(e, &rec); err != nil {
			return n, fmt.Errorf("line %d: keying entry: %w", sc.Line(), err)
		}
		w.WriteString(rec.Tenant)
		w.WriteByte('/')
		w.WriteString(rec.Mailbox)
		w.WriteByte(0x1f)
		w.Write(e)
		w.WriteByte(0x1e)
		n++
	}
	if err := sc.Err(); err != nil {
		return n, fmt.Errorf("reading %s: %w", path, err)
	}
	return n, w.Flush()
}
