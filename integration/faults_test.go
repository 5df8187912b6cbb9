package integration

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/kafkasource"
	"github.com/syncwatch/syncwatch/pipeline/kfakebroker"
	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/schemas"
	"github.com/syncwatch/syncwatch/sinks"
)

// The fault tests (issue 5) run the built ingest binary against a kfake
// broker over loopback, inject one fault each, and compare what reaches
// sync.incidents with replay of the same logs: every expected event id must
// be there with the same data, no other id may appear, and every copy of
// an id must be identical (at-least-once with deterministic ids).

// faultGroupFlags shorten the consumer-group timeouts so that a killed
// member's partitions move within seconds instead of ingest's 30s
// defaults: a member silent for the session timeout is dropped, and one
// killed during a rebalance holds it up for the rebalance timeout (seen:
// a restarted member waited 67s to join). kfake's minimum session timeout
// (6s) is lowered to match in startFaultBroker.
var faultGroupFlags = []string{"--session-timeout", "1500ms", "--heartbeat-interval", "300ms", "--rebalance-timeout", "3s"}

func init() {
	// toxiproxy logs every accepted connection through zerolog.
	zerolog.SetGlobalLevel(zerolog.ErrorLevel)
}

// faultSeed returns the seed of a test's random fault schedule:
// SYNCWATCH_FAULT_SEED to replay a failure, else the clock. It is logged.
func faultSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SYNCWATCH_FAULT_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "SYNCWATCH_FAULT_SEED")
		seed = v
	}
	t.Logf("fault schedule seed %d (rerun with SYNCWATCH_FAULT_SEED=%d)", seed, seed)
	return seed
}

// startFaultBroker starts a broker with the topics of startBroker, a
// minimum session timeout low enough for faultGroupFlags, and configs.
// A non-zero advertisedPort makes clients dial that port (a proxy).
func startFaultBroker(t *testing.T, advertisedPort int, configs map[string]string) *kfakebroker.Broker {
	t.Helper()
	bc := map[string]string{"group.min.session.timeout.ms": "500"}
	for k, v := range configs {
		bc[k] = v
	}
	topics := append([]string{"sync.incidents", "sync.deadletter"}, kafkasource.DefaultTopics...)
	b, err := kfakebroker.Start(kfakebroker.Config{Topics: topics, Partitions: partitions, AdvertisedPort: advertisedPort, BrokerConfigs: bc})
	require.NoError(t, err)
	t.Cleanup(b.Close)
	return b
}

// startProxiedBroker starts a broker behind an in-process toxiproxy proxy.
// The broker advertises the proxy's port, so every client (ingest, kcat)
// reaches it only through the proxy, and cutting or slowing the proxy
// cuts or slows all of them.
func startProxiedBroker(t *testing.T) (*kfakebroker.Broker, *toxiproxy.Proxy) {
	t.Helper()
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	// The upstream is not known before the broker, which must know the
	// proxy's port first; nothing connects before Update sets it.
	proxy := toxiproxy.NewProxy(srv, "kafka", "127.0.0.1:0", "127.0.0.1:1")
	require.NoError(t, proxy.Start())
	t.Cleanup(proxy.Stop)
	_, port, err := net.SplitHostPort(proxy.Listen)
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	broker := startFaultBroker(t, p, nil)
	require.NoError(t, proxy.Update(&toxiproxy.Proxy{Listen: proxy.Listen, Upstream: broker.ListenAddrs()[0], Enabled: true}))
	require.Equal(t, []string{proxy.Listen}, broker.Addrs())
	return broker, proxy
}

// faultProc is an ingest process started by a fault test; its log goes
// to a file that is printed when the test fails. With SYNCWATCH_FAULT_LOGS
// set to a directory, every process's log and (--stdout) events are kept
// there, to tell which member sent what.
type faultProc struct {
	name    string
	cmd     *exec.Cmd
	metrics string // host:port of /metrics, /readyz; "" when off
	logPath string
	done    chan struct{}
	waitErr error
}

func startFaultIngest(t *testing.T, name string, brokers []string, group string, withMetrics bool, extra ...string) *faultProc {
	t.Helper()
	p := &faultProc{name: name, logPath: filepath.Join(t.TempDir(), name+".log"), done: make(chan struct{})}
	args := []string{"--brokers", strings.Join(brokers, ","), "--group", group, "--log-level", "info", "--metrics-addr", "off"}
	if withMetrics {
		p.metrics = freeAddr(t)
		args[len(args)-1] = p.metrics
	}
	logf, err := os.Create(p.logPath)
	require.NoError(t, err)
	p.cmd = exec.Command(bin("ingest"), append(args, extra...)...)
	p.cmd.Stderr = logf
	if d := os.Getenv("SYNCWATCH_FAULT_LOGS"); d != "" {
		out, err := os.Create(filepath.Join(d, name+".out"))
		require.NoError(t, err)
		t.Cleanup(func() { out.Close() })
		p.cmd.Args = append(p.cmd.Args, "--stdout")
		p.cmd.Stdout = out
	}
	require.NoError(t, p.cmd.Start())
	go func() {
		p.waitErr = p.cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.exited() {
			p.cmd.Process.Kill()
			<-p.done
		}
		if d := os.Getenv("SYNCWATCH_FAULT_LOGS"); d != "" {
			b, _ := os.ReadFile(p.logPath)
			os.WriteFile(filepath.Join(d, p.name+".log"), b, 0o644)
		}
		if t.Failed() {
			b, _ := os.ReadFile(p.logPath)
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			if len(lines) > 40 {
				lines = lines[len(lines)-40:]
			}
			t.Logf("%s log (last %d lines):\n%s", p.name, len(lines), strings.Join(lines, "\n"))
		}
	})
	return p
}

func (p *faultProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill9 sends SIGKILL and waits for the process to be gone.
func (p *faultProc) kill9(t *testing.T) {
	t.Helper()
	require.False(t, p.exited(), "%s exited before it was killed: %v", p.name, p.waitErr)
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
	<-p.done
}

// stop sends SIGTERM and requires a clean exit within limit.
func (p *faultProc) stop(t *testing.T, limit time.Duration) {
	t.Helper()
	require.False(t, p.exited(), "%s exited on its own: %v", p.name, p.waitErr)
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-p.done:
		require.NoError(t, p.waitErr, "%s must exit 0 on SIGTERM", p.name)
	case <-time.After(limit):
		t.Fatalf("%s did not stop within %s of SIGTERM", p.name, limit)
	}
}

// logContains reports whether the process logged s so far.
func (p *faultProc) logContains(s string) bool {
	b, _ := os.ReadFile(p.logPath)
	return bytes.Contains(b, []byte(s))
}

// procStatusKB reads a "Vm...:  N kB" field of /proc/PID/status.
func procStatusKB(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

var faultHTTP = &http.Client{Timeout: 2 * time.Second}

// faultGet returns the status and body of GET http://addr/path (status 0
// when the server cannot be reached).
func faultGet(addr, path string) (int, string) {
	resp, err := faultHTTP.Get("http://" + addr + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitHTTP polls GET addr/path until ok(status) holds, and returns how long
// that took.
func waitHTTP(t *testing.T, addr, path string, ok func(int) bool, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		code, body := faultGet(addr, path)
		if ok(code) {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			t.Fatalf("GET %s: still %d (%s) after %s", path, code, strings.TrimSpace(body), limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// metricSum sums the samples of a metric in a Prometheus text exposition.
func metricSum(body, name string) (float64, bool) {
	sum, found := 0.0, false
	for _, line := range strings.Split(body, "\n") {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			continue
		}
		sum, found = sum+v, true
	}
	return sum, found
}

// chunkedProducer produces a corpus a slice at a time, so that the faults
// hit ingest while the stream is still flowing.
type chunkedProducer struct {
	rounds int
	done   atomic.Int32 // rounds produced
	err    chan error   // the first error, or nil once everything is produced
}

// faultSender produces to the broker: a file of kcat input (key \x1f
// value \x1e ...) to a topic, or one tick line to a partition.
type faultSender struct {
	slice func(ctx context.Context, topic, file string) error
	tick  func(ctx context.Context, topic string, partition int, line string) error
}

// kcatSender produces with kcat, keyed, as newKafkaCorpus's produce does.
func kcatSender(kcat string, brokers []string) faultSender {
	run := func(ctx context.Context, stdin string, args ...string) error {
		cmd := exec.CommandContext(ctx, kcat, append([]string{"-b", strings.Join(brokers, ","), "-P"}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("kcat %v: %w: %s", args, err, out)
		}
		return nil
	}
	return faultSender{
		slice: func(ctx context.Context, topic, file string) error {
			return run(ctx, "", "-t", topic, "-D", "\x1e", "-K", "\x1f", "-l", file)
		},
		tick: func(ctx context.Context, topic string, partition int, line string) error {
			return run(ctx, line+"\n", "-t", topic, "-p", strconv.Itoa(partition))
		},
	}
}

// directSender produces with kafka-go straight to the broker's listener,
// past the proxy it advertises: the producers are not cut off when ingest
// is. It partitions keys as kcat does (librdkafka's consistent CRC32).
func directSender(t *testing.T, broker *kfakebroker.Broker) faultSender {
	t.Helper()
	real := broker.ListenAddrs()[0]
	var d net.Dialer
	tr := &kafka.Transport{Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, real)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	write := func(ctx context.Context, topic string, bal kafka.Balancer, msgs []kafka.Message) error {
		w := &kafka.Writer{Addr: kafka.TCP(real), Topic: topic, Balancer: bal, RequiredAcks: kafka.RequireAll, BatchTimeout: 5 * time.Millisecond, BatchSize: 1000, Transport: tr}
		defer w.Close()
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			return fmt.Errorf("writing %d messages to %s: %w", len(msgs), topic, err)
		}
		return nil
	}
	return faultSender{
		slice: func(ctx context.Context, topic, file string) error {
			b, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			var msgs []kafka.Message
			for _, e := range bytes.Split(b, []byte{0x1e}) {
				if k, v, ok := bytes.Cut(e, []byte{0x1f}); ok {
					msgs = append(msgs, kafka.Message{Key: k, Value: v})
				}
			}
			return write(ctx, topic, kafka.CRC32Balancer{Consistent: true}, msgs)
		},
		tick: func(ctx context.Context, topic string, partition int, line string) error {
			bal := kafka.BalancerFunc(func(kafka.Message, ...int) int { return partition })
			return write(ctx, topic, bal, []kafka.Message{{Value: []byte(line)}})
		},
	}
}

// produceChunked splits each topic's entries into rounds slices (keeping
// their order) and, in the background, produces one slice of every topic
// every `every`, then the tick entries.
func (kc *kafkaCorpus) produceChunked(t *testing.T, send faultSender, rounds int, every time.Duration) *chunkedProducer {
	t.Helper()
	type slice struct{ topic, file string }
	plan := make([][]slice, rounds)
	for tp, file := range kc.topics {
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		entries := bytes.SplitAfter(b, []byte{0x1e})
		if len(entries[len(entries)-1]) == 0 {
			entries = entries[:len(entries)-1]
		}
		for r := range rounds {
			lo, hi := r*len(entries)/rounds, (r+1)*len(entries)/rounds
			p := filepath.Join(kc.dir, fmt.Sprintf("%s.%03d.kcat", tp, r))
			require.NoError(t, os.WriteFile(p, bytes.Join(entries[lo:hi], nil), 0o644))
			plan[r] = append(plan[r], slice{tp, p})
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cp := &chunkedProducer{rounds: rounds, err: make(chan error, 1)}
	finished := make(chan struct{})
	t.Cleanup(func() { cancel(); <-finished })
	go func() {
		defer close(finished)
		for r, slices := range plan {
			next := time.Now().Add(every)
			for _, s := range slices {
				if err := send.slice(ctx, s.topic, s.file); err != nil {
					cp.err <- err
					return
				}
			}
			cp.done.Store(int32(r + 1))
			select {
			case <-time.After(time.Until(next)):
			case <-ctx.Done():
				cp.err <- ctx.Err()
				return
			}
		}
		for _, tp := range topicOf {
			for p := range partitions {
				if err := send.tick(ctx, tp, p, kc.tickLine); err != nil {
					cp.err <- err
					return
				}
			}
		}
		cp.err <- nil
	}()
	return cp
}

// waitRounds blocks until at least n rounds were produced.
func (cp *chunkedProducer) waitRounds(t *testing.T, n int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for int(cp.done.Load()) < n {
		require.True(t, time.Now().Before(deadline), "producer did not reach round %d within %s", n, limit)
		time.Sleep(50 * time.Millisecond)
	}
}

// wait returns the producer's result.
func (cp *chunkedProducer) wait(t *testing.T, limit time.Duration) {
	t.Helper()
	select {
	case err := <-cp.err:
		require.NoError(t, err)
	case <-time.After(limit):
		t.Fatalf("producer not done within %s (%d of %d rounds)", limit, cp.done.Load(), cp.rounds)
	}
}

// deliveryStats describes what reached sync.incidents.
type deliveryStats struct {
	total, distinct, duplicates, missing int
}

// checkDelivered requires that got holds exactly the expected event ids,
// each with the expected data (evidence origins aside), and that every
// copy of an id is the same event.
func checkDelivered(t *testing.T, got []schemas.IncidentEvent, want map[string]string) deliveryStats {
	t.Helper()
	first := map[string]string{}
	st := deliveryStats{total: len(got)}
	for _, e := range got {
		data := withoutOrigins(t, []schemas.IncidentEvent{e})[e.ID]
		if prev, ok := first[e.ID]; ok {
			st.duplicates++
			if prev != data { // show the incident's history before failing
				for i, x := range got {
					if x.Data.IncidentID == e.Data.IncidentID {
						b, _ := json.Marshal(x)
						t.Logf("topic[%d]: %s", i, b)
					}
				}
				t.Logf("replay: %s", want[e.ID])
			}
			require.Equal(t, prev, data, "duplicate of %s is not the same event", e.ID)
			continue
		}
		first[e.ID] = data
	}
	st.distinct = len(first)
	var unexpected []string
	for id := range first {
		if _, ok := want[id]; !ok {
			unexpected = append(unexpected, id)
		}
	}
	for id, w := range want {
		g, ok := first[id]
		if !ok {
			st.missing++
			continue
		}
		require.Equal(t, w, g, "event %s differs from replay", id)
	}
	require.Zero(t, st.missing, "events replay has that never reached sync.incidents")
	require.Empty(t, unexpected, "events replay does not have (an incident re-opened under another id?)")
	return st
}

// expectedOnce is expectedFromReplay, requiring as well that replay sends
// every event id once: an id sent twice with different data would be two
// events that subscribers deduplicating on the id take for one.
func expectedOnce(t *testing.T, kc *kafkaCorpus) ([]schemas.IncidentEvent, map[string]string) {
	t.Helper()
	evs, want := expectedFromReplay(t, kc)
	require.Len(t, want, len(evs), "replay sent an event id more than once")
	return evs, want
}

// waitIncidents waits for every expected id, lets stragglers (late
// duplicates) arrive, and returns the whole topic.
func waitIncidents(t *testing.T, kcat string, brokers []string, want map[string]string, limit time.Duration) []schemas.IncidentEvent {
	t.Helper()
	waitFor(t, kcat, brokers, want, limit)
	time.Sleep(2 * time.Second)
	return readIncidents(t, kcat, brokers)
}

// TestFaultKill9Random kills ingest with SIGKILL at 20 random moments while
// the corpus is being produced and consumed, restarting it each time; the
// 21st run finishes. Nothing may be missing, and the repeats that
// at-least-once allows must be identical events.
func TestFaultKill9Random(t *testing.T) {
	kcat := requireTool(t, "kcat")
	start := time.Now()
	rng := rand.New(rand.NewPCG(faultSeed(t), 5))
	broker := startFaultBroker(t, 0, nil)
	kc := newKafkaCorpus(t, loggen.Config{Seed: 61, Mailboxes: 40, Duration: 48 * time.Hour, Dirty: true})
	_, want := expectedOnce(t, kc)
	prod := kc.produceChunked(t, kcatSender(kcat, broker.Addrs()), 40, 600*time.Millisecond)

	const kills = 20
	group := "syncwatch-fault-kill9"
	assigned := 0
	for i := 1; i <= kills; i++ {
		p := startFaultIngest(t, fmt.Sprintf("ingest-%02d", i), broker.Addrs(), group, false, faultGroupFlags...)
		after := time.Duration(300+rng.IntN(4200)) * time.Millisecond
		time.Sleep(after)
		p.kill9(t)
		if p.logContains("consumer group generation started") {
			assigned++
		}
		t.Logf("kill %2d after %v (producer at round %d/%d, %d events on the topic)", i, after.Round(time.Millisecond), prod.done.Load(), prod.rounds, len(readIncidents(t, kcat, broker.Addrs())))
	}
	loop := time.Since(start)
	last := startFaultIngest(t, "ingest-final", broker.Addrs(), group, false, faultGroupFlags...)
	prod.wait(t, 60*time.Second)
	waitCommitted(t, broker.Addrs(), group, 120*time.Second)
	got := waitIncidents(t, kcat, broker.Addrs(), want, 60*time.Second)
	last.stop(t, 30*time.Second)
	t.Logf("kill loop %s, final run to the last event %s", loop.Round(time.Second), (time.Since(start) - loop).Round(time.Second))

	st := checkDelivered(t, got, want)
	t.Logf("%d kills (%d after partitions were assigned), %d entries; %d events on the topic for %d ids: %d duplicates (identical), %d missing; %s",
		kills, assigned, kc.entries, st.total, st.distinct, st.duplicates, st.missing, time.Since(start).Round(time.Second))
	require.Positive(t, assigned, "no kill landed while ingest was consuming")
}

// TestFaultBrokerOutage cuts every connection between ingest and the
// broker (a toxiproxy proxy in between, which the broker advertises) for
// 30s while the corpus is flowing. ingest must keep running, report
// not-ready on /readyz (and syncwatch_source_ready 0) during the outage,
// become ready again after it, and lose nothing.
func TestFaultBrokerOutage(t *testing.T) {
	kcat := requireTool(t, "kcat")
	start := time.Now()
	broker, proxy := startProxiedBroker(t)
	kc := newKafkaCorpus(t, loggen.Config{Seed: 71, Mailboxes: 30, Duration: 48 * time.Hour, Dirty: true})
	_, want := expectedOnce(t, kc)
	// The producers keep logging during the outage: only ingest's link
	// (and kcat's, which reads the topic only afterwards) is cut.
	prod := kc.produceChunked(t, directSender(t, broker), 30, time.Second)

	// ingest's own group timeouts: the outage outlasts the 30s session.
	p := startFaultIngest(t, "ingest", broker.Addrs(), "syncwatch-fault-outage", true)
	waitHTTP(t, p.metrics, "/readyz", func(c int) bool { return c == http.StatusOK }, 30*time.Second)
	prod.waitRounds(t, 10, 30*time.Second)
	before := len(readIncidents(t, kcat, broker.Addrs()))
	require.Positive(t, before, "no event before the outage: the cut would not be mid-stream")
	_, body := faultGet(p.metrics, "/metrics")
	inBefore, ok := metricSum(body, "syncwatch_records_in_total")
	require.True(t, ok, "syncwatch_records_in_total missing:\n%s", body)

	const outage = 30 * time.Second
	proxy.Stop()
	cut := time.Now()
	t.Logf("link cut at producer round %d/%d, %d events on the topic, %.0f entries read", prod.done.Load(), prod.rounds, before, inBefore)
	notReady := waitHTTP(t, p.metrics, "/readyz", func(c int) bool { return c == http.StatusServiceUnavailable }, 20*time.Second)
	var readyDuring int
	for time.Since(cut) < outage {
		if c, _ := faultGet(p.metrics, "/readyz"); c == http.StatusOK {
			readyDuring++
		}
		time.Sleep(250 * time.Millisecond)
	}
	code, body := faultGet(p.metrics, "/metrics")
	require.Equal(t, http.StatusOK, code, "/metrics must keep serving during the outage")
	ready, ok := metricSum(body, "syncwatch_source_ready")
	require.True(t, ok, "syncwatch_source_ready missing")
	require.Zero(t, ready, "syncwatch_source_ready during the outage")
	require.Zero(t, readyDuring, "/readyz answered 200 while the broker was unreachable")
	require.False(t, p.exited(), "ingest exited during the outage: %v", p.waitErr)

	require.NoError(t, proxy.Start())
	restored := time.Now()
	backIn := waitHTTP(t, p.metrics, "/readyz", func(c int) bool { return c == http.StatusOK }, 60*time.Second)
	prod.wait(t, 60*time.Second)
	got := waitIncidents(t, kcat, broker.Addrs(), want, 120*time.Second)
	_, body = faultGet(p.metrics, "/metrics")
	ready, _ = metricSum(body, "syncwatch_source_ready")
	require.Equal(t, 1.0, ready, "syncwatch_source_ready after the outage")
	caughtUp := time.Since(restored)
	p.stop(t, 30*time.Second)

	st := checkDelivered(t, got, want)
	t.Logf("outage %s: /readyz 503 %v after the cut, 200 again %v after the link came back; all %d ids %v after; %d entries; %d events, %d duplicates, %d missing; %s",
		outage, notReady.Round(time.Millisecond), backIn.Round(time.Millisecond), st.distinct, caughtUp.Round(time.Second), kc.entries, st.total, st.duplicates, st.missing, time.Since(start).Round(time.Second))
}

// TestFaultGroupChurn runs three ingest instances in one group while the
// corpus flows, kills one with SIGKILL and adds a fourth. Partitions move
// twice; their new owners rebuild detector state from the restore window.
// The distinct event ids must be exactly replay's: an incident that a new
// owner re-opened would carry another id.
func TestFaultGroupChurn(t *testing.T) {
	kcat := requireTool(t, "kcat")
	start := time.Now()
	broker := startFaultBroker(t, 0, nil)
	kc := newKafkaCorpus(t, loggen.Config{Seed: 81, Mailboxes: 40, Duration: 48 * time.Hour, Dirty: true})
	want, wantData := expectedOnce(t, kc)
	prod := kc.produceChunked(t, kcatSender(kcat, broker.Addrs()), 30, 600*time.Millisecond)

	group := "syncwatch-fault-churn"
	var procs []*faultProc
	for _, name := range []string{"ingest-a", "ingest-b", "ingest-c"} {
		procs = append(procs, startFaultIngest(t, name, broker.Addrs(), group, false, faultGroupFlags...))
	}
	prod.waitRounds(t, 10, 60*time.Second)
	killedAt := len(readIncidents(t, kcat, broker.Addrs()))
	require.Positive(t, killedAt, "no event yet: the kill would not be mid-stream")
	procs[1].kill9(t)
	prod.waitRounds(t, 20, 60*time.Second)
	addedAt := len(readIncidents(t, kcat, broker.Addrs()))
	procs = append(procs, startFaultIngest(t, "ingest-d", broker.Addrs(), group, false, faultGroupFlags...))
	prod.wait(t, 60*time.Second)
	got := waitIncidents(t, kcat, broker.Addrs(), wantData, 120*time.Second)
	for _, i := range []int{0, 2, 3} {
		require.True(t, procs[i].logContains("consumer group generation started"), "%s never got partitions", procs[i].name)
		procs[i].stop(t, 30*time.Second)
	}
	st := checkDelivered(t, got, wantData)

	// Spelled out: one incident id per opened incident, as replay has.
	opened := func(evs []schemas.IncidentEvent) map[string]int {
		ids := map[string]map[string]bool{}
		for _, e := range evs {
			if e.Type == schemas.TypeOpened {
				k := e.Data.Tenant + "/" + e.Data.Mailbox + "/" + e.Data.Kind + "/" + e.Data.Class
				if ids[k] == nil {
					ids[k] = map[string]bool{}
				}
				ids[k][e.Data.IncidentID] = true
			}
		}
		n := map[string]int{}
		for k, v := range ids {
			n[k] = len(v)
		}
		return n
	}
	require.Equal(t, opened(want), opened(got), "incidents opened per mailbox and class")
	t.Logf("3 members, b killed at %d events, d added at %d; %d entries; %d events for %d ids: %d duplicates (identical), %d missing; %s",
		killedAt, addedAt, kc.entries, st.total, st.distinct, st.duplicates, st.missing, time.Since(start).Round(time.Second))
}

// committedAndEnd reads the group's committed offsets and the partitions'
// end offsets, summed over the log topics.
func committedAndEnd(t *testing.T, brokers []string, group string) (committed, end int64) {
	t.Helper()
	committed, end, err := groupOffsets(brokers, group)
	require.NoError(t, err)
	return committed, end
}

// groupOffsets is committedAndEnd, returning its error (a group that does
// not exist yet, say).
func groupOffsets(brokers []string, group string) (committed, end int64, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 15 * time.Second}
	parts := map[string][]int{}
	ends := map[string][]kafka.OffsetRequest{}
	for _, tp := range kafkasource.DefaultTopics {
		for p := range partitions {
			parts[tp] = append(parts[tp], p)
			ends[tp] = append(ends[tp], kafka.LastOffsetOf(p))
		}
	}
	of, err := c.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: parts})
	if err != nil {
		return 0, 0, err
	}
	if of.Error != nil {
		return 0, 0, of.Error
	}
	for _, ps := range of.Topics {
		for _, p := range ps {
			if p.Error != nil {
				return 0, 0, p.Error
			}
			committed += max(p.CommittedOffset, 0)
		}
	}
	lo, err := c.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: ends})
	if err != nil {
		return 0, 0, err
	}
	for _, ps := range lo.Topics {
		for _, p := range ps {
			if p.Error != nil {
				return 0, 0, p.Error
			}
			end += p.LastOffset
		}
	}
	return committed, end, nil
}

// waitCommitted waits until the group has committed every input offset
// but the tick of each partition: the consumer has finished the stream.
// (The last record of a partition stays in the reorder stage, uncommitted,
// until a later one moves the watermark past it.)
func waitCommitted(t *testing.T, brokers []string, group string, limit time.Duration) {
	t.Helper()
	waitCommittedBut(t, brokers, group, int64(len(topicOf)*partitions), limit)
}

// TestFaultSlowSink throttles what ingest sends to the broker (a toxiproxy
// bandwidth toxic on the client-to-broker direction: produce requests to
// sync.incidents carry the bytes, fetch requests are tiny), so that the
// incidents topic takes writes at a trickle while the whole input waits
// on the topics. Memory must stay flat while the sink holds ingest back:
// the consumer blocks in delivery, the fetchers block on the bounded
// queue, nothing is buffered on the side. ingest is then killed with
// SIGKILL in the slow phase, once some offsets were committed but most
// events were not delivered, and restarted without the toxic: an offset
// committed ahead of its events' delivery would show as missing events.
func TestFaultSlowSink(t *testing.T) {
	kcat := requireTool(t, "kcat")
	start := time.Now()
	broker, proxy := startProxiedBroker(t)
	kc := newKafkaCorpus(t, loggen.Config{Seed: 91, Mailboxes: 120, Duration: 48 * time.Hour, Dirty: true})
	kc.produce(t, kcat, broker.Addrs())
	_, want := expectedOnce(t, kc)
	var input int64
	for _, f := range kc.topics {
		st, err := os.Stat(f)
		require.NoError(t, err)
		input += st.Size()
	}

	// 2 KB/s: an event or two a second gets through.
	const rateKBs = 2
	_, err := proxy.Toxics.AddToxicJson(strings.NewReader(fmt.Sprintf(`{"name":"slow","type":"bandwidth","stream":"upstream","attributes":{"rate":%d}}`, rateKBs)))
	require.NoError(t, err)
	group := "syncwatch-fault-slow"
	p := startFaultIngest(t, "ingest-slow", broker.Addrs(), group, true, faultGroupFlags...)
	rss := sampleRSS(t, p, 500*time.Millisecond)
	// The baseline of the memory bound below: RSS once ingest consumes
	// and its fetchers are full (a second after the first record), however
	// long a loaded machine took to start it.
	var baseKB int64
	for ready := time.Now().Add(60 * time.Second); ; {
		require.True(t, time.Now().Before(ready), "ingest consumed nothing within 60s")
		require.False(t, p.exited(), "ingest exited: %v", p.waitErr)
		if code, body := faultGet(p.metrics, "/metrics"); code == 200 {
			if n, _ := metricSum(body, "syncwatch_records_in_total"); n > 0 {
				time.Sleep(time.Second)
				var err error
				baseKB, err = procStatusKB(p.cmd.Process.Pid, "VmRSS")
				require.NoError(t, err)
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Slow phase: at least 20s, and until offsets were committed while
	// events are still pending.
	const slow = 20 * time.Second
	var committed, end int64
	var delivered int
	deadline := time.Now().Add(90 * time.Second)
	for {
		time.Sleep(time.Second)
		require.False(t, p.exited(), "ingest exited in the slow phase: %v", p.waitErr)
		committed, end = committedAndEnd(t, broker.Addrs(), group)
		delivered = len(readIncidents(t, kcat, broker.Addrs()))
		if time.Since(start) > slow && committed > 0 && delivered > 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "no commit within 90s (committed %d of %d, %d events)", committed, end, delivered)
	}
	require.Less(t, delivered, len(want)/2, "the sink was not slow")
	require.Less(t, committed, end/2, "offsets ran ahead of a sink that delivered %d of %d events", delivered, len(want))
	hwmKB, err := procStatusKB(p.cmd.Process.Pid, "VmHWM")
	require.NoError(t, err)
	_, body := faultGet(p.metrics, "/metrics")
	held, _ := metricSum(body, "syncwatch_reorder_held_records")
	heap, _ := metricSum(body, "go_memstats_heap_inuse_bytes")
	p.kill9(t)
	samples := rss()
	t.Logf("slow phase %s at %d KB/s: killed with %d of %d input offsets committed, %d of %d events delivered, %.0f records held; peak RSS %d KB (%d KB a second into consuming; heap in use %.0f KB; input %d KB); RSS every 500ms: %v",
		time.Since(start).Round(time.Second), rateKBs, committed, end, delivered, len(want), held, hwmKB, baseKB, heap/1024, input>>10, samples)

	// The bound: ingest's baseline (Go runtime, kafka-go, the detector
	// catalog: about 50 MB measured) plus what backpressure allows in
	// flight: a fetched batch per partition (9 x MaxBytes 1 MiB), the
	// fetch queue, one pipeline batch (2,000 entries) and the records the
	// reorder stage holds (about 2 KB each with their parsed fields and
	// acks; 12-25k measured in this phase, i.e. up to 50 MB). 160 MB leaves
	// room for the garbage collector's headroom (GOGC=100) and is far below
	// what buffering the input would take (80 MB of log text, 2 KB a
	// record parsed: 700 MB).
	require.Less(t, hwmKB, int64(160<<10), "peak RSS in KB")
	// What grows once ingest runs is the reorder stage's hold, not the
	// sink: about 2 KB per held record, which the garbage collector lets
	// grow to twice that before it collects (GOGC=100), plus 32 MB of
	// slack. More would be memory that a slow sink piles up: buffering
	// the input would take hundreds of MB. (2 KB per record without the
	// collector's headroom failed once in CI: 60.9 MB of growth for 12,061
	// held records against a bound of 56.9 MB.)
	require.Less(t, float64(hwmKB-baseKB), held*2*2+32<<10, "RSS growth in KB from %d KB beyond the reorder stage's %.0f held records", baseKB, held)

	require.NoError(t, proxy.Toxics.RemoveToxic(context.Background(), "slow"))
	again := startFaultIngest(t, "ingest-after", broker.Addrs(), group, false, faultGroupFlags...)
	got := waitIncidents(t, kcat, broker.Addrs(), want, 120*time.Second)
	again.stop(t, 30*time.Second)
	st := checkDelivered(t, got, want)
	t.Logf("after restart: %d entries; %d events for %d ids: %d duplicates (identical), %d missing; %s",
		kc.entries, st.total, st.distinct, st.duplicates, st.missing, time.Since(start).Round(time.Second))
}

// sampleRSS samples the process's VmRSS every interval until it exits;
// the returned func gives the samples so far, in KB.
func sampleRSS(t *testing.T, p *faultProc, every time.Duration) func() []int64 {
	t.Helper()
	var mu sync.Mutex
	var samples []int64
	go func() {
		tk := time.NewTicker(every)
		defer tk.Stop()
		for {
			select {
			case <-p.done:
				return
			case <-tk.C:
				if kb, err := procStatusKB(p.cmd.Process.Pid, "VmRSS"); err == nil {
					mu.Lock()
					samples = append(samples, kb)
					mu.Unlock()
				}
			}
		}
	}()
	return func() []int64 {
		mu.Lock()
		defer mu.Unlock()
		return append([]int64(nil), samples...)
	}
}

// poison is one bad entry produced between the good ones.
type poison struct {
	name, topic string
	raw         []byte
	reason      string // a word the dead letter's reason must contain ("" = any)
}

// readDeadLetters reads the whole dead-letter topic with kcat, checking each
// letter against the dead-letter JSON Schema.
func readDeadLetters(t *testing.T, kcat string, brokers []string) []schemas.DeadLetter {
	t.Helper()
	out, err := exec.Command(kcat, "-b", strings.Join(brokers, ","), "-C", "-t", "sync.deadletter", "-o", "beginning", "-e", "-q", "-f", "%s\n").Output()
	if err != nil {
		return nil // the topic may not exist yet
	}
	var letters []schemas.DeadLetter
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		require.NoError(t, schemas.Validate(schemas.SchemaDeadLetter, line), "dead letter %.200s", line)
		var dl schemas.DeadLetter
		require.NoError(t, json.Unmarshal(line, &dl))
		letters = append(letters, dl)
	}
	require.NoError(t, sc.Err())
	return letters
}

// rawKey identifies an entry by its bytes as a dead letter carries them:
// CR dropped (as files do), cut to the Kafka sink's bound.
func rawKey(b []byte) string {
	b = bytes.TrimRight(b, "\r")
	b = b[:min(len(b), sinks.DefaultDeadLetterMaxRaw)]
	sum := sha256.Sum256(b)
	return fmt.Sprintf("%x/%d", sum[:8], len(b))
}

// TestFaultPoisonInput interleaves every kind of bad entry of
// log-formats.md, a 10 MB entry, invalid UTF-8, JSON nested 100,000 deep
// and a flood of unique unknown errors with a generated (dirty) corpus.
// ingest must keep running, dead-letter every bad entry with a reason,
// cap the unknown templates (and say so in a metric), and the good entries
// must give exactly replay's events.
func TestFaultPoisonInput(t *testing.T) {
	kcat := requireTool(t, "kcat")
	start := time.Now()
	broker := startFaultBroker(t, 0, map[string]string{"message.max.bytes": strconv.Itoa(32 << 20)})
	kc := newKafkaCorpus(t, loggen.Config{Seed: 101, Mailboxes: 20, Duration: 12 * time.Hour, Dirty: true})

	// The good-but-hostile tail, after the corpus and before the ticks (so
	// that every partition stays in event-time order): a run failing with
	// 3,000 unknown errors that all mask to distinct templates, a message
	// with invalid UTF-8 bytes, a timestamp with a +02:00 offset.
	b, err := os.ReadFile(filepath.Join(kc.dir, "tick.log"))
	require.NoError(t, err)
	tick, err := time.Parse("2006-01-02T15:04:05.000Z", strings.TrimSpace(strings.Fields(string(b))[0])[len("ts="):])
	require.NoError(t, err)
	at := tick.Add(-50 * time.Minute)
	ts := func() string { at = at.Add(10 * time.Millisecond); return at.UTC().Format("2006-01-02T15:04:05.000Z") }
	rng := rand.New(rand.NewPCG(101, 1))
	word := func() string {
		w := make([]byte, 7)
		for i := range w {
			w[i] = byte('a' + rng.IntN(26))
		}
		return string(w)
	}
	const flood = 3000
	mb := "tenant=t-flood mailbox=flood@fabrikam.com"
	var tail bytes.Buffer
	tail.WriteString(fmt.Sprintf("ts=%s level=info component=sync-engine %s run=f100d event=run_started\n", ts(), mb))
	for i := range flood {
		tail.WriteString(fmt.Sprintf("ts=%s level=error component=sync-engine %s run=f100d event=record_failed record=R-%d msg=\"%s %s failed %s\"\n", ts(), mb, i, word(), word(), word()))
	}
	tail.WriteString(fmt.Sprintf("ts=%s level=error component=sync-engine %s run=f100d event=record_failed record=R-utf8 msg=\"bad bytes \xff\xfe\xc3\x28 here\"\n", ts(), mb))
	tail.WriteString(fmt.Sprintf("ts=%s level=info component=sync-engine %s run=f100d event=run_finished synced=0 failed=%d\n", ts(), mb, flood+1))
	offset := at.Add(time.Second).In(time.FixedZone("", 2*3600)).Format("2006-01-02T15:04:05.000-07:00")
	tail.WriteString(`{"@timestamp":"` + offset + `","level":"INFO","logger":"C4CC.Connector.Push","tenant":"t-flood","mailbox":"flood@fabrikam.com","runId":"f100e","recordId":"TASK-1","http":{"status":201},"message":"record pushed"}` + "\n")
	tailFile := filepath.Join(kc.dir, "tail.log")
	require.NoError(t, os.WriteFile(tailFile, tail.Bytes(), 0o644))
	kc.replay = append(kc.replay, tailFile)
	_, want := expectedOnce(t, kc)

	// What replay dead-letters of the corpus (its own dirt).
	dlFile := filepath.Join(kc.dir, "replay-dead.jsonl")
	_, stderr, code := runReplay(t, append([]string{"--quiet", "--dead-letter", dlFile}, kc.replay...)...)
	require.Equal(t, 0, code, "%s", stderr)
	replayDead := map[string]bool{}
	db, err := os.ReadFile(dlFile)
	require.NoError(t, err)
	for _, line := range bytes.Split(db, []byte("\n")) {
		if len(line) > 0 {
			var dl schemas.DeadLetter
			require.NoError(t, json.Unmarshal(line, &dl))
			replayDead[rawKey(dl.RawBase64)] = true
		}
	}

	cLine := ""
	c4ccLog, err := os.ReadFile(filepath.Join(kc.dir, "sync.c4cc-connector.log"))
	require.NoError(t, err)
	for _, line := range strings.Split(string(c4ccLog), "\n") {
		if strings.HasPrefix(line, `{"@timestamp"`) && len(line) > 100 {
			cLine = line
			break
		}
	}
	require.NotEmpty(t, cLine)
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(rng.IntN(256))
	}
	huge := append([]byte(fmt.Sprintf(`ts=%s level=error component=sync-engine tenant=t-1 mailbox=big@contoso.com run=b1 event=run_failed msg="`, ts())), bytes.Repeat([]byte("A"), 10<<20)...)
	huge = append(huge, '"')
	poisons := []poison{
		{"blank", "sync.engine", []byte(""), ""},
		{"whitespace", "sync.engine", []byte("   \t  "), ""},
		{"truncated log4net", "sync.exchange-connector", []byte("2026-11-24 10:15:32,123 [12] ERR"), ""},
		{"binary garbage", "sync.c4cc-connector", garbage, ""},
		{"JSON cut in half", "sync.c4cc-connector", []byte(cLine[:len(cLine)/2]), ""},
		{"logfmt unclosed quote", "sync.engine", []byte(fmt.Sprintf(`ts=%s level=info component=sync-engine tenant=t-1 mailbox=a@b.c run=r1 event=run_started msg="connection reset by pe`, ts())), "quote"},
		{"10 MB entry", "sync.engine", huge, "(entry cut to its first 524288 of 10485"},
		{"invalid UTF-8 only", "sync.exchange-connector", bytes.Repeat([]byte("\xff\xfe\xfd\xfc"), 100), ""},
		{"nested arrays 100k", "sync.c4cc-connector", bytes.Repeat([]byte("["), 100_000), ""},
		{"nested objects 100k", "sync.c4cc-connector", append([]byte(`{"@timestamp":"2026-11-24T10:20:11.517Z","x":`), bytes.Repeat([]byte(`{"a":`), 100_000)...), ""},
		{"NUL in logfmt", "sync.engine", []byte(fmt.Sprintf("ts=%s level=info component=sync-engine tenant=t-1 mailbox=a@b.c run=r1\x00 event=run_started", ts())), ""},
	}

	// Produce: the corpus in four slices per topic, a share of the poison
	// after each slice, then the tail and the ticks.
	send := kcatSender(kcat, broker.Addrs())
	ctx := context.Background()
	pdir := t.TempDir()
	produceOne := func(topic string, raw []byte, key string) {
		f := filepath.Join(pdir, fmt.Sprintf("p%d", time.Now().UnixNano()))
		args := []string{"-b", strings.Join(broker.Addrs(), ","), "-P", "-t", topic, "-X", "message.max.bytes=" + strconv.Itoa(24<<20)}
		if bytes.ContainsAny(raw, "\x1e\x1f") {
			// a file is one message (kcat sends nothing for an empty one)
			require.NotEmpty(t, raw)
			require.NoError(t, os.WriteFile(f, raw, 0o644))
			args = append(args, "-k", key, f)
		} else {
			require.NoError(t, os.WriteFile(f, append(append([]byte(key+"\x1f"), raw...), 0x1e), 0o644))
			args = append(args, "-D", "\x1e", "-K", "\x1f", "-l", f)
		}
		out, err := exec.Command(kcat, args...).CombinedOutput()
		require.NoError(t, err, "kcat: %s", out)
	}
	const slices = 4
	for r := range slices {
		for tp, file := range kc.topics {
			b, err := os.ReadFile(file)
			require.NoError(t, err)
			entries := bytes.SplitAfter(b, []byte{0x1e})
			lo, hi := r*len(entries)/slices, (r+1)*len(entries)/slices
			f := filepath.Join(pdir, fmt.Sprintf("%s.%d", tp, r))
			require.NoError(t, os.WriteFile(f, bytes.Join(entries[lo:hi], nil), 0o644))
			require.NoError(t, send.slice(ctx, tp, f))
		}
		for i, p := range poisons {
			if i%slices == r {
				produceOne(p.topic, p.raw, "t-1/a@b.c")
			}
		}
	}
	tailKcat := filepath.Join(pdir, "tail.kcat")
	var eng, c4 bytes.Buffer
	for _, line := range bytes.Split(bytes.TrimSpace(tail.Bytes()), []byte("\n")) {
		buf := &eng
		if line[0] == '{' {
			buf = &c4
		}
		buf.WriteString("t-flood/flood@fabrikam.com\x1f")
		buf.Write(line)
		buf.WriteByte(0x1e)
	}
	require.NoError(t, os.WriteFile(tailKcat, eng.Bytes(), 0o644))
	require.NoError(t, send.slice(ctx, "sync.engine", tailKcat))
	require.NoError(t, os.WriteFile(tailKcat, c4.Bytes(), 0o644))
	require.NoError(t, send.slice(ctx, "sync.c4cc-connector", tailKcat))
	for _, tp := range topicOf {
		for p := range partitions {
			require.NoError(t, send.tick(ctx, tp, p, kc.tickLine))
		}
	}

	p := startFaultIngest(t, "ingest", broker.Addrs(), "syncwatch-fault-poison", true)
	got := waitIncidents(t, kcat, broker.Addrs(), want, 120*time.Second)
	st := checkDelivered(t, got, want)

	// Every poison entry is dead-lettered, with a reason; so is replay's
	// dirt; nothing else but blank entries (which files skip).
	var letters []schemas.DeadLetter
	deadline := time.Now().Add(60 * time.Second)
	byRaw := map[string][]schemas.DeadLetter{}
	for {
		letters = readDeadLetters(t, kcat, broker.Addrs())
		byRaw = map[string][]schemas.DeadLetter{}
		for _, dl := range letters {
			byRaw[rawKey(dl.RawBase64)] = append(byRaw[rawKey(dl.RawBase64)], dl)
		}
		missing := 0
		for _, p := range poisons {
			if len(byRaw[rawKey(p.raw)]) == 0 {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "%d poison entries not dead-lettered", missing)
		time.Sleep(500 * time.Millisecond)
	}
	// Blank entries are in the corpus too: count per topic.
	inCorpus := func(topic, key string) (n int) {
		b, err := os.ReadFile(kc.topics[topic])
		require.NoError(t, err)
		for _, e := range bytes.Split(b, []byte{0x1e}) {
			if _, v, ok := bytes.Cut(e, []byte{0x1f}); ok && rawKey(v) == key {
				n++
			}
		}
		return n
	}
	for _, p := range poisons {
		var dl schemas.DeadLetter
		n := 0
		for _, c := range byRaw[rawKey(p.raw)] {
			if strings.HasPrefix(c.Origin, p.topic+"/") {
				dl = c
				n++
			}
		}
		require.Equal(t, inCorpus(p.topic, rawKey(p.raw))+1, n, "%s: dead letters of that entry on %s", p.name, p.topic)
		require.NotEmpty(t, dl.Reason, p.name)
		require.Contains(t, dl.Reason, p.reason, p.name)
		require.True(t, strings.HasPrefix(dl.Origin, p.topic+"/"), "%s: origin %q", p.name, dl.Origin)
		t.Logf("%-22s -> %q (%s)", p.name, dl.Reason, dl.Origin)
		delete(byRaw, rawKey(p.raw))
	}
	for k := range replayDead {
		require.NotEmpty(t, byRaw[k], "an entry replay dead-letters is not on sync.deadletter")
		delete(byRaw, k)
	}
	for _, dls := range byRaw {
		require.Empty(t, bytes.TrimSpace(dls[0].RawBase64), "dead-lettered but neither poison nor dirt: %q (%s)", dls[0].RawBase64, dls[0].Reason)
	}

	code2, body := faultGet(p.metrics, "/metrics")
	require.Equal(t, http.StatusOK, code2)
	capped, ok := metricSum(body, "syncwatch_unknown_templates_capped_total")
	require.True(t, ok, "syncwatch_unknown_templates_capped_total missing")
	require.Greater(t, capped, float64(flood/2), "the flood's templates were not capped")
	dead, _ := metricSum(body, "syncwatch_dead_letters_total")
	require.Equal(t, float64(len(letters)), dead, "syncwatch_dead_letters_total counts every dead letter")
	require.False(t, p.exited(), "ingest stopped: %v", p.waitErr)
	hwm, err := procStatusKB(p.cmd.Process.Pid, "VmHWM")
	require.NoError(t, err)
	p.stop(t, 30*time.Second)
	t.Logf("%d corpus entries + %d poison + %d tail; %d dead letters (%d poison, %d replay's dirt); %.0f unknown failures capped; %d events for %d ids, %d duplicates, %d missing; peak RSS %d KB; %s",
		kc.entries, len(poisons), flood+3, len(letters), len(poisons), len(replayDead), capped, st.total, st.distinct, st.duplicates, st.missing, hwm, time.Since(start).Round(time.Second))
}
