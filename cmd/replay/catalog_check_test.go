package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/detectors"
)

// TestCatalogPrint: `replay catalog` shows every class of the active
// catalog with its scope, title and remediation.
func TestCatalogPrint(t *testing.T) {
	code, stdout, stderr := runReplay(t, "", "catalog")
	require.Equal(t, exitOK, code, stderr)
	cat, err := detectors.DefaultCatalog()
	require.NoError(t, err)
	require.NotEmpty(t, cat.Entries())
	for _, e := range cat.Entries() {
		scope := e.Scope
		if scope == "" {
			scope = "run"
		}
		require.Contains(t, stdout, fmt.Sprintf("%-34s scope=%-7s %s\n", e.Class, scope, e.Title))
		require.Contains(t, stdout, "remediation: "+strings.TrimSpace(e.Remediation)+"\n")
	}
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	return p
}

// TestCatalogCheckValid: a valid file is reported with, per class, the
// samples it matches (the file's own match lists and --samples), and the
// samples that match no class or several are flagged (exit status 3).
func TestCatalogCheckValid(t *testing.T) {
	file := writeFile(t, "catalog.yaml", `version: 1
classes:
  - class: exchange.auth.password
    scope: total
    producers: [ExchangeConnector]
    title: Authentication error
    remediation: Enter the new password.
    match:
      - [authentication error]
      - [password, changed]
    not: [oauth]
  - class: custom.mailbox_full
    scope: record
    title: Mailbox full
    remediation: Free space in the mailbox.
    match:
      - [mailbox, quota, exceeded]
      - [mailbox full]
`)
	samples := writeFile(t, "samples.txt", "The mailbox quota was exceeded for anna\nsomething entirely different\n\n"+
		"Mailbox full: password changed\n")
	base, err := detectors.DefaultCatalog()
	require.NoError(t, err)
	n := len(base.Entries()) + 1

	code, stdout, stderr := runReplay(t, "", "catalog", "check", file, "--samples", samples)
	require.Equal(t, exitDiff, code, stderr)
	want := []string{
		fmt.Sprintf("catalog %s: valid, %d classes (2 in the file: 1 new, 1 replacing embedded ones)\n", file, n),
		"samples: 7 (4 from the file's match lists, 3 from --samples)\n",
		"\nexchange.auth.password (replaced, scope=total): 3 sample(s)\n" +
			`  "authentication error" (match[0] of exchange.auth.password)` + "\n" +
			`  "password changed" (match[1] of exchange.auth.password)` + "\n" +
			`  "Mailbox full: password changed" (` + samples + ":4)\n",
		"\ncustom.mailbox_full (new, scope=record): 4 sample(s)\n" +
			`  "mailbox quota exceeded" (match[0] of custom.mailbox_full)` + "\n" +
			`  "mailbox full" (match[1] of custom.mailbox_full)` + "\n" +
			`  "The mailbox quota was exceeded for anna" (` + samples + ":1)\n" +
			`  "Mailbox full: password changed" (` + samples + ":4)\n" +
			"\nflagged (2):\n",
		`  sample "something entirely different" (` + samples + ":2) matches no class\n",
		`  sample "Mailbox full: password changed" (` + samples + ":4) matches 2 classes: exchange.auth.password, custom.mailbox_full; detection reports exchange.auth.password\n",
	}
	for _, w := range want {
		require.Contains(t, stdout, w)
	}
	require.True(t, strings.HasSuffix(stdout, want[len(want)-1]))

	// Without the bad samples nothing is flagged.
	code, stdout, _ = runReplay(t, "", "catalog", "check", file)
	require.Equal(t, exitOK, code)
	require.Contains(t, stdout, "samples: 4 (4 from the file's match lists, 0 from --samples)\n")
	require.True(t, strings.HasSuffix(stdout, "\nno sample flagged\n"), stdout)
}

// TestCatalogCheckOwnClass: a match list that its own class's `not`
// terms exclude is flagged: the class can never match what it lists.
func TestCatalogCheckOwnClass(t *testing.T) {
	file := writeFile(t, "catalog.yaml", `version: 1
classes:
  - class: custom.quota
    scope: record
    title: Quota
    remediation: Raise the quota.
    match:
      - [quota exceeded]
      - [quota, soft limit]
    not: [soft]
`)
	code, stdout, _ := runReplay(t, "", "catalog", "check", file)
	require.Equal(t, exitDiff, code)
	require.Contains(t, stdout, "\ncustom.quota (new, scope=record): 1 sample(s)\n  \"quota exceeded\" (match[0] of custom.quota)\n")
	require.Contains(t, stdout, `  sample "quota soft limit" (match[1] of custom.quota) matches no class`+"\n")
	require.Contains(t, stdout, `  sample "quota soft limit" (match[1] of custom.quota) is reported as (no class), not as its own class`+"\n")
}

// TestCatalogCheckInvalid: every problem of an invalid file is reported
// at once, one per line, with exit status 1.
func TestCatalogCheckInvalid(t *testing.T) {
	file := writeFile(t, "bad.yaml", `version: 1
classes:
  - class: ""
    title: x
    match: [[a]]
  - class: custom.a
    scope: weekly
    producers: [Outlook]
    title: ""
    match: []
    extract: [zip]
    severity: fatal
  - class: unknown
    title: u
    match: [[b]]
`)
	base, err := detectors.DefaultCatalog()
	require.NoError(t, err)
	n := len(base.Entries()) // the file's classes come after the embedded ones
	code, stdout, stderr := runReplay(t, "", "catalog", "check", file)
	require.Equal(t, exitUsage, code, stderr)
	want := fmt.Sprintf(`catalog %[1]s: invalid, 8 problem(s):
  classes[%[2]d]: class: must not be empty
  classes[%[3]d] (custom.a): scope: unknown scope "weekly" (want total, run or record)
  classes[%[3]d] (custom.a): producers: unknown producer "Outlook" (want ExchangeConnector, SyncEngine or C4CCConnector)
  classes[%[3]d] (custom.a): match: needs at least one term list or an http_status
  classes[%[3]d] (custom.a): extract: unknown extractor "zip"
  classes[%[3]d] (custom.a): severity: "fatal" (want critical, warning or info)
  classes[%[3]d] (custom.a): title: must not be empty
  classes[%[4]d] (unknown): class: "unknown" is reserved for unmatched messages
`, file, n, n+1, n+2)
	require.Equal(t, want, stdout)

	// A file that is not a catalog at all is one problem.
	notYAML := writeFile(t, "x.yaml", "version: 1\nclasses:\n  - clas: typo\n")
	code, stdout, _ = runReplay(t, "", "catalog", "check", notYAML)
	require.Equal(t, exitUsage, code)
	require.Equal(t, fmt.Sprintf("catalog %[1]s: invalid, 1 problem(s):\n  catalog %[1]s: decoding catalog: yaml: unmarshal errors: line 3: field clas not found in type detectors.Entry\n", notYAML), stdout)

	code, _, stderr = runReplay(t, "", "catalog", "check")
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, "give the catalog FILE")
}
