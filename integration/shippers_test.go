package integration

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/kfakebroker"
	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/schemas"
)

// Real log shippers in front of syncwatch: rsyslog (imfile -> omkafka) and
// syslog-ng (file() -> kafka-c()), from the Debian packages, tail a
// generated corpus' three files and ship them to one topic of the test
// broker with their default templates and limits (the configs are
// integration/shippers/*.conf, exactly as run here). Then ingest consumes
// the topic and replay --brokers reads it: both must give the same events,
// and those must score F1 >= 0.99 per kind against the generator's truth.
//
// rsyslog must be installed (apt-get install rsyslog rsyslog-kafka); it runs
// as a foreground process of the test with its own config, work directory
// and pid file, never as the system's daemon. syslog-ng conflicts with
// rsyslog, so it is not installed: integration/shippers/install-syslog-ng.sh
// unpacks it into $SYNCWATCH_SYSLOG_NG_DIR (default /opt/syslog-ng-unpacked).
// Without them the tests skip, and fail in CI (CI set), where .ci/run
// provides both.

const (
	shipTopic      = "logs" // every file to one topic, as a shipper deployment does
	shipPartitions = 3
	// rsyslogMaxMessageSize is rsyslog 8.2302's default maxMessageSize:
	// longer messages are truncated (single lines) or split (joined lines).
	rsyslogMaxMessageSize = 8096
	// syslogNGLogMsgSize is syslog-ng's default log-msg-size: a longer line
	// is cut into several messages. No corpus here has one.
	syslogNGLogMsgSize = 65536
)

// exchangeStart is the configs' multiline rule: an ExchangeConnector entry
// starts with its date; other lines (a stack trace) belong to the entry
// before them.
var exchangeStart = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2} `)

// shipRoles are the corpus files a shipper tails, by template field.
var shipRoles = []struct{ field, file, rsyslogTag string }{
	{"Exchange", "exchange.log", "exchange-connector:"},
	{"Engine", "engine.log", "sync-engine:"},
	{"C4CC", "c4cc.jsonl", "c4cc-connector:"},
}

// shipVariant is one way of running a shipper: its config is
// integration/shippers/NAME.conf, its fixture
// pipeline/parse/testdata/shippers/NAME.jsonl.
type shipVariant struct {
	name      string
	shipper   string // "rsyslog" or "syslog-ng"
	multiline bool   // the ExchangeConnector's stack traces joined to their entry
	noParse   bool   // syslog-ng's flags(no-parse)
}

var (
	rsyslogVariants = []shipVariant{
		{name: "rsyslog", shipper: "rsyslog"},
		{name: "rsyslog-multiline", shipper: "rsyslog", multiline: true},
	}
	// The no-parse variants first: they are the ones the README recommends.
	syslogNGVariants = []shipVariant{
		{name: "syslog-ng-noparse", shipper: "syslog-ng", noParse: true},
		{name: "syslog-ng-noparse-multiline", shipper: "syslog-ng", noParse: true, multiline: true},
		{name: "syslog-ng", shipper: "syslog-ng"},
		{name: "syslog-ng-multiline", shipper: "syslog-ng", multiline: true},
	}
)

func TestShipperRsyslog(t *testing.T) {
	tool := requireRsyslog(t)
	testShipper(t, tool, rsyslogVariants)
}

func TestShipperSyslogNG(t *testing.T) {
	tool := requireSyslogNG(t)
	testShipper(t, tool, syslogNGVariants)
}

func testShipper(t *testing.T, tool shipperTool, variants []shipVariant) {
	kcat := requireTool(t, "kcat")
	sc := newShipCorpus(t)
	n := 0
	for _, b := range sc.data {
		n += bytes.Count(b, []byte("\n"))
	}
	t.Logf("corpus (replay generate %s): %d lines, %d sync errors and %d sync issues true, and one %d-byte line added to exchange.log",
		strings.Join(shipCorpusArgs, " "), n, len(truthOfKind(sc.truth, schemas.KindSyncError)), len(truthOfKind(sc.truth, schemas.KindSyncIssue)), len(sc.long)-2)
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			runShipperVariant(t, tool, v, sc, kcat)
		})
	}
}

// The corpus: 30 mailboxes over 24 hours, dirty, gives 23 sync errors and
// 60 sync issues (about 40,000 lines, 8 MB).
var shipCorpusArgs = []string{"--mailboxes", "30", "--hours", "24", "--dirty", "--seed", "16"}

// shipCorpus is a generated corpus as shippers see it: its three files and
// the incidents a correct pipeline reports.
type shipCorpus struct {
	dir   string
	files map[string]string // template field -> path
	data  map[string][]byte // template field -> contents
	truth []loggen.Truth
	long  string // the line longer than rsyslog's maxMessageSize added to exchange.log
}

// newShipCorpus runs replay generate and adds to exchange.log one line
// longer than rsyslog's maxMessageSize (generated lines are all shorter):
// a copy of a DEBUG "Fetching changes" line of a run, carrying an EWS sync
// state of 9 KB, next to the original. It is noise to detection, so the
// truth holds; rsyslog truncates it.
func newShipCorpus(t *testing.T) *shipCorpus {
	t.Helper()
	dir := t.TempDir()
	_, stderr, code := runReplay(t, append([]string{"generate", "--out", dir}, shipCorpusArgs...)...)
	require.Equal(t, 0, code, "replay generate: %s", stderr)
	f, err := os.Open(filepath.Join(dir, "incidents.truth.jsonl"))
	require.NoError(t, err)
	defer f.Close()
	truth, err := loggen.ReadTruth(f)
	require.NoError(t, err)
	sc := &shipCorpus{dir: dir, truth: truth, files: map[string]string{}, data: map[string][]byte{}}

	ex := filepath.Join(dir, "exchange.log")
	b, err := os.ReadFile(ex)
	require.NoError(t, err)
	lines := bytes.SplitAfter(b, []byte("\n"))
	at := -1
	for i := len(lines) / 2; i < len(lines); i++ {
		if bytes.Contains(lines[i], []byte(" DEBUG ExchangeConnector.SyncWorker - ")) && bytes.Contains(lines[i], []byte("Fetching changes since watermark")) {
			at = i
			break
		}
	}
	require.GreaterOrEqual(t, at, 0, "no DEBUG line to copy in the second half of exchange.log")
	body := bytes.TrimRight(lines[at], "\r\n")
	long := fmt.Sprintf("%s, sync state %s\r\n", body, syncState(9000))
	sc.long = long
	var out bytes.Buffer
	for i, l := range lines {
		out.Write(l)
		if i == at {
			out.WriteString(long)
		}
	}
	require.NoError(t, os.WriteFile(ex, out.Bytes(), 0o644))

	for _, r := range shipRoles {
		p := filepath.Join(dir, r.file)
		sc.files[r.field] = p
		sc.data[r.field], err = os.ReadFile(p)
		require.NoError(t, err)
	}
	return sc
}

// syncState returns n bytes that look like a base64 EWS sync state.
func syncState(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := []byte("H4sIAAAAAAAEAO29B2AcSZYlJi9tynt")
	x := uint32(2463534242)
	for len(b) < n {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b = append(b, alphabet[x%64])
	}
	return string(b[:n])
}

func runShipperVariant(t *testing.T, tool shipperTool, v shipVariant, sc *shipCorpus, kcat string) {
	broker := startShipperBroker(t, shipPartitions)
	brokers := broker.Addrs()
	model := modelShipped(t, v, sc.data)

	start := time.Now()
	run := startShipper(t, tool, v, sc.files, brokers)
	run.waitShipped(t, brokers, model.messages)
	shipTime := time.Since(start)
	run.stop(t)
	require.Equal(t, int64(model.messages), topicEnd(t, brokers), "messages on %s after %s stopped", shipTopic, tool.name)

	msgs := readShipped(t, brokers)
	require.Len(t, msgs, model.messages)
	st := checkShipped(t, v, msgs, model)
	t.Logf("%s: %d messages shipped in %s (per partition %v), %d with joined lines, %d of maxMessageSize, %d cut at a NUL byte; %s",
		v.name, len(msgs), shipTime.Round(10*time.Millisecond), st.perPartition, st.joined, st.full, st.nulCut, cmp.Or(model.held, "no multiline rule"))
	logExamples(t, v, msgs)

	// ingest, as deployed: a consumer group on the shippers' topic, until
	// it processed every message (--stop-after flushes as at the end of a
	// replay, so no tick entry is needed).
	start = time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var ingestErr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin("ingest"), "--brokers", strings.Join(brokers, ","), "--topics", shipTopic,
		"--group", "syncwatch-"+v.name, "--metrics-addr", "off", "--log-level", "warn", "--stop-after", strconv.Itoa(len(msgs)))
	cmd.Stderr = &ingestErr
	require.NoError(t, cmd.Run(), "ingest --stop-after %d: %s", len(msgs), ingestErr.String())
	live := readIncidents(t, kcat, brokers)
	dead := readDeadLetters(t, kcat, brokers)
	ingestTime := time.Since(start)

	// replay --brokers, the same messages without a group
	start = time.Now()
	out, stderr, code := runReplay(t, "--brokers", strings.Join(brokers, ","), "--topics", shipTopic)
	require.Equal(t, 0, code, "replay --brokers: %s", stderr)
	replayed := decodeEvents(t, out)
	replayTime := time.Since(start)
	t.Logf("%s: ingest %d events, %d dead letters in %s; replay --brokers %d events in %s; replay's summary:\n%s",
		v.name, len(live), len(dead), ingestTime.Round(10*time.Millisecond), len(replayed), replayTime.Round(10*time.Millisecond), stderr)

	liveData, replayData := withoutOrigins(t, live), withoutOrigins(t, replayed)
	onlyLive, onlyReplay, differ := compareEvents(liveData, replayData)
	var scores []string
	type score struct {
		kind, src string
		p, r, f   float64
	}
	var all []score
	for _, kind := range []string{schemas.KindSyncError, schemas.KindSyncIssue} {
		truth := truthOfKind(sc.truth, kind)
		for _, s := range []struct {
			src string
			evs []schemas.IncidentEvent
		}{{"ingest", live}, {"replay", replayed}} {
			p, r := f1(truth, eventsOfKind(s.evs, kind))
			f := fScore(p, r)
			all = append(all, score{kind, s.src, p, r, f})
			scores = append(scores, fmt.Sprintf("%s %s P %.3f R %.3f F1 %.3f (%d true)", s.src, kind, p, r, f, len(truth)))
		}
	}
	t.Logf("%s: ingest vs replay --brokers: %d events, %d only from ingest, %d only from replay, %d differ; %s",
		v.name, len(liveData), len(onlyLive), len(onlyReplay), len(differ), strings.Join(scores, "; "))

	for _, id := range firstIDs(differ) {
		t.Logf("%s differs:\n  ingest: %s\n  replay: %s", id, liveData[id], replayData[id])
	}
	assert.True(t, len(onlyLive)+len(onlyReplay)+len(differ) == 0,
		"ingest and replay --brokers must give identical events: %d only from ingest %v, %d only from replay %v, %d differ %v",
		len(onlyLive), firstIDs(onlyLive), len(onlyReplay), firstIDs(onlyReplay), len(differ), firstIDs(differ))
	for _, s := range all {
		assert.GreaterOrEqual(t, s.f, 0.99, "%s: F1 of %s (precision %.3f, recall %.3f)", s.src, s.kind, s.p, s.r)
	}
}

func firstIDs(ids []string) []string { return ids[:min(len(ids), 5)] }

// compareEvents returns the event ids only in a, only in b, and in both
// with different contents, sorted.
func compareEvents(a, b map[string]string) (onlyA, onlyB, differ []string) {
	for id, x := range a {
		y, ok := b[id]
		switch {
		case !ok:
			onlyA = append(onlyA, id)
		case x != y:
			differ = append(differ, id)
		}
	}
	for id := range b {
		if _, ok := a[id]; !ok {
			onlyB = append(onlyB, id)
		}
	}
	sort.Strings(onlyA)
	sort.Strings(onlyB)
	sort.Strings(differ)
	return onlyA, onlyB, differ
}

func truthOfKind(truth []loggen.Truth, kind string) []loggen.Truth {
	var out []loggen.Truth
	for _, x := range truth {
		if x.Kind == kind {
			out = append(out, x)
		}
	}
	return out
}

func eventsOfKind(evs []schemas.IncidentEvent, kind string) []schemas.IncidentEvent {
	var out []schemas.IncidentEvent
	for _, e := range evs {
		if e.Data.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func fScore(p, r float64) float64 {
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// --- the shippers ----------------------------------------------------------

// shipperTool is a shipper's binary and what it needs to run.
type shipperTool struct {
	name string   // "rsyslog" or "syslog-ng"
	path string   // rsyslogd or syslog-ng
	env  []string // added to the environment
	args []string // added to the command line
}

// missingShipper skips on a developer's machine and fails in CI, where
// .ci/run installs the shippers (as requireTool does for tools).
func missingShipper(t *testing.T, what, fix string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s; .ci/run should have provided it (%s)", what, fix)
	}
	t.Skipf("%s (%s); skipping", what, fix)
}

func requireRsyslog(t *testing.T) shipperTool {
	t.Helper()
	path, err := exec.LookPath("rsyslogd")
	if err != nil {
		path = "/usr/sbin/rsyslogd" // not on a user's PATH
		if _, err := os.Stat(path); err != nil {
			missingShipper(t, "rsyslogd is not installed", "apt-get install rsyslog rsyslog-kafka")
		}
	}
	mods, _ := filepath.Glob("/usr/lib/*/rsyslog/omkafka.so")
	more, _ := filepath.Glob("/usr/lib/rsyslog/omkafka.so")
	if len(mods)+len(more) == 0 {
		missingShipper(t, "rsyslog's omkafka module is not installed", "apt-get install rsyslog-kafka")
	}
	return shipperTool{name: "rsyslog", path: path}
}

// syslogNGDir is where integration/shippers/install-syslog-ng.sh unpacks
// syslog-ng.
func syslogNGDir() string {
	return cmp.Or(os.Getenv("SYNCWATCH_SYSLOG_NG_DIR"), "/opt/syslog-ng-unpacked")
}

// requireSyslogNG finds syslog-ng unpacked by install-syslog-ng.sh (with
// the library and module paths it needs there), or else installed.
func requireSyslogNG(t *testing.T) shipperTool {
	t.Helper()
	dir := syslogNGDir()
	bin := filepath.Join(dir, "usr", "sbin", "syslog-ng")
	if _, err := os.Stat(bin); err == nil {
		mods, _ := filepath.Glob(filepath.Join(dir, "usr", "lib", "syslog-ng", "[0-9]*", "libkafka.so"))
		if len(mods) == 0 {
			missingShipper(t, "syslog-ng's kafka module is not unpacked in "+dir, "bash integration/shippers/install-syslog-ng.sh")
		}
		libs := []string{filepath.Join(dir, "usr", "lib", "syslog-ng")}
		for _, pattern := range []string{"usr/lib/*-linux-gnu", "lib/*-linux-gnu"} {
			m, _ := filepath.Glob(filepath.Join(dir, pattern))
			libs = append(libs, m...)
		}
		if old := os.Getenv("LD_LIBRARY_PATH"); old != "" {
			libs = append(libs, old)
		}
		return shipperTool{name: "syslog-ng", path: bin,
			env:  []string{"LD_LIBRARY_PATH=" + strings.Join(libs, ":")},
			args: []string{"--module-path=" + filepath.Dir(mods[0])}}
	}
	path, err := exec.LookPath("syslog-ng")
	if err != nil {
		path = "/usr/sbin/syslog-ng"
		if _, err := os.Stat(path); err != nil {
			missingShipper(t, "syslog-ng is neither unpacked in "+dir+" nor installed", "bash integration/shippers/install-syslog-ng.sh")
		}
	}
	if mods, _ := filepath.Glob("/usr/lib/syslog-ng/*/libkafka.so"); len(mods) == 0 {
		missingShipper(t, "syslog-ng's kafka module is not installed", "apt-get install syslog-ng-mod-rdkafka, or bash integration/shippers/install-syslog-ng.sh")
	}
	return shipperTool{name: "syslog-ng", path: path}
}

// command runs the shipper in the foreground on conf, with its state (pid
// file, persist file, control socket) in dir.
func (s shipperTool) command(conf, dir string) *exec.Cmd {
	var args []string
	switch s.name {
	case "rsyslog":
		args = []string{"-n", "-f", conf, "-i", filepath.Join(dir, "rsyslogd.pid")}
	default:
		args = []string{"-F", "--no-caps", "-f", conf,
			"-R", filepath.Join(dir, "syslog-ng.persist"),
			"-p", filepath.Join(dir, "syslog-ng.pid"),
			"-c", filepath.Join(dir, "syslog-ng.ctl")}
	}
	cmd := exec.Command(s.path, append(args, s.args...)...)
	cmd.Env = append(os.Environ(), s.env...)
	return cmd
}

// shipConf fills the placeholders of integration/shippers/*.conf.
type shipConf struct {
	Exchange, Engine, C4CC string // the files to tail
	Broker, Topic          string
	WorkDir                string // rsyslog's workDirectory
}

// renderShipConf fills the variant's config template.
func renderShipConf(t *testing.T, v shipVariant, c shipConf) []byte {
	t.Helper()
	tmpl, err := template.New(v.name + ".conf").Option("missingkey=error").
		ParseFiles(filepath.Join(repoRoot(), "integration", "shippers", v.name+".conf"))
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, tmpl.Execute(&b, c))
	return b.Bytes()
}

// shipperRun is a running shipper.
type shipperRun struct {
	tool    shipperTool
	cmd     *exec.Cmd
	dir     string
	logPath string
	done    chan struct{}
	err     error
}

func startShipper(t *testing.T, tool shipperTool, v shipVariant, files map[string]string, brokers []string) *shipperRun {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, v.name+".conf")
	require.NoError(t, os.WriteFile(conf, renderShipConf(t, v, shipConf{
		Exchange: files["Exchange"], Engine: files["Engine"], C4CC: files["C4CC"],
		Broker: strings.Join(brokers, ","), Topic: shipTopic, WorkDir: dir,
	}), 0o644))
	r := &shipperRun{tool: tool, cmd: tool.command(conf, dir), dir: dir, logPath: filepath.Join(dir, "shipper.log"), done: make(chan struct{})}
	logf, err := os.Create(r.logPath)
	require.NoError(t, err)
	r.cmd.Stdout, r.cmd.Stderr = logf, logf
	require.NoError(t, r.cmd.Start())
	go func() {
		r.err = r.cmd.Wait()
		logf.Close()
		close(r.done)
	}()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			r.cmd.Process.Kill()
			<-r.done
		}
	})
	return r
}

// log returns what the shipper printed, and for syslog-ng its counters
// (syslog-ng-ctl stats: what the sources read, the destination queued
// and wrote).
func (r *shipperRun) log() string {
	b, _ := os.ReadFile(r.logPath)
	if r.tool.name == "syslog-ng" && !r.exited() {
		ctl := exec.Command(filepath.Join(filepath.Dir(r.tool.path), "syslog-ng-ctl"), "stats", "-c", filepath.Join(r.dir, "syslog-ng.ctl"))
		ctl.Env = append(os.Environ(), r.tool.env...)
		out, err := ctl.CombinedOutput()
		b = fmt.Appendf(b, "syslog-ng-ctl stats (%v):\n%s", err, out)
	}
	return string(b)
}

func (r *shipperRun) exited() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// waitShipped waits until the topic holds want messages and no more came
// for a second. It fails when more arrive, when the count stops short of
// want for 20 s, or when the shipper exits.
func (r *shipperRun) waitShipped(t *testing.T, brokers []string, want int) {
	t.Helper()
	const stable, stuck, limit = time.Second, 20 * time.Second, 2 * time.Minute
	start := time.Now()
	last, since := int64(-1), time.Now()
	for {
		n := topicEnd(t, brokers)
		if n != last {
			last, since = n, time.Now()
		}
		switch {
		case n > int64(want):
			t.Fatalf("%s sent %d messages, more than the %d expected; its log:\n%s", r.tool.name, n, want, r.log())
		case n == int64(want) && time.Since(since) >= stable:
			return
		case r.exited():
			t.Fatalf("%s exited (%v) after sending %d of %d messages; its log:\n%s", r.tool.name, r.err, n, want, r.log())
		case n < int64(want) && (time.Since(since) > stuck || time.Since(start) > limit):
			t.Fatalf("%s sent %d of %d messages (per partition %v), none for %s; its log:\n%s",
				r.tool.name, n, want, partitionEnds(t, brokers), time.Since(since).Round(time.Second), r.log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (r *shipperRun) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, r.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not stop within 30s of SIGTERM; its log:\n%s", r.tool.name, r.log())
	}
	require.NoError(t, r.err, "%s must exit 0 on SIGTERM; its log:\n%s", r.tool.name, r.log())
}

// --- the broker ------------------------------------------------------------

func startShipperBroker(t *testing.T, parts int) *kfakebroker.Broker {
	t.Helper()
	b, err := kfakebroker.Start(kfakebroker.Config{Topics: []string{shipTopic, "sync.incidents", "sync.deadletter"}, Partitions: parts})
	require.NoError(t, err)
	t.Cleanup(b.Close)
	return b
}

// partitionEnds returns the end offset of each partition of the shippers'
// topic.
func partitionEnds(t *testing.T, brokers []string) map[int]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	meta, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{shipTopic}})
	require.NoError(t, err)
	require.Len(t, meta.Topics, 1)
	var reqs []kafka.OffsetRequest
	for _, p := range meta.Topics[0].Partitions {
		reqs = append(reqs, kafka.LastOffsetOf(p.ID))
	}
	lo, err := c.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{shipTopic: reqs}})
	require.NoError(t, err)
	out := map[int]int64{}
	for _, p := range lo.Topics[shipTopic] {
		require.NoError(t, p.Error)
		out[p.Partition] = p.LastOffset
	}
	return out
}

// topicEnd is the number of messages on the shippers' topic (the sum of
// its partitions' end offsets: nothing is deleted from the test broker).
func topicEnd(t *testing.T, brokers []string) int64 {
	t.Helper()
	var n int64
	for _, end := range partitionEnds(t, brokers) {
		n += end
	}
	return n
}

// shipped is a message on the shippers' topic.
type shipped struct {
	Partition int
	Offset    int64
	Key       []byte
	Value     []byte
}

// readShipped reads every message on the shippers' topic, partition by
// partition, in fetch batches on one connection each.
func readShipped(t *testing.T, brokers []string) []shipped {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out []shipped
	for p, end := range partitionEnds(t, brokers) {
		if end == 0 {
			continue
		}
		conn, err := kafka.DialLeader(ctx, "tcp", brokers[0], shipTopic, p)
		require.NoError(t, err)
		for off := int64(0); off < end; {
			_, err := conn.Seek(off, kafka.SeekAbsolute)
			require.NoError(t, err)
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(30*time.Second)))
			batch := conn.ReadBatch(1, 16<<20)
			for {
				m, err := batch.ReadMessage()
				if err != nil {
					break
				}
				out = append(out, shipped{Partition: p, Offset: m.Offset, Key: m.Key, Value: m.Value})
				off = m.Offset + 1
			}
			require.NoError(t, batch.Close(), "reading %s/%d at offset %d", shipTopic, p, off)
		}
		conn.Close()
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Partition != out[j].Partition {
			return out[i].Partition < out[j].Partition
		}
		return out[i].Offset < out[j].Offset
	})
	return out
}

// --- what the shippers send ------------------------------------------------

// shipModel is what a shipper sends for a corpus, as observed of rsyslog
// 8.2302 and syslog-ng 3.38 (Debian 12) and checked by these tests.
type shipModel struct {
	messages int    // messages on the topic
	joined   int    // messages holding more than one line (multiline)
	full     int    // rsyslog: messages of maxMessageSize (truncated or split)
	nulCut   int    // rsyslog: messages cut at a NUL byte (no trailing newline)
	held     string // what the multiline rule holds back
}

// shipLines splits data into lines without their LF; a last line without one
// is not read by either shipper yet, so it is left out.
func shipLines(data []byte) [][]byte {
	var out [][]byte
	for _, l := range bytes.SplitAfter(data, []byte("\n")) {
		if bytes.HasSuffix(l, []byte("\n")) {
			out = append(out, l[:len(l)-1])
		}
	}
	return out
}

// logEntries groups lines as the multiline rule does: a line that starts with
// a date starts an entry, the others join the entry before them.
func logEntries(t *testing.T, ls [][]byte) [][][]byte {
	t.Helper()
	var out [][][]byte
	for i, l := range ls {
		if exchangeStart.Match(l) {
			out = append(out, [][]byte{l})
			continue
		}
		require.NotZero(t, i, "the model does not cover a file whose first line does not start an entry")
		out[len(out)-1] = append(out[len(out)-1], l)
	}
	return out
}

// modelShipped says what the variant's shipper sends for the files:
//
//   - one message per line; rsyslog drops empty lines; syslog-ng ends a
//     line at a NUL byte too, drops a trailing CR and then empty lines;
//   - with the multiline rule, one message per ExchangeConnector entry,
//     except the file's last entry, which waits for the next one to start
//     (and is not sent when the shipper stops; rsyslog keeps it in its
//     state file); syslog-ng keeps NUL bytes inside
//     an entry and drops its trailing CRs, LFs and NULs (so an entry
//     followed by blank lines is one line);
//   - rsyslog truncates a message longer than maxMessageSize to that
//     size, and splits an entry whose joined lines would be longer (see
//     rsyslogSplit);
//   - rsyslog's value is the C string of the message: it ends at a NUL
//     byte, without the trailing newline.
func modelShipped(t *testing.T, v shipVariant, data map[string][]byte) shipModel {
	t.Helper()
	var m shipModel
	for _, r := range shipRoles {
		ls := shipLines(data[r.field])
		if v.multiline && r.field == "Exchange" {
			es := logEntries(t, ls)
			if len(es) > 0 {
				m.held = fmt.Sprintf("the last ExchangeConnector entry (%d lines) held back", len(es[len(es)-1]))
				es = es[:len(es)-1]
			}
			for _, e := range es {
				if v.shipper == "rsyslog" {
					for _, msg := range rsyslogSplit(e) {
						m.add(msg)
					}
					continue
				}
				msg := bytes.TrimRight(bytes.Join(e, []byte("\n")), "\r\n\x00")
				require.LessOrEqual(t, len(msg), syslogNGLogMsgSize, "the model does not cover entries longer than log-msg-size")
				m.messages++
				if bytes.Contains(msg, []byte("\n")) {
					m.joined++
				}
			}
			continue
		}
		for _, l := range ls {
			switch v.shipper {
			case "rsyslog":
				if len(l) > 0 {
					m.add(rsyslogMsg{lines: 1, size: len(l), first: l[0], nul: bytes.IndexByte(l, 0) >= 0})
				}
			default:
				require.LessOrEqual(t, len(l), syslogNGLogMsgSize, "the model does not cover lines longer than log-msg-size")
				for _, piece := range bytes.Split(l, []byte{0}) {
					if len(bytes.TrimRight(piece, "\r")) > 0 {
						m.messages++
					}
				}
			}
		}
	}
	return m
}

// rsyslogMsg is a message rsyslog's imfile makes: how many lines it joins,
// its size before truncation, its first byte, whether it has a NUL.
type rsyslogMsg struct {
	lines, size int
	first       byte
	nul         bool
}

func (m *shipModel) add(msg rsyslogMsg) {
	m.messages++
	if msg.lines > 1 {
		m.joined++
	}
	if msg.nul {
		m.nulCut++
		return
	}
	// RSYSLOG_FileFormat puts a space between tag and message unless the
	// message starts with one: the body after the tag is one byte longer
	if body := min(msg.size, rsyslogMaxMessageSize) + oneIf(msg.first != ' '); body >= rsyslogMaxMessageSize {
		m.full++
	}
}

func oneIf(b bool) int {
	if b {
		return 1
	}
	return 0
}

// rsyslogSplit cuts an entry into the messages imfile makes of it with
// startmsg.regex: lines are joined (with the two bytes \n) while the
// message stays within maxMessageSize; of the line that would cross it,
// the part that fits ends the message and the rest starts the next one.
// A first line already longer than maxMessageSize is a message of its own
// (truncated when sent).
func rsyslogSplit(e [][]byte) []rsyslogMsg {
	var out []rsyslogMsg
	var cur *rsyslogMsg
	for _, l := range e {
		for {
			if cur == nil {
				cur = &rsyslogMsg{lines: 1, size: len(l), nul: bytes.IndexByte(l, 0) >= 0}
				if len(l) > 0 {
					cur.first = l[0]
				}
				break
			}
			if cur.size+2+len(l) <= rsyslogMaxMessageSize {
				cur.lines, cur.size = cur.lines+1, cur.size+2+len(l)
				cur.nul = cur.nul || bytes.IndexByte(l, 0) >= 0
				break
			}
			fit := max(rsyslogMaxMessageSize-cur.size-2, 0)
			if fit > 0 {
				cur.lines, cur.size = cur.lines+1, rsyslogMaxMessageSize
				cur.nul = cur.nul || bytes.IndexByte(l[:fit], 0) >= 0
			}
			out = append(out, *cur)
			cur, l = nil, l[fit:]
		}
	}
	return append(out, *cur)
}

var (
	// rsyslog's RSYSLOG_FileFormat: TIMESTAMP (RFC 3339, microseconds)
	// HOSTNAME TAG, then the message and LF.
	rsyslogEnvelope = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d \S+ (exchange-connector|sync-engine|c4cc-connector):`)
	// syslog-ng kafka-c's "$ISODATE $HOST $MSGHDR$MSG": seconds, no LF.
	syslogNGEnvelope = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d \S+ `)
)

type shipStats struct {
	perPartition map[int]int
	joined       int
	full         int
	nulCut       int
}

// checkShipped checks the messages' envelope against the variant's and
// counts them as the model does.
func checkShipped(t *testing.T, v shipVariant, msgs []shipped, m shipModel) shipStats {
	t.Helper()
	st := shipStats{perPartition: map[int]int{}}
	bad := 0
	for _, msg := range msgs {
		st.perPartition[msg.Partition]++
		require.Empty(t, msg.Key, "%s sets no key by default", v.shipper)
		val := msg.Value
		switch v.shipper {
		case "rsyslog":
			loc := rsyslogEnvelope.FindIndex(val)
			if loc == nil {
				bad++
				t.Errorf("not rsyslog's RSYSLOG_FileFormat: %q", truncShown(val))
				continue
			}
			body, lf := bytes.CutSuffix(val[loc[1]:], []byte("\n"))
			if bytes.Contains(body, []byte(`\n`)) {
				st.joined++
			}
			switch {
			case !lf:
				st.nulCut++
			case len(body) >= rsyslogMaxMessageSize:
				st.full++
			}
		default:
			if !syslogNGEnvelope.Match(val) || bytes.HasSuffix(val, []byte("\n")) {
				bad++
				t.Errorf("not syslog-ng kafka-c's default template: %q", truncShown(val))
				continue
			}
			if bytes.Contains(val, []byte("\n")) {
				st.joined++
			}
		}
	}
	require.Zero(t, bad, "messages not in %s's default format", v.shipper)
	require.Equal(t, m.joined, st.joined, "messages holding more than one line")
	if v.shipper == "rsyslog" {
		require.Equal(t, m.nulCut, st.nulCut, "messages cut at a NUL byte")
		require.Equal(t, m.full, st.full, "messages of maxMessageSize (truncated or split)")
		// omkafka's default partitions.number is 1
		require.Equal(t, map[int]int{0: len(msgs)}, st.perPartition, "rsyslog sends every message to partition 0 by default")
	} else if len(msgs) > 100 {
		require.Greater(t, len(st.perPartition), 1, "librdkafka spreads unkeyed messages over the partitions")
	}
	return st
}

func truncShown(b []byte) []byte {
	if len(b) > 300 {
		return b[:300]
	}
	return b
}

// logExamples logs one message of each shape: a line of each producer, an
// entry with joined lines, a stack trace line on its own, a long one.
func logExamples(t *testing.T, v shipVariant, msgs []shipped) {
	t.Helper()
	rsyslog := v.shipper == "rsyslog"
	seen := map[string]bool{}
	for _, m := range msgs {
		val := m.Value
		var kind string
		switch {
		case len(val) > rsyslogMaxMessageSize:
			kind = "long"
		case rsyslog && bytes.Contains(val, []byte(`\n`)), !rsyslog && bytes.Contains(val, []byte("\n")):
			kind = "joined lines"
		case bytes.Contains(val, []byte(" at System.")), bytes.Contains(val, []byte(" at Microsoft.")):
			kind = "stack trace line"
		case bytes.Contains(val, []byte(" ERROR ExchangeConnector.")):
			kind = "ExchangeConnector ERROR"
		case bytes.Contains(val, []byte("component=sync-engine")) && (!rsyslog || bytes.Contains(val, []byte(" sync-engine: "))):
			kind = "sync engine"
		case bytes.Contains(val, []byte(`{"@timestamp"`)) && (!rsyslog || bytes.Contains(val, []byte(" c4cc-connector: "))):
			kind = "C4CC Connector"
		default:
			continue
		}
		if seen[kind] {
			continue
		}
		seen[kind] = true
		shown := string(val)
		if len(val) > 700 {
			shown = fmt.Sprintf("%s...(%d bytes)...%s", val[:300], len(val)-450, val[len(val)-150:])
		}
		t.Logf("%s, %s (%d bytes): %s", v.name, kind, len(val), strconv.Quote(shown))
	}
}
