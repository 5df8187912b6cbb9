package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/schemas"
)

// TestTerminalSafe: control characters and bidi overrides come out
// escaped; other text, non-ASCII included, as it is.
func TestTerminalSafe(t *testing.T) {
	require.Equal(t, `t\x1b[31m1/anna\u202etxt.exe\a\x7f\u009b`, terminalSafe("t\x1b[31m1/anna\u202etxt.exe\a\x7f\u009b"))
	require.Equal(t, "Jürgen.Müller@contoso.de 東京", terminalSafe("Jürgen.Müller@contoso.de 東京"))
}

// TestDiffOutputHasNoEscapes: --diff prints events' subjects (tenant and
// mailbox from the logs, which a JSON entry can spell with \u001b
// escapes) to the terminal, escaped.
func TestDiffOutputHasNoEscapes(t *testing.T) {
	dir := t.TempDir()
	ev := schemas.NewIncidentEvent("syncwatch/ingest", schemas.TypeOpened, 1, time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC), schemas.IncidentData{
		IncidentID: "inc-000000000001", Kind: schemas.KindSyncError, Class: "exchange.auth.password", Severity: schemas.SeverityCritical, Occurrences: 1,
		Producer: "ExchangeConnector", Title: "t", Remediation: "r", FirstSeen: schemas.Time{Time: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}, LastSeen: schemas.Time{Time: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)},
		Tenant: "t\x1b]0;pwned\a", Mailbox: "a\u202e@x",
	})
	b, err := json.Marshal(ev)
	require.NoError(t, err)
	golden := filepath.Join(dir, "golden.jsonl")
	require.NoError(t, os.WriteFile(golden, append(b, '\n'), 0o644))
	empty := filepath.Join(dir, "empty.log")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	code, out, errOut := runReplay(t, "", "--diff", golden, empty)
	require.Equal(t, exitDiff, code, "%s", errOut)
	require.Contains(t, out, "removed", "the event is reported")
	require.Contains(t, out, `\x1b`, "the escape is shown, escaped")
	for _, c := range []string{"\x1b", "\a", "\u202e"} {
		require.NotContains(t, out+errOut, c)
	}
}
