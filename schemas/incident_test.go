package schemas

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestIncidentKeyIDStable pins the id recipe: subscribers deduplicate on
// these ids, and a replay must give the ids the live consumer published
// before an upgrade. The expected values are what the detection engine's
// and the health monitor's own copies of the recipe gave before they were
// merged into IncidentKey.ID.
func TestIncidentKeyIDStable(t *testing.T) {
	at := time.Date(2026, 11, 24, 10, 15, 32, 123e6, time.UTC)
	tests := []struct {
		name   string
		key    IncidentKey
		opened time.Time
		want   string
	}{
		{"sync error", IncidentKey{"t-1042", "anna.berg@contoso.com", KindSyncError, "exchange.auth.password", ""}, at, "inc-5b84184b30b8"},
		{"unknown, with template", IncidentKey{"t-3310", "sales@adatum.com", KindSyncError, "unknown", "the remote server returned an error: (<*>) bad gateway"}, at, "inc-14ddb6c12cd2"},
		{"pipeline: producer silent", IncidentKey{"-", "SyncEngine", KindPipeline, "pipeline.producer_silent", ""}, time.Date(2026, 11, 24, 10, 20, 0, 0, time.UTC), "inc-6f451ea6f3ce"},
		{"pipeline: format drift", IncidentKey{"-", "ExchangeConnector", KindPipeline, "pipeline.format_drift", ""}, time.Date(2026, 11, 24, 10, 20, 0, 0, time.UTC), "inc-185ef2eb1d96"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			require.Equal(t, test.want, test.key.ID(test.opened))
		})
	}
	k := tests[0].key
	require.NotEqual(t, k.ID(at), k.ID(at.Add(time.Millisecond)), "the opening time is part of the id")
	require.Equal(t, "t-1042/anna.berg@contoso.com", k.Subject())
}

func TestNewIncidentEvent(t *testing.T) {
	at := time.Date(2026, 11, 24, 10, 15, 32, 123e6, time.UTC)
	data := IncidentData{IncidentID: "inc-5b84184b30b8", Kind: KindSyncError, Class: "exchange.auth.password",
		Severity: SeverityCritical, Tenant: "t-1042", Mailbox: "anna.berg@contoso.com", Producer: "ExchangeConnector",
		Title: "Authentication error", FirstSeen: Time{at}, LastSeen: Time{at}, Occurrences: 1}

	opened := NewIncidentEvent("syncwatch/ingest", TypeOpened, 1, at, data)
	require.Equal(t, "inc-5b84184b30b8-1", opened.ID)
	require.Equal(t, "t-1042/anna.berg@contoso.com", opened.Subject)
	require.Equal(t, StatusOpen, opened.Data.Status)
	require.Equal(t, SpecVersion, opened.SpecVersion)
	require.Equal(t, DataContentType, opened.DataContentType)
	require.Equal(t, at, opened.Time.Time)
	b, err := json.Marshal(opened)
	require.NoError(t, err)
	require.NoError(t, Validate(SchemaIncidentEvent, b), "nil lists and details are encoded as empty ones")

	resolved := NewIncidentEvent("syncwatch/replay", TypeResolved, 3, at.Add(time.Hour), data)
	require.Equal(t, "inc-5b84184b30b8-3", resolved.ID)
	require.Equal(t, StatusResolved, resolved.Data.Status)
	require.Equal(t, "syncwatch/replay", resolved.Source)
}

func TestIncidentEventSequence(t *testing.T) {
	for id, want := range map[string]int{"inc-1-1": 1, "inc-1-12": 12, "inc-1-0": 0, "inc-1-x": 0, "inc-2-3": 0, "inc-1-01": 0, "inc-1": 0} {
		e := IncidentEvent{ID: id, Data: IncidentData{IncidentID: "inc-1"}}
		got, ok := e.Sequence()
		if got != want || ok != (want > 0) {
			t.Errorf("Sequence of %q = %d, %v; want %d", id, got, ok, want)
		}
	}
}
