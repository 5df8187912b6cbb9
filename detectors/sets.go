package detectors

// The sets the engine keeps per run and per mailbox: small slices scanned
// linearly while they are small, maps once they grow.

// entrySet is a set of entry hashes. Most runs log a few dozen entries: a
// slice scanned linearly costs less than a map's hashing and growth; a
// long run switches to a map.
type entrySet struct {
	small []uint64
	big   map[uint64]struct{}
}

const entrySetSmall = 32

// add adds h and reports whether it was new.
func (s *entrySet) add(h uint64) bool {
	if s.big != nil {
		if _, ok := s.big[h]; ok {
			return false
		}
		s.big[h] = struct{}{}
		return true
	}
	for _, x := range s.small {
		if x == h {
			return false
		}
	}
	if len(s.small) < entrySetSmall {
		if s.small == nil {
			s.small = make([]uint64, 0, 8)
		}
		s.small = append(s.small, h)
		return true
	}
	s.big = make(map[uint64]struct{}, 2*entrySetSmall)
	for _, x := range s.small {
		s.big[x] = struct{}{}
	}
	s.big[h] = struct{}{}
	s.small = nil
	return true
}

// runSet is a mailbox's undecided runs. A mailbox has one or two at a
// time: a short slice costs less than a map per mailbox (a million
// mailboxes are a million maps); one that collects many (runs that never
// end, garbage run ids) switches to a map.
type runSet struct {
	small []*run
	big   map[string]*run
}

const runSetSmall = 16

func (s *runSet) len() int {
	if s.big != nil {
		return len(s.big)
	}
	return len(s.small)
}

func (s *runSet) get(id string) *run {
	if s.big != nil {
		return s.big[id]
	}
	for _, r := range s.small {
		if r.id == id {
			return r
		}
	}
	return nil
}

// add adds r, whose id is not in s.
func (s *runSet) add(r *run) {
	if s.big != nil {
		s.big[r.id] = r
		return
	}
	if len(s.small) < runSetSmall {
		s.small = append(s.small, r)
		return
	}
	s.big = make(map[string]*run, 2*runSetSmall)
	for _, x := range s.small {
		s.big[x.id] = x
	}
	s.big[r.id] = r
	s.small = nil
}

func (s *runSet) remove(r *run) {
	if s.big != nil {
		delete(s.big, r.id)
		return
	}
	for i, x := range s.small {
		if x == r {
			last := len(s.small) - 1
			s.small[i] = s.small[last]
			s.small[last] = nil
			s.small = s.small[:last]
			if last == 0 {
				s.small = nil // an idle mailbox holds no slice
			}
			return
		}
	}
}
