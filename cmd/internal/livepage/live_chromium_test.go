package livepage

import (
	"bytes"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/cmd/internal/liveapi"
	"github.com/syncwatch/syncwatch/integration/cdp"
	"github.com/syncwatch/syncwatch/schemas"
)

// updateScreenshotEnv, set to 1, makes TestLivePageInChromium write the
// page as it shows the landscape to docs/live-page-screenshot.png.
const updateScreenshotEnv = "SYNCWATCH_UPDATE_SCREENSHOTS"

// requests records what the API's token check saw.
type requests struct {
	mu                     sync.Mutex
	pages, fragments, sses int
	refused                []string
}

func (rq *requests) count() (pages, fragments, sses int, refused []string) {
	rq.mu.Lock()
	defer rq.mu.Unlock()
	return rq.pages, rq.fragments, rq.sses, append([]string(nil), rq.refused...)
}

// withToken is the API's optional authentication as the lead specified
// it: a bearer token in the Authorization header or in access_token.
func withToken(token string, h http.Handler, rq *requests) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/favicon.ico" { // the browser's own request, not the page's
			http.NotFound(w, r)
			return
		}
		ok := r.URL.Query().Get("access_token") == token || r.Header.Get("Authorization") == "Bearer "+token
		rq.mu.Lock()
		switch {
		case !ok:
			rq.refused = append(rq.refused, r.URL.String())
		case r.URL.Path == "/api/v1/events":
			rq.sses++
		case r.URL.Query().Get("fragment") == "1":
			rq.fragments++
		default:
			rq.pages++
		}
		rq.mu.Unlock()
		if !ok {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// resetFirst answers the first stream with a reset, as the view's
// dropping a slow subscriber does, and serves the others with events.
func resetFirst(events http.Handler) http.Handler {
	var once sync.Once
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		first := false
		once.Do(func() { first = true })
		if !first {
			events.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		http.NewResponseController(w).Flush()
		time.Sleep(300 * time.Millisecond) // the page is connected by now
		w.Write([]byte("event: reset\ndata: {}\n\n"))
	})
}

// TestLivePageInChromium opens the page in headless Chromium and watches
// it follow the view without reloading: a new sync error appears, its
// resolution takes it off the open incidents, each within 2 s. The page
// is opened with an access_token, which the API requires of every
// request: the page's stream and fragments must carry it on.
func TestLivePageInChromium(t *testing.T) {
	bin := cdp.RequireChromium(t)
	v := landscapeView(t)
	const token = "s3cret-t0ken"
	rq := &requests{}
	mux := http.NewServeMux()
	mux.Handle("GET /api/v1/events", resetFirst(liveapi.New(v, liveapi.Options{})))
	mux.Handle("/", New(v, Options{}))
	srv := httptest.NewServer(withToken(token, mux, rq))
	t.Cleanup(srv.Close) // after the browser closes, which ends its event stream

	b := cdp.Start(t, bin)
	tb := b.NewTab(t, 1280, 900, false)
	tb.Navigate(srv.URL + "/?access_token=" + token)
	tb.WaitFor(`document.readyState === "complete" && document.querySelectorAll("tr.incident").length === 4`, 10*time.Second)
	// the first stream ends with a reset: the page reconnects
	tb.WaitFor(`document.getElementById("live-status").textContent === "live"`, 10*time.Second)
	require.Eventually(t, func() bool { _, _, sses, _ := rq.count(); return sses == 2 && v.Subscribers() == 1 },
		10*time.Second, 20*time.Millisecond, "the page reconnects after a reset")
	tb.WaitFor(`document.getElementById("live-status").textContent === "live"`, 5*time.Second)

	const rowIDs = `Array.from(document.querySelectorAll("tr.incident")).map(r => r.dataset.id)`
	const cardsJS = `Object.fromEntries(Array.from(document.querySelectorAll(".card")).map(c => [c.querySelector(".label").textContent, c.querySelector(".value").textContent]))`
	require.Equal(t, []string{tooLarge.id(), oauth.id(), mandatory.id(), password.id()}, cdp.Value[[]string](tb, rowIDs))
	require.Equal(t, 4, cdp.Value[int](tb, `document.querySelectorAll("svg.timeline").length`))
	require.Equal(t, 5, cdp.Value[int](tb, `document.querySelectorAll("svg.timeline rect.episode").length`))
	require.Equal(t, "2", cdp.Value[map[string]string](tb, cardsJS)["Open sync errors"])
	loadedAt := cdp.Value[float64](tb, `window.__loadedAt`)
	// each connection's open fetches the body once (what happened while
	// it was down); after that, only events do
	time.Sleep(500 * time.Millisecond)
	updates := cdp.Value[int](tb, `window.__updates`)
	require.GreaterOrEqual(t, updates, 1)
	time.Sleep(500 * time.Millisecond)
	require.Equal(t, updates, cdp.Value[int](tb, `window.__updates`), "no fetch without an event")

	// a new sync error on a mailbox the page does not show yet
	fresh := spec{Kind: schemas.KindSyncError, Class: "exchange.org.marked_for_removal", Tenant: "t-1004", Mailbox: "new.hire@contoso.com",
		Title: "The mailbox is marked for removal", Remediation: "Re-create the mailbox's sync configuration after the migration.",
		Message: "ErrorMailboxMoveInProgress: the mailbox is marked for removal", First: t0.Add(10 * time.Minute), Every: 20 * time.Minute, Resolve: true}
	evs := fresh.events(t)
	applied := time.Now()
	_, err := v.Apply(evs[0].raw)
	require.NoError(t, err)
	took := tb.WaitFor(fmt.Sprintf(`!!document.querySelector('tr.incident[data-id=%q]')`, fresh.id()), 2*time.Second)
	t.Logf("the new sync error showed %v after it was applied (polled for %v)", time.Since(applied).Round(time.Millisecond), took.Round(time.Millisecond))
	require.Equal(t, fresh.id(), cdp.Value[[]string](tb, rowIDs)[0], "first seen latest first")
	tb.WaitFor(`document.querySelectorAll("svg.timeline").length === 5`, 2*time.Second)
	c := cdp.Value[map[string]string](tb, cardsJS)
	require.Equal(t, "3", c["Open sync errors"])
	require.Equal(t, "4", c["Affected mailboxes"])
	require.Equal(t, "11-24 12:10", c["Latest event"])
	require.Equal(t, loadedAt, cdp.Value[float64](tb, `window.__loadedAt`), "updated in place, not reloaded")
	require.Greater(t, cdp.Value[int](tb, `window.__updates`), updates)

	shot := tb.Screenshot()
	checkScreenshot(t, shot, 1280)
	if os.Getenv(updateScreenshotEnv) == "1" {
		path := filepath.Join("..", "..", "..", "docs", "live-page-screenshot.png")
		require.NoError(t, os.WriteFile(path, shot, 0o644))
		t.Logf("wrote %s", path)
	}

	// its resolution takes it off the open incidents; the timeline keeps
	// the episode, now resolved
	applied = time.Now()
	_, err = v.Apply(evs[1].raw)
	require.NoError(t, err)
	tb.WaitFor(fmt.Sprintf(`!document.querySelector('tr.incident[data-id=%q]')`, fresh.id()), 2*time.Second)
	t.Logf("the resolved sync error left %v after its resolution was applied", time.Since(applied).Round(time.Millisecond))
	require.Equal(t, []string{tooLarge.id(), oauth.id(), mandatory.id(), password.id()}, cdp.Value[[]string](tb, rowIDs))
	tb.WaitFor(`document.querySelectorAll(".card")[3].querySelector(".value").textContent === "2"`, 2*time.Second)
	c = cdp.Value[map[string]string](tb, cardsJS)
	require.Equal(t, "2", c["Open sync errors"])
	require.Equal(t, "2", c["Resolved in 24 h"])
	require.Equal(t, 5, cdp.Value[int](tb, `document.querySelectorAll("svg.timeline").length`), "new.hire's timeline stays: resolved in the window")
	require.Equal(t, loadedAt, cdp.Value[float64](tb, `window.__loadedAt`), "updated in place, not reloaded")

	// every request of the page carried the token
	pages, fragments, sses, refused := rq.count()
	require.Empty(t, refused)
	require.Equal(t, 1, pages)
	require.GreaterOrEqual(t, fragments, 3, "one at each connection, one per change at least")
	require.Equal(t, 2, sses)
	require.Empty(t, b.Exceptions(), "the page's script threw")
}

// TestLivePageOnAPhone: on a phone's viewport the page does not scroll
// sideways, the cards wrap, and each incident is a stacked block.
func TestLivePageOnAPhone(t *testing.T) {
	bin := cdp.RequireChromium(t)
	v := landscapeView(t)
	mux := http.NewServeMux()
	mux.Handle("GET /api/v1/events", liveapi.New(v, liveapi.Options{}))
	mux.Handle("/", New(v, Options{}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close) // after the browser closes, which ends its event stream

	b := cdp.Start(t, bin)
	tb := b.NewTab(t, 390, 844, true)
	tb.Navigate(srv.URL + "/?state=all")
	tb.WaitFor(`document.readyState === "complete" && document.querySelectorAll("tr.incident").length === 6`, 10*time.Second)
	tb.WaitFor(`document.getElementById("live-status").textContent === "live"`, 10*time.Second)
	require.Equal(t, 390, cdp.Value[int](tb, `window.innerWidth`))
	require.LessOrEqual(t, cdp.Value[int](tb, `document.documentElement.scrollWidth`), 390, "nothing wider than the phone")
	require.Greater(t, cdp.Value[int](tb, `new Set(Array.from(document.querySelectorAll(".card")).map(c => c.offsetTop)).size`), 1, "the cards wrap")
	require.Equal(t, "block", cdp.Value[string](tb, `getComputedStyle(document.querySelector("tr.incident")).display`))
	require.Equal(t, "none", cdp.Value[string](tb, `getComputedStyle(document.querySelector("#incident-table thead")).display`))
	require.LessOrEqual(t, cdp.Value[float64](tb, `document.querySelector("svg.timeline").getBoundingClientRect().width`), 390.0, "the timelines scale down")
	checkScreenshot(t, tb.Screenshot(), 390)
	require.Empty(t, b.Exceptions(), "the page's script threw")
}

// checkScreenshot checks shot is a PNG width wide with something drawn:
// text, cards and bars, not one colour.
func checkScreenshot(t *testing.T, shot []byte, width int) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	require.NoError(t, err)
	require.Equal(t, width, img.Bounds().Dx())
	require.Greater(t, img.Bounds().Dy(), 600)
	colours := map[[3]uint32]bool{}
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y += 2 {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x += 2 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 8, g >> 8, b >> 8}] = true
		}
	}
	require.Greater(t, len(colours), 20, "a rendered page has text, cards and bars")
}
