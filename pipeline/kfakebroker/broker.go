package kfakebroker

import (
	"fmt"
	"net"
	"strconv"
	"sync"

	"github.com/hashicorp/go-multierror"
	"github.com/twmb/franz-go/pkg/kfake"
)

// Config configures Start. Its zero value starts a one-node broker on a free
// loopback port with no topics (topics are created on first use).
type Config struct {
	// Addr is the TCP address the broker listens on, e.g. "127.0.0.1:9092"
	// or "0.0.0.0:9092" to be reachable from containers.
	//
	// Default: "127.0.0.1:0" (a free loopback port)
	Addr string

	// Topics are created at start with Partitions partitions each. Topics
	// not listed here are created on first use (metadata requests that
	// allow auto creation, e.g. kafka-go's Writer with
	// AllowAutoTopicCreation), also with Partitions partitions.
	Topics []string

	// Partitions is the partition count of every topic.
	//
	// Default: 3
	Partitions int

	// AdvertisedHost is the host name the broker gives clients in metadata
	// and FindCoordinator answers; clients then dial AdvertisedHost and the
	// real listening port. Set it when clients reach the broker under
	// another name than Addr's host, e.g. from a container
	// ("host.docker.internal" or the bridge gateway's IP).
	//
	// Default: the host of Addr, or "127.0.0.1" when that host is empty or
	// unspecified ("0.0.0.0", "::")
	AdvertisedHost string

	// AdvertisedPort is the port the broker gives clients in metadata and
	// FindCoordinator answers instead of the real listening port. Set it
	// when clients reach the broker through a forwarder, e.g. a TCP proxy
	// that injects network faults in tests: Kafka clients dial the
	// advertised address after bootstrapping, so without it they would
	// bypass the proxy. Addrs then returns the advertised address and
	// ListenAddrs the real one, which the forwarder connects to.
	//
	// Default: 0 (the real listening port)
	AdvertisedPort int

	// BrokerConfigs are broker-level configs (kfake.BrokerConfigs), e.g.
	// "message.max.bytes" for entries larger than 1 MiB, or
	// "group.min.session.timeout.ms" to let tests use session timeouts
	// below kfake's minimum of 6s.
	//
	// Default: none (kfake's defaults)
	BrokerConfigs map[string]string

	// Opts are more kfake options, applied last: kfake.TLS for a TLS
	// listener, kfake.EnableSASL with kfake.Superuser for SASL (PLAIN,
	// SCRAM-SHA-256/512), as tests of secured clusters need.
	Opts []kfake.Opt
}

func (c Config) addr() string {
	if c.Addr == "" {
		return "127.0.0.1:0"
	}
	return c.Addr
}

func (c Config) partitions() int {
	if c.Partitions == 0 {
		return 3
	}
	return c.Partitions
}

// advertisedHost resolves the host given to clients for a listener on host.
func (c Config) advertisedHost(host string) string {
	if c.AdvertisedHost != "" {
		return c.AdvertisedHost
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return "127.0.0.1"
	}
	return host
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs *multierror.Error
	if _, _, err := net.SplitHostPort(c.addr()); err != nil {
		errs = multierror.Append(errs, fmt.Errorf("Addr %q: %w", c.Addr, err))
	}
	if c.Partitions < 0 {
		errs = multierror.Append(errs, fmt.Errorf("Partitions %d: must be >= 0", c.Partitions))
	}
	if c.AdvertisedPort < 0 || c.AdvertisedPort > 65535 {
		errs = multierror.Append(errs, fmt.Errorf("AdvertisedPort %d: must be 0 or a TCP port", c.AdvertisedPort))
	}
	for i, t := range c.Topics {
		if t == "" {
			errs = multierror.Append(errs, fmt.Errorf("Topics[%d]: empty topic name", i))
		}
	}
	return errs.ErrorOrNil()
}

// Broker is a running embedded broker. It is safe for concurrent use.
type Broker struct {
	cluster   *kfake.Cluster
	addrs     []string
	listen    []string
	closeOnce sync.Once
}

// Start starts a broker and returns once it accepts connections. It fails
// if cfg is invalid or the address cannot be listened on. Close releases
// the listener and everything stored.
func Start(cfg Config) (*Broker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("validating broker config: %w", err)
	}
	var (
		mu        sync.Mutex
		listeners []*advertisedListener
	)
	listen := func(network, _ string) (net.Listener, error) {
		// kfake asks for 127.0.0.1:<port>; we listen on cfg.Addr instead
		// and report the advertised host with the real port, which kfake
		// then puts in Metadata and FindCoordinator answers.
		ln, err := net.Listen(network, cfg.addr())
		if err != nil {
			return nil, err
		}
		host, port, err := net.SplitHostPort(ln.Addr().String())
		if err != nil {
			_ = ln.Close()
			return nil, fmt.Errorf("splitting listen address: %w", err)
		}
		if cfg.AdvertisedPort != 0 {
			port = strconv.Itoa(cfg.AdvertisedPort)
		}
		al := &advertisedListener{
			Listener: ln,
			adv:      advertisedAddr(net.JoinHostPort(cfg.advertisedHost(host), port)),
		}
		mu.Lock()
		listeners = append(listeners, al)
		mu.Unlock()
		return al, nil
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.ListenFn(listen),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(cfg.partitions()),
	}
	if len(cfg.Topics) > 0 {
		opts = append(opts, kfake.SeedTopics(int32(cfg.partitions()), cfg.Topics...))
	}
	if len(cfg.BrokerConfigs) > 0 {
		opts = append(opts, kfake.BrokerConfigs(cfg.BrokerConfigs))
	}
	opts = append(opts, cfg.Opts...)
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("starting kfake cluster: %w", err)
	}
	b := &Broker{cluster: c}
	mu.Lock()
	for _, l := range listeners {
		b.addrs = append(b.addrs, l.adv.String())
		b.listen = append(b.listen, l.Listener.Addr().String())
	}
	mu.Unlock()
	return b, nil
}

// Addrs returns the bootstrap addresses ("host:port") clients should use:
// the advertised host with the real listening port.
func (b *Broker) Addrs() []string {
	return append([]string(nil), b.addrs...)
}

// ListenAddrs returns the addresses ("host:port") the broker really listens
// on. They differ from Addrs only in the port, and only when
// Config.AdvertisedPort is set: a forwarder in front of the broker connects
// to these.
func (b *Broker) ListenAddrs() []string {
	return append([]string(nil), b.listen...)
}

// Cluster returns the underlying kfake cluster, for fault injection in
// tests (kfake.Cluster.Fault, ControlKey) and for admin calls.
func (b *Broker) Cluster() *kfake.Cluster { return b.cluster }

// Close stops the broker, closes every client connection and drops all
// data. It is safe to call more than once.
func (b *Broker) Close() {
	b.closeOnce.Do(b.cluster.Close)
}

// advertisedListener is a net.Listener whose Addr is the advertised address,
// which is what kfake hands to clients.
type advertisedListener struct {
	net.Listener
	adv advertisedAddr
}

func (l *advertisedListener) Addr() net.Addr { return l.adv }

// advertisedAddr is a "host:port" net.Addr.
type advertisedAddr string

func (a advertisedAddr) Network() string { return "tcp" }
func (a advertisedAddr) String() string  { return string(a) }
