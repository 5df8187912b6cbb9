package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/kfakebroker"
)

// TestReloadKafka runs ingest against an embedded broker with
// --watch-config: a message is classified under the catalog file, the
// file is rewritten while ingest runs, and the next message, of another
// mailbox, is classified under the new catalog, without a restart; the
// incident opened before keeps its class.
func TestReloadKafka(t *testing.T) {
	defer func(d time.Duration) { watchInterval = d }(watchInterval)
	watchInterval = 50 * time.Millisecond
	t.Setenv("SYNCWATCH_BROKERS", "")
	t.Setenv("SYNCWATCH_CONFIG", "")

	topics := []string{"sync.exchange-connector", "sync.engine", "sync.c4cc-connector", "sync.incidents", "sync.deadletter"}
	broker, err := kfakebroker.Start(kfakebroker.Config{Topics: topics, Partitions: 1})
	require.NoError(t, err)
	defer broker.Close()
	dir := t.TempDir()
	catPath := filepath.Join(dir, "catalog.yaml")
	require.NoError(t, os.WriteFile(catPath, []byte(frobCatalog("custom.frob_v1")), 0o644))
	cfgPath := filepath.Join(dir, "ingest.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(fmt.Sprintf(`brokers: [%s]
group: reload-test
catalog: %s
watch_config: true
stdout: true
metrics_addr: "off"
repartition: never
resume_incidents: false
reorder_window: 20ms
idle_timeout: 100ms
quiet_after: 300ms
`, strings.Join(broker.Addrs(), ","), catPath)), 0o644))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncWriter
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"--config", cfgPath}, &stdout, &stderr) }()

	w := &kafka.Writer{Addr: kafka.TCP(broker.Addrs()...), Topic: "sync.engine", BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	produce := func(mailbox, run string, at time.Time) {
		t.Helper()
		line := fmt.Sprintf(`ts=%s level=error component=sync-engine tenant=t-1 mailbox=%s run=%s event=run_failed msg=%q`,
			at.UTC().Format("2006-01-02T15:04:05.000Z"), mailbox, run, frobMsg)
		require.NoError(t, w.WriteMessages(ctx, kafka.Message{Key: []byte("t-1/" + mailbox), Value: []byte(line)}))
	}
	opened := func(mailbox, class string) func() bool {
		return func() bool {
			for _, l := range strings.Split(stdout.String(), "\n") {
				if strings.Contains(l, `"mailbox":"`+mailbox+`"`) && strings.Contains(l, `"class":"`+class+`"`) {
					return true
				}
			}
			return false
		}
	}
	t0 := time.Now().Add(-time.Minute)
	produce("m1", "r1", t0)
	require.Eventually(t, opened("m1", "custom.frob_v1"), 60*time.Second, 50*time.Millisecond, "stderr: %s", &stderr)

	rewrite(t, catPath, frobCatalog("custom.frob_v2"))
	require.Eventually(t, func() bool { return strings.Contains(stderr.String(), "reloaded the catalog and the routing") },
		10*time.Second, 20*time.Millisecond, "stderr: %s", &stderr)
	produce("m2", "r2", t0.Add(time.Second))
	require.Eventually(t, opened("m2", "custom.frob_v2"), 30*time.Second, 50*time.Millisecond, "stderr: %s", &stderr)
	require.False(t, opened("m1", "custom.frob_v2")(), "m1's incident keeps its class")
	require.False(t, opened("m2", "custom.frob_v1")(), "m2's message came after the reload")

	cancel()
	select {
	case code := <-done:
		require.Equal(t, exitOK, code, "stderr: %s", &stderr)
	case <-time.After(60 * time.Second):
		t.Fatal("ingest did not stop")
	}
}
