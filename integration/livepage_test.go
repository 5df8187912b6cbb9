package integration

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/integration/cdp"
	"github.com/syncwatch/syncwatch/pipeline/loggen"
)

// TestLivePageOfIngest opens the live page of a running ingest, behind a
// bearer token, in headless Chromium: it shows the incidents open at that
// moment; a sync error whose log line is produced afterwards appears
// within 2 s of the produce, without a reload; the mailbox's next healthy
// run resolves it and it leaves the open incidents, also within 2 s.
func TestLivePageOfIngest(t *testing.T) {
	kcat := requireTool(t, "kcat")
	chromium := cdp.RequireChromium(t)
	broker := startFaultBroker(t, 0, nil)
	// logs that end now, as live traffic does
	kc := newKafkaCorpus(t, loggen.Config{Seed: 61, Mailboxes: 60, Duration: 24 * time.Hour, Start: time.Now().UTC().Add(-24 * time.Hour).Truncate(time.Second)})
	_, want := expectedOnce(t, kc)
	kc.produce(t, kcat, broker.Addrs())

	token := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(token, []byte("page-t0ken\n"), 0o600))
	// decisions waiting for more event time are taken 500 ms after the
	// input goes quiet: a lone line, with no traffic after it, is judged
	p := startFaultIngest(t, "ingest", broker.Addrs(), "syncwatch-live-page", true,
		"--quiet-after", "500ms", "--reorder-window", "50ms", "--api-token-file", token)
	waitIncidents(t, kcat, broker.Addrs(), want, 120*time.Second)

	// the open incidents as the API has them, once the view has read them all
	var open map[string]string
	require.Eventually(t, func() bool {
		o, err := apiIncidentsToken(t, p.metrics, "page-t0ken")
		if err != nil {
			return false
		}
		same := len(o) == len(open)
		open = o
		return same && len(o) > 0
	}, 30*time.Second, 500*time.Millisecond)

	b := cdp.Start(t, chromium)
	tb := b.NewTab(t, 1280, 900, false)
	tb.Navigate("http://" + p.metrics + "/?access_token=page-t0ken")
	tb.WaitFor(fmt.Sprintf(`document.readyState === "complete" && document.querySelectorAll("tr.incident").length === %d`, len(open)), 10*time.Second)
	tb.WaitFor(`document.getElementById("live-status").textContent === "live"`, 10*time.Second)
	for id := range open {
		require.True(t, cdp.Value[bool](tb, fmt.Sprintf(`!!document.querySelector('tr.incident[data-id=%q]')`, id)), "open incident %s on the page", id)
	}
	loadedAt := cdp.Value[float64](tb, `window.__loadedAt`)

	w := &kafka.Writer{Addr: kafka.TCP(broker.Addrs()...), Balancer: &kafka.Hash{}, BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	const tenant, mailbox = "t-live", "new.hire@contoso.com"
	produce := func(topic string, lines ...string) time.Time {
		t.Helper()
		var msgs []kafka.Message
		for _, l := range lines {
			msgs = append(msgs, kafka.Message{Topic: topic, Key: []byte(tenant + "/" + mailbox), Value: []byte(l)})
		}
		require.NoError(t, w.WriteMessages(context.Background(), msgs...))
		return time.Now()
	}
	// an authentication error: a definitive sync error at its first sighting
	now := time.Now().UTC()
	at := produce("sync.exchange-connector", fmt.Sprintf("%s [7] ERROR ExchangeConnector.SyncWorker - [%s/%s/run:a1b2c3] Authentication error",
		now.Format("2006-01-02 15:04:05,000"), tenant, mailbox))
	row := fmt.Sprintf(`Array.from(document.querySelectorAll("tr.incident")).find(r => r.textContent.includes(%q))`, mailbox)
	tb.WaitFor("!!"+row, 2*time.Second-time.Since(at))
	appeared := time.Since(at)
	require.Contains(t, cdp.Value[string](tb, row+".textContent"), "sync_error")
	require.Equal(t, len(open)+1, cdp.Value[int](tb, `document.querySelectorAll("tr.incident").length`))

	// the next run syncs records: the sync error resolves
	now = time.Now().UTC()
	ts := func(d time.Duration) string { return now.Add(d).Format("2006-01-02T15:04:05.000Z") }
	at = produce("sync.engine",
		fmt.Sprintf("ts=%s level=info component=sync-engine tenant=%s mailbox=%s run=d4e5f6 event=run_started direction=both", ts(0), tenant, mailbox),
		fmt.Sprintf("ts=%s level=info component=sync-engine tenant=%s mailbox=%s run=d4e5f6 event=record_synced record=MAIL-00001", ts(time.Millisecond), tenant, mailbox),
		fmt.Sprintf("ts=%s level=info component=sync-engine tenant=%s mailbox=%s run=d4e5f6 event=run_finished synced=1 failed=0 duration_ms=2", ts(2*time.Millisecond), tenant, mailbox))
	tb.WaitFor("!"+row, 2*time.Second-time.Since(at))
	resolved := time.Since(at)
	require.Equal(t, len(open), cdp.Value[int](tb, `document.querySelectorAll("tr.incident").length`))
	require.Equal(t, loadedAt, cdp.Value[float64](tb, `window.__loadedAt`), "updated in place, never reloaded")
	require.Empty(t, b.Exceptions(), "the page's script threw")
	p.stop(t, 30*time.Second)
	t.Logf("%d incidents open on the page; a new sync error appeared %v after its log line was produced, left %v after its resolving run",
		len(open), appeared.Round(time.Millisecond), resolved.Round(time.Millisecond))
}

// apiIncidentsToken is apiIncidents of the open incidents, with a token.
func apiIncidentsToken(t *testing.T, addr, token string) (map[string]string, error) {
	t.Helper()
	return apiIncidents(t, addr, url.Values{"state": {"open"}, "access_token": {token}})
}
