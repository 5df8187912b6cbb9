package detectors

// The sets of hashes the engine keeps per run and per mailbox: small
// slices scanned linearly while they are small, maps once they grow.

// entrySet is a set of hashes: of a run's entries, of a mailbox's
// unknown-error templates. Most runs log a few dozen entries: a slice
// scanned linearly costs less than a map's hashing and growth; a long run
// switches to a map.
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

// has reports whether h is in s.
func (s *entrySet) has(h uint64) bool {
	if s.big != nil {
		_, ok := s.big[h]
		return ok
	}
	for _, x := range s.small {
		if x == h {
			return true
		}
	}
	return false
}

func (s *entrySet) len() int {
	if s.big != nil {
		return len(s.big)
	}
	return len(s.small)
}
