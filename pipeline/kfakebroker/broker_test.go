package kfakebroker_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"sort"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/syncwatch/syncwatch/pipeline/kfakebroker"
)

func startBroker(t *testing.T, cfg kfakebroker.Config) *kfakebroker.Broker {
	t.Helper()
	b, err := kfakebroker.Start(cfg)
	require.NoError(t, err)
	t.Cleanup(b.Close)
	return b
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     kfakebroker.Config
		wantErr []string // one substring per problem; none: valid
	}{
		{name: "zero value", cfg: kfakebroker.Config{}},
		{name: "explicit", cfg: kfakebroker.Config{Addr: "127.0.0.1:0", Topics: []string{"a", "b"}, Partitions: 2, AdvertisedHost: "::1",
			AdvertisedPort: 65535, BrokerConfigs: map[string]string{"message.max.bytes": "2097152"}, Opts: []kfake.Opt{kfake.NumBrokers(1)}}},
		{name: "advertised host name", cfg: kfakebroker.Config{AdvertisedHost: "host.docker.internal", AdvertisedPort: 9092}},
		{name: "addr without port", cfg: kfakebroker.Config{Addr: "nonsense"}, wantErr: []string{`Addr "nonsense": address nonsense: missing port`}},
		{name: "empty topic", cfg: kfakebroker.Config{Topics: []string{"a", ""}}, wantErr: []string{"Topics[1]: empty topic name"}},
		{name: "topic listed twice", cfg: kfakebroker.Config{Topics: []string{"a", "a"}}, wantErr: []string{`Topics[1] "a": listed twice`}},
		{name: "negative partitions", cfg: kfakebroker.Config{Partitions: -1}, wantErr: []string{"Partitions -1: must be 0"}},
		{name: "too many partitions", cfg: kfakebroker.Config{Partitions: math.MaxInt32 + 1}, wantErr: []string{"Partitions 2147483648"}},
		{name: "advertised host with port", cfg: kfakebroker.Config{AdvertisedHost: "broker:9092"}, wantErr: []string{`AdvertisedHost "broker:9092": want a host name or IP address, without a port`}},
		{name: "advertised host in brackets", cfg: kfakebroker.Config{AdvertisedHost: "[::1]"}, wantErr: []string{`AdvertisedHost "[::1]"`}},
		{name: "advertised port too large", cfg: kfakebroker.Config{AdvertisedPort: 70000}, wantErr: []string{"AdvertisedPort 70000: must be 0 or a TCP port"}},
		{name: "negative advertised port", cfg: kfakebroker.Config{AdvertisedPort: -1}, wantErr: []string{"AdvertisedPort -1"}},
		{name: "empty broker config name", cfg: kfakebroker.Config{BrokerConfigs: map[string]string{"": "1"}}, wantErr: []string{"BrokerConfigs: empty config name"}},
		{name: "nil option", cfg: kfakebroker.Config{Opts: []kfake.Opt{nil}}, wantErr: []string{"Opts[0]: nil"}},
		{
			name: "every problem at once",
			cfg: kfakebroker.Config{Addr: "nonsense", Partitions: -1, Topics: []string{""}, AdvertisedHost: "a:1", AdvertisedPort: -1,
				BrokerConfigs: map[string]string{"": ""}, Opts: []kfake.Opt{nil}},
			wantErr: []string{"Addr", "Topics[0]", "Partitions", "AdvertisedHost", "AdvertisedPort", "BrokerConfigs", "Opts[0]"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if len(tt.wantErr) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tt.wantErr {
				require.Contains(t, err.Error(), w)
			}
			require.Contains(t, err.Error(), fmt.Sprintf("%d error", len(tt.wantErr)), "one problem per field")
			_, err = kfakebroker.Start(tt.cfg)
			require.ErrorContains(t, err, "validating broker config")
		})
	}
}

func TestAdvertisedAddress(t *testing.T) {
	tests := []struct {
		name     string
		cfg      kfakebroker.Config
		wantHost string
	}{
		{name: "default loopback", cfg: kfakebroker.Config{}, wantHost: "127.0.0.1"},
		{name: "unspecified listen host advertises loopback", cfg: kfakebroker.Config{Addr: "0.0.0.0:0"}, wantHost: "127.0.0.1"},
		{name: "explicit advertised host", cfg: kfakebroker.Config{Addr: "127.0.0.1:0", AdvertisedHost: "localhost"}, wantHost: "localhost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := startBroker(t, tt.cfg)
			addrs := b.Addrs()
			require.Len(t, addrs, 1)
			host, port, err := net.SplitHostPort(addrs[0])
			require.NoError(t, err)
			require.Equal(t, tt.wantHost, host)
			require.NotEqual(t, "0", port)

			// The broker tells clients the address they connected to.
			conn, err := kafka.Dial("tcp", addrs[0])
			require.NoError(t, err)
			defer conn.Close()
			brokers, err := conn.Brokers()
			require.NoError(t, err)
			require.Len(t, brokers, 1)
			require.Equal(t, addrs[0], net.JoinHostPort(brokers[0].Host, fmt.Sprint(brokers[0].Port)))
		})
	}
}

func TestSeedTopicsAndPartitions(t *testing.T) {
	b := startBroker(t, kfakebroker.Config{Topics: []string{"x", "y"}, Partitions: 4})
	conn, err := kafka.Dial("tcp", b.Addrs()[0])
	require.NoError(t, err)
	defer conn.Close()
	parts, err := conn.ReadPartitions("x", "y")
	require.NoError(t, err)
	require.Len(t, parts, 8)
}

// TestWriterRequireAllAndReader writes with kafka-go's Writer waiting for
// all replicas, letting the broker create the topic, and reads back.
func TestWriterRequireAllAndReader(t *testing.T) {
	b := startBroker(t, kfakebroker.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	w := &kafka.Writer{
		Addr:                   kafka.TCP(b.Addrs()...),
		Topic:                  "auto-created",
		Balancer:               &kafka.Hash{},
		RequiredAcks:           kafka.RequireAll,
		BatchTimeout:           5 * time.Millisecond,
		AllowAutoTopicCreation: true,
	}
	defer w.Close()
	var msgs []kafka.Message
	for i := range 30 {
		msgs = append(msgs, kafka.Message{Key: []byte(fmt.Sprintf("k%d", i)), Value: []byte(fmt.Sprintf("v%d", i))})
	}
	require.NoError(t, w.WriteMessages(ctx, msgs...))

	var got []string
	for p := range 3 {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: b.Addrs(), Topic: "auto-created", Partition: p, MaxWait: 100 * time.Millisecond})
		conn, err := kafka.DialLeader(ctx, "tcp", b.Addrs()[0], "auto-created", p)
		require.NoError(t, err)
		last, err := conn.ReadLastOffset()
		require.NoError(t, err)
		require.NoError(t, conn.Close())
		for range last {
			m, err := r.FetchMessage(ctx)
			require.NoError(t, err)
			got = append(got, string(m.Value))
		}
		require.NoError(t, r.Close())
	}
	require.Len(t, got, 30)
}

// TestConsumerGroupSplitsPartitions checks group coordination with
// kafka-go's ConsumerGroup: two members split six partitions, and when one
// leaves the other gets all of them in a later generation.
func TestConsumerGroupSplitsPartitions(t *testing.T) {
	b := startBroker(t, kfakebroker.Config{Topics: []string{"t1", "t2"}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	newGroup := func() *kafka.ConsumerGroup {
		g, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
			ID:                "g",
			Brokers:           b.Addrs(),
			Topics:            []string{"t1", "t2"},
			HeartbeatInterval: 200 * time.Millisecond,
			SessionTimeout:    6 * time.Second,
			RebalanceTimeout:  5 * time.Second,
		})
		require.NoError(t, err)
		return g
	}
	count := func(gen *kafka.Generation) int {
		n := 0
		for _, as := range gen.Assignments {
			n += len(as)
		}
		return n
	}
	// next returns the next generation of g, keeping it alive until it ends.
	next := func(g *kafka.ConsumerGroup) *kafka.Generation {
		gen, err := g.Next(ctx)
		require.NoError(t, err)
		gen.Start(func(ctx context.Context) { <-ctx.Done() })
		return gen
	}

	g1 := newGroup()
	gen := next(g1)
	require.Equal(t, 6, count(gen))

	g2 := newGroup()
	defer g2.Close()
	gens := make(chan *kafka.Generation, 1)
	go func() { gens <- next(g2) }()
	gen1 := next(g1) // g1 learns of the rebalance through its heartbeat
	gen2 := <-gens
	require.Equal(t, gen1.ID, gen2.ID)
	require.Greater(t, gen1.ID, gen.ID)
	// kafka-go's range balancer splits each topic: 2+1 partitions of each.
	require.Equal(t, 6, count(gen1)+count(gen2))
	require.NotZero(t, count(gen1))
	require.NotZero(t, count(gen2))

	var parts []string
	for _, g := range []*kafka.Generation{gen1, gen2} {
		for topic, as := range g.Assignments {
			for _, a := range as {
				parts = append(parts, fmt.Sprintf("%s/%d", topic, a.ID))
			}
		}
	}
	sort.Strings(parts)
	require.Equal(t, []string{"t1/0", "t1/1", "t1/2", "t2/0", "t2/1", "t2/2"}, parts)

	require.NoError(t, g1.Close()) // leaves the group
	gen3 := next(g2)
	require.Equal(t, 6, count(gen3))
	require.Greater(t, gen3.ID, gen2.ID)
}

// TestAdvertisedPortRoutesThroughForwarder puts a TCP forwarder in front of
// the broker: with AdvertisedPort set to the forwarder's port, metadata
// sends clients through the forwarder (what fault-injecting proxies need),
// and a write and read there work end to end.
func TestAdvertisedPortRoutesThroughForwarder(t *testing.T) {
	fwd, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer fwd.Close()
	_, fwdPort, err := net.SplitHostPort(fwd.Addr().String())
	require.NoError(t, err)
	port, err := strconv.Atoi(fwdPort)
	require.NoError(t, err)

	b := startBroker(t, kfakebroker.Config{Topics: []string{"t"}, Partitions: 1, AdvertisedPort: port})
	require.Equal(t, []string{fwd.Addr().String()}, b.Addrs())
	listen := b.ListenAddrs()
	require.Len(t, listen, 1)
	require.NotEqual(t, b.Addrs()[0], listen[0])

	var forwarded atomic.Int32
	go func() {
		for {
			c, err := fwd.Accept()
			if err != nil {
				return
			}
			forwarded.Add(1)
			up, err := net.Dial("tcp", listen[0])
			if err != nil {
				c.Close()
				continue
			}
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()

	// Bootstrapping at the real port still hands out the forwarder.
	conn, err := kafka.Dial("tcp", listen[0])
	require.NoError(t, err)
	brokers, err := conn.Brokers()
	require.NoError(t, err)
	require.NoError(t, conn.Close())
	require.Len(t, brokers, 1)
	require.Equal(t, port, brokers[0].Port)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	w := &kafka.Writer{Addr: kafka.TCP(listen[0]), Topic: "t", BatchTimeout: 5 * time.Millisecond, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	require.NoError(t, w.WriteMessages(ctx, kafka.Message{Value: []byte("via the forwarder")}))
	require.Positive(t, forwarded.Load(), "the writer must have dialed the advertised (forwarder) address")
}

// TestBrokerConfigs passes broker configs through to kfake: a message over
// the 1 MiB default of message.max.bytes is accepted once it is raised,
// and the minimum session timeout can be lowered for tests.
func TestBrokerConfigs(t *testing.T) {
	big := kafka.Message{Value: bytes.Repeat([]byte("x"), 2<<20)}
	write := func(addrs []string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		w := &kafka.Writer{Addr: kafka.TCP(addrs...), Topic: "t", RequiredAcks: kafka.RequireAll, BatchTimeout: 5 * time.Millisecond, BatchBytes: 4 << 20, MaxAttempts: 1}
		defer w.Close()
		return w.WriteMessages(ctx, big)
	}
	def := startBroker(t, kfakebroker.Config{Topics: []string{"t"}, Partitions: 1})
	require.Error(t, write(def.Addrs()), "kfake's default message.max.bytes rejects 2 MiB")

	raised := startBroker(t, kfakebroker.Config{Topics: []string{"t"}, Partitions: 1, BrokerConfigs: map[string]string{
		"message.max.bytes":            strconv.Itoa(4 << 20),
		"group.min.session.timeout.ms": "500",
	}})
	require.NoError(t, write(raised.Addrs()))

	join := func(addrs []string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		g, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
			ID: "g", Brokers: addrs, Topics: []string{"t"},
			HeartbeatInterval: 200 * time.Millisecond, SessionTimeout: time.Second,
		})
		require.NoError(t, err)
		defer g.Close()
		_, err = g.Next(ctx)
		return err
	}
	require.ErrorIs(t, join(def.Addrs()), kafka.InvalidSessionTimeout, "kfake's minimum session timeout is 6s")
	require.NoError(t, join(raised.Addrs()), "a 1s session timeout is allowed with group.min.session.timeout.ms=500")
}
