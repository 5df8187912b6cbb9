package parse

import (
	"hash/maphash"
	"sync/atomic"
)

// The intern cache: attribute keys, which repeat from entry to entry and
// are not always a plain substring of it ("http." + a JSON key), are
// looked up here instead of being allocated for every entry. (Field values
// such as tenant, mailbox or run id are substrings of the entry's one
// string copy, which costs nothing; whoever keeps one long, as the
// detection engine does for a mailbox, clones it.)
//
// It is a direct-mapped table of internSlots slots indexed by a hash of the
// bytes: a hit costs a hash and a compare and allocates nothing; a miss
// allocates the string and replaces whatever the slot held. The table never
// grows (bounded memory: internSlots strings of at most internMaxLen bytes)
// and needs no lock: slots are atomic pointers, so concurrent parsers at
// worst overwrite each other's entries.
const (
	internSlots  = 4096 // power of two
	internMaxLen = 96   // longer strings are not interned
)

var (
	internSeed  = maphash.MakeSeed()
	internTable [internSlots]atomic.Pointer[string]
)

// internBytes returns b as a string, from the intern cache when it is there.
func internBytes(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > internMaxLen {
		return string(b)
	}
	slot := &internTable[maphash.Bytes(internSeed, b)&(internSlots-1)]
	if p := slot.Load(); p != nil && *p == string(b) {
		return *p
	}
	s := string(b)
	slot.Store(&s)
	return s
}
