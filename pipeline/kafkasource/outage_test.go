package kafkasource

import (
	"log/slog"
	"testing"
	"time"
)

// TestOutageWarnsWhileItLasts: the first failure and then one a minute
// are WARN, with how long the outage lasted; the rest DEBUG; a recovery
// says how long it lasted and starts afresh.
func TestOutageWarnsWhileItLasts(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	var o outage
	var warns []time.Duration
	for s := 0; s <= 150; s += 5 { // a failure every 5s for 150s
		level, lasted, n := o.fail(t0.Add(time.Duration(s) * time.Second))
		if n != s/5+1 {
			t.Fatalf("attempts %d at %ds", n, s)
		}
		if level == slog.LevelWarn {
			warns = append(warns, lasted)
		}
	}
	want := []time.Duration{0, time.Minute, 2 * time.Minute}
	if len(warns) != len(want) {
		t.Fatalf("WARN after %v, want %v", warns, want)
	}
	for i := range want {
		if warns[i] != want[i] {
			t.Fatalf("WARN after %v, want %v", warns, want)
		}
	}
	if was, lasted := o.recover(t0.Add(200 * time.Second)); !was || lasted != 200*time.Second {
		t.Fatalf("recover: %v %v", was, lasted)
	}
	if was, _ := o.recover(t0.Add(201 * time.Second)); was {
		t.Fatal("recovered twice")
	}
	if level, lasted, n := o.fail(t0.Add(300 * time.Second)); level != slog.LevelWarn || lasted != 0 || n != 1 {
		t.Fatalf("a new outage: %v %v %d", level, lasted, n)
	}
}
