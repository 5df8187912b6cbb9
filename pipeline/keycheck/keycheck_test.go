package keycheck

import (
	"fmt"
	"testing"
)

// TestKeyCheck: the first mailbox on two partition numbers is reported
// once; the same partition number in another topic is no split; sources
// that are not Kafka partitions (files) are not checked.
func TestKeyCheck(t *testing.T) {
	k := New()
	steps := []struct {
		source, mailbox string
		first           bool
		split           int
	}{
		{"sync.engine/0", "a@x", false, 0},
		{"sync.c4cc-connector/0", "a@x", false, 0}, // co-partitioned: same number
		{"sync.engine/1", "b@x", false, 0},
		{"sync.engine/2", "a@x", true, 1},
		{"sync.engine/1", "a@x", false, 1}, // already split
		{"sync.engine/0", "b@x", false, 2},
		{"exchange.log", "c@x", false, 2},
		{"other.log", "c@x", false, 2},
	}
	for i, s := range steps {
		require := func(ok bool, what string) {
			if !ok {
				t.Fatalf("step %d (%s %s): %s", i, s.source, s.mailbox, what)
			}
		}
		require(k.Observe(s.source, "t-1", s.mailbox) == s.first, "first split")
		require(k.Split() == s.split, fmt.Sprintf("split count %d", k.Split()))
	}
	if m := k.First(); m.Mailbox != "a@x" || m.Partitions != [2]int{0, 2} {
		t.Fatalf("first split: %+v", m)
	}
}

// BenchmarkKeyCheck is the cost per record of checking keys in a live
// consumer: 10,000 mailboxes, each on its own partition.
func BenchmarkKeyCheck(b *testing.B) {
	k := New()
	mailboxes := make([]string, 10000)
	for i := range mailboxes {
		mailboxes[i] = fmt.Sprintf("user%d@contoso.com", i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k.Observe("sync.engine/3", "t-1042", mailboxes[i%len(mailboxes)])
		i++
	}
}
