// Package didyoumean finds the word a user probably meant: the key of a
// config or catalog file nearest to one that does not exist.
package didyoumean

// maxEdits is how far a word may be from the one meant: a typo or two.
const maxEdits = 2

// Nearest returns the candidate fewest edits (insertions, deletions,
// substitutions) away from word, if it is at most two away; the first of
// equally near ones; "" when none is.
func Nearest(word string, candidates []string) string {
	best, dist := "", maxEdits+1
	for _, c := range candidates {
		if d := distance(word, c); d < dist {
			best, dist = c, d
		}
	}
	return best
}

// distance is the Levenshtein distance of a and b, in bytes.
func distance(a, b string) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
