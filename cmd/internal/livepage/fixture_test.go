package livepage

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/view"
	"github.com/syncwatch/syncwatch/schemas"
)

// t0 is the fixture's latest event time: history, so that the page must
// draw relative to the view's newest event and not to the wall clock.
var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// spec is an incident of a fixture: opened at First, updated Updates
// times every Every, then resolved Every later when Resolve.
type spec struct {
	Kind, Class, Tenant, Mailbox, Title, Remediation, Message string
	First                                                     time.Time
	Updates                                                   int
	Every                                                     time.Duration
	Resolve                                                   bool
}

func (s spec) id() string {
	return schemas.IncidentKey{Tenant: s.Tenant, Mailbox: s.Mailbox, Kind: s.Kind, Class: s.Class}.ID(s.First)
}

type timedEvent struct {
	at  time.Time
	raw []byte
}

// events renders s's events, as published.
func (s spec) events(t *testing.T) []timedEvent {
	t.Helper()
	var out []timedEvent
	n := s.Updates + 1
	if s.Resolve {
		n++
	}
	var runs []string
	for seq := 1; seq <= n; seq++ {
		at := s.First.Add(time.Duration(seq-1) * s.Every)
		typ := schemas.TypeUpdated
		switch {
		case seq == 1:
			typ = schemas.TypeOpened
		case s.Resolve && seq == n:
			typ = schemas.TypeResolved
		}
		runs = append(runs, fmt.Sprintf("run-%d", seq))
		ev := schemas.NewIncidentEvent("syncwatch/test", typ, seq, at, schemas.IncidentData{
			IncidentID: s.id(), Kind: s.Kind, Class: s.Class, Severity: schemas.SeverityCritical,
			Tenant: s.Tenant, Mailbox: s.Mailbox, Producer: "ExchangeConnector",
			Title: s.Title, Remediation: s.Remediation,
			FirstSeen: schemas.Time{Time: s.First}, LastSeen: schemas.Time{Time: at}, Occurrences: seq,
			Runs: slices.Clone(runs),
			Evidence: []schemas.Evidence{{Producer: "ExchangeConnector", Time: schemas.Time{Time: at},
				Message: s.Message, Origin: fmt.Sprintf("exchange.log:%d", 100*seq)}},
		})
		raw, err := json.Marshal(ev)
		require.NoError(t, err)
		out = append(out, timedEvent{at, raw})
	}
	return out
}

// apply applies the specs' events to v in event-time order, as the
// incidents topic roughly delivers them.
func apply(t *testing.T, v *view.View, specs ...spec) {
	t.Helper()
	var all []timedEvent
	for _, s := range specs {
		all = append(all, s.events(t)...)
	}
	slices.SortStableFunc(all, func(a, b timedEvent) int { return a.at.Compare(b.at) })
	for _, e := range all {
		ok, err := v.Apply(e.raw)
		require.NoError(t, err)
		require.True(t, ok)
	}
}

// The landscape of the tests: four open incidents on three mailboxes, one
// resolved in the last 24 h of event time, one resolved before.
var (
	password = spec{Kind: schemas.KindSyncError, Class: "exchange.auth.password", Tenant: "t-1001", Mailbox: "anna.schmidt@contoso.com",
		Title: "Authentication error", Remediation: "Open SAP Cloud for Customer > E-Mail Integration > Sync Settings > E-Mail Configuration, enter the new password and click Save.",
		Message: "Authentication failed for user anna.schmidt@contoso.com: the password was changed.", First: t0.Add(-9 * time.Hour), Updates: 3, Every: 2 * time.Hour}
	oauth = spec{Kind: schemas.KindSyncError, Class: "exchange.auth.oauth_expired", Tenant: "t-1002", Mailbox: "j.doe@fabrikam.com",
		Title: "Authentication error - OAuth refresh token might have expired", Remediation: "Update the Exchange authorization settings, then re-enable the synchronization.",
		Message: "OAuthRefreshToken expired: invalid_grant", First: t0.Add(-4 * time.Hour), Updates: 2, Every: time.Hour}
	tooLarge = spec{Kind: schemas.KindSyncIssue, Class: "record.too_large", Tenant: "t-1001", Mailbox: "anna.schmidt@contoso.com",
		Title: "The item exceeds the maximum allowed size", Remediation: "Reduce the item's size (its attachments) or exclude it from synchronization.",
		Message: "Item APPT-00412 exceeds the maximum allowed size (35 MB)", First: t0.Add(-2 * time.Hour), Updates: 1, Every: 30 * time.Minute}
	mandatory = spec{Kind: schemas.KindSyncIssue, Class: "record.mandatory_field", Tenant: "t-1003", Mailbox: "k.tanaka@northwind.example",
		Title: "A mandatory field is missing", Remediation: "Fill the mandatory field named in the message in the source record, or adjust the field mapping.",
		Message: "Mandatory field 'Subject' is missing in TASK-88120", First: t0.Add(-5 * time.Hour), Updates: 5, Every: time.Hour}
	forbidden = spec{Kind: schemas.KindSyncError, Class: "exchange.ews.forbidden", Tenant: "t-1002", Mailbox: "m.rossi@fabrikam.com",
		Title: "The account does not have permission to impersonate", Remediation: "Grant the service account the ApplicationImpersonation role.",
		Message: "ErrorImpersonateUserDenied: The account does not have permission to impersonate the requested user.", First: t0.Add(-20 * time.Hour), Updates: 2, Every: 2 * time.Hour, Resolve: true}
	oldNotFound = spec{Kind: schemas.KindSyncIssue, Class: "record.not_found", Tenant: "t-1003", Mailbox: "old@northwind.example",
		Title: "The specified object was not found in the store", Remediation: "The record was deleted or moved; it drops out of the next runs.",
		Message: "The specified object was not found in the store.", First: t0.Add(-40 * time.Hour), Updates: 1, Every: time.Hour, Resolve: true}
	landscape = []spec{password, oauth, tooLarge, mandatory, forbidden, oldNotFound}
)

func landscapeView(t *testing.T) *view.View {
	t.Helper()
	v := view.New(view.Config{})
	apply(t, v, landscape...)
	require.Equal(t, t0, v.Newest(), "the fixture's latest event is t0")
	return v
}
