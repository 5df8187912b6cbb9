package detectors

import (
	"hash/maphash"
	"strings"
	"time"
	"unsafe"
)

// mailboxMap holds the engine's mailboxes, by key.
//
// A million mailboxes are a million small objects, and marking them made
// most of a garbage collection's work (165 ms a cycle on this 2-CPU VM
// for a million idle mailboxes, against 66 ms as below): the mailboxes
// live in slabs of slabSize, and the map from a 32-bit hash of the key to
// a mailbox's index holds no pointer, so the collector neither scans it
// nor marks a mailbox at a time. A slot of the map is 8 bytes instead of
// 40 (two strings and a pointer) as a map[mbKey]*mailbox. Keys whose hash
// another mailbox had first (about a hundred among a million mailboxes)
// are told apart by the key each mailbox holds, and go to collided.
//
// A *mailbox stays valid for as long as its mailbox is held: slabs never
// move. An evicted mailbox's slot is reused for a new mailbox, once no
// queued run decision can still point to it (see evict).
type mailboxMap struct {
	seed     maphash.Seed
	byHash   map[uint32]uint32 // index in slabs
	collided map[mbKey]uint32
	slabs    [][]mailbox // each slabSize long; the last one filled up to next
	next     uint32      // the index the next new slot gets
	free     []freeSlot  // evicted slots, the latest last
	// tenants interns the tenant names: a landscape has a few hundred
	// tenants for a million mailboxes.
	tenants map[string]string
}

// slabSize is how many mailboxes a slab holds: 64 KB of them, 8 pages
// (a large object takes whole pages).
const slabSize = 64 << 10 / uint32(unsafe.Sizeof(mailbox{}))

// freeSlot is an evicted mailbox's slot, free once event time is past
// after (until then, a decided run of it may still be queued: its item
// compares by the mailbox's key).
type freeSlot struct {
	i     uint32
	after instant
}

// maxTenantsInterned bounds tenants: input naming ever new tenants gets
// a copy per mailbox instead.
const maxTenantsInterned = 1 << 14

func newMailboxMap(seed maphash.Seed) mailboxMap {
	return mailboxMap{seed: seed, byHash: map[uint32]uint32{}, tenants: map[string]string{}}
}

// at is the mailbox in slot i.
func (m *mailboxMap) at(i uint32) *mailbox { return &m.slabs[i/slabSize][i%slabSize] }

// hash is the hash of k in byHash.
func (m *mailboxMap) hash(k mbKey) uint32 {
	h := mix64(maphash.String(m.seed, k.tenant), maphash.String(m.seed, k.mailbox))
	return uint32(h ^ h>>32)
}

// get returns the mailbox of k, nil if none, and the hash to add it with.
func (m *mailboxMap) get(k mbKey) (*mailbox, uint32) {
	h := m.hash(k)
	return m.lookup(k, h), h
}

// lookup returns the mailbox of k, which hashes to h, nil if none.
func (m *mailboxMap) lookup(k mbKey, h uint32) *mailbox {
	if i, ok := m.byHash[h]; ok {
		if mb := m.at(i); mb.key == k {
			return mb
		}
	}
	if len(m.collided) > 0 {
		if i, ok := m.collided[k]; ok {
			return m.at(i)
		}
	}
	return nil
}

// add adds a mailbox for k, which is not in m and hashes to h, at event
// time now, and returns it.
func (m *mailboxMap) add(k mbKey, h uint32, now instant) *mailbox {
	i := m.slot(now)
	mb := m.at(i)
	mb.key = m.key(k)
	if _, taken := m.byHash[h]; !taken {
		m.byHash[h] = i
		return mb
	}
	if m.collided == nil {
		m.collided = map[mbKey]uint32{}
	}
	m.collided[mb.key] = i
	return mb
}

// slot returns a zeroed slot: a free one if one is free at now, else a
// new one.
func (m *mailboxMap) slot(now instant) uint32 {
	if n := len(m.free); n > 0 && m.free[n-1].after.before(now) {
		i := m.free[n-1].i
		m.free = m.free[:n-1]
		*m.at(i) = mailbox{}
		return i
	}
	i := m.next
	if i%slabSize == 0 {
		m.slabs = append(m.slabs, make([]mailbox, slabSize))
	}
	m.next++
	return i
}

func (m *mailboxMap) len() int { return len(m.byHash) + len(m.collided) }

// each calls f for every mailbox.
func (m *mailboxMap) each(f func(*mailbox)) {
	for _, i := range m.byHash {
		f(m.at(i))
	}
	for _, i := range m.collided {
		f(m.at(i))
	}
}

// evict drops the mailboxes for which idle is true and returns how many.
// Their slots are free once event time is past their lastSeen plus hold:
// the longest a decided run's item stays queued after its last line
// (the run timeout, or the lateness after its end line).
func (m *mailboxMap) evict(idle func(*mailbox) bool, now instant, hold time.Duration) int {
	n := 0
	drop := func(i uint32) {
		mb := m.at(i)
		after := mb.lastSeen.add(hold)
		if after.before(now) {
			*mb = mailbox{} // nothing to keep alive
		}
		m.free = append(m.free, freeSlot{i, after})
		n++
	}
	for h, i := range m.byHash {
		if idle(m.at(i)) {
			delete(m.byHash, h)
			drop(i)
		}
	}
	for k, i := range m.collided {
		if idle(m.at(i)) {
			delete(m.collided, k)
			drop(i)
		}
	}
	return n
}

// key returns the key a new mailbox keeps for k: its own copy of the
// mailbox name (the record's shares its whole log entry, which the
// mailbox must not keep alive) and the interned tenant name.
func (m *mailboxMap) key(k mbKey) mbKey {
	t, ok := m.tenants[k.tenant]
	if !ok {
		t = strings.Clone(k.tenant)
		if len(m.tenants) < maxTenantsInterned {
			m.tenants[t] = t
		}
	}
	return mbKey{t, strings.Clone(k.mailbox)}
}
