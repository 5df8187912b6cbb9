package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/detectors"
)

// TestCatalogYAMLRoundTrip: `replay catalog --yaml` prints a commented
// file that --catalog and `replay catalog check` accept as it is, holding
// the active catalog: the embedded one, or with a user file merged over
// it.
func TestCatalogYAMLRoundTrip(t *testing.T) {
	dir := t.TempDir()
	printYAML := func(args ...string) []byte {
		var out, errOut bytes.Buffer
		require.Equal(t, exitOK, run(context.Background(), append([]string{"catalog", "--yaml"}, args...), nil, &out, &errOut), errOut.String())
		return out.Bytes()
	}
	embedded := printYAML()
	require.True(t, strings.HasPrefix(string(embedded), "# syncwatch catalog"), "the format's comments come first")
	file := filepath.Join(dir, "catalog.yaml")
	require.NoError(t, os.WriteFile(file, embedded, 0o644))
	def, err := detectors.DefaultCatalog()
	require.NoError(t, err)
	got, err := detectors.LoadCatalog(file)
	require.NoError(t, err, "--catalog accepts it as it is")
	require.Equal(t, def.Entries(), got.Entries(), "the same catalog")
	var out, errOut bytes.Buffer
	require.Equal(t, exitOK, run(context.Background(), []string{"catalog", "check", file}, nil, &out, &errOut), "%s%s", out.String(), errOut.String())

	// a user's class merged over the embedded ones comes out too
	user := filepath.Join(dir, "mine.yaml")
	require.NoError(t, os.WriteFile(user, []byte(`version: 1
classes:
  - class: custom.quota_exceeded
    scope: total
    title: Mailbox quota exceeded
    remediation: Ask the mailbox owner to free space.
    match:
      - [quota, exceeded]
`), 0o644))
	merged := printYAML("--catalog", user)
	require.Contains(t, string(merged), "custom.quota_exceeded")
	require.NoError(t, os.WriteFile(file, merged, 0o644))
	got, err = detectors.LoadCatalog(file)
	require.NoError(t, err)
	require.Len(t, got.Entries(), len(def.Entries())+1)
}
