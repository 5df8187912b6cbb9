package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/kafkasource"
	"github.com/syncwatch/syncwatch/pipeline/kfakebroker"
	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/schemas"
)

// topicOf is the topic each producer logs to.
var topicOf = map[schemas.Producer]string{
	schemas.ProducerExchange: kafkasource.DefaultTopics[0],
	schemas.ProducerEngine:   kafkasource.DefaultTopics[1],
	schemas.ProducerC4CC:     kafkasource.DefaultTopics[2],
}

// produceCorpus generates a corpus, writes its three log files into a
// directory (for the file replay to compare with) and produces the same
// entries to the broker: one message per entry, keyed by tenant/mailbox
// as the producers do, stamped with the entry's event time (a producer
// sends its lines as it logs them). It returns the directory and the
// number of messages.
func produceCorpus(t *testing.T, brokers []string, cfg loggen.Config) (string, int) {
	t.Helper()
	dir := t.TempDir()
	files := map[schemas.Producer]*bufio.Writer{}
	for p := range topicOf {
		f, err := os.Create(filepath.Join(dir, loggen.FileFor(p)))
		require.NoError(t, err)
		defer f.Close()
		files[p] = bufio.NewWriter(f)
	}
	var msgs []kafka.Message
	_, _, err := loggen.Generate(cfg, func(e loggen.Entry) error {
		w := files[e.Producer]
		w.Write(e.Raw)
		w.WriteByte('\n')
		msgs = append(msgs, kafka.Message{Topic: topicOf[e.Producer], Key: []byte(e.Key), Value: e.Raw, Time: e.Time})
		return nil
	})
	require.NoError(t, err)
	for _, w := range files {
		require.NoError(t, w.Flush())
	}
	wr := &kafka.Writer{
		Addr: kafka.TCP(brokers...), Balancer: &kafka.Hash{},
		BatchTimeout: 5 * time.Millisecond, BatchSize: 2000, RequiredAcks: kafka.RequireAll,
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, wr.WriteMessages(ctx, msgs...))
	require.NoError(t, wr.Close())
	return dir, len(msgs)
}

var originRE = regexp.MustCompile(`"origin":"(sync\.[a-z-]+)/(\d+)/(\d+)"`)

// TestKafkaRange replays time ranges of the three topics from an
// in-process broker: the whole range gives the events of a file replay
// of the same logs (evidence origins aside), a narrower window the events
// of a file replay cut to that window, reading only part of the topics;
// and the broker has no consumer group afterwards.
func TestKafkaRange(t *testing.T) {
	b, err := kfakebroker.Start(kfakebroker.Config{Topics: kafkasource.DefaultTopics, Partitions: 3})
	require.NoError(t, err)
	defer b.Close()
	cfg := loggen.Config{Seed: 21, Mailboxes: 30, Duration: 12 * time.Hour, Dirty: true}
	dir, produced := produceCorpus(t, b.Addrs(), cfg)
	brokers := strings.Join(b.Addrs(), ",")

	var whole []string
	t.Run("whole range equals the file replay", func(t *testing.T) {
		files := replayLines(t, dir)
		require.Greater(t, len(files), 50)
		out := replayLines(t, "--brokers", brokers, "--from", "2026-11-24", "--to", "2026-11-25")
		whole = out
		require.Equal(t, stripOrigins(t, files), stripOrigins(t, out))
		m := originRE.FindStringSubmatch(strings.Join(out, "\n"))
		require.NotNil(t, m, "evidence origins are topic/partition/offset")

		// the same through --diff, with a golden file from the file replay
		golden := filepath.Join(t.TempDir(), "golden.jsonl")
		require.NoError(t, os.WriteFile(golden, []byte(strings.Join(files, "\n")+"\n"), 0o644))
		code, stdout, _ := runReplay(t, "", "--quiet", "--brokers", brokers, "--diff", golden, "--diff-ignore-origins")
		require.Equal(t, exitOK, code, stdout)
		code, stdout, _ = runReplay(t, "", "--quiet", "--brokers", brokers, "--diff", golden)
		require.Equal(t, exitDiff, code, "the origins differ: %s", stdout)
	})

	from, to := corpusStart.Add(3*time.Hour), corpusStart.Add(7*time.Hour)
	window := []string{"--from", from.Format(time.RFC3339), "--to", to.Format(time.RFC3339)}
	var narrow []string
	t.Run("narrow window equals the file replay of the window", func(t *testing.T) {
		all := replayLines(t, dir)
		files := replayLines(t, append(window, dir)...)
		require.NotEmpty(t, files)
		require.Less(t, len(files), len(all))
		out := filepath.Join(t.TempDir(), "events.jsonl")
		code, _, stderr := runReplay(t, "", append([]string{"--brokers", brokers, "--out", out}, window...)...)
		require.Equal(t, exitOK, code, stderr)
		narrow = readLines(t, out)
		require.Equal(t, stripOrigins(t, files), stripOrigins(t, narrow))
		for _, e := range decodeLines(t, narrow) {
			require.False(t, e.Data.FirstSeen.Before(from), "event %s starts before the window", e.ID)
			require.True(t, e.Data.LastSeen.Before(to), "event %s ends after the window", e.ID)
		}
		// A subset of the whole range's events: the window changes only
		// the incidents open across its start, which it cuts (they get
		// another first_seen, so another id).
		type key struct{ subject, class string }
		open, incidents := map[key]bool{}, map[string]bool{}
		for _, e := range decodeLines(t, whole) {
			incidents[e.Data.IncidentID] = true
			if e.Time.Before(from) {
				open[key{e.Subject, e.Data.Class}] = e.Type != schemas.TypeResolved
			}
		}
		inWhole := map[string]bool{}
		for _, l := range stripOrigins(t, whole) {
			inWhole[l] = true
		}
		same := 0
		stripped := stripOrigins(t, narrow)
		for i, e := range decodeLines(t, narrow) {
			if incidents[e.Data.IncidentID] {
				require.True(t, inWhole[stripped[i]], "event %s of the window differs from the whole range's", e.ID)
				same++
				continue
			}
			require.True(t, open[key{e.Subject, e.Data.Class}], "event %s is of an incident the whole range does not have", e.ID)
		}
		require.Greater(t, same, len(narrow)/2)
		// Only the window (and its margin) was read, found by timestamp.
		m := regexp.MustCompile(`kafka: read (\d+) messages from 9 partitions`).FindStringSubmatch(stderr)
		require.NotNil(t, m, stderr)
		read, _ := strconv.Atoi(m[1])
		require.Positive(t, read)
		require.Less(t, read, produced/2, "4h of 12h must not read half the topics")
	})

	t.Run("negative margin reads whole partitions, same events", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "events.jsonl")
		code, _, stderr := runReplay(t, "", append([]string{"--brokers", brokers, "--out", out, "--time-margin=-1s"}, window...)...)
		require.Equal(t, exitOK, code, stderr)
		require.Contains(t, stderr, "kafka: read "+strconv.Itoa(produced)+" messages from 9 partitions")
		require.Contains(t, stderr, "(whole partitions)")
		require.Equal(t, narrow, readLines(t, out))
	})

	t.Run("a missing topic is an error and is not created", func(t *testing.T) {
		code, stdout, stderr := runReplay(t, "", "--brokers", brokers, "--topics", "sync.engine,sync.nope")
		require.Equal(t, exitUsage, code)
		require.Empty(t, stdout)
		require.Contains(t, stderr, `reading topic "sync.nope": no such topic`)
		conn, err := kafka.Dial("tcp", b.Addrs()[0])
		require.NoError(t, err)
		defer conn.Close()
		parts, err := conn.ReadPartitions()
		require.NoError(t, err)
		for _, p := range parts {
			require.NotEqual(t, "sync.nope", p.Topic)
		}
	})

	t.Run("no consumer group on the broker", func(t *testing.T) {
		c := &kafka.Client{Addr: kafka.TCP(b.Addrs()...), Timeout: 10 * time.Second}
		resp, err := c.ListGroups(context.Background(), &kafka.ListGroupsRequest{})
		require.NoError(t, err)
		require.NoError(t, resp.Error)
		require.Empty(t, resp.Groups)
	})
}

// TestKafkaEmptyRangeHint: messages stamped with the wall clock (as the
// demo and most producers do) hold none of a --from/--to range of
// yesterday's event time; replay says which times they carry and how to
// read them anyway, instead of a silent "read 0 messages".
func TestKafkaEmptyRangeHint(t *testing.T) {
	b, err := kfakebroker.Start(kfakebroker.Config{Topics: kafkasource.DefaultTopics, Partitions: 2})
	require.NoError(t, err)
	defer b.Close()
	var msgs []kafka.Message
	_, _, err = loggen.Generate(loggen.Config{Seed: 4, Mailboxes: 5, Duration: time.Hour}, func(e loggen.Entry) error {
		msgs = append(msgs, kafka.Message{Topic: topicOf[e.Producer], Key: []byte(e.Key), Value: append([]byte(nil), e.Raw...)}) // stamped now
		return nil
	})
	require.NoError(t, err)
	wr := &kafka.Writer{Addr: kafka.TCP(b.Addrs()...), Balancer: &kafka.Hash{}, BatchTimeout: 5 * time.Millisecond, RequiredAcks: kafka.RequireAll}
	require.NoError(t, wr.WriteMessages(context.Background(), msgs...))
	require.NoError(t, wr.Close())

	code, _, stderr := runReplay(t, "", "--brokers", strings.Join(b.Addrs(), ","), "--from", "2026-11-24", "--to", "2026-11-25")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stderr, "read 0 messages")
	require.Contains(t, stderr, fmt.Sprintf("none of the %d messages the topics hold is stamped in the range", len(msgs)))
	require.Contains(t, stderr, "their Kafka timestamps run from "+time.Now().UTC().Format("2006-01-02"))
	require.Contains(t, stderr, "--time-margin -1")

	// and the advice works
	out := replayLines(t, "--brokers", strings.Join(b.Addrs(), ","), "--time-margin", "-1s", "--from", "2026-11-24", "--to", "2026-11-25")
	require.NotEmpty(t, out)
}
