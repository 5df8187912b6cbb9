package view

// Subscription receives the events a view applies, in the order it
// applies them, for as long as it keeps up: a subscriber that lets Buffer
// events pile up is dropped (C closes, Lost reports true) rather than
// slowing the view down or holding memory for it. A dashboard that was
// dropped reloads.
type Subscription struct {
	// C carries the events' JSON, as published.
	C <-chan []byte

	c    chan []byte
	v    *View
	lost bool
}

// Subscribe returns a subscription to the events applied from now on,
// with room for buffer of them (at least 1).
func (v *View) Subscribe(buffer int) *Subscription {
	c := make(chan []byte, max(buffer, 1))
	s := &Subscription{C: c, c: c, v: v}
	v.mu.Lock()
	v.subs[s] = struct{}{}
	v.mu.Unlock()
	return s
}

// Close ends the subscription; C closes.
func (s *Subscription) Close() {
	s.v.mu.Lock()
	defer s.v.mu.Unlock()
	if _, ok := s.v.subs[s]; ok {
		delete(s.v.subs, s)
		close(s.c)
	}
}

// Lost reports whether the subscription was dropped for falling behind.
func (s *Subscription) Lost() bool {
	s.v.mu.RLock()
	defer s.v.mu.RUnlock()
	return s.lost
}

// Subscribers is how many subscriptions are open.
func (v *View) Subscribers() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.subs)
}

// publish hands raw to every subscriber; v.mu is held.
func (v *View) publish(raw []byte) {
	for s := range v.subs {
		select {
		case s.c <- raw:
		default:
			s.lost = true
			delete(v.subs, s)
			close(s.c)
		}
	}
}
