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
	code, stdout, stderr := runReplay(t, "", "catalog", "check", file)
	require.Equal(t, exitUsage, code, stderr)
	want := fmt.Sprintf(`catalog %[1]s: invalid, 8 problem(s):
  %[1]s:3: an entry: class: must not be empty
  %[1]s:6: class custom.a: scope: unknown scope "weekly" (want total, run or record)
  %[1]s:6: class custom.a: producers: unknown producer "Outlook" (want ExchangeConnector, SyncEngine or C4CCConnector)
  %[1]s:6: class custom.a: match: needs at least one term list or an http_status
  %[1]s:6: class custom.a: extract: unknown extractor "zip"
  %[1]s:6: class custom.a: severity: "fatal" (want critical, warning or info)
  %[1]s:6: class custom.a: title: must not be empty
  %[1]s:13: class unknown: class: "unknown" is reserved for unmatched messages
`, file)
	require.Equal(t, want, stdout, "the file's lines, not positions in the merged catalog")

	// A misspelt key, a class twice, no version: every problem at once,
	// in the user's words, not Go's.
	typos := writeFile(t, "x.yaml", "classes:\n  - clas: typo\n    title: t\n    match: [[a]]\n  - class: c.one\n    title: one\n    match: [[b]]\n  - class: c.one\n    title: two\n    match: [[c]]\n")
	code, stdout, _ = runReplay(t, "", "catalog", "check", typos)
	require.Equal(t, exitUsage, code)
	require.Equal(t, fmt.Sprintf(`catalog %[1]s: invalid, 4 problem(s):
  %[1]s:1: version: missing (want version: 1)
  %[1]s:2: unknown key "clas" (did you mean "class"?)
  %[1]s:2: an entry: class: must not be empty
  %[1]s:8: class c.one: defined twice (first at line 5)
`, typos), stdout)
	require.NotContains(t, stdout, "detectors.Entry", "no Go type names")

	code, _, stderr = runReplay(t, "", "catalog", "check")
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, "give the catalog FILE")
}
