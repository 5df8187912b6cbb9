package detectors

import (
	"hash/maphash"
	"strings"
)

// mailboxMap is the engine's mailboxes by key. A million mailboxes make
// the map itself count: keyed by a 64-bit hash of the key, a slot is 16
// bytes instead of 40 (two strings and a pointer), and the collector
// scans no key. Two keys with one hash (about one chance in 10^7 with a
// billion mailboxes) are told apart by the key each mailbox holds: the
// later one goes to collided, nearly always empty.
type mailboxMap struct {
	seed     maphash.Seed
	byHash   map[uint64]*mailbox
	collided map[mbKey]*mailbox
	// tenants interns the tenant names: a landscape has a few hundred
	// tenants for a million mailboxes.
	tenants map[string]string
}

// maxTenantsInterned bounds tenants: input naming ever new tenants gets
// a copy per mailbox instead.
const maxTenantsInterned = 1 << 14

func newMailboxMap(seed maphash.Seed) mailboxMap {
	return mailboxMap{seed: seed, byHash: map[uint64]*mailbox{}, tenants: map[string]string{}}
}

// hash is the hash of k in byHash.
func (m *mailboxMap) hash(k mbKey) uint64 {
	return mix64(maphash.String(m.seed, k.tenant), maphash.String(m.seed, k.mailbox))
}

// get returns the mailbox of k, nil if none, and the hash to add it with.
func (m *mailboxMap) get(k mbKey) (*mailbox, uint64) {
	h := m.hash(k)
	return m.lookup(k, h), h
}

// lookup returns the mailbox of k, which hashes to h, nil if none.
func (m *mailboxMap) lookup(k mbKey, h uint64) *mailbox {
	if mb := m.byHash[h]; mb != nil && mb.key == k {
		return mb
	}
	if len(m.collided) > 0 {
		return m.collided[k]
	}
	return nil
}

// each calls f for every mailbox.
func (m *mailboxMap) each(f func(*mailbox)) {
	for _, mb := range m.byHash {
		f(mb)
	}
	for _, mb := range m.collided {
		f(mb)
	}
}

// add adds mb, whose key is not in m and hashes to h.
func (m *mailboxMap) add(h uint64, mb *mailbox) {
	if m.byHash[h] == nil {
		m.byHash[h] = mb
		return
	}
	if m.collided == nil {
		m.collided = map[mbKey]*mailbox{}
	}
	m.collided[mb.key] = mb
}

func (m *mailboxMap) len() int { return len(m.byHash) + len(m.collided) }

// evict drops the mailboxes for which idle is true and returns how many.
func (m *mailboxMap) evict(idle func(*mailbox) bool) int {
	n := 0
	for h, mb := range m.byHash {
		if idle(mb) {
			delete(m.byHash, h)
			n++
		}
	}
	for k, mb := range m.collided {
		if idle(mb) {
			delete(m.collided, k)
			n++
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
