package schemas

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseSeverity(t *testing.T) {
	for want, names := range map[Severity][]string{
		SeverityDebug: {"DEBUG", "debug", "Trace", "VERBOSE", "dbg", "FINE", "finest", "D", "t"},
		SeverityInfo:  {"INFO", "Information", "notice", "INF", "i"},
		SeverityWarn:  {"WARN", "Warning", "wrn", "W"},
		SeverityError: {"ERROR", "Error", "ERR", "e"},
		SeverityFatal: {"FATAL", "Critical", "CRIT", "panic", "SEVERE", "alert", "EMERG", "Emergency", "F", "c"},
	} {
		for _, n := range names {
			got, ok := ParseSeverity([]byte(n))
			require.True(t, ok, n)
			require.Equal(t, want, got, n)
		}
	}
	for _, n := range []string{"", "x", "errors", "informational-level", "NOTALEVEL", "warnings"} {
		_, ok := ParseSeverity([]byte(n))
		require.False(t, ok, n)
	}
}
