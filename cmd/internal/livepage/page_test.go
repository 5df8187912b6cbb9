package livepage

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/view"
	"github.com/syncwatch/syncwatch/schemas"
)

// get serves GET target from h and returns the status, headers and body.
func get(t *testing.T, h http.Handler, target string) (int, http.Header, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	b, err := io.ReadAll(rec.Result().Body)
	require.NoError(t, err)
	return rec.Code, rec.Result().Header, string(b)
}

var (
	cardRE = regexp.MustCompile(`<div class="label">([^<]*)</div><div class="value">([^<]*)</div>`)
	rowRE  = regexp.MustCompile(`<tr class="incident" data-id="([^"]*)">`)
)

func cards(html string) map[string]string {
	out := map[string]string{}
	for _, m := range cardRE.FindAllStringSubmatch(html, -1) {
		out[m[1]] = m[2]
	}
	return out
}

func rows(html string) []string {
	var ids []string
	for _, m := range rowRE.FindAllStringSubmatch(html, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func TestPageShowsOpenIncidents(t *testing.T) {
	v := landscapeView(t)
	code, hdr, html := get(t, New(v, Options{}), "/")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "text/html; charset=utf-8", hdr.Get("Content-Type"))
	require.Equal(t, "no-store", hdr.Get("Cache-Control"))

	require.Equal(t, map[string]string{
		"Open sync errors":   "2",
		"Open sync issues":   "2",
		"Affected mailboxes": "3",
		"Resolved in 24 h":   "1", // forbidden; oldNotFound resolved 38 h before the latest event
		"Latest event":       "11-24 12:00",
	}, cards(html))
	require.Equal(t, []string{tooLarge.id(), oauth.id(), mandatory.id(), password.id()}, rows(html),
		"the open incidents, first seen latest first")
	require.Contains(t, html, "<h2 id=\"incidents\">Open incidents (4)</h2>")
	// remediation and evidence of every held event
	require.Contains(t, html, "<td>Open SAP Cloud for Customer &gt; E-Mail Integration &gt; Sync Settings &gt; E-Mail Configuration, enter the new password and click Save.</td>")
	require.Equal(t, 4, strings.Count(html, `<code class="evidence-message">Authentication failed for user anna.schmidt@contoso.com: the password was changed.</code>`),
		"one evidence entry per event (their origins differ)")
	require.Contains(t, html, `exchange.log:400`)

	// a timeline per mailbox with an incident open or resolved in the
	// last 24 h, over the 24 h before the latest event
	require.Equal(t, 4, strings.Count(html, `<svg class="timeline"`))
	require.Equal(t, 5, strings.Count(html, `<rect class="episode `))
	require.Equal(t, 1, strings.Count(html, `<rect class="episode sync_error" data-class="exchange.ews.forbidden"`))
	require.NotContains(t, html, "old@northwind.example")
	require.Contains(t, html, "2026-11-23 12:00:00Z – 2026-11-24 12:00:00Z")
	for _, h3 := range regexp.MustCompile(`<h3>([^<]*) <span`).FindAllStringSubmatch(html, -1) {
		require.Contains(t, []string{"anna.schmidt@contoso.com", "j.doe@fabrikam.com", "k.tanaka@northwind.example", "m.rossi@fabrikam.com"}, h3[1])
	}
	// password opened 9 h before the end of a 24 h axis and is open:
	// its bar runs from 15/24 of the plot to its end
	bar := regexp.MustCompile(`<rect class="episode sync_error" data-class="exchange.auth.password" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"`).FindStringSubmatch(html)
	require.NotNil(t, bar)
	require.Equal(t, "697.5", bar[1])
	require.Equal(t, "412.5", bar[2])

	// the page is live: one script, under the CSP's nonce
	nonce := regexp.MustCompile(`script-src 'nonce-([A-Za-z0-9_-]{22})'`).FindStringSubmatch(hdr.Get("Content-Security-Policy"))
	require.NotNil(t, nonce, hdr.Get("Content-Security-Policy"))
	require.Equal(t, 1, strings.Count(html, "<script"))
	require.Contains(t, html, `<script nonce="`+nonce[1]+`">`)
	require.Contains(t, html, `new EventSource(src)`)
	require.Contains(t, html, `var src = "/api/v1/events" +`)
	_, hdr2, _ := get(t, New(v, Options{}), "/")
	require.NotEqual(t, hdr.Get("Content-Security-Policy"), hdr2.Get("Content-Security-Policy"), "a nonce per response")
}

func TestPageEmptyView(t *testing.T) {
	code, _, html := get(t, New(view.New(view.Config{}), Options{}), "/")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "0", cards(html)["Open sync errors"])
	require.Equal(t, "–", cards(html)["Latest event"])
	require.Contains(t, html, `<p id="no-incidents">None.</p>`)
	require.NotContains(t, html, `<svg`)
}

func TestPageFilters(t *testing.T) {
	v := landscapeView(t)
	h := New(v, Options{})
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"state=resolved", []string{forbidden.id(), oldNotFound.id()}},
		{"state=all", []string{tooLarge.id(), oauth.id(), mandatory.id(), password.id(), forbidden.id(), oldNotFound.id()}},
		{"kind=sync_issue", []string{tooLarge.id(), mandatory.id()}},
		{"class=exchange.auth.*", []string{oauth.id(), password.id()}},
		{"class=exchange.auth.password", []string{password.id()}},
		{"class=exchange.auth", nil},
		{"tenant=t-1001", []string{tooLarge.id(), password.id()}},
		{"mailbox=*@fabrikam.com", []string{oauth.id()}},
		{"mailbox=*@fabrikam.com&state=all", []string{oauth.id(), forbidden.id()}},
		{"tenant=t-1002&kind=sync_error&state=all&class=exchange.ews.*", []string{forbidden.id()}},
	} {
		t.Run(c.query, func(t *testing.T) {
			code, _, html := get(t, h, "/?"+c.query)
			require.Equal(t, http.StatusOK, code)
			require.Equal(t, c.want, rows(html))
			frag := get3(t, h, "/?fragment=1&"+c.query)
			require.Equal(t, c.want, rows(frag), "the fragment applies the same filters")
		})
	}

	t.Run("cards follow the filters, the state aside", func(t *testing.T) {
		_, _, html := get(t, h, "/?tenant=t-1002&state=resolved")
		require.Equal(t, map[string]string{"Open sync errors": "1", "Open sync issues": "0", "Affected mailboxes": "1",
			"Resolved in 24 h": "1", "Latest event": "11-24 12:00"}, cards(html))
		require.Contains(t, html, "(matching the filter)")
		require.Equal(t, 2, strings.Count(html, `<svg class="timeline"`), "j.doe (open) and m.rossi (resolved in the window)")
	})

	t.Run("the form shows the filters", func(t *testing.T) {
		_, _, html := get(t, h, "/?state=all&kind=sync_issue&class=record.*&tenant=t-1003&mailbox=k.*")
		require.Contains(t, html, `<option value="all" selected>all</option>`)
		require.Contains(t, html, `<option value="sync_issue" selected>sync_issue</option>`)
		require.Contains(t, html, `<input name="class" value="record.*"`)
		require.Contains(t, html, `<input name="tenant" value="t-1003"`)
		require.Contains(t, html, `<input name="mailbox" value="k.*"`)
		require.Equal(t, []string{mandatory.id()}, rows(html))
	})

	t.Run("bad filters", func(t *testing.T) {
		for _, q := range []string{"mailbox=" + url.QueryEscape("[a-"), "state=closed"} {
			code, _, html := get(t, h, "/?"+q)
			require.Equal(t, http.StatusBadRequest, code, q)
			require.Contains(t, html, `<div class="error" id="filter-error">`, q)
			require.Empty(t, rows(html), q)
			code, _, frag := get(t, h, "/?fragment=1&"+q)
			require.Equal(t, http.StatusBadRequest, code, q)
			require.Contains(t, frag, `id="filter-error"`, q)
		}
	})

	t.Run("caps", func(t *testing.T) {
		_, _, html := get(t, New(v, Options{MaxRows: 2, MaxTimelines: 1}), "/?state=all")
		require.Equal(t, []string{tooLarge.id(), oauth.id()}, rows(html))
		require.Contains(t, html, "<h2 id=\"incidents\">Incidents (6)</h2>")
		require.Contains(t, html, `showing the 2 first seen latest of 6`)
		require.Equal(t, 1, strings.Count(html, `<svg class="timeline"`))
		require.Contains(t, html, `and 3 more mailbox(es)`)
	})
}

// get3 returns only the body of a 200 response.
func get3(t *testing.T, h http.Handler, target string) string {
	t.Helper()
	code, _, body := get(t, h, target)
	require.Equal(t, http.StatusOK, code, target)
	return body
}

func TestPageFragment(t *testing.T) {
	v := landscapeView(t)
	h := New(v, Options{})
	code, hdr, frag := get(t, h, "/?fragment=1")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "text/html; charset=utf-8", hdr.Get("Content-Type"))
	require.Equal(t, "default-src 'none'; style-src 'unsafe-inline'", hdr.Get("Content-Security-Policy"))
	for _, whole := range []string{"<html", "<head", "<script", "<form", "<style"} {
		require.NotContains(t, frag, whole, "a fragment is the live body only")
	}
	page := get3(t, h, "/")
	// the fragment is what the page holds in <main id="live">
	m := regexp.MustCompile(`(?s)<main id="live">\n(.*)\n</main>`).FindStringSubmatch(page)
	require.NotNil(t, m)
	require.Equal(t, m[1], frag)
	require.Equal(t, cards(page), cards(frag))
	require.Len(t, rows(frag), 4)

	// a change to the view shows in the next fragment
	next := spec{Kind: schemas.KindSyncError, Class: "exchange.org.marked_for_removal", Tenant: "t-1004", Mailbox: "new.hire@contoso.com",
		Title: "Mailbox marked for removal", Message: "The mailbox is marked for removal.", First: t0.Add(10 * time.Minute), Every: time.Minute}
	apply(t, v, next)
	frag = get3(t, h, "/?fragment=1")
	require.Equal(t, next.id(), rows(frag)[0])
	require.Equal(t, "3", cards(frag)["Open sync errors"])
	require.Equal(t, "11-24 12:10", cards(frag)["Latest event"])
}

// hostile is log text carrying markup, in every field that reaches the
// page.
const (
	hostileScript = `<script>alert(1)</script>`
	hostileAttr   = `"><img src=x onerror=alert(2)>`
)

func TestPageEscapesHostileContent(t *testing.T) {
	v := view.New(view.Config{})
	bad := spec{Kind: schemas.KindSyncError, Class: "exchange.x" + hostileAttr, Tenant: "t-" + hostileScript,
		Mailbox: "m" + hostileAttr + "@evil.example", Title: "T " + hostileScript, Remediation: "R " + hostileAttr,
		Message: "Frobnication " + hostileScript + " " + hostileAttr, First: t0, Updates: 1, Every: time.Minute}
	apply(t, v, bad)
	h := New(v, Options{Title: "live " + hostileScript})
	check := func(t *testing.T, html string, scripts int) {
		t.Helper()
		require.Equal(t, scripts, strings.Count(html, "<script"), "only the page's own script")
		require.NotContains(t, html, "<img")
		require.NotContains(t, html, `"><img`)
		require.Contains(t, html, `<code class="evidence-message">Frobnication &lt;script&gt;alert(1)&lt;/script&gt; &#34;&gt;&lt;img src=x onerror=alert(2)&gt;</code>`)
		require.Contains(t, html, `<td>t-&lt;script&gt;alert(1)&lt;/script&gt;</td><td>m&#34;&gt;&lt;img src=x onerror=alert(2)&gt;@evil.example</td>`)
		require.Contains(t, html, `<span class="origin">T &lt;script&gt;alert(1)&lt;/script&gt;</span>`)
		require.Contains(t, html, `<td>R &#34;&gt;&lt;img src=x onerror=alert(2)&gt;</td>`)
		require.Contains(t, html, `data-class="exchange.x&#34;&gt;&lt;img src=x onerror=alert(2)&gt;"`)
		require.Contains(t, html, `<h3>m&#34;&gt;&lt;img src=x onerror=alert(2)&gt;@evil.example <span class="tenant">tenant t-&lt;script&gt;alert(1)&lt;/script&gt;`)
	}
	t.Run("page", func(t *testing.T) {
		html := get3(t, h, "/?state=all")
		check(t, html, 1)
		require.Contains(t, html, `<title>live &lt;script&gt;alert(1)&lt;/script&gt;</title>`)
	})
	t.Run("fragment", func(t *testing.T) { check(t, get3(t, h, "/?fragment=1"), 0) })
	t.Run("filters reflected", func(t *testing.T) {
		// a crafted link's filters and token are reflected escaped too
		q := url.Values{"tenant": {hostileAttr}, "class": {hostileScript}, "kind": {hostileAttr}, "access_token": {hostileAttr}}
		code, _, html := get(t, h, "/?"+q.Encode())
		require.Equal(t, http.StatusBadRequest, code, "no such kind, and * inside a class: the problems are shown")
		require.Contains(t, html, `kind: &#34;\&#34;&gt;&lt;img src=x onerror=alert(2)&gt;&#34;: want sync_error, sync_issue or pipeline`)
		require.Equal(t, 1, strings.Count(html, "<script"))
		require.NotContains(t, html, "<img")
		require.Contains(t, html, `<input name="tenant" value="&#34;&gt;&lt;img src=x onerror=alert(2)&gt;"`)
		require.Contains(t, html, `<option value="&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" selected>&#34;&gt;&lt;img src=x onerror=alert(2)&gt;</option>`)
		require.Contains(t, html, `<input type="hidden" name="access_token" value="&#34;&gt;&lt;img src=x onerror=alert(2)&gt;">`)
	})
}

func TestPageSelfContained(t *testing.T) {
	v := landscapeView(t)
	for _, target := range []string{"/", "/?fragment=1", "/?access_token=s3cret&state=all"} {
		html := get3(t, New(v, Options{}), target)
		require.NotContains(t, html, "http://", target)
		require.NotContains(t, html, "https://", target)
		lower := strings.ToLower(html)
		for _, bad := range []string{"<link", "<img", "<iframe", "<object", "<embed", " src=", "url(", "@import", "//cdn"} {
			require.NotContains(t, lower, bad, target)
		}
		for _, m := range regexp.MustCompile(`(?i)\b(?:href|action)="([^"]*)"`).FindAllStringSubmatch(html, -1) {
			require.Regexp(t, `^(\?[^/]*)?$`, m[1], "%s: a link stays on the page", target)
		}
	}
	html := get3(t, New(v, Options{}), "/")
	require.Contains(t, html, `<meta name="viewport" content="width=device-width, initial-scale=1">`)
	require.Contains(t, html, `@media (max-width: 700px)`, "a phone layout")
}

func TestPageCarriesToken(t *testing.T) {
	v := landscapeView(t)
	html := get3(t, New(v, Options{}), "/?access_token=s3cret&kind=sync_error")
	require.Contains(t, html, `<input type="hidden" name="access_token" value="s3cret">`, "the filter form keeps the token")
	require.Contains(t, html, `<a href="?access_token=s3cret">clear</a>`)
	// the script reads it from the page's URL for the stream and the
	// fragments (TestLivePageInChromium follows it there)
	require.Contains(t, html, `new URLSearchParams(location.search).get("access_token")`)
	html = get3(t, New(v, Options{}), "/")
	require.NotContains(t, html, `name="access_token"`)
	require.Contains(t, html, `<a href="?">clear</a>`)
}

func TestPageMethodsAndPaths(t *testing.T) {
	h := New(view.New(view.Config{}), Options{})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	require.Equal(t, "GET, HEAD", rec.Header().Get("Allow"))
	code, _, _ := get(t, h, "/index.html")
	require.Equal(t, http.StatusNotFound, code)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/", nil))
	require.Equal(t, http.StatusOK, rec.Code)
}
