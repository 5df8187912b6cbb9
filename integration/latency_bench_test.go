package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/syncwatch/syncwatch/pipeline/kafkasource"
	"github.com/syncwatch/syncwatch/pipeline/kfakebroker"
)

// BenchmarkIngestLatency measures, in wall-clock time, how long a
// definitive sync error (an authentication error: always total, one
// sighting opens it) takes from its log message being acknowledged by the
// broker to its incident event being readable on sync.incidents, while
// the three producers' topics carry 10k messages/s of live traffic. It
// runs the ingest binary as deployed, against a Kafka-protocol broker on
// loopback. b.N errors are injected, one every 20 ms, each on a mailbox of
// its own; the metrics are p50 and p99 in milliseconds.
//
// The sub-benchmarks compare reorder windows: the window is how long a
// record waits for stragglers of its partition before detection sees it,
// so it bounds latency from below. "default" sets no option: each
// partition's window is learned from its disorder (--reorder-adaptive),
// after a warm-up of 8s in which every partition shows 1,000 records
// over 5s; the others fix every partition's window.
//
// The repartition sub-benchmarks add the repartition hop (--repartition
// always): the records go through the repartition topic first.
func BenchmarkIngestLatency(b *testing.B) {
	for _, c := range []struct {
		name string
		args []string
	}{
		{"default", nil}, // learned windows, after the warm-up
		{"reorder-adaptive=false", []string{"--reorder-adaptive=false"}}, // every partition held 2s
		{"reorder-window=50ms,reorder-adaptive=false", []string{"--reorder-window", "50ms", "--reorder-adaptive=false"}},
		{"default,repartition=always", []string{"--repartition", "always"}},
		{"reorder-adaptive=false,repartition=always", []string{"--reorder-adaptive=false", "--repartition", "always"}},
	} {
		b.Run(c.name, func(b *testing.B) { benchLatency(b, c.args...) })
	}
}

func benchLatency(b *testing.B, extra ...string) {
	topics := append([]string{"sync.incidents", "sync.deadletter"}, kafkasource.DefaultTopics...)
	br, err := kfakebroker.Start(kfakebroker.Config{Topics: topics, Partitions: partitions})
	if err != nil {
		b.Fatal(err)
	}
	defer br.Close()
	brokers := br.Addrs()

	ingest := exec.Command(bin("ingest"), append([]string{"--brokers", strings.Join(brokers, ","), "--group", "latency",
		"--metrics-addr", "off", "--log-level", "warn"}, extra...)...)
	ingest.Stderr = os.Stderr
	if err := ingest.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		ingest.Process.Kill()
		ingest.Wait()
	}()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Balancer: &kafka.Hash{}, BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireAll}
	defer w.Close()

	// 10k messages/s over the three topics: every 10 ms, 100 messages on
	// 60 mailboxes spread over every partition.
	var bgErr error
	var bg sync.WaitGroup
	bg.Add(1)
	go func() {
		defer bg.Done()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		n := 0
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			msgs := make([]kafka.Message, 0, 100)
			for i := 0; i < 100; i++ {
				n++
				msgs = append(msgs, backgroundMessage(n, time.Now()))
			}
			if err := w.WriteMessages(ctx, msgs...); err != nil && ctx.Err() == nil {
				bgErr = err
				return
			}
		}
	}()
	defer bg.Wait()
	defer cancel()

	// Read the incidents topic as a latency-minded subscriber would, every
	// partition. kafka-go's Reader otherwise sleeps ReadBackoffMin (100 ms)
	// between polls that come back empty: that, not ingest, made a p99 of
	// ~100 ms whatever the pipeline did (a produce-to-read probe alone
	// measured p99 97 ms with the default, 0.6 ms with these).
	type seen struct {
		idx int
		at  time.Time
	}
	got := make(chan seen, 1024)
	for p := 0; p < partitions; p++ {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: "sync.incidents", Partition: p, MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 5 * time.Millisecond,
			ReadBackoffMin: time.Millisecond, ReadBackoffMax: 2 * time.Millisecond})
		defer r.Close()
		go func() {
			for {
				m, err := r.ReadMessage(ctx)
				if err != nil {
					return
				}
				at := time.Now()
				var ev struct {
					Type    string `json:"type"`
					Subject string `json:"subject"`
				}
				if json.Unmarshal(m.Value, &ev) != nil || !strings.HasSuffix(ev.Type, ".opened") {
					continue
				}
				// subject: t-lat/lat<N>@bench.invalid
				_, mb, _ := strings.Cut(ev.Subject, "/lat")
				num, _, _ := strings.Cut(mb, "@")
				if i, err := strconv.Atoi(num); err == nil {
					got <- seen{i, at}
				}
			}
		}()
	}

	// the group is joined and the traffic flows; an adaptive window is
	// learned once a partition has shown 1,000 records over 5s
	warmUp := 2 * time.Second
	if !slices.Contains(extra, "--reorder-adaptive=false") {
		warmUp = 8 * time.Second
	}
	time.Sleep(warmUp)
	produced := make([]time.Time, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		msg := kafka.Message{Topic: "sync.exchange-connector", Key: []byte(fmt.Sprintf("t-lat/lat%d@bench.invalid", i))}
		msg.Value = []byte(fmt.Sprintf("%s [7] ERROR ExchangeConnector.SyncWorker - [t-lat/lat%d@bench.invalid/run:%06x] Authentication error",
			time.Now().UTC().Format("2006-01-02 15:04:05,000"), i, i))
		if err := w.WriteMessages(ctx, msg); err != nil {
			b.Fatal(err)
		}
		produced[i] = time.Now()
		time.Sleep(20 * time.Millisecond)
	}
	var lat []time.Duration
	deadline := time.After(30 * time.Second)
	for len(lat) < b.N {
		select {
		case s := <-got:
			if s.idx < b.N {
				lat = append(lat, s.at.Sub(produced[s.idx]))
			}
		case <-deadline:
			b.Fatalf("after 30s, %d of %d incidents seen (background traffic error: %v)", len(lat), b.N, bgErr)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(q float64) float64 {
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op") // the time per op is the 20 ms pacing, not a result
}

// backgroundMessage is live traffic: a synced record of one of 60
// mailboxes, in the format of one of the three producers, stamped now.
func backgroundMessage(n int, now time.Time) kafka.Message {
	mb := n % 60
	tenant, mailbox, run := "t-bg", fmt.Sprintf("bg%d@bench.invalid", mb), fmt.Sprintf("%06x", mb)
	key := []byte(tenant + "/" + mailbox)
	ts := now.UTC()
	switch n % 3 {
	case 0:
		return kafka.Message{Topic: "sync.exchange-connector", Key: key, Value: []byte(fmt.Sprintf(
			"%s [3] INFO  ExchangeConnector.SyncWorker - [%s/%s/run:%s] item MAIL-%05d synced", ts.Format("2006-01-02 15:04:05,000"), tenant, mailbox, run, n%100000))}
	case 1:
		return kafka.Message{Topic: "sync.engine", Key: key, Value: []byte(fmt.Sprintf(
			"ts=%s level=info component=sync-engine tenant=%s mailbox=%s run=%s event=record_synced record=MAIL-%05d", ts.Format("2006-01-02T15:04:05.000Z"), tenant, mailbox, run, n%100000))}
	}
	return kafka.Message{Topic: "sync.c4cc-connector", Key: key, Value: []byte(fmt.Sprintf(
		`{"@timestamp":"%s","level":"INFO","logger":"C4CC.Connector.Push","tenant":"%s","mailbox":"%s","runId":"%s","recordType":"EMail","recordId":"MAIL-%05d","http":{"status":201},"message":"record pushed"}`,
		ts.Format("2006-01-02T15:04:05.000Z"), tenant, mailbox, run, n%100000))}
}
