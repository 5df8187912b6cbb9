package pipeline

import (
	"hash/maphash"
	"strconv"
	"strings"
	"sync"
)

// keyCheck notices mailboxes whose entries come from more than one
// partition number. The co-partition balancer gives partition p of every
// log topic to one member, so a member sees all of a mailbox's logs only
// when producers key messages by tenant/mailbox with one partitioner;
// shippers send unkeyed messages (random or sticky partitions) or key by
// host by default. With one member that does no harm; with more, each
// member would judge a mailbox's runs from part of its logs.
type keyCheck struct {
	seed maphash.Seed

	mu    sync.Mutex
	seen  map[uint64]int32    // hash of tenant/mailbox -> partition number
	split map[uint64]struct{} // mailboxes seen on more than one
	first splitMailbox        // the first one seen, for the warning
}

// splitMailbox is a mailbox seen on two partition numbers.
type splitMailbox struct {
	Tenant, Mailbox string
	Partitions      [2]int
}

// maxKeyCheck bounds the mailboxes a keyCheck remembers: beyond it, new
// mailboxes are not checked (16 bytes each: 16 MB).
const maxKeyCheck = 1 << 20

func newKeyCheck() *keyCheck {
	return &keyCheck{seed: maphash.MakeSeed(), seen: map[uint64]int32{}, split: map[uint64]struct{}{}}
}

// observe notes that a record of tenant/mailbox came from source
// ("topic/partition"). It reports whether this is the first mailbox seen
// on two partition numbers.
func (k *keyCheck) observe(source, tenant, mailbox string) (first bool) {
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
		if len(k.seen) < maxKeyCheck {
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
	k.first = splitMailbox{Tenant: strings.Clone(tenant), Mailbox: strings.Clone(mailbox), Partitions: [2]int{int(prev), p}}
	return true
}

// splitCount is the number of mailboxes seen on more than one partition
// number so far.
func (k *keyCheck) splitCount() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.split)
}

// firstSplit is the first mailbox seen on two partition numbers.
func (k *keyCheck) firstSplit() splitMailbox {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.first
}
