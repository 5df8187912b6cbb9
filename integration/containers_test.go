package integration

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	dockernetwork "github.com/docker/docker/api/types/network"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/docker/go-connections/nat"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/schemas"
)

// The Docker tests (names start with TestDocker; .ci/test runs them in a
// step of their own and prints how many ran) run syncwatch as it ships: the
// image of Dockerfile.scratch, packed from static binaries, since no
// registry is reachable where they run. The broker is the kfake broker in
// an image of its own (integration/testbroker).

// brokerAlias is the broker's name on the test network; the broker
// advertises it, so it is also the address clients are redirected to.
const (
	brokerAlias = "broker"
	brokerPort  = "9092"
)

// testbrokerDockerfile packs integration/testbroker.
const testbrokerDockerfile = `FROM scratch
COPY testbroker /
USER 65534:65534
EXPOSE 9092
ENTRYPOINT ["/testbroker"]
`

// requireDocker disables the reaper (its image cannot be pulled; every
// test cleans up after itself) and skips when no Docker engine answers.
func requireDocker(t *testing.T) {
	t.Helper()
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		t.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	testcontainers.SkipIfProviderIsNotHealthy(t)
}

// dockerBinaries builds static binaries (the images have no libc) into a
// fresh build context. pkgs maps a binary name to its package.
func dockerBinaries(t *testing.T, pkgs map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, pkg := range pkgs {
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(dir, name), pkg)
		cmd.Dir = repoRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "building %s: %s", pkg, out)
	}
	return dir
}

// dockerImage builds an image from dockerfile (its text) and the files in
// contextDir through testcontainers, and removes it when the test ends.
func dockerImage(ctx context.Context, t *testing.T, contextDir, repo, dockerfile string) string {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(contextDir, "Dockerfile"), []byte(dockerfile), 0o644))
	p, err := testcontainers.NewDockerProvider()
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	var log bytes.Buffer
	req := testcontainers.ContainerRequest{FromDockerfile: testcontainers.FromDockerfile{
		Context: contextDir, Dockerfile: "Dockerfile", Repo: repo, BuildLogWriter: &log,
	}}
	tag, err := p.BuildImage(ctx, &req)
	require.NoError(t, err, "building image %s: %s", repo, log.String())
	t.Cleanup(func() {
		cli, err := testcontainers.NewDockerClientWithOpts(context.Background())
		if err != nil {
			t.Logf("removing image %s: %v", tag, err)
			return
		}
		defer cli.Close()
		if _, err := cli.ImageRemove(context.Background(), tag, image.RemoveOptions{Force: true, PruneChildren: true}); err != nil {
			t.Logf("removing image %s: %v", tag, err)
		}
	})
	return tag
}

// productImage builds the image users get, from Dockerfile.scratch as the
// README tells them to.
func productImage(ctx context.Context, t *testing.T) (tag, bins string) {
	t.Helper()
	bins = dockerBinaries(t, map[string]string{"ingest": "./cmd/ingest", "replay": "./cmd/replay"})
	ca, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		ca = nil // no bundle on this host: --tls would need --tls-ca-file, which no test uses
	}
	require.NoError(t, os.WriteFile(filepath.Join(bins, "ca-certificates.crt"), ca, 0o644))
	df, err := os.ReadFile(filepath.Join(repoRoot(), "Dockerfile.scratch"))
	require.NoError(t, err)
	return dockerImage(ctx, t, bins, "syncwatch-test", string(df)), bins
}

// dockerLogs keeps a container's output for assertions and for the
// failure report.
type dockerLogs struct {
	name  string
	mu    sync.Mutex
	lines []string
}

func (l *dockerLogs) Accept(g testcontainers.Log) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range strings.Split(strings.TrimRight(string(g.Content), "\n"), "\n") {
		l.lines = append(l.lines, line)
	}
}

// grep returns the lines holding s.
func (l *dockerLogs) grep(s string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return out
}

// dumpOnFailure prints the last lines of the logs if the test failed.
func (l *dockerLogs) dumpOnFailure(t *testing.T) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		from := max(0, len(l.lines)-40)
		t.Logf("last %d log lines of %s:\n%s", len(l.lines)-from, l.name, strings.Join(l.lines[from:], "\n"))
	})
}

// hostKafka is a kafka-go client on the host for the broker container: the
// broker advertises broker:9092, which only resolves on the Docker network,
// so every dial of that address goes to the port Docker mapped instead.
type hostKafka struct {
	addr   string // the mapped host:port
	dialer *kafka.Dialer
	writer *kafka.Writer
}

func newHostKafka(t *testing.T, addr string) *hostKafka {
	t.Helper()
	advertised := net.JoinHostPort(brokerAlias, brokerPort)
	dial := func(ctx context.Context, network, a string) (net.Conn, error) {
		if a == advertised {
			a = addr
		}
		return (&net.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, network, a)
	}
	hk := &hostKafka{
		addr:   addr,
		dialer: &kafka.Dialer{Timeout: 10 * time.Second, DialFunc: dial},
		writer: &kafka.Writer{
			Addr:         kafka.TCP(addr),
			Balancer:     &kafka.CRC32Balancer{}, // librdkafka's (kcat's) partitioner: by key
			BatchTimeout: 5 * time.Millisecond,
			RequiredAcks: kafka.RequireAll,
			Transport:    &kafka.Transport{Dial: dial},
		},
	}
	t.Cleanup(func() { hk.writer.Close() })
	return hk
}

// produceTick writes line to every partition of topic.
func (hk *hostKafka) produceTick(ctx context.Context, topic, line string) error {
	for p := 0; p < partitions; p++ {
		conn, err := hk.dialer.DialLeader(ctx, "tcp", hk.addr, topic, p)
		if err != nil {
			return fmt.Errorf("dialing leader of %s/%d: %w", topic, p, err)
		}
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		_, err = conn.WriteMessages(kafka.Message{Value: []byte(line)})
		conn.Close()
		if err != nil {
			return fmt.Errorf("writing tick to %s/%d: %w", topic, p, err)
		}
	}
	return nil
}

// readTopic reads every message on topic so far, partition by partition.
func (hk *hostKafka) readTopic(ctx context.Context, topic string) ([][]byte, error) {
	var out [][]byte
	for p := 0; p < partitions; p++ {
		conn, err := hk.dialer.DialLeader(ctx, "tcp", hk.addr, topic, p)
		if err != nil {
			return nil, fmt.Errorf("dialing leader of %s/%d: %w", topic, p, err)
		}
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		first, last, err := conn.ReadOffsets()
		conn.Close()
		if err != nil {
			return nil, fmt.Errorf("reading offsets of %s/%d: %w", topic, p, err)
		}
		if last <= first {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{
			Brokers: []string{hk.addr}, Topic: topic, Partition: p, Dialer: hk.dialer,
			MaxBytes: 16 << 20, MaxWait: 200 * time.Millisecond,
		})
		err = r.SetOffset(first)
		for err == nil {
			var m kafka.Message
			if m, err = r.ReadMessage(ctx); err == nil {
				out = append(out, m.Value)
				if m.Offset >= last-1 {
					break
				}
			}
		}
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("reading %s/%d: %w", topic, p, err)
		}
	}
	return out, nil
}

// incidents decodes the incidents topic, validating every event.
func (hk *hostKafka) incidents(ctx context.Context, t *testing.T) []schemas.IncidentEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	msgs, err := hk.readTopic(ctx, "sync.incidents")
	require.NoError(t, err)
	var evs []schemas.IncidentEvent
	for _, m := range msgs {
		ev, err := schemas.DecodeEvent(m)
		require.NoError(t, err, "event %s", m)
		evs = append(evs, ev)
	}
	return evs
}

// streamEntries returns the corpus entries in the order the generator
// emits them (producers interleaved by event time, as they log live),
// keyed by tenant/mailbox.
func streamEntries(t *testing.T, cfg loggen.Config) []kafka.Message {
	t.Helper()
	var msgs []kafka.Message
	_, _, err := loggen.Generate(cfg, func(e loggen.Entry) error {
		m := kafka.Message{Topic: topicOf[e.Producer], Value: e.Raw}
		if e.Key != "" {
			m.Key = []byte(e.Key)
		}
		msgs = append(msgs, m)
		return nil
	})
	require.NoError(t, err)
	return msgs
}

// startIngestContainer starts one ingest of group on nw and waits for its
// /healthz.
func startIngestContainer(ctx context.Context, t *testing.T, img, name, group string, nw *testcontainers.DockerNetwork) (*testcontainers.DockerContainer, *dockerLogs) {
	t.Helper()
	logs := &dockerLogs{name: name}
	logs.dumpOnFailure(t)
	ctr, err := testcontainers.Run(ctx, img,
		network.WithNetwork([]string{name}, nw),
		testcontainers.WithExposedPorts("9108/tcp"),
		testcontainers.WithCmd("--brokers", net.JoinHostPort(brokerAlias, brokerPort), "--group", group, "--log-level", "info"),
		testcontainers.WithLogConsumers(logs),
		// not wait.ForHTTP: see hostAddr. Docker's own HEALTHCHECK is
		// asserted once the scenario ran.
		testcontainers.WithWaitStrategy(wait.ForLog("serving metrics").WithStartupTimeout(30*time.Second)),
	)
	testcontainers.CleanupContainer(t, ctr)
	require.NoError(t, err, "starting %s", name)
	return ctr, logs
}

// hostAddr returns the host:port on which the test reaches port (e.g.
// "9092/tcp") of ctr. Inside a container (/.dockerenv) testcontainers
// takes the default gateway for the Docker host, which is wrong when the
// daemon runs in that same container, as on the machines that run the
// sessions and CI; so loopback is tried after the inferred host.
func hostAddr(ctx context.Context, t *testing.T, ctr *testcontainers.DockerContainer, port nat.Port) string {
	t.Helper()
	mapped, err := ctr.MappedPort(ctx, port)
	require.NoError(t, err)
	host, err := ctr.Host(ctx)
	require.NoError(t, err)
	var tried []string
	for _, h := range []string{host, "127.0.0.1"} {
		a := net.JoinHostPort(h, mapped.Port())
		c, err := net.DialTimeout("tcp", a, 2*time.Second)
		if err == nil {
			c.Close()
			return a
		}
		tried = append(tried, err.Error())
	}
	t.Fatalf("port %s of the container is reachable nowhere: %s", port, strings.Join(tried, "; "))
	return ""
}

// TestDockerConsumerGroup runs three ingest containers in one consumer
// group against the broker container while the corpus streams in; one is
// stopped mid-stream and another cut off the network for 30 s (as long as
// the session timeout, so the group evicts it) and then reconnected. The
// incidents topic must then hold every event replay derives from the same
// logs, with duplicates only as byte-identical repeats of the same id.
func TestDockerConsumerGroup(t *testing.T) {
	requireDocker(t)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()

	cfg := loggen.Config{Seed: 61, Mailboxes: 40, Duration: 24 * time.Hour, Dirty: true}
	kc := newKafkaCorpus(t, cfg)
	_, wantData := expectedFromReplay(t, kc)
	msgs := streamEntries(t, cfg)
	require.Equal(t, kc.entries, len(msgs))

	productImg, _ := productImage(ctx, t)
	brokerCtx := dockerBinaries(t, map[string]string{"testbroker": "./integration/testbroker"})
	brokerImg := dockerImage(ctx, t, brokerCtx, "syncwatch-testbroker", testbrokerDockerfile)
	t.Logf("images built in %s", time.Since(start).Round(time.Millisecond))

	nw, err := network.New(ctx)
	testcontainers.CleanupNetwork(t, nw)
	require.NoError(t, err)

	brokerLogs := &dockerLogs{name: "broker"}
	brokerLogs.dumpOnFailure(t)
	broker, err := testcontainers.Run(ctx, brokerImg,
		network.WithNetwork([]string{brokerAlias}, nw),
		testcontainers.WithExposedPorts(brokerPort+"/tcp"),
		testcontainers.WithLogConsumers(brokerLogs),
		testcontainers.WithWaitStrategy(wait.ForLog("testbroker ready").WithStartupTimeout(30*time.Second)),
	)
	testcontainers.CleanupContainer(t, broker)
	require.NoError(t, err)
	hk := newHostKafka(t, hostAddr(ctx, t, broker, brokerPort+"/tcp"))

	const group = "syncwatch-docker"
	ingests := make([]*testcontainers.DockerContainer, 3)
	logs := make([]*dockerLogs, 3)
	for i := range ingests {
		ingests[i], logs[i] = startIngestContainer(ctx, t, productImg, fmt.Sprintf("ingest-%d", i), group, nw)
	}
	t.Logf("broker and 3 ingest containers up after %s", time.Since(start).Round(time.Millisecond))

	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { cli.Close() })

	// Stream the corpus in chunks, a chunk a second; stop ingest-0 a
	// quarter of the way in and cut ingest-1 off half way.
	const chunks = 24
	var (
		stopped, cut = make(chan error, 1), make(chan error, 1)
		reconnected  = make(chan error, 1)
		cutAt        time.Time
		gensAtCut    int // ingest-1's generations before it was reconnected
	)
	for i := 0; i < chunks; i++ {
		lo, hi := i*len(msgs)/chunks, (i+1)*len(msgs)/chunks
		wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
		err := hk.writer.WriteMessages(wctx, msgs[lo:hi]...)
		wcancel()
		require.NoError(t, err, "producing chunk %d", i)
		switch i {
		case chunks / 4:
			go func() {
				timeout := 20 * time.Second
				stopped <- ingests[0].Stop(ctx, &timeout) // SIGTERM: graceful leave
			}()
			t.Logf("%s: stopping ingest-0 after %d of %d entries", time.Since(start).Round(time.Second), hi, len(msgs))
		case chunks / 2:
			cutAt = time.Now()
			cut <- cli.NetworkDisconnect(ctx, nw.ID, ingests[1].GetContainerID(), true)
			go func() {
				select {
				case <-time.After(30 * time.Second):
				case <-ctx.Done():
				}
				gensAtCut = len(logs[1].grep(genStarted))
				reconnected <- cli.NetworkConnect(ctx, nw.ID, ingests[1].GetContainerID(),
					&dockernetwork.EndpointSettings{Aliases: []string{"ingest-1"}})
			}()
			t.Logf("%s: ingest-1 cut off the network after %d of %d entries", time.Since(start).Round(time.Second), hi, len(msgs))
		}
		time.Sleep(time.Second)
	}
	for _, tp := range topicOf {
		require.NoError(t, hk.produceTick(ctx, tp, kc.tickLine))
	}
	t.Logf("%s: %d entries and the ticks produced", time.Since(start).Round(time.Second), len(msgs))
	require.NoError(t, <-cut, "disconnecting ingest-1")
	require.NoError(t, <-stopped, "stopping ingest-0")
	require.NoError(t, <-reconnected, "reconnecting ingest-1")
	t.Logf("%s: ingest-1 reconnected after %s", time.Since(start).Round(time.Second), time.Since(cutAt).Round(time.Second))

	// wait until every expected event is on the topic
	var got []schemas.IncidentEvent
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got = hk.incidents(ctx, t)
		seen := map[string]bool{}
		for _, e := range got {
			seen[e.ID] = true
		}
		missing := 0
		for id := range wantData {
			if !seen[id] {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		require.False(t, time.Now().After(deadline), "%d of %d expected events still missing from sync.incidents 2m after the reconnect", missing, len(wantData))
		time.Sleep(2 * time.Second)
	}
	t.Logf("%s: every expected event is on sync.incidents", time.Since(start).Round(time.Second))

	// the member that was cut off comes back into the group...
	for len(logs[1].grep(genStarted)) <= gensAtCut {
		require.False(t, time.Now().After(deadline), "ingest-1 did not rejoin the group after its reconnect")
		time.Sleep(time.Second)
	}
	t.Logf("%s: ingest-1 rejoined the group", time.Since(start).Round(time.Second))
	// ...and the rebalance that brings it back may publish repeats: wait
	// for the topic to be quiet for 6s before judging them
	for quiet := 0; quiet < 3; {
		require.False(t, time.Now().After(deadline), "sync.incidents never became quiet")
		time.Sleep(2 * time.Second)
		now := hk.incidents(ctx, t)
		if len(now) == len(got) {
			quiet++
		} else {
			quiet = 0
		}
		got = now
	}

	// nothing missing, nothing foreign, and every copy of an id identical
	ids := map[string]int{}
	for _, e := range got {
		ids[e.ID]++
		want, ok := wantData[e.ID]
		require.True(t, ok, "event %s (%s %s/%s) is not one replay derives from the same logs", e.ID, e.Type, e.Data.Mailbox, e.Data.Class)
		require.Equal(t, want, withoutOrigins(t, []schemas.IncidentEvent{e})[e.ID], "a copy of event %s differs from replay's", e.ID)
	}
	require.Len(t, ids, len(wantData))
	p, r := f1(kc.truth, got)
	require.GreaterOrEqual(t, p, 0.99, "precision against the generator's truth")
	require.GreaterOrEqual(t, r, 0.99, "recall against the generator's truth")

	// the scenario happened as intended
	state, err := ingests[0].State(ctx)
	require.NoError(t, err)
	require.False(t, state.Running)
	require.Equal(t, 0, state.ExitCode, "ingest-0 must stop cleanly on docker stop (SIGTERM to PID 1); its log: %s",
		strings.Join(logs[0].grep("level=ERROR"), "\n"))
	require.NotEmpty(t, logs[0].grep("msg=stopped"), "ingest-0 must log its graceful stop")
	for i := 1; i < 3; i++ {
		state, err := ingests[i].State(ctx)
		require.NoError(t, err)
		require.True(t, state.Running, "ingest-%d", i)
		require.NotNil(t, state.Health, "ingest-%d has no health state: the image lost its HEALTHCHECK", i)
		require.Equal(t, "healthy", state.Health.Status, "ingest-%d: Docker's HEALTHCHECK (/ingest healthcheck) must pass", i)
	}
	gens := make([][]generation, 3)
	for i := range logs {
		gens[i] = generations(logs[i])
	}
	// ingest-2 was in the group from the start, and in the rebalances
	// after ingest-0 left and after ingest-1 came back; the group ends as
	// those two sharing every partition
	require.GreaterOrEqual(t, len(gens[2]), 3, "ingest-2's generations")
	last1, last2 := gens[1][len(gens[1])-1], gens[2][len(gens[2])-1]
	require.Equal(t, last1.id, last2.id, "ingest-1 and ingest-2 must end in the same generation")
	require.Equal(t, len(topicOf)*partitions, last1.parts+last2.parts, "the last generation must cover every partition")

	dups := len(got) - len(ids)
	t.Logf("%d entries from %d mailboxes; incidents expected %d / seen %d / duplicated %d (identical ids and data); "+
		"precision %.3f recall %.3f; %s in all", len(msgs), cfg.Mailboxes, len(wantData), len(ids), dups, p, r,
		time.Since(start).Round(time.Second))
	t.Logf("generations (number:partitions owned) of ingest-0 %v, ingest-1 %v, ingest-2 %v", gens[0], gens[1], gens[2])
}

// genStarted is what ingest logs when it gets partitions in a generation.
const genStarted = "consumer group generation started"

var genLine = regexp.MustCompile(`generation=(\d+) .*partitions="\[([^\]]*)\]"`)

// generation is one generation of the group as a member logged it.
type generation struct{ id, parts int }

func (g generation) String() string { return fmt.Sprintf("%d:%d", g.id, g.parts) }

// generations lists the generations a member took part in.
func generations(l *dockerLogs) []generation {
	var out []generation
	for _, line := range l.grep(genStarted) {
		if m := genLine.FindStringSubmatch(line); m != nil {
			id, _ := strconv.Atoi(m[1]) // \d+
			out = append(out, generation{id: id, parts: len(strings.Fields(m[2]))})
		}
	}
	return out
}

// TestDockerReplayMatchesHost runs replay in the product image over a
// mounted corpus and requires the very bytes the same binary writes on the
// host.
func TestDockerReplayMatchesHost(t *testing.T) {
	requireDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	img, bins := productImage(ctx, t)

	dir, truth := corpus(t, loggen.Config{Seed: 81, Mailboxes: 30, Duration: 24 * time.Hour, Dirty: true})
	files := []string{"exchange.log", "engine.log", "c4cc.jsonl"}
	// the container runs as nobody: the mount must be world-readable
	require.NoError(t, os.Chmod(dir, 0o755))
	for _, f := range files {
		require.NoError(t, os.Chmod(filepath.Join(dir, f), 0o644))
	}
	// relative paths in both runs, so that evidence origins agree
	args := append([]string{"--quiet"}, files...)

	host := exec.CommandContext(ctx, filepath.Join(bins, "replay"), args...)
	host.Dir = dir
	var hostOut, hostErr bytes.Buffer
	host.Stdout, host.Stderr = &hostOut, &hostErr
	require.NoError(t, host.Run(), "host replay: %s", hostErr.String())
	evs := decodeEvents(t, hostOut.Bytes())
	require.NotEmpty(t, evs)

	ctr, err := testcontainers.Run(ctx, img,
		testcontainers.WithEntrypoint("/replay"),
		testcontainers.WithCmd(args...),
		testcontainers.WithConfigModifier(func(c *container.Config) {
			c.WorkingDir = "/data"
			c.Healthcheck = &container.HealthConfig{Test: []string{"NONE"}} // a batch job, not ingest
		}),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.Binds = append(hc.Binds, dir+":/data:ro")
		}),
		testcontainers.WithWaitStrategy(wait.ForExit().WithExitTimeout(2*time.Minute)),
	)
	testcontainers.CleanupContainer(t, ctr)
	require.NoError(t, err)
	state, err := ctr.State(ctx)
	require.NoError(t, err)

	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	require.NoError(t, err)
	defer cli.Close()
	rc, err := cli.ContainerLogs(ctx, ctr.GetContainerID(), container.LogsOptions{ShowStdout: true, ShowStderr: true})
	require.NoError(t, err)
	defer rc.Close()
	var ctrOut, ctrErr bytes.Buffer
	_, err = stdcopy.StdCopy(&ctrOut, &ctrErr, rc)
	require.NoError(t, err)
	require.Equal(t, 0, state.ExitCode, "replay in the container: %s", ctrErr.String())

	if !bytes.Equal(hostOut.Bytes(), ctrOut.Bytes()) {
		h, c := strings.Split(hostOut.String(), "\n"), strings.Split(ctrOut.String(), "\n")
		for i := 0; i < min(len(h), len(c)); i++ {
			require.Equal(t, h[i], c[i], "line %d differs between the host and the container", i+1)
		}
		require.Equal(t, len(h), len(c), "line counts differ between the host and the container")
	}
	p, r := f1(truth, evs)
	t.Logf("replay in the container: %d events, %d bytes, byte-identical to the host run; precision %.3f recall %.3f",
		len(evs), ctrOut.Len(), p, r)
}

// TestImageDockerfilesAgree keeps the two ways of building the image (the
// multi-stage Dockerfile, which needs a registry, and Dockerfile.scratch,
// which the Docker tests build) from drifting apart: their runtime
// sections must be the same lines. It needs no Docker.
func TestImageDockerfilesAgree(t *testing.T) {
	const marker = "# --- runtime:"
	runtime := func(name string) string {
		b, err := os.ReadFile(filepath.Join(repoRoot(), name))
		require.NoError(t, err)
		_, after, ok := strings.Cut(string(b), marker)
		require.True(t, ok, "%s has no %q line", name, marker)
		return after
	}
	multi, scratch := runtime("Dockerfile"), runtime("Dockerfile.scratch")
	require.Equal(t, multi, scratch)
	for _, want := range []string{"USER 65534:65534", "ENV SYNCWATCH_METRICS_ADDR=0.0.0.0:9108", `CMD ["/ingest", "healthcheck"]`, `ENTRYPOINT ["/ingest"]`} {
		require.Contains(t, multi, want)
	}
}
