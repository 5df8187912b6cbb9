package loggen

// minHeap is a binary min-heap ordered by less: the generator's look-ahead
// window of lines and its schedule of mailboxes.
type minHeap[T any] struct {
	s    []T
	less func(a, b *T) bool
}

func (h *minHeap[T]) len() int { return len(h.s) }

// top is the least element; len() > 0.
func (h *minHeap[T]) top() *T { return &h.s[0] }

func (h *minHeap[T]) push(x T) {
	h.s = append(h.s, x)
	s := h.s
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !h.less(&s[i], &s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *minHeap[T]) pop() T {
	s := h.s
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	var zero T
	s[n] = zero
	s = s[:n]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && h.less(&s[l], &s[m]) {
			m = l
		}
		if r < n && h.less(&s[r], &s[m]) {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	h.s = s
	return top
}

// lineBefore orders lines by (time, sequence).
func lineBefore(a, b *line) bool {
	if a.t != b.t {
		return a.t < b.t
	}
	return a.seq < b.seq
}

// mailboxBefore orders mailboxes by (next run start, index).
func mailboxBefore(a, b **mailbox) bool {
	if (*a).next != (*b).next {
		return (*a).next < (*b).next
	}
	return (*a).idx < (*b).idx
}
