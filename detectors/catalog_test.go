package detectors

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/go-multierror"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/syncwatch/syncwatch/schemas"
)

func TestCatalogMatchEveryClass(t *testing.T) {
	cat, err := DefaultCatalog()
	require.NoError(t, err)
	ex, eng, c4 := schemas.ProducerExchange, schemas.ProducerEngine, schemas.ProducerC4CC
	tests := []struct {
		name     string
		producer schemas.Producer
		status   int
		msg      string
		class    string
		details  map[string]any
	}{
		{"password", ex, 0, "Authentication error", "exchange.auth.password", map[string]any{}},
		{"password warning", ex, 0, "Synchronization was disabled due to restricted access to your mailbox. Probably your e-mail password was changed", "exchange.auth.password", map[string]any{}},
		{"password other case and prefix", ex, 0, "EWS: AUTHENTICATION ERROR.", "exchange.auth.password", map[string]any{}},
		{"oauth en dash", ex, 0, "Authentication error – OAuthRefreshToken might have expired", "exchange.auth.oauth_expired", map[string]any{}},
		{"oauth hyphen", ex, 0, "authentication error - oauthrefreshtoken might have expired", "exchange.auth.oauth_expired", map[string]any{}},
		{"snapshot", eng, 0, "A limit on the number of snapshot records is exceeded (10000/10040/0)", "engine.snapshot_limit",
			map[string]any{"limit": 10000, "actual": 10040, "other": 0}},
		{"snapshot prefix", eng, 0, "sync: a limit on the number of snapshot records is exceeded (20000/25311/7).", "engine.snapshot_limit",
			map[string]any{"limit": 20000, "actual": 25311, "other": 7}},
		{"404", ex, 0, "Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found.", "exchange.ews.not_found",
			map[string]any{"http_status": 404}},
		{"404 with url", ex, 0, "The request failed. The remote server returned an error: (404) Not Found - https://mail.contoso.com/EWS/Exchange.asmx", "exchange.ews.not_found",
			map[string]any{"http_status": 404, "url": "https://mail.contoso.com/EWS/Exchange.asmx"}},
		{"403", ex, 0, "Unexpected Exchange error: The remote server returned an error: (403) Forbidden.", "exchange.ews.forbidden", map[string]any{"http_status": 403}},
		{"xml", ex, 0, "unexpected exchange error: the xml document ended unexpectedly", "exchange.xml.truncated", map[string]any{}},
		{"org", ex, 0, `Unexpected Exchange error: Organization "AUSPR01A001.PROD.OUTLOOK.COM/Microsoft Exchange Hosted Organizations/1111.onmicrosoft.com - AUSPR01A001.PROD.OUTLOOK.COM/ConfigurationUnits/1111.onmicrosoft.com/Configuration" is marked for removal.`,
			"exchange.org.marked_for_removal", map[string]any{"organization": "AUSPR01A001.PROD.OUTLOOK.COM/Microsoft Exchange Hosted Organizations/1111.onmicrosoft.com - AUSPR01A001.PROD.OUTLOOK.COM/ConfigurationUnits/1111.onmicrosoft.com/Configuration"}},
		{"kerio", ex, 0, "Unexpected Exchange error: Unsupported property field URI type. Server: Kerio Connect 9.0.3", "exchange.server.unsupported",
			map[string]any{"server": "Kerio Connect 9.0.3"}},
		{"500", c4, 500, "Remote server returned an error: (500) Internal server error (request id 6c1f)", "c4c.server.internal_error", map[string]any{"http_status": 500}},
		{"500 by status only", c4, 500, "push failed", "c4c.server.internal_error", map[string]any{"http_status": 500}},
		{"too large", ex, 0, "The item exceeds the maximum allowed size", "record.too_large", map[string]any{}},
		{"mandatory", eng, 0, "Mandatory field StartDateTime is missing", "record.mandatory_field", map[string]any{"field": "StartDateTime"}},
		{"not found in store", ex, 0, "THE SPECIFIED OBJECT WAS NOT FOUND IN THE STORE.", "record.not_found", map[string]any{}},
		{"conflict", eng, 0, "EWS: Update conflict: the item was changed by another client", "record.conflict", map[string]any{}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			sig, ok := cat.Match(test.producer, test.status, test.msg)
			require.True(t, ok, "no match for %q", test.msg)
			require.Equal(t, test.class, sig.Class)
			require.Equal(t, test.details, sig.Details)
			require.NotEmpty(t, sig.Title)
			require.NotEmpty(t, sig.Remediation)
		})
	}
}

func TestCatalogNoMatch(t *testing.T) {
	cat, err := DefaultCatalog()
	require.NoError(t, err)
	for _, msg := range []string{
		"Server busy (429), retrying after 2000 ms",
		"Fetching changes since watermark 721873426439",
		"The underlying connection was closed: Could not establish trust relationship for the SSL/TLS secure channel.",
		"error 14041 while reading", // digits inside a number are not a status
	} {
		_, ok := cat.Match(schemas.ProducerExchange, 0, msg)
		require.False(t, ok, msg)
	}
}

func TestLoadCatalogUserFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	require.NoError(t, os.WriteFile(good, []byte(`version: 1
classes:
  - class: exchange.tls.untrusted
    scope: run
    title: TLS trust failure
    remediation: Install the CA certificate of the Exchange server.
    match:
      - [could not establish trust relationship]
`), 0o644))
	cat, err := LoadCatalog(good)
	require.NoError(t, err)
	sig, ok := cat.Match(schemas.ProducerExchange, 0, "The underlying connection was closed: Could not establish trust relationship for the SSL/TLS secure channel.")
	require.True(t, ok)
	require.Equal(t, "exchange.tls.untrusted", sig.Class)
	require.Len(t, cat.Entries(), len(mustDefault(t).Entries())+1)

	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte(`version: 1
classes:
  - class: ""
    scope: sometimes
    producers: [Outlook]
    extract: [nonsense]
`), 0o644))
	_, err = LoadCatalog(bad)
	require.Error(t, err)
	for _, want := range []string{"class: must not be empty", "scope:", "unknown producer", "unknown extractor", "title: must not be empty", "match: needs"} {
		require.Contains(t, err.Error(), want)
	}
	_, err = LoadCatalog(filepath.Join(dir, "missing.yaml"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func mustDefault(t *testing.T) *Catalog {
	c, err := DefaultCatalog()
	require.NoError(t, err)
	return c
}

func TestTemplate(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"ids and numbers", "Invalid value for property StartDateTime: 2026-11-24T10:00:00", "invalid value for property startdatetime: <*>"},
		{"guid suffix dropped", "Invalid value for property Subject (request id 5f0c1e2a-1b2c-4d5e-8f90-123456789abc)", "invalid value for property subject"},
		{"quoted, email, url", `Mailbox "anna@contoso.com" rejected by https://mail.contoso.com/ews/exchange.asmx for user bob@x.io`,
			"mailbox <*> rejected by <*> for user <*>"},
		{"case and trailing period", "The underlying connection was CLOSED.", "the underlying connection was closed"},
		{"component tag prefix", "EWS: The remote server returned an error: (502) Bad Gateway.", "the remote server returned an error: (<*>) bad gateway"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			require.Equal(t, test.want, templateOf(test.in))
		})
	}
	require.LessOrEqual(t, len(templateOf(string(make([]byte, 2<<20)))), maxTemplateLen+8)
}

// TestParseCatalogValidate: every field of an entry is checked, and every
// problem of the file is reported at once, naming its entry and field.
func TestParseCatalogValidate(t *testing.T) {
	ok := func() Entry {
		return Entry{Class: "custom.quota", Scope: "total", Producers: []string{"ExchangeConnector"}, Title: "Quota",
			Remediation: "Free space.", Severity: "warning", Match: [][]string{{"quota", "exceeded"}},
			Not: []string{"soft"}, HTTPStatus: []int{507}, Extract: []string{"http_status"}}
	}
	tests := []struct {
		name    string
		version int // 0: 1
		entries func() []Entry
		want    []string // one problem each, in this order; none: valid
	}{
		{name: "every field set", entries: func() []Entry { return []Entry{ok()} }},
		{name: "only the required fields", entries: func() []Entry {
			return []Entry{{Class: "custom.quota", Title: "Quota", Match: [][]string{{"quota"}}}}
		}},
		{name: "status match only", entries: func() []Entry {
			return []Entry{{Class: "custom.quota", Title: "Quota", HTTPStatus: []int{507}}}
		}},
		{name: "empty class", entries: func() []Entry { e := ok(); e.Class = ""; return []Entry{e} },
			want: []string{"line 3: an entry: class: must not be empty"}},
		{name: "duplicate class", entries: func() []Entry { return []Entry{ok(), ok()} },
			want: []string{"line 19: class custom.quota: defined twice (first at line 3)"}},
		{name: "reserved class unknown", entries: func() []Entry { e := ok(); e.Class = classUnknown; return []Entry{e} },
			want: []string{`line 3: class unknown: class: "unknown" is reserved for unmatched messages`}},
		{name: "reserved class record.unknown", entries: func() []Entry { e := ok(); e.Class = classRecordUnknown; return []Entry{e} },
			want: []string{`line 3: class record.unknown: class: "record.unknown" is reserved for unmatched messages`}},
		{name: "bad scope", entries: func() []Entry { e := ok(); e.Scope = "weekly"; return []Entry{e} },
			want: []string{`line 3: class custom.quota: scope: unknown scope "weekly" (want total, run or record)`}},
		{name: "unknown producer", entries: func() []Entry { e := ok(); e.Producers = []string{"Outlook"}; return []Entry{e} },
			want: []string{`line 3: class custom.quota: producers: unknown producer "Outlook" (want ExchangeConnector, SyncEngine or C4CCConnector)`}},
		{name: "empty title", entries: func() []Entry { e := ok(); e.Title = ""; return []Entry{e} },
			want: []string{"line 3: class custom.quota: title: must not be empty"}},
		{name: "empty remediation is allowed", entries: func() []Entry { e := ok(); e.Remediation = ""; return []Entry{e} }},
		{name: "bad severity", entries: func() []Entry { e := ok(); e.Severity = "fatal"; return []Entry{e} },
			want: []string{`line 3: class custom.quota: severity: "fatal" (want critical, warning or info)`}},
		{name: "neither match nor status", entries: func() []Entry { e := ok(); e.Match, e.HTTPStatus = nil, nil; return []Entry{e} },
			want: []string{"line 3: class custom.quota: match: needs at least one term list or an http_status"}},
		{name: "empty term list", entries: func() []Entry { e := ok(); e.Match = [][]string{{"quota"}, {}}; return []Entry{e} },
			want: []string{"line 3: class custom.quota: match[1]: empty term list"}},
		{name: "empty match term", entries: func() []Entry { e := ok(); e.Match = [][]string{{"quota", " - "}}; return []Entry{e} },
			want: []string{"line 3: class custom.quota: match[0]: empty term"}},
		{name: "empty not term", entries: func() []Entry { e := ok(); e.Not = []string{"soft", ""}; return []Entry{e} },
			want: []string{"line 3: class custom.quota: not[1]: empty term"}},
		{name: "status out of range", entries: func() []Entry { e := ok(); e.HTTPStatus = []int{0, 507, 600}; return []Entry{e} },
			want: []string{
				"line 3: class custom.quota: http_status[0]: 0 is not an HTTP status (want 100-599)",
				"line 3: class custom.quota: http_status[2]: 600 is not an HTTP status (want 100-599)",
			}},
		{name: "unknown extractor", entries: func() []Entry { e := ok(); e.Extract = []string{"zip"}; return []Entry{e} },
			want: []string{`line 3: class custom.quota: extract: unknown extractor "zip"`}},
		{name: "unsupported version", version: 2, entries: func() []Entry { return []Entry{ok()} },
			want: []string{"line 1: version 2 not supported (want 1)"}},
		{
			name: "every field wrong: every problem at once",
			entries: func() []Entry {
				return []Entry{{Class: "unknown", Scope: "weekly", Producers: []string{"Outlook"}, Severity: "fatal",
					Match: [][]string{{}}, Not: []string{"!"}, HTTPStatus: []int{42}, Extract: []string{"zip"}}}
			},
			want: []string{
				`line 3: class unknown: class: "unknown" is reserved for unmatched messages`,
				`line 3: class unknown: scope: unknown scope "weekly" (want total, run or record)`,
				`line 3: class unknown: producers: unknown producer "Outlook" (want ExchangeConnector, SyncEngine or C4CCConnector)`,
				"line 3: class unknown: match[0]: empty term list",
				"line 3: class unknown: not[0]: empty term",
				"line 3: class unknown: http_status[0]: 42 is not an HTTP status (want 100-599)",
				`line 3: class unknown: extract: unknown extractor "zip"`,
				`line 3: class unknown: severity: "fatal" (want critical, warning or info)`,
				"line 3: class unknown: title: must not be empty",
			},
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			version := test.version
			if version == 0 {
				version = 1
			}
			doc, err := yaml.Marshal(catalogFile{Version: version, Classes: test.entries()})
			require.NoError(t, err)
			cat, err := ParseCatalog(doc)
			if len(test.want) == 0 {
				require.NoError(t, err)
				require.Len(t, cat.Entries(), len(test.entries()))
				return
			}
			require.Nil(t, cat)
			var got []string
			var merr *multierror.Error
			if errors.As(err, &merr) {
				for _, e := range merr.Errors {
					got = append(got, e.Error())
				}
			} else {
				got = []string{err.Error()}
			}
			require.Equal(t, test.want, got)
		})
	}
}

// TestCatalogParaphrases holds the catalog to wordings of the knowledge-base
// page's errors that its own examples do not use (other verbs, other word
// order, HTTP status spelled otherwise): corpora word errors otherwise.
func TestCatalogParaphrases(t *testing.T) {
	cat, err := DefaultCatalog()
	require.NoError(t, err)
	ex, eng, c4 := schemas.ProducerExchange, schemas.ProducerEngine, schemas.ProducerC4CC
	for _, tt := range []struct {
		producer schemas.Producer
		class    string
		msg      string
	}{
		{c4, "c4c.server.internal_error", "C4C returned HTTP 500 Internal Server Error"},
		{c4, "c4c.server.internal_error", "HTTP 500 Internal Server Error from C4C OData"},
		{c4, "c4c.server.internal_error", "Internal server error (500)"},
		{c4, "c4c.server.internal_error", "Remote server returned an error: (500) Internal server error"},
		{c4, "c4c.server.internal_error", "SAP Cloud for Customer internal server error"},
		{c4, "c4c.server.internal_error", "Server error 500 while pushing record"},
		{c4, "c4c.server.internal_error", "The C4C server returned status 500"},
		{eng, "engine.snapshot_limit", "Number of snapshot records exceeds the allowed maximum (10000/10123/0)"},
		{eng, "engine.snapshot_limit", "Snapshot limit reached: 10000 records"},
		{eng, "engine.snapshot_limit", "Snapshot record limit exceeded (10000/12000/0)"},
		{eng, "engine.snapshot_limit", "The number of snapshot records exceeds the limit of 10000"},
		{eng, "engine.snapshot_limit", "Too many records in snapshot: limit 10000"},
		{eng, "engine.snapshot_limit", "Too many records to synchronize (snapshot limit 10000)"},
		{ex, "exchange.auth.oauth_expired", "AADSTS700082: The refresh token has expired due to inactivity."},
		{ex, "exchange.auth.oauth_expired", "Authentication error - OAuthRefreshToken might have expired"},
		{ex, "exchange.auth.oauth_expired", "OAuth token expired"},
		{ex, "exchange.auth.oauth_expired", "Refresh token expired or revoked"},
		{ex, "exchange.auth.oauth_expired", "The OAuth refresh token is no longer valid"},
		{ex, "exchange.auth.oauth_expired", "Token refresh failed: the grant has expired"},
		{ex, "exchange.auth.oauth_expired", "invalid_grant: refresh token expired"},
		{ex, "exchange.auth.password", "Access to the mailbox was restricted, synchronization has been disabled"},
		{ex, "exchange.auth.password", "Authentication failed for mailbox"},
		{ex, "exchange.auth.password", "Credentials are invalid"},
		{ex, "exchange.auth.password", "EWS authentication failed (401)"},
		{ex, "exchange.auth.password", "Exchange rejected the credentials"},
		{ex, "exchange.auth.password", "Invalid credentials supplied for the mailbox"},
		{ex, "exchange.auth.password", "Logon failure: unknown user name or bad password."},
		{ex, "exchange.auth.password", "Mailbox password was changed; synchronization disabled"},
		{ex, "exchange.auth.password", "Sign-in failed: the password for this mailbox is no longer valid"},
		{ex, "exchange.auth.password", "The remote server returned an error: (401) Unauthorized."},
		{ex, "exchange.auth.password", "The user's password has expired"},
		{ex, "exchange.ews.forbidden", "Access to the mailbox is forbidden"},
		{ex, "exchange.ews.forbidden", "HTTP 403 Forbidden from EWS"},
		{ex, "exchange.ews.forbidden", "Request forbidden by Exchange (HTTP 403)"},
		{ex, "exchange.ews.forbidden", "The remote server returned an error: (403)"},
		{ex, "exchange.ews.forbidden", "The remote server returned an error: (403) Forbidden."},
		{ex, "exchange.ews.not_found", "EWS URL is incorrect or not present"},
		{ex, "exchange.ews.not_found", "EWS endpoint not found (HTTP 404)"},
		{ex, "exchange.ews.not_found", "EWS returned 404 Not Found for the configured URL"},
		{ex, "exchange.ews.not_found", "Exchange Web Services endpoint could not be found"},
		{ex, "exchange.ews.not_found", "The EWS URL is wrong"},
		{ex, "exchange.ews.not_found", "The request failed. The remote server returned an error: (404) Not Found."},
		{ex, "exchange.org.marked_for_removal", "Organization \"AUSPR01A001.PROD.OUTLOOK.COM/Microsoft Exchange Hosted Organizations/1111.onmicrosoft.com\" is marked for removal."},
		{ex, "exchange.org.marked_for_removal", "Organization is being decommissioned and marked for removal"},
		{ex, "exchange.org.marked_for_removal", "The Exchange organization has been marked for deletion"},
		{ex, "exchange.org.marked_for_removal", "The organization is marked for removal"},
		{ex, "exchange.server.unsupported", "Exchange server version is not supported (Kerio Connect)"},
		{ex, "exchange.server.unsupported", "Server Kerio Connect 9.0.3 is not supported"},
		{ex, "exchange.server.unsupported", "The property field URI type is not supported by the server"},
		{ex, "exchange.server.unsupported", "The server is not supported: Kerio Connect"},
		{ex, "exchange.server.unsupported", "Unsupported mail server: Kerio Connect 9.0.3"},
		{ex, "exchange.server.unsupported", "Unsupported property field URI type"},
		{ex, "exchange.xml.truncated", "The XML document ended unexpectedly."},
		{ex, "exchange.xml.truncated", "The XML response from Exchange was truncated"},
		{ex, "exchange.xml.truncated", "Unexpected end of XML document"},
		{ex, "exchange.xml.truncated", "Unexpected end of the XML stream"},
		{ex, "exchange.xml.truncated", "XML document is incomplete"},
		{ex, "exchange.xml.truncated", "XML response truncated"},
		{ex, "record.conflict", "Concurrent modification: the record was updated by another client"},
		{ex, "record.conflict", "Conflict while updating the item"},
		{ex, "record.conflict", "Conflict: item modified by another client"},
		{ex, "record.conflict", "The item has been modified by another process"},
		{ex, "record.conflict", "The item was changed by another user"},
		{ex, "record.conflict", "Update conflict"},
		{ex, "record.mandatory_field", "Field 'Subject' is mandatory"},
		{ex, "record.mandatory_field", "Field StartDateTime is required but missing"},
		{ex, "record.mandatory_field", "Mandatory field StartDateTime is missing"},
		{ex, "record.mandatory_field", "Missing mandatory field Subject"},
		{ex, "record.mandatory_field", "Required field Subject missing"},
		{ex, "record.mandatory_field", "Required property OwnerID not set"},
		{ex, "record.not_found", "Item not found in store"},
		{ex, "record.not_found", "Object not found"},
		{ex, "record.not_found", "Object not found in Exchange store"},
		{ex, "record.not_found", "Record could not be found in the mailbox"},
		{ex, "record.not_found", "The item no longer exists in the store"},
		{ex, "record.not_found", "The specified object was not found in the store."},
		{ex, "record.too_large", "Item exceeds the size limit"},
		{ex, "record.too_large", "Item size exceeds the limit"},
		{ex, "record.too_large", "Message size exceeds the maximum allowed"},
		{ex, "record.too_large", "Message too large"},
		{ex, "record.too_large", "The attachment is too big to synchronize"},
		{ex, "record.too_large", "The item exceeds the maximum allowed size of 25 MB"},
	} {
		sig, ok := cat.Match(tt.producer, 0, tt.msg)
		require.True(t, ok, "%q matches no class", tt.msg)
		require.Equal(t, tt.class, sig.Class, "%q", tt.msg)
	}
}
