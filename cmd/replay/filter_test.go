package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/schemas"
)

// TestFilters: a filtered replay writes exactly the matching lines of the
// unfiltered replay, byte for byte and in order: the filters act on the
// output only, so detection (and so every event's content, ids
// included) is the same as without them.
func TestFilters(t *testing.T) {
	dir := newCorpus(t, loggen.Config{Seed: 7, Mailboxes: 30, Duration: 12 * time.Hour, Dirty: true})
	all := replayLines(t, dir)
	evs := decodeLines(t, all)
	require.Greater(t, len(evs), 40, "the corpus must give events")

	// values taken from the data, so every case selects something
	tenantA, tenantB := evs[0].Data.Tenant, ""
	for _, e := range evs {
		if e.Data.Tenant != tenantA {
			tenantB = e.Data.Tenant
			break
		}
	}
	require.NotEmpty(t, tenantB)
	mailbox := evs[len(evs)/2].Data.Mailbox
	classA := evs[0].Data.Class
	since := evs[len(evs)/4].Time.Time
	until := evs[3*len(evs)/4].Time.Time

	tests := []struct {
		name string
		args []string
		keep func(e *schemas.IncidentEvent) bool
	}{
		{"tenants", []string{"--tenant", tenantA + "," + tenantB},
			func(e *schemas.IncidentEvent) bool { return e.Data.Tenant == tenantA || e.Data.Tenant == tenantB }},
		{"repeated tenant flag", []string{"--tenant", tenantA, "--tenant", tenantB},
			func(e *schemas.IncidentEvent) bool { return e.Data.Tenant == tenantA || e.Data.Tenant == tenantB }},
		{"mailbox in another case", []string{"--mailbox", strings.ToUpper(mailbox)},
			func(e *schemas.IncidentEvent) bool { return e.Data.Mailbox == mailbox }},
		{"kind", []string{"--kind", schemas.KindSyncError},
			func(e *schemas.IncidentEvent) bool { return e.Data.Kind == schemas.KindSyncError }},
		{"class list", []string{"--class", classA + ",record.not_found"},
			func(e *schemas.IncidentEvent) bool {
				return e.Data.Class == classA || e.Data.Class == "record.not_found"
			}},
		{"class family", []string{"--class", "exchange.*"},
			func(e *schemas.IncidentEvent) bool { return strings.HasPrefix(e.Data.Class, "exchange.") }},
		{"since until", []string{"--since", since.Format(time.RFC3339Nano), "--until", until.Format(time.RFC3339Nano)},
			func(e *schemas.IncidentEvent) bool { return !e.Time.Before(since) && e.Time.Before(until) }},
		{"combined", []string{"--kind", "sync_issue", "--tenant", tenantA, "--since", since.Format(time.RFC3339Nano)},
			func(e *schemas.IncidentEvent) bool {
				return e.Data.Kind == schemas.KindSyncIssue && e.Data.Tenant == tenantA && !e.Time.Before(since)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []string
			for i := range evs {
				if tt.keep(&evs[i]) {
					want = append(want, all[i])
				}
			}
			require.NotEmpty(t, want, "the case must select some events")
			require.Less(t, len(want), len(all), "the case must drop some events")
			got := replayLines(t, append(tt.args, dir)...)
			require.Equal(t, want, got)
		})
	}
}

// TestFilterSummaryCountsWritten: the summary's "events written" is the
// number of lines written, not of events detected.
func TestFilterSummaryCountsWritten(t *testing.T) {
	dir := newCorpus(t, loggen.Config{Seed: 8, Mailboxes: 10, Duration: 6 * time.Hour})
	code, stdout, stderr := runReplay(t, "", "--kind", "sync_error", dir)
	require.Equal(t, exitOK, code, stderr)
	n := strings.Count(stdout, "\n")
	require.Positive(t, n)
	for l := range strings.SplitSeq(strings.TrimSpace(stdout), "\n") {
		var e schemas.IncidentEvent
		require.NoError(t, json.Unmarshal([]byte(l), &e))
		require.Equal(t, schemas.KindSyncError, e.Data.Kind)
	}
	require.Contains(t, stderr, "events written "+strconv.Itoa(n)+";")
}
