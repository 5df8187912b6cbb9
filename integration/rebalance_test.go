package integration

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/schemas"
)

// ingestProc is an ingest process whose log lines the test can wait on.
type ingestProc struct {
	name string
	cmd  *exec.Cmd
	mu   sync.Mutex
	logs []string
	done chan struct{}
}

// startLoggedIngest starts ingest at log level info with extra flags, and
// keeps its log lines (printed when the test fails).
func startLoggedIngest(t *testing.T, name string, brokers []string, group string, extra ...string) *ingestProc {
	t.Helper()
	return startLoggedIngestEnv(t, name, brokers, group, nil, extra...)
}

// startLoggedIngestEnv is startLoggedIngest with extra environment
// variables ("KEY=value").
func startLoggedIngestEnv(t *testing.T, name string, brokers []string, group string, env []string, extra ...string) *ingestProc {
	t.Helper()
	args := append([]string{"--brokers", strings.Join(brokers, ","), "--group", group, "--log-level", "info"}, extra...)
	if !hasFlag(extra, "--metrics-addr") {
		args = append(args, "--metrics-addr", "off")
	}
	p := &ingestProc{name: name, cmd: exec.Command(bin("ingest"), args...), done: make(chan struct{})}
	if env != nil {
		p.cmd.Env = append(os.Environ(), env...)
	}
	stderr, err := p.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.logs = append(p.logs, sc.Text())
			p.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.wait()
		}
		if t.Failed() {
			p.mu.Lock()
			t.Logf("%s log:\n%s", p.name, strings.Join(p.logs, "\n"))
			p.mu.Unlock()
		}
	})
	return p
}

func hasFlag(args []string, name string) bool {
	for _, a := range args {
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}

// wait waits for the process and for its log to be read to the end.
func (p *ingestProc) wait() error {
	<-p.done
	return p.cmd.Wait()
}

// linesSince returns the log lines from index from on, and the next index.
func (p *ingestProc) linesSince(from int) ([]string, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.logs[from:]...), len(p.logs)
}

var generationRE = regexp.MustCompile(`msg="consumer group generation started".* generation=(\d+) .*partitions="?\[([^\]]*)\]`)

// waitGeneration waits for a generation started at or after log index from
// and returns its partitions ("topic/partition").
func (p *ingestProc) waitGeneration(t *testing.T, from int, limit time.Duration) []string {
	t.Helper()
	_, parts := p.waitGenerationWhere(t, from, limit, "any", func(int, []string) bool { return true })
	return parts
}

// waitGenerationWhere waits for the first generation started at or after
// log index from that ok accepts, and returns its number and partitions.
// (A member that leaves may rejoin once on its way out, so the generation
// right after a change is not always the one that settles it.)
func (p *ingestProc) waitGenerationWhere(t *testing.T, from int, limit time.Duration, what string, ok func(gen int, parts []string) bool) (int, []string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		lines, _ := p.linesSince(from)
		for _, l := range lines {
			if m := generationRE.FindStringSubmatch(l); m != nil {
				gen, _ := strconv.Atoi(m[1])
				if parts := strings.Fields(m[2]); ok(gen, parts) {
					return gen, parts
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no consumer group generation (%s) started within %s", p.name, what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and requires a clean exit within limit.
func (p *ingestProc) stop(t *testing.T, limit time.Duration) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- p.wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "%s must exit 0 on SIGTERM", p.name)
	case <-time.After(limit):
		t.Fatalf("%s did not stop within %s of SIGTERM", p.name, limit)
	}
}

// sliceCorpus writes the corpus kc was made from (same config, so the same
// entries) again, cut by event time into n consecutive slices per topic,
// as kcat input files keyed like kc's: slices[i][topic] = file.
func sliceCorpus(t *testing.T, kc *kafkaCorpus, cfg loggen.Config, n int) []map[string]string {
	t.Helper()
	require.False(t, cfg.Start.IsZero(), "sliceCorpus needs the corpus' Start")
	span := cfg.Duration / time.Duration(n)
	bufs := make([]map[string]*bytes.Buffer, n)
	for i := range bufs {
		bufs[i] = map[string]*bytes.Buffer{}
	}
	total := 0
	_, _, err := loggen.Generate(cfg, func(e loggen.Entry) error {
		i := min(max(int(e.Time.Sub(cfg.Start)/span), 0), n-1)
		tp := topicOf[e.Producer]
		if bufs[i][tp] == nil {
			bufs[i][tp] = &bytes.Buffer{}
		}
		b := bufs[i][tp]
		b.WriteString(e.Key)
		b.WriteByte(0x1f)
		b.Write(e.Raw)
		b.WriteByte(0x1e)
		total++
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, kc.entries, total, "the generator must give the same corpus twice")
	out := make([]map[string]string, n)
	for i := range bufs {
		out[i] = map[string]string{}
		for tp, b := range bufs[i] {
			p := filepath.Join(kc.dir, fmt.Sprintf("%s.slice%d.kcat", tp, i))
			require.NoError(t, os.WriteFile(p, b.Bytes(), 0o644))
			out[i][tp] = p
		}
	}
	return out
}

func produceFiles(t *testing.T, kcat string, brokers []string, files map[string]string) {
	t.Helper()
	for tp, file := range files {
		out, err := exec.Command(kcat, "-b", strings.Join(brokers, ","), "-P", "-t", tp, "-D", "\x1e", "-K", "\x1f", "-l", file).CombinedOutput()
		require.NoError(t, err, "kcat -P %s: %s", tp, out)
	}
}

// TestIngestTwoConsumersRebalance runs two ingest instances in one group
// while the corpus arrives in three slices: the first instance alone, then
// both (a rebalance moves a third of the partitions to the second, which
// rebuilds their detector state from the restore window), then the second
// alone after the first leaves (it takes every partition over). Whatever
// moved, the incidents topic must end up with exactly replay's events: no
// incident forgotten (every id there), none re-opened under another id
// (no id replay does not have), and repeats identical.
func TestIngestTwoConsumersRebalance(t *testing.T) {
	kcat := requireTool(t, "kcat")
	broker := startBroker(t)
	brokers := broker.Addrs()
	cfg := loggen.Config{Seed: 61, Mailboxes: 40, Start: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), Duration: 6 * time.Hour}
	kc := newKafkaCorpus(t, cfg)
	slices := sliceCorpus(t, kc, cfg, 3)
	_, wantData := expectedFromReplay(t, kc)
	const group = "syncwatch-two"

	produceFiles(t, kcat, brokers, slices[0])
	a := startLoggedIngest(t, "ingest A", brokers, group)
	partsA := a.waitGeneration(t, 0, 30*time.Second)
	require.Len(t, partsA, 3*partitions, "alone, A owns every partition")
	waitEvents(t, kcat, brokers, 1, 60*time.Second)

	_, markA := a.linesSince(0)
	b := startLoggedIngest(t, "ingest B", brokers, group)
	genB, partsB := b.waitGenerationWhere(t, 0, 60*time.Second, "with partitions", func(_ int, parts []string) bool { return len(parts) > 0 })
	_, partsA = a.waitGenerationWhere(t, markA, 60*time.Second, fmt.Sprintf("generation %d", genB), func(gen int, _ []string) bool { return gen == genB })
	require.NotEmpty(t, partsB, "B must get partitions")
	require.NotEmpty(t, partsA, "A must keep partitions")
	require.Len(t, append(partsA, partsB...), 3*partitions, "A and B split the partitions: A %v, B %v", partsA, partsB)
	for _, parts := range [][]string{partsA, partsB} {
		nums := partitionNumbers(parts)
		require.Len(t, nums, len(topicOf), "a member owns partitions of every topic: %v", parts)
		for _, n := range nums {
			require.Equal(t, nums["sync.engine"], n, "a member owns the same partition numbers of every topic (mailboxes are keyed alike): %v", parts)
		}
	}
	t.Logf("after B joined: A owns %v, B owns %v", partsA, partsB)

	before := len(readIncidents(t, kcat, brokers))
	produceFiles(t, kcat, brokers, slices[1])
	waitEvents(t, kcat, brokers, before+1, 60*time.Second)

	_, markB := b.linesSince(0)
	a.stop(t, 40*time.Second)
	// after A left, B owns every partition
	b.waitGenerationWhere(t, markB, 60*time.Second, "with every partition", func(_ int, parts []string) bool { return len(parts) == 3*partitions })

	produceFiles(t, kcat, brokers, slices[2])
	for tp := range topicOf {
		for p := 0; p < partitions; p++ {
			cmd := exec.Command(kcat, "-b", strings.Join(brokers, ","), "-P", "-t", topicOf[tp], "-p", strconv.Itoa(p))
			cmd.Stdin = strings.NewReader(kc.tickLine + "\n")
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "kcat tick: %s", out)
		}
	}
	waitFor(t, kcat, brokers, wantData, 120*time.Second)
	b.stop(t, 40*time.Second) // everything in flight is delivered by now
	got := readIncidents(t, kcat, brokers)

	gotData := withoutOrigins(t, got)
	for id, w := range wantData {
		require.Equal(t, w, gotData[id], "event %s differs from replay's", id)
	}
	var extra []string
	for id := range gotData {
		if _, ok := wantData[id]; !ok {
			extra = append(extra, id)
		}
	}
	require.Empty(t, extra, "events replay does not have (an incident re-opened or decided twice)")
	require.Len(t, gotData, len(wantData))
	t.Logf("%d entries in 3 slices, 2 consumers, 2 rebalances: %d events published for %d distinct ids (%d repeats, all identical), 0 missing, 0 extra",
		kc.entries, len(got), len(gotData), len(got)-len(gotData))
}

// partitionNumbers returns the partition numbers of "topic/partition" names
// per topic, e.g. {"sync.engine": "0 1"}.
func partitionNumbers(parts []string) map[string]string {
	out := map[string]string{}
	for _, p := range parts {
		tp, n, _ := strings.Cut(p, "/")
		out[tp] = strings.TrimSpace(out[tp] + " " + n)
	}
	return out
}

// waitEvents waits until the incidents topic holds at least n events.
func waitEvents(t *testing.T, kcat string, brokers []string, n int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for len(readIncidents(t, kcat, brokers)) < n {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d events on sync.incidents after %s", n, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func httpGet(addr, path string) (int, string, error) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + addr + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// waitStatus polls addr+path until it answers want.
func waitStatus(t *testing.T, addr, path string, want int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		code, _, err := httpGet(addr, path)
		if err == nil && code == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s%s: want %d within %s, last got %d (%v)", addr, path, want, limit, code, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestIngestHealthReadinessMetrics checks the operational endpoints as a
// scraper and a Kubernetes probe see them: /healthz answers while the
// broker is unreachable but /readyz does not; once a broker is there,
// /readyz turns ready, and /metrics counts exactly what was consumed and
// published.
func TestIngestHealthReadinessMetrics(t *testing.T) {
	kcat := requireTool(t, "kcat")

	// No broker: alive, not ready.
	dead := freeAddr(t)
	maddr := freeAddr(t)
	p := startLoggedIngest(t, "ingest (no broker)", []string{dead}, "syncwatch-noready", "--metrics-addr", maddr)
	waitStatus(t, maddr, "/healthz", http.StatusOK, 20*time.Second)
	for i := 0; i < 10; i++ { // stays unready, not just at start
		code, body, err := httpGet(maddr, "/readyz")
		require.NoError(t, err)
		require.Equal(t, http.StatusServiceUnavailable, code, "/readyz with no broker: %s", body)
		time.Sleep(100 * time.Millisecond)
	}
	p.stop(t, 40*time.Second)

	// A broker with a clean corpus: ready, and metrics add up.
	broker := startBroker(t)
	brokers := broker.Addrs()
	kc := newKafkaCorpus(t, loggen.Config{Seed: 71, Mailboxes: 15, Duration: 8 * time.Hour})
	kc.produce(t, kcat, brokers)
	want, wantData := expectedFromReplay(t, kc)
	maddr = freeAddr(t)
	p = startLoggedIngest(t, "ingest", brokers, "syncwatch-metrics", "--metrics-addr", maddr)
	waitStatus(t, maddr, "/readyz", http.StatusOK, 30*time.Second)
	waitFor(t, kcat, brokers, wantData, 90*time.Second)

	perProducer := map[schemas.Producer]int{}
	_, _, err := loggen.Generate(loggen.Config{Seed: 71, Mailboxes: 15, Duration: 8 * time.Hour}, func(e loggen.Entry) error {
		perProducer[e.Producer]++
		return nil
	})
	require.NoError(t, err)
	perProducer[schemas.ProducerEngine] += 3 * partitions // the tick entries are logfmt
	opened := map[string]int{}
	for _, e := range want {
		if e.Type == schemas.TypeOpened {
			opened[fmt.Sprintf("class=%q,kind=%q", e.Data.Class, e.Data.Kind)]++ // Prometheus sorts labels
		}
	}

	// The counters catch up with the topic within a scrape or two.
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body, err := httpGet(maddr, "/metrics")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code)
		problems := metricProblems(body, perProducer, opened, len(want))
		if len(problems) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics disagrees with what was consumed and published:\n%s", strings.Join(problems, "\n"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	p.stop(t, 40*time.Second)
}

// metricProblems lists where the scraped metrics differ from the counts.
func metricProblems(body string, perProducer map[schemas.Producer]int, opened map[string]int, events int) []string {
	var problems []string
	check := func(series string, want int) {
		re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`)
		m := re.FindStringSubmatch(body)
		if m == nil {
			problems = append(problems, fmt.Sprintf("%s: missing, want %d", series, want))
			return
		}
		if got, err := strconv.ParseFloat(m[1], 64); err != nil || int(got) != want {
			problems = append(problems, fmt.Sprintf("%s = %s, want %d", series, m[1], want))
		}
	}
	for p, n := range perProducer {
		check(fmt.Sprintf(`syncwatch_records_in_total{producer=%q}`, p.String()), n)
		check(fmt.Sprintf(`syncwatch_records_parsed_total{producer=%q}`, p.String()), n)
	}
	for labels, n := range opened {
		check(`syncwatch_incidents_opened_total{`+labels+`}`, n)
	}
	check(`syncwatch_events_out_total`, events)
	return problems
}
