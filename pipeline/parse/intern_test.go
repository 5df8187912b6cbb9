package parse

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

func TestInternBytes(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		wantShared bool
	}{
		{name: "empty", in: "", wantShared: true},
		{name: "short", in: "anna.berg@contoso.com", wantShared: true},
		{name: "at the length cap", in: strings.Repeat("a", internMaxLen), wantShared: true},
		{name: "too long to intern", in: strings.Repeat("b", internMaxLen+1), wantShared: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first := internBytes([]byte(tt.in))
			second := internBytes([]byte(tt.in))
			require.Equal(t, tt.in, first)
			require.Equal(t, tt.in, second)
			require.Equal(t, tt.wantShared, unsafe.StringData(first) == unsafe.StringData(second))
		})
	}
}

// TestInternBytesNoAllocOnHit: a hit costs nothing, so a typical entry's
// tenant, mailbox, run id... are free after their first entry.
func TestInternBytesNoAllocOnHit(t *testing.T) {
	b := []byte("t-1042")
	internBytes(b)
	allocs := testing.AllocsPerRun(100, func() { internBytes(b) })
	require.Zero(t, allocs)
}

// TestInternBytesCollisions: with far more distinct strings than slots,
// slots are overwritten, and what comes back is still always the input.
func TestInternBytesCollisions(t *testing.T) {
	for round := 0; round < 2; round++ {
		for i := 0; i < 3*internSlots; i++ {
			s := "mailbox-" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + strings.Repeat("y", i%13) + strings.Repeat("z", i/26)
			require.Equal(t, s, internBytes([]byte(s)))
		}
	}
}
