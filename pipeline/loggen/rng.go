package loggen

import "math"

// rng is a small deterministic generator (SplitMix64). Its output depends
// only on its seed, never on the Go version, so that a corpus is the same
// bytes wherever it is generated.
type rng struct{ s uint64 }

func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// newRNG derives an independent stream from a seed and stream labels.
func newRNG(seed int64, labels ...uint64) *rng {
	s := mix64(uint64(seed) ^ 0x6a09e667f3bcc909)
	for _, l := range labels {
		s = mix64(s ^ (l + 0x9e3779b97f4a7c15))
	}
	return &rng{s: s}
}

func (r *rng) u64() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix64(r.s)
}

// intn returns a number in [0, n); 0 if n <= 0.
func (r *rng) intn(n int) int {
	if n <= 0 {
		return 0
	}
	return int(r.u64() % uint64(n))
}

// between returns a number in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

// between64 returns a number in [lo, hi].
func (r *rng) between64(lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + int64(r.u64()%uint64(hi-lo+1))
}

// float returns a number in [0, 1).
func (r *rng) float() float64 { return float64(r.u64()>>11) / (1 << 53) }

func (r *rng) chance(p float64) bool { return r.float() < p }

// expo returns an exponentially distributed number with the given mean.
func (r *rng) expo(mean float64) float64 { return -math.Log(1-r.float()) * mean }

// pick returns one of the strings.
func pick[T any](r *rng, xs []T) T { return xs[r.intn(len(xs))] }
