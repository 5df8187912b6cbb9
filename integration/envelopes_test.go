package integration

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/kfakebroker"
	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/pipeline/loggen/ship"
	"github.com/syncwatch/syncwatch/schemas"
)

// What real deployments put on Kafka: a log shipper on the connector host
// tails the three files and sends every line (or entry) wrapped in its own
// envelope, all three files to one topic. These tests ship a dirty
// generated corpus through pipeline/loggen/ship for every shipper kind,
// with and without a multiline rule, unkeyed (the default of every
// shipper; spread round-robin), keyed by host and keyed by tenant/mailbox,
// and check that ingest and replay --brokers give exactly the events of a
// replay of the raw files, and an F1 of at least 0.99 against the truth.

// envelopeCfg is the corpus of the envelope tests: dirty (CRLF exchange.log,
// duplicates, garbage), with ten ExchangeConnector stack traces.
var envelopeCfg = loggen.Config{Seed: 64, Mailboxes: 16, Duration: 12 * time.Hour, Dirty: true}

// envelopeTopic is the one topic a shipper deployment sends the three
// files to.
const envelopeTopic = "c4c.logs"

// rawCorpus is envelopeCfg's corpus: its entries as loggen emits them,
// its truth, and the events of a replay of its raw files.
type rawCorpus struct {
	entries  []loggen.Entry
	stacks   int // entries with a stack trace
	truth    []loggen.Truth
	want     []schemas.IncidentEvent
	wantData map[string]string
}

func newRawCorpus(t *testing.T, cfg loggen.Config) *rawCorpus {
	t.Helper()
	dir, truth := corpus(t, cfg)
	rc := &rawCorpus{truth: truth}
	_, _, err := loggen.Generate(cfg, func(e loggen.Entry) error {
		rc.entries = append(rc.entries, e)
		if bytes.IndexByte(e.Raw, '\n') >= 0 {
			rc.stacks++
		}
		return nil
	})
	require.NoError(t, err)
	out, stderr, code := runReplay(t, "--quiet", filepath.Join(dir, loggen.ExchangeFile), filepath.Join(dir, loggen.EngineFile), filepath.Join(dir, loggen.C4CCFile))
	require.Equal(t, 0, code, "%s", stderr)
	rc.want = decodeEvents(t, out)
	require.NotEmpty(t, rc.want)
	rc.wantData = withoutOrigins(t, rc.want)
	p, r := f1(truth, rc.want)
	require.GreaterOrEqual(t, p, 0.99, "the raw corpus itself")
	require.GreaterOrEqual(t, r, 0.99, "the raw corpus itself")
	return rc
}

// envelopeResult is what one shipper setup gave, for the summary.
type envelopeResult struct {
	name                        string
	messages, records, dead     int
	live, liveSame, replaySame  int
	replay                      int
	precision, recall, elapsedS float64
}

func TestEnvelopesKafka(t *testing.T) {
	kcat := requireTool(t, "kcat")
	rc := newRawCorpus(t, envelopeCfg)
	require.GreaterOrEqual(t, rc.stacks, 5, "the corpus must have stack traces for the multiline cases")

	var mu sync.Mutex
	var results []envelopeResult
	t.Cleanup(func() { // after every subtest, parallel ones included
		sort.Slice(results, func(i, j int) bool { return results[i].name < results[j].name })
		var b strings.Builder
		fmt.Fprintf(&b, "raw corpus: %d entries (%d with a stack trace), %d true episodes, %d events from replay of the raw files\n",
			len(rc.entries), rc.stacks, len(rc.truth), len(rc.want))
		fmt.Fprintf(&b, "%-38s %8s %8s %6s %6s %10s %8s %12s %6s %6s %6s\n",
			"shipper/multiline/key", "messages", "records", "dead", "live", "live=raw", "replay", "replay=raw", "P", "R", "secs")
		for _, r := range results {
			fmt.Fprintf(&b, "%-38s %8d %8d %6d %6d %10d %8d %12d %6.3f %6.3f %6.1f\n",
				r.name, r.messages, r.records, r.dead, r.live, r.liveSame, r.replay, r.replaySame, r.precision, r.recall, r.elapsedS)
		}
		t.Logf("envelopes through Kafka (events equal to the raw replay's, without origins, of %d):\n%s", len(rc.wantData), b.String())
	})

	// the control: the raw entries, one per message, through the same
	// harness (syncwatch reads them today)
	for _, keying := range []ship.Keying{ship.KeyNone, ship.KeyMailbox} {
		name := "raw/entries/key=" + keying.String()
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := runEnvelopeCase(t, kcat, rc, ship.Config{Keying: keying})
			res.name = name
			mu.Lock()
			results = append(results, res)
			mu.Unlock()
		})
	}
	for _, kind := range ship.Kinds() {
		for _, multiline := range []bool{false, true} {
			for _, keying := range []ship.Keying{ship.KeyNone, ship.KeyHost, ship.KeyMailbox} {
				name := fmt.Sprintf("%s/%s/key=%s", kind, map[bool]string{false: "lines", true: "multiline"}[multiline], keying)
				// otlp: batches of up to 100 records or 10s of read time
				// (the batch processor's 200ms gives 1.5 records a batch
				// on this sparse corpus; 10s gives 11, up to 56). Batches
				// per mailbox send a mailbox's records up to the timeout
				// after newer ones of other mailboxes on the same
				// partition: 1s keeps that under ingest's 2s reorder
				// window (3 records a batch, up to 12).
				timeout := 10 * time.Second
				if keying == ship.KeyMailbox {
					timeout = time.Second
				}
				cfg := ship.Config{Kind: kind, Multiline: multiline, Keying: keying, Seed: 1, BatchSize: 100, BatchTimeout: timeout}
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					res := runEnvelopeCase(t, kcat, rc, cfg)
					res.name = name
					mu.Lock()
					results = append(results, res)
					mu.Unlock()
				})
			}
		}
	}
}

// shipEntries returns the Kafka messages cfg's shipper sends for the
// corpus, and the log events they carry. With no cfg.Kind, the messages
// are the raw entries (the control), keyed as cfg.Keying says.
func shipEntries(t *testing.T, entries []loggen.Entry, cfg ship.Config) ([]kafka.Message, int) {
	t.Helper()
	if cfg.Kind == "" {
		var msgs []kafka.Message
		for _, e := range entries {
			m := kafka.Message{Value: e.Raw, Time: e.Time}
			if cfg.Keying == ship.KeyMailbox && e.Key != "" {
				m.Key = []byte(e.Key)
			}
			msgs = append(msgs, m)
		}
		return msgs, len(msgs)
	}
	s, err := ship.New(cfg)
	require.NoError(t, err)
	var msgs []kafka.Message
	records := 0
	emit := func(m ship.Message) error {
		msgs = append(msgs, kafka.Message{Key: m.Key, Value: m.Value, Time: m.Time})
		records += m.Records
		return nil
	}
	for _, e := range entries {
		require.NoError(t, s.Ship(e, emit))
	}
	require.NoError(t, s.Flush(emit))
	return msgs, records
}

// runEnvelopeCase produces the corpus as cfg's shipper sends it to a
// broker of its own, runs ingest until it has processed every message,
// and replay --brokers, and compares both with the raw replay and the
// truth.
func runEnvelopeCase(t *testing.T, kcat string, rc *rawCorpus, cfg ship.Config) envelopeResult {
	start := time.Now()
	msgs, records := shipEntries(t, rc.entries, cfg)
	require.NotEmpty(t, msgs)
	if !cfg.Kind.Batched() {
		require.Equal(t, len(msgs), records)
	} else {
		require.Less(t, len(msgs)*3, records, "otlp: several records a message")
	}

	broker, err := kfakebroker.Start(kfakebroker.Config{
		Topics: []string{envelopeTopic, "sync.incidents", "sync.deadletter"}, Partitions: partitions,
	})
	require.NoError(t, err)
	t.Cleanup(broker.Close)
	addrs := broker.Addrs()

	// produce as the shipper's client would: unkeyed messages round-robin,
	// keyed ones by key hash (sarama's, which Filebeat uses)
	var bal kafka.Balancer = &kafka.RoundRobin{}
	if cfg.Keying != ship.KeyNone {
		bal = &kafka.Hash{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	w := &kafka.Writer{
		Addr: kafka.TCP(addrs...), Topic: envelopeTopic, Balancer: bal,
		RequiredAcks: kafka.RequireAll, BatchTimeout: 2 * time.Millisecond, BatchSize: 1000,
	}
	require.NoError(t, w.WriteMessages(ctx, msgs...), "producing %d messages", len(msgs))
	require.NoError(t, w.Close())

	// the harness: every message is on the topic, spread as keyed
	ends := endOffsets(t, ctx, addrs, envelopeTopic)
	sum, used := int64(0), 0
	for _, n := range ends {
		sum += n
		if n > 0 {
			used++
		}
	}
	require.Equal(t, int64(len(msgs)), sum, "messages on %s", envelopeTopic)
	if cfg.Keying == ship.KeyHost {
		require.Equal(t, 1, used, "one host: one partition")
	} else {
		require.Equal(t, partitions, used, "messages spread over every partition")
	}

	// ingest: exits by itself once every message was processed, its events
	// delivered and its offset committed
	cmd := exec.CommandContext(ctx, bin("ingest"), "--brokers", strings.Join(addrs, ","), "--group", "envelopes",
		"--topics", envelopeTopic, "--metrics-addr", "off", "--log-level", "error", "--stop-after", strconv.Itoa(len(msgs)))
	var ingestErr bytes.Buffer
	cmd.Stderr = &ingestErr
	require.NoError(t, cmd.Run(), "ingest --stop-after %d must exit 0 by itself: %s", len(msgs), ingestErr.String())
	got := readIncidents(t, kcat, addrs)
	dead := endOffsets(t, ctx, addrs, "sync.deadletter")

	// replay the same topic, no group
	out, stderr, code := runReplay(t, "--quiet", "--brokers", strings.Join(addrs, ","), "--topics", envelopeTopic)
	require.Equal(t, 0, code, "replay --brokers: %s", stderr)
	replayed := decodeEvents(t, out)

	res := envelopeResult{messages: len(msgs), records: records, live: len(got), replay: len(replayed)}
	for _, n := range dead {
		res.dead += int(n)
	}
	gotData, replayData := withoutOrigins(t, got), withoutOrigins(t, replayed)
	for id, w := range rc.wantData {
		if gotData[id] == w {
			res.liveSame++
		}
		if replayData[id] == w {
			res.replaySame++
		}
	}
	res.precision, res.recall = f1(rc.truth, got)
	res.elapsedS = time.Since(start).Seconds()
	t.Logf("%d messages (%d log events), %d dead letters; live %d events (%d as raw replay), replay --brokers %d (%d as raw replay), of %d; precision %.3f recall %.3f",
		res.messages, res.records, res.dead, res.live, res.liveSame, res.replay, res.replaySame, len(rc.wantData), res.precision, res.recall)

	// what the final product needs: the envelopes unwrapped, the same
	// events as the raw logs give
	if res.liveSame != len(rc.wantData) || len(gotData) != len(rc.wantData) {
		logEventDiff(t, "ingest", rc.wantData, gotData)
	}
	if res.replaySame != len(rc.wantData) || len(replayData) != len(rc.wantData) {
		logEventDiff(t, "replay --brokers", rc.wantData, replayData)
	}
	assert.Equal(t, len(rc.wantData), res.liveSame, "ingest: events equal to the raw replay's")
	assert.Len(t, gotData, len(rc.wantData), "ingest: events the raw replay does not have")
	assert.Equal(t, len(rc.wantData), res.replaySame, "replay --brokers: events equal to the raw replay's")
	assert.Len(t, replayData, len(rc.wantData), "replay --brokers: events the raw replay does not have")
	assert.GreaterOrEqual(t, res.precision, 0.99, "precision")
	assert.GreaterOrEqual(t, res.recall, 0.99, "recall")
	return res
}

// totalRead finds the entries read in replay's summary ("  total  READ  PARSED  DEAD").
var totalRead = regexp.MustCompile(`(?m)^\s*total\s+(\d+)\s+\d+\s+\d+\s*$`)

// joinedLines is the summary's count of stack-trace lines joined to their
// entries.
var joinedLines = regexp.MustCompile(`joined to their entries: (\d+)`)

func countLines(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return bytes.Count(b, []byte{'\n'})
}

// endOffsets returns the end offset of every partition of topic.
func endOffsets(t *testing.T, ctx context.Context, addrs []string, topic string) map[int]int64 {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(addrs...), Timeout: 10 * time.Second}
	var reqs []kafka.OffsetRequest
	for p := range partitions {
		reqs = append(reqs, kafka.LastOffsetOf(p))
	}
	res, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	require.NoError(t, err)
	ends := map[int]int64{}
	for _, po := range res.Topics[topic] {
		require.NoError(t, po.Error, "%s/%d", topic, po.Partition)
		ends[po.Partition] = po.LastOffset
	}
	require.Len(t, ends, partitions)
	return ends
}

// TestEnvelopeFilebeatArchiveReplay replays the NDJSON archive that
// `replay generate --shipper filebeat` writes (Filebeat's output.file),
// plain and gzipped, with and without a multiline rule: it must give the
// events of a replay of the raw corpus of the same seed.
func TestEnvelopeFilebeatArchiveReplay(t *testing.T) {
	gen := []string{"generate", "--seed", strconv.FormatInt(envelopeCfg.Seed, 10), "--mailboxes", strconv.Itoa(envelopeCfg.Mailboxes),
		"--hours", strconv.FormatFloat(envelopeCfg.Duration.Hours(), 'f', -1, 64), "--dirty"}
	rawDir := filepath.Join(t.TempDir(), "raw")
	_, stderr, code := runReplay(t, append(gen, "--out", rawDir)...)
	require.Equal(t, 0, code, "%s", stderr)
	out, stderr, code := runReplay(t, "--quiet", rawDir)
	require.Equal(t, 0, code, "%s", stderr)
	want := decodeEvents(t, out)
	require.NotEmpty(t, want)
	wantData := withoutOrigins(t, want)
	f, err := os.Open(filepath.Join(rawDir, loggen.TruthFile))
	require.NoError(t, err)
	truth, err := loggen.ReadTruth(f)
	f.Close()
	require.NoError(t, err)

	for _, multiline := range []bool{false, true} {
		for _, gz := range []bool{false, true} {
			name := map[bool]string{false: "lines", true: "multiline"}[multiline] + map[bool]string{false: "", true: "/gzip"}[gz]
			t.Run(name, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "filebeat")
				args := append(append([]string{}, gen...), "--out", dir, "--shipper", "filebeat")
				if multiline {
					args = append(args, "--multiline")
				}
				_, stderr, code := runReplay(t, args...)
				require.Equal(t, 0, code, "%s", stderr)
				archive := filepath.Join(dir, ship.Filebeat.ArchiveFile())
				lines := countLines(t, archive)
				if gz {
					b, err := os.ReadFile(archive)
					require.NoError(t, err)
					var z bytes.Buffer
					zw := gzip.NewWriter(&z)
					_, err = zw.Write(b)
					require.NoError(t, err)
					require.NoError(t, zw.Close())
					require.NoError(t, os.WriteFile(archive+".gz", z.Bytes(), 0o644))
					require.NoError(t, os.Remove(archive))
				}
				out, stderr, code := runReplay(t, dir)
				require.Equal(t, 0, code, "%s", stderr)
				// the harness: replay read every archived event (its
				// summary's "total" row: read, parsed, dead; and the
				// stack-trace lines it joined to their entries)
				if m := totalRead.FindSubmatch(stderr); m != nil {
					read, err := strconv.Atoi(string(m[1]))
					require.NoError(t, err)
					if j := joinedLines.FindSubmatch(stderr); j != nil {
						joined, err := strconv.Atoi(string(j[1]))
						require.NoError(t, err)
						read += joined
					}
					require.Equal(t, lines, read, "entries replay read from the archive: %s", stderr)
				}
				got := decodeEvents(t, out)
				gotData := withoutOrigins(t, got)
				same := 0
				for id, w := range wantData {
					if gotData[id] == w {
						same++
					}
				}
				p, r := f1(truth, got)
				t.Logf("replay of %s (%d lines): %d events, %d of %d as the raw replay's; precision %.3f recall %.3f",
					filepath.Base(archive)+map[bool]string{false: "", true: ".gz"}[gz], lines, len(got), same, len(wantData), p, r)
				assert.Equal(t, len(wantData), same, "events equal to the raw replay's")
				assert.Len(t, gotData, len(wantData), "events the raw replay does not have")
				assert.GreaterOrEqual(t, p, 0.99, "precision")
				assert.GreaterOrEqual(t, r, 0.99, "recall")
			})
		}
	}
}
