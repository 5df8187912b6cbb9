package didyoumean

import "testing"

func TestNearest(t *testing.T) {
	keys := []string{"class", "scope", "title", "match", "metrics_addr", "ca_file"}
	for word, want := range map[string]string{
		"clas": "class", "titel": "title", "Scope": "scope", "ca_flie": "ca_file",
		"metrics_adr": "metrics_addr", "remedy": "", "": "", "matches": "match",
	} {
		if got := Nearest(word, keys); got != want {
			t.Errorf("Nearest(%q) = %q, want %q", word, got, want)
		}
	}
}
