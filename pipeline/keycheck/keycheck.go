// Package keycheck notices producers that do not key messages by
// tenant/mailbox: mailboxes whose entries come from more than one
// partition number.
package keycheck

import (
	"hash/maphash"
	"strconv"
	"strings"
	"sync"
)

// Check notices mailboxes whose entries come from more than one
// partition number. The co-partition balancer gives partition p of every
// log topic to one member, so a member sees all of a mailbox's logs only
// when producers key messages by tenant/mailbox with one partitioner;
// shippers send unkeyed messages (random or sticky partitions) or key by
// host by default. With one member that does no harm; with more, each
// member would judge a mailbox's runs from part of its logs.
type Check struct {
	seed maphash.Seed

	mu    sync.Mutex
	seen  map[uint64]int32    // hash of tenant/mailbox -> partition number
	split map[uint64]struct{} // mailboxes seen on more than one
	first Mailbox             // the first one seen, for the warning
}

// Mailbox is a mailbox seen on two partition numbers.
type Mailbox struct {
	Tenant, Mailbox string
	Partitions      [2]int
}

// maxMailboxes bounds the mailboxes a Check remembers: beyond it, new
// mailboxes are not checked (16 bytes each: 16 MB).
const maxMailboxes = 1 << 20

// New returns an empty Check.
func New() *Check {
	return &Check{seed: maphash.MakeSeed(), seen: map[uint64]int32{}, split: map[uint64]struct{}{}}
}

// Observe notes that a record of tenant/mailbox came from source
// ("topic/partition"). It reports whether this is the first mailbox seen
// on two partition numbers.
func (k *Check) Observe(source, tenant, mailbox string) (first bool) {
	if tenant == "" || mailbox == "" {
		return false
	}
	i := strings.LastIndexByte(source, '/')
	p, err := strconv.Atoi(source[i+1:])
	if err != nil {
		return false // not a Kafka partition
	}
	var h maphash.Hash
	h.SetSeed(k.seed)
	h.WriteString(tenant)
	h.WriteByte(0)
	h.WriteString(mailbox)
	key := h.Sum64()
	k.mu.Lock()
	defer k.mu.Unlock()
	prev, ok := k.seen[key]
	switch {
	case !ok:
		if len(k.seen) < maxMailboxes {
			k.seen[key] = int32(p)
		}
		return false
	case int(prev) == p:
		return false
	}
	if _, ok := k.split[key]; ok {
		return false
	}
	k.split[key] = struct{}{}
	if len(k.split) > 1 {
		return false
	}
	k.first = Mailbox{Tenant: strings.Clone(tenant), Mailbox: strings.Clone(mailbox), Partitions: [2]int{int(prev), p}}
	return true
}

// Split is the number of mailboxes seen on more than one partition
// number so far.
func (k *Check) Split() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.split)
}

// First is the first mailbox seen on two partition numbers.
func (k *Check) First() Mailbox {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.first
}
