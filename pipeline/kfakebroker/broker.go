package kfakebroker

import (
	"cmp"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/go-multierror"
	"github.com/twmb/franz-go/pkg/kfake"
)

// Defaults of Config, each resolved by the accessor of its field.
const (
	DefaultAddr       = "127.0.0.1:0"
	DefaultPartitions = 3
)

// loopbackHost is the host advertised for a listener on an unspecified
// address ("0.0.0.0", "::") or an empty host.
const loopbackHost = "127.0.0.1"

// Config configures Start. Its zero value starts a one-node broker on a free
// loopback port with no topics (topics are created on first use). A zero
// field means its default; a negative number is rejected by Validate.
type Config struct {
	// Addr is the TCP address the broker listens on, e.g. "127.0.0.1:9092"
	// or "0.0.0.0:9092" to be reachable from containers.
	//
	// Default: "127.0.0.1:0" (DefaultAddr: a free loopback port)
	Addr string

	// Topics are created at start with Partitions partitions each. Topics
	// not listed here are created on first use (metadata requests that
	// allow auto creation, e.g. kafka-go's Writer with
	// AllowAutoTopicCreation), also with Partitions partitions. Names
	// must not be empty or listed twice.
	//
	// Default: none
	Topics []string

	// Partitions is the partition count of every topic, at most
	// math.MaxInt32.
	//
	// Default: 3 (DefaultPartitions)
	Partitions int

	// AdvertisedHost is the host name the broker gives clients in metadata
	// and FindCoordinator answers; clients then dial AdvertisedHost and the
	// real listening port. Set it when clients reach the broker under
	// another name than Addr's host, e.g. from a container
	// ("host.docker.internal" or the bridge gateway's IP). A host name or
	// IP address, without a port or brackets.
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
	// ListenAddrs the real one, which the forwarder connects to. At most
	// 65535.
	//
	// Default: 0 (the real listening port)
	AdvertisedPort int

	// BrokerConfigs are broker-level configs (kfake.BrokerConfigs), e.g.
	// "message.max.bytes" for entries larger than 1 MiB, or
	// "group.min.session.timeout.ms" to let tests use session timeouts
	// below kfake's minimum of 6s. kfake ignores names it does not know;
	// an empty value unsets the config.
	//
	// Default: none (kfake's defaults)
	BrokerConfigs map[string]string

	// Opts are more kfake options, applied last: kfake.TLS for a TLS
	// listener, kfake.EnableSASL with kfake.Superuser for SASL (PLAIN,
	// SCRAM-SHA-256/512), as tests of secured clusters need. None may be
	// nil.
	//
	// Default: none
	Opts []kfake.Opt
}

// addr resolves Addr.
func (c Config) addr() string { return cmp.Or(c.Addr, DefaultAddr) }

// partitions resolves Partitions.
func (c Config) partitions() int { return cmp.Or(c.Partitions, DefaultPartitions) }

// advertisedHost resolves the host given to clients for a listener on host.
func (c Config) advertisedHost(host string) string {
	if c.AdvertisedHost != "" {
		return c.AdvertisedHost
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return loopbackHost
	}
	return host
}

// Validate reports every problem of the configuration at once, each naming
// its field, combined into one error; nil means valid. Defaults are applied
// before checking; c is not changed. It does not listen.
func (c Config) Validate() error {
	var errs *multierror.Error
	add := func(format string, a ...any) { errs = multierror.Append(errs, fmt.Errorf(format, a...)) }
	if _, _, err := net.SplitHostPort(c.addr()); err != nil {
		add("Addr %q: %w", c.Addr, err)
	}
	seen := map[string]bool{}
	for i, t := range c.Topics {
		switch {
		case t == "":
			add("Topics[%d]: empty topic name", i)
		case seen[t]:
			add("Topics[%d] %q: listed twice", i, t)
		}
		seen[t] = true
	}
	if c.Partitions < 0 || c.Partitions > math.MaxInt32 {
		add("Partitions %d: must be 0 (the default) or a partition count up to %d", c.Partitions, math.MaxInt32)
	}
	if h := c.AdvertisedHost; h != "" {
		if _, _, err := net.SplitHostPort(h); err == nil || strings.ContainsAny(h, "[]/ ") {
			add("AdvertisedHost %q: want a host name or IP address, without a port", h)
		}
	}
	if c.AdvertisedPort < 0 || c.AdvertisedPort > 65535 {
		add("AdvertisedPort %d: must be 0 or a TCP port", c.AdvertisedPort)
	}
	for k := range c.BrokerConfigs {
		if k == "" {
			add("BrokerConfigs: empty config name")
		}
	}
	for i, o := range c.Opts {
		if o == nil {
			add("Opts[%d]: nil", i)
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

// Addr returns the advertised address, not the listening one.
func (l *advertisedListener) Addr() net.Addr { return l.adv }

// advertisedAddr is a "host:port" net.Addr.
type advertisedAddr string

// Network is always "tcp".
func (a advertisedAddr) Network() string { return "tcp" }

// String returns the "host:port" address.
func (a advertisedAddr) String() string { return string(a) }
