package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/schemas"
)

// TestAcceptTenants: with --accept-tenants, the entries of other tenants
// are dead-lettered and raise nothing; the accepted tenant's events are
// those of a replay of everything, filtered to it (its judgement does not
// depend on the others).
func TestAcceptTenants(t *testing.T) {
	dir := newCorpus(t, loggen.Config{Seed: 21, Mailboxes: 24, Tenants: 3})
	all := decodeLines(t, replayLines(t, dir))
	byTenant := map[string][]string{}
	for _, e := range all {
		if e.Data.Kind != schemas.KindPipeline {
			byTenant[e.Data.Tenant] = append(byTenant[e.Data.Tenant], e.ID)
		}
	}
	require.GreaterOrEqual(t, len(byTenant), 2, "the corpus has incidents of several tenants")
	var tenant string
	for tn := range byTenant {
		if tenant == "" || tn < tenant {
			tenant = tn
		}
	}
	dead := filepath.Join(t.TempDir(), "dead.jsonl")
	got := decodeLines(t, replayLines(t, "--accept-tenants", tenant, "--dead-letter", dead, dir))
	var ids []string
	for _, e := range got {
		require.NotEqual(t, "pipeline.format_drift", e.Data.Class, "entries of other tenants are well-formed: no format drift")
		if e.Data.Kind != schemas.KindPipeline {
			require.Equal(t, tenant, e.Data.Tenant)
			ids = append(ids, e.ID)
		}
	}
	require.Equal(t, byTenant[tenant], ids, "the accepted tenant's incidents, as in a replay of everything")
	letters := readLines(t, dead)
	require.NotEmpty(t, letters)
	n := 0
	for _, l := range letters {
		if strings.Contains(l, "tenant not accepted") {
			n++
		}
	}
	require.Greater(t, n, 1000, "the other tenants' entries are dead-lettered")
}
