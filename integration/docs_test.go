package integration

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/detectors"
)

// TestDocsLinksResolve: every docs/ path named in the README, the docs,
// help and remediation texts (Go sources), the catalog and the report
// template exists in the repository: the product carries the references
// it points users at.
func TestDocsLinksResolve(t *testing.T) {
	root := repoRoot()
	ref := regexp.MustCompile(`docs/[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.(?:md|png)`)
	named := map[string][]string{} // path -> files naming it
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && path != root || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".md", ".yaml", ".tmpl":
		default:
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		for _, m := range ref.FindAllString(string(b), -1) {
			named[m] = append(named[m], rel)
		}
		return nil
	})
	require.NoError(t, err)
	for _, want := range []string{"docs/log-formats.md", "docs/events.md", "docs/detection.md", "docs/catalog.md"} {
		require.Contains(t, named, want, "the user reference is linked from somewhere")
	}
	for path, from := range named {
		_, err := os.Stat(filepath.Join(root, path))
		require.NoError(t, err, "%s is named in %v", path, from)
	}
	t.Logf("%d docs/ paths named, all present", len(named))
}

// TestCatalogDocExampleLoads: the example file in docs/catalog.md is a
// catalog that --catalog accepts.
func TestCatalogDocExampleLoads(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(repoRoot(), "docs", "catalog.md"))
	require.NoError(t, err)
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindSubmatch(doc)
	require.NotNil(t, m, "docs/catalog.md shows an example file")
	file := filepath.Join(t.TempDir(), "example.yaml")
	require.NoError(t, os.WriteFile(file, m[1], 0o644))
	cat, err := detectors.LoadCatalog(file)
	require.NoError(t, err)
	def, err := detectors.DefaultCatalog()
	require.NoError(t, err)
	require.Len(t, cat.Entries(), len(def.Entries()), "the example replaces an embedded class")
}
