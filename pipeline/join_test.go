package pipeline

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/syncwatch/syncwatch/schemas"
)

const (
	joinHeadLine = "2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error"
	joinStack1   = "System.Net.WebException: The remote server returned an error: (404) Not Found."
	joinStack2   = "   at System.Net.HttpWebRequest.GetResponse()"
	joinNextLine = "ts=2026-11-24T10:16:02.000Z level=info tenant=t-2001 mailbox=ops@fabrikam.com run=a11c02 event=record_synced record=R1"
)

// vectorLine is line as Vector ships it from file on host.
func vectorLine(host, file, line string) []byte {
	b, _ := json.Marshal(map[string]string{"file": file, "host": host, "message": line, "source_type": "file", "timestamp": "2026-11-24T10:16:02.5Z"})
	return b
}

// ackCounter counts the acks of each message it made.
type ackCounter map[string]int

func (a ackCounter) ack(name string) AckFunc {
	return func(context.Context, error) error { a[name]++; return nil }
}

// messages are entries of one partition, each a message with an ack.
func messages(acks ackCounter, values ...[]byte) []Entry {
	var out []Entry
	for i, v := range values {
		o := "logs/0/" + strconv.Itoa(i)
		out = append(out, Entry{Source: "logs/0", Raw: v, Origin: o, Ack: acks.ack(o), Message: true})
	}
	return out
}

// runBatches runs batches of entries through a normalize stage, the last
// one Final, and returns everything they gave.
func runBatches(t *testing.T, s *NormalizeStage, batches ...[]Entry) Batch {
	t.Helper()
	var all Batch
	for i, entries := range batches {
		b := Batch{Entries: entries, Final: i == len(batches)-1}
		require.NoError(t, s.Exec(context.Background(), &b))
		all.Records = append(all.Records, b.Records...)
		all.DeadLetters = append(all.DeadLetters, b.DeadLetters...)
		all.Acks = append(all.Acks, b.Acks...)
	}
	return all
}

func TestJoinContinuationLines(t *testing.T) {
	acks := ackCounter{}
	s := NewNormalizeStage(NormalizeConfig{})
	got := runBatches(t, s, messages(acks,
		vectorLine("h1", "/var/log/exchange.log", joinHeadLine),
		vectorLine("h1", "/var/log/engine.log", joinNextLine), // another file of the host: does not end the entry
		vectorLine("h1", "/var/log/exchange.log", joinStack1),
		vectorLine("h1", "/var/log/exchange.log", joinStack2),
		vectorLine("h1", "/var/log/exchange.log", strings.Replace(joinHeadLine, "10:16:01,900", "10:16:03,000", 1)),
	))
	require.Empty(t, got.DeadLetters)
	require.Len(t, got.Records, 3)
	var head *Record
	for i := range got.Records {
		if got.Records[i].Origin == "logs/0/0 (vector h1:/var/log/exchange.log)" {
			head = &got.Records[i]
		}
	}
	require.NotNil(t, head, "the head keeps its origin")
	require.Equal(t, joinStack1+"\n"+joinStack2, head.Attributes.Get("stack"))
	require.Equal(t, "Unexpected Exchange error", head.Body)
	require.Equal(t, contentHash([]byte(joinHeadLine+"\n"+joinStack1+"\n"+joinStack2)), head.tie,
		"ordered as the file's scanner would order the joined entry")
	require.NoError(t, head.Ack(context.Background(), nil))
	require.Equal(t, ackCounter{"logs/0/0": 1, "logs/0/2": 1, "logs/0/3": 1}, acks, "the joined entry acks its three messages")
	st := s.Stats()
	require.Equal(t, int64(2), st.Joined)
	require.Equal(t, int64(3), st.Shippers["vector"])
}

func TestJoinRawMessages(t *testing.T) {
	s := NewNormalizeStage(NormalizeConfig{})
	got := runBatches(t, s, messages(ackCounter{}, []byte(joinHeadLine), []byte(joinStack1), []byte(joinStack2), []byte(joinNextLine)))
	require.Empty(t, got.DeadLetters)
	require.Len(t, got.Records, 2)
	require.Equal(t, joinStack1+"\n"+joinStack2, got.Records[0].Attributes.Get("stack"))
	require.Equal(t, "logs/0/0", got.Records[0].Origin)
}

func TestJoinOrphanLine(t *testing.T) {
	acks := ackCounter{}
	s := NewNormalizeStage(NormalizeConfig{})
	got := runBatches(t, s, messages(acks, vectorLine("h1", "/x.log", joinStack2), []byte(joinNextLine)))
	require.Len(t, got.Records, 1)
	require.Len(t, got.DeadLetters, 1)
	require.Equal(t, "vector envelope: continuation line without its entry", got.DeadLetters[0].Reason)
	require.Equal(t, "logs/0/0 (vector h1:/x.log)", got.DeadLetters[0].Origin)
	require.Equal(t, joinStack2, string(got.DeadLetters[0].RawBase64), "the entry out of its envelope")
	require.Len(t, got.Acks, 1)
}

// TestJoinFileEntriesUntouched: a file's entries were framed by its
// scanner; a continuation-looking line there is not joined to anything.
func TestJoinFileEntriesUntouched(t *testing.T) {
	s := NewNormalizeStage(NormalizeConfig{})
	b := Batch{Entries: []Entry{
		{Source: "exchange.log", Raw: []byte(joinHeadLine), Origin: "exchange.log:1"},
		{Source: "exchange.log", Raw: []byte(joinStack2), Origin: "exchange.log:2"},
	}}
	require.NoError(t, s.Exec(context.Background(), &b))
	require.Len(t, b.Records, 1)
	require.Len(t, b.DeadLetters, 1)
	require.Equal(t, "unrecognized format", b.DeadLetters[0].Reason)
}

// TestJoinReleaseRules: a held entry comes out when the entries of its
// source moved joinLookahead past it, when its stream was silent for
// JoinWait (a batch with Now), and on the final batch; the lines joined
// are bounded by MaxEntry.
func TestJoinReleaseRules(t *testing.T) {
	t.Run("lookahead", func(t *testing.T) {
		s := NewNormalizeStage(NormalizeConfig{})
		values := [][]byte{vectorLine("h1", "/a.log", joinHeadLine)}
		for range joinLookahead {
			values = append(values, vectorLine("h1", "/b.log", joinNextLine))
		}
		b := Batch{Entries: messages(ackCounter{}, values...)}
		require.NoError(t, s.Exec(context.Background(), &b))
		require.Len(t, b.Records, joinLookahead+1)
		require.Equal(t, "Unexpected Exchange error", b.Records[joinLookahead].Body, "released after the lookahead")
	})
	t.Run("join wait", func(t *testing.T) {
		s := NewNormalizeStage(NormalizeConfig{JoinWait: 50 * time.Millisecond})
		t0 := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
		b := Batch{Entries: messages(ackCounter{}, []byte(joinHeadLine)), Now: t0}
		require.NoError(t, s.Exec(context.Background(), &b))
		require.Empty(t, b.Records, "held for its stack trace")
		b = Batch{Now: t0.Add(40 * time.Millisecond)}
		require.NoError(t, s.Exec(context.Background(), &b))
		require.Empty(t, b.Records)
		b = Batch{Now: t0.Add(60 * time.Millisecond)}
		require.NoError(t, s.Exec(context.Background(), &b))
		require.Len(t, b.Records, 1, "released once its stream was silent for JoinWait")
	})
	t.Run("final", func(t *testing.T) {
		s := NewNormalizeStage(NormalizeConfig{})
		got := runBatches(t, s, messages(ackCounter{}, []byte(joinHeadLine)))
		require.Len(t, got.Records, 1)
	})
	t.Run("too large", func(t *testing.T) {
		s := NewNormalizeStage(NormalizeConfig{MaxEntry: len(joinHeadLine) + len(joinStack1) + 10})
		got := runBatches(t, s, messages(ackCounter{}, []byte(joinHeadLine), []byte(joinStack1), []byte(joinStack2), []byte(joinStack2)))
		require.Empty(t, got.Records)
		require.Len(t, got.DeadLetters, 1, "cut and dead-lettered, its further lines skipped, as a file's scanner does")
		require.Contains(t, got.DeadLetters[0].Reason, "entry exceeds")
	})
}

// TestNormalizeOTLPBatch: an OTLP batch's entries are each a record, and
// the message is acked once every one of them is.
func TestNormalizeOTLPBatch(t *testing.T) {
	logs := plog.NewLogs()
	lrs := logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for _, l := range []string{joinHeadLine, joinNextLine, "garbage"} {
		lrs.AppendEmpty().Body().SetStr(l)
	}
	msg, err := (&plog.ProtoMarshaler{}).MarshalLogs(logs)
	require.NoError(t, err)
	none := plog.NewLogs()
	none.ResourceLogs().AppendEmpty().Resource().Attributes().PutStr("host.name", "h")
	empty, err := (&plog.ProtoMarshaler{}).MarshalLogs(none) // a batch without records
	require.NoError(t, err)
	acks := ackCounter{}
	s := NewNormalizeStage(NormalizeConfig{})
	got := runBatches(t, s, messages(acks, msg, empty))
	require.Len(t, got.Records, 2)
	require.Len(t, got.DeadLetters, 1)
	require.Equal(t, "otlp envelope: unrecognized format", got.DeadLetters[0].Reason)
	require.Equal(t, "logs/0/0#2 (otlp :)", got.DeadLetters[0].Origin)
	require.Len(t, got.Acks, 2, "the dead letter's and the empty batch's")
	ctx := context.Background()
	require.NoError(t, got.Records[0].Ack(ctx, nil))
	require.NoError(t, got.Acks[0](ctx, nil))
	require.Zero(t, acks["logs/0/0"], "not before every entry is acked")
	require.NoError(t, got.Records[1].Ack(ctx, nil))
	require.Equal(t, 1, acks["logs/0/0"])
	require.NoError(t, got.Acks[1](ctx, nil))
	require.Equal(t, 1, acks["logs/0/1"], "an empty batch is acked too")
	require.Equal(t, int64(3), s.Stats().Shippers["otlp"])
	require.Equal(t, schemas.ProducerExchange, got.Records[0].Producer)
}

// TestSecondsOnlyKeepOrder: syslog-ng's default file() source drops an
// ExchangeConnector entry's milliseconds; the entries of one second keep
// the order they came in, a microsecond apart, so that a record that
// failed and then synced on retry still reads as recovered.
func TestSecondsOnlyKeepOrder(t *testing.T) {
	line := func(what string) []byte {
		return []byte("2026-11-24T10:16:01+00:00 conn01 [7] WARN  ExchangeConnector.SyncWorker - [t-2001/ops@fabrikam.com/run:a11c02] item CONT-1 " + what)
	}
	s := NewNormalizeStage(NormalizeConfig{})
	got := runBatches(t, s, messages(ackCounter{}, line("failed: The operation has timed out"), line("synced"),
		[]byte("2026-11-24T10:16:02+00:00 conn01 [7] INFO  ExchangeConnector.SyncWorker - [t-2001/ops@fabrikam.com/run:a11c02] item CONT-2 synced")))
	require.Len(t, got.Records, 3)
	t0 := time.Date(2026, 11, 24, 10, 16, 1, 0, time.UTC)
	require.Equal(t, t0, got.Records[0].Time)
	require.Equal(t, schemas.EventRecordFailed, got.Records[0].Event)
	require.Equal(t, t0.Add(time.Microsecond), got.Records[1].Time, "after the failure, as written")
	require.Equal(t, schemas.EventRecordSynced, got.Records[1].Event)
	require.Equal(t, t0.Add(time.Second), got.Records[2].Time, "a new second starts again at its whole second")
}
