package known_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/kfakebroker"
	"github.com/syncwatch/syncwatch/pipeline/known"
	"github.com/syncwatch/syncwatch/schemas"
)

// incidentEvents makes n events: incidents of mailboxes opened, updated
// and, every other one, resolved, keyed by incident id.
func incidentEvents(t testing.TB, n int) []kafka.Message {
	t.Helper()
	msgs := make([]kafka.Message, 0, n)
	for i := 0; len(msgs) < n; i++ {
		id := fmt.Sprintf("inc-%012d", i)
		for seq := 1; seq <= 4 && len(msgs) < n; seq++ {
			typ := schemas.TypeUpdated
			switch {
			case seq == 1:
				typ = schemas.TypeOpened
			case seq == 4 && i%2 == 0:
				typ = schemas.TypeResolved
			}
			ev := schemas.NewIncidentEvent("syncwatch/ingest", typ, seq, t0.Add(time.Duration(i)*time.Second+time.Duration(seq)*10*time.Minute), schemas.IncidentData{
				IncidentID: id, Kind: schemas.KindSyncError, Class: "exchange.auth.password", Severity: schemas.SeverityCritical,
				Tenant: "t-1", Mailbox: fmt.Sprintf("m%d@contoso.com", i), Producer: "ExchangeConnector",
				Title: "The password of the mailbox has expired", Remediation: "Update the password in the communication arrangement.",
				FirstSeen: schemas.Time{Time: t0}, LastSeen: schemas.Time{Time: t0}, Occurrences: seq, Runs: []string{"r1", "r2"},
				Evidence: []schemas.Evidence{{Producer: "ExchangeConnector", Time: schemas.Time{Time: t0}, Message: "The remote server returned an error: (401) Unauthorized.", Origin: "sync.exchange-connector/0/1"}},
			})
			b, err := json.Marshal(ev)
			require.NoError(t, err)
			msgs = append(msgs, kafka.Message{Key: []byte(id), Value: b})
		}
	}
	return msgs
}

func produce(t testing.TB, b *kfakebroker.Broker, topic string, msgs []kafka.Message) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(b.Addrs()...), Topic: topic, Balancer: &kafka.Hash{}, BatchSize: 1000, BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireAll}
	require.NoError(t, w.WriteMessages(context.Background(), msgs...))
	require.NoError(t, w.Close())
}

// TestRead reads an incidents topic back: open incidents are known,
// resolved ones not, a message that is not an incident event is skipped
// and counted, and a topic that does not exist holds nothing.
func TestRead(t *testing.T) {
	b, err := kfakebroker.Start(kfakebroker.Config{Topics: []string{"sync.incidents"}})
	require.NoError(t, err)
	t.Cleanup(b.Close)
	msgs := incidentEvents(t, 400) // 100 incidents, 50 resolved
	msgs = append(msgs, kafka.Message{Key: []byte("x"), Value: []byte("not an event")})
	produce(t, b, "sync.incidents", msgs)

	ctx := context.Background()
	r := known.NewReader(known.ReadConfig{Brokers: b.Addrs(), Topic: "sync.incidents"})
	st, err := r.Refresh(ctx)
	require.NoError(t, err)
	require.Equal(t, 401, st.Messages)
	require.Equal(t, 1, st.Undecoded)
	k := r.Incidents()
	require.Equal(t, 50, k.Open())
	got := k.At("t-1", "m1@contoso.com", t0.Add(time.Hour))
	require.Len(t, got, 1)
	require.Equal(t, "inc-000000000001-4", got[0].ID)
	require.Empty(t, got[0].Data.Evidence, "evidence is not decoded")
	require.Equal(t, []string{"r1", "r2"}, got[0].Data.Runs)

	// A refresh reads only what was added: the resolution of inc-1.
	more := incidentEvents(t, 8)[4:] // incident 1 again, seq 1 to 4
	res := schemas.NewIncidentEvent("syncwatch/ingest", schemas.TypeResolved, 5, t0.Add(2*time.Hour), schemas.IncidentData{
		IncidentID: "inc-000000000001", Kind: schemas.KindSyncError, Tenant: "t-1", Mailbox: "m1@contoso.com",
	})
	v, err := json.Marshal(res)
	require.NoError(t, err)
	produce(t, b, "sync.incidents", append(more, kafka.Message{Key: []byte(res.Data.IncidentID), Value: v}))
	st, err = r.Refresh(ctx)
	require.NoError(t, err)
	require.Equal(t, 5, st.Messages, "only the new messages")
	require.Equal(t, 49, k.Open())
	require.Empty(t, k.At("t-1", "m1@contoso.com", t0.Add(3*time.Hour)))

	r = known.NewReader(known.ReadConfig{Brokers: b.Addrs(), Topic: "no.such.topic"})
	st, err = r.Refresh(ctx)
	require.NoError(t, err)
	require.Zero(t, st.Messages)
	require.Zero(t, r.Incidents().Open())
}

// BenchmarkRead reads an incidents topic of 200,000 events (50,000
// incidents, half of them open) whole, as ingest does at its start with
// --resume-incidents (later pipelines read only what was added).
func BenchmarkRead(b *testing.B) {
	br, err := kfakebroker.Start(kfakebroker.Config{Topics: []string{"sync.incidents"}})
	require.NoError(b, err)
	b.Cleanup(br.Close)
	n := 200000
	if s := os.Getenv("KNOWN_BENCH_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	produce(b, br, "sync.incidents", incidentEvents(b, n))
	b.ResetTimer()
	for b.Loop() {
		r := known.NewReader(known.ReadConfig{Brokers: br.Addrs(), Topic: "sync.incidents", Horizon: 30 * time.Hour})
		st, err := r.Refresh(context.Background())
		require.NoError(b, err)
		require.Equal(b, n, st.Messages)
		require.Equal(b, n/8, r.Incidents().Open())
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
