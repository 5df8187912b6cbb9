// Package kafkaopts is the one set of Kafka client options (TLS, SASL
// PLAIN or SCRAM, secrets from the environment or a file) that every
// Kafka client of the binaries uses: ingest's group consumer, its sinks'
// writer and its read of the incidents topic, and replay --brokers.
package kafkaopts

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// PasswordEnv is the environment variable that holds the SASL password,
// read when no password file is given.
const PasswordEnv = "SYNCWATCH_SASL_PASSWORD"

// ClientID names syncwatch to the brokers.
const ClientID = "syncwatch"

// dialTimeout bounds a connection's dial, TLS and SASL handshakes.
const dialTimeout = 10 * time.Second

// Security is how a client authenticates to the brokers and protects the
// connection. Its zero value is plaintext without SASL. In a YAML config
// it is the keys sasl: and tls:.
type Security struct {
	SASL SASL `yaml:"sasl"`
	TLS  TLS  `yaml:"tls"`
}

// SASL configures SASL authentication.
type SASL struct {
	// Mechanism: "" (none), PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
	Mechanism string `yaml:"mechanism"`
	Username  string `yaml:"username"`
	// Password is never printed. Prefer PasswordFile or the environment
	// variable SYNCWATCH_SASL_PASSWORD over writing it in a file.
	Password     string `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
}

// TLS configures TLS to the brokers.
type TLS struct {
	Enabled bool `yaml:"enabled"`
	// CAFile is a PEM bundle of CAs to trust (default: the system's).
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are a client certificate, for mutual TLS.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// InsecureSkipVerify turns verification off: for tests only.
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
	ServerName         string `yaml:"server_name"`
}

// Flags names the flags RegisterFlags defines, in the order it defines
// them: a binary that reads flags from the environment or a file as well
// maps these names to fields.
var Flags = []string{"sasl-mechanism", "sasl-username", "sasl-password-file", "tls", "tls-ca-file", "tls-cert-file", "tls-key-file", "tls-insecure-skip-verify"}

// RegisterFlags defines the flags of s on fs, with s's values as defaults.
func (s *Security) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&s.SASL.Mechanism, "sasl-mechanism", s.SASL.Mechanism, "SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
	fs.StringVar(&s.SASL.Username, "sasl-username", s.SASL.Username, "SASL user name")
	fs.StringVar(&s.SASL.PasswordFile, "sasl-password-file", s.SASL.PasswordFile, "`FILE` holding the SASL password (or env "+PasswordEnv+")")
	fs.BoolVar(&s.TLS.Enabled, "tls", s.TLS.Enabled, "connect to the brokers with TLS")
	fs.StringVar(&s.TLS.CAFile, "tls-ca-file", s.TLS.CAFile, "PEM `FILE` of CAs to trust (default: the system's)")
	fs.StringVar(&s.TLS.CertFile, "tls-cert-file", s.TLS.CertFile, "client certificate PEM `FILE` (mutual TLS)")
	fs.StringVar(&s.TLS.KeyFile, "tls-key-file", s.TLS.KeyFile, "client key PEM `FILE` (mutual TLS)")
	fs.BoolVar(&s.TLS.InsecureSkipVerify, "tls-insecure-skip-verify", s.TLS.InsecureSkipVerify, "do not verify the brokers' certificates (tests only)")
}

// PasswordFromEnv sets the SASL password from SYNCWATCH_SASL_PASSWORD
// when it is set.
func (s *Security) PasswordFromEnv(getenv func(string) string) {
	if pw := getenv(PasswordEnv); pw != "" {
		s.SASL.Password = pw
	}
}

// Validate reports each problem through add, naming the YAML key.
func (s *Security) Validate(add func(format string, args ...any)) {
	switch strings.ToUpper(s.SASL.Mechanism) {
	case "":
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		if s.SASL.Username == "" {
			add("sasl.username: required with sasl.mechanism %s", s.SASL.Mechanism)
		}
		if s.SASL.Password == "" && s.SASL.PasswordFile == "" {
			add("sasl.password: required with sasl.mechanism %s (use sasl.password_file or %s)", s.SASL.Mechanism, PasswordEnv)
		}
	default:
		add("sasl.mechanism: %q (want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)", s.SASL.Mechanism)
	}
	if s.SASL.PasswordFile != "" {
		if _, err := os.Stat(s.SASL.PasswordFile); err != nil {
			add("sasl.password_file: %v", err)
		}
	}
	for _, f := range []struct{ name, path string }{{"tls.ca_file", s.TLS.CAFile}, {"tls.cert_file", s.TLS.CertFile}, {"tls.key_file", s.TLS.KeyFile}} {
		if f.path != "" {
			if _, err := os.Stat(f.path); err != nil {
				add("%s: %v", f.name, err)
			}
		}
	}
	if (s.TLS.CertFile == "") != (s.TLS.KeyFile == "") {
		add("tls.cert_file, tls.key_file: give both or neither")
	}
}

// Redacted returns a copy fit for printing: the password blanked.
func (s Security) Redacted() Security {
	if s.SASL.Password != "" {
		s.SASL.Password = "[REDACTED]"
	}
	return s
}

// Dialer builds the dialer of consumers and readers (kafka.Conn).
func (s *Security) Dialer() (*kafka.Dialer, error) {
	mech, tc, err := s.resolve()
	if err != nil {
		return nil, err
	}
	return &kafka.Dialer{Timeout: dialTimeout, DualStack: true, ClientID: ClientID, SASLMechanism: mech, TLS: tc}, nil
}

// Transport builds the transport of writers (kafka.Writer, kafka.Client).
func (s *Security) Transport() (*kafka.Transport, error) {
	mech, tc, err := s.resolve()
	if err != nil {
		return nil, err
	}
	return &kafka.Transport{ClientID: ClientID, SASL: mech, TLS: tc, DialTimeout: dialTimeout}, nil
}

// resolve builds the SASL mechanism and TLS configuration that dialers
// and transports share.
func (s *Security) resolve() (sasl.Mechanism, *tls.Config, error) {
	mech, err := s.mechanism()
	if err != nil {
		return nil, nil, err
	}
	tc, err := s.tlsConfig()
	if err != nil {
		return nil, nil, err
	}
	return mech, tc, nil
}

func (s *Security) mechanism() (sasl.Mechanism, error) {
	pw := s.SASL.Password
	if s.SASL.PasswordFile != "" {
		b, err := os.ReadFile(s.SASL.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("reading sasl.password_file: %w", err)
		}
		pw = strings.TrimRight(string(b), "\r\n")
	}
	switch strings.ToUpper(s.SASL.Mechanism) {
	case "":
		return nil, nil
	case "PLAIN":
		return plain.Mechanism{Username: s.SASL.Username, Password: pw}, nil
	case "SCRAM-SHA-256":
		return scram.Mechanism(scram.SHA256, s.SASL.Username, pw)
	case "SCRAM-SHA-512":
		return scram.Mechanism(scram.SHA512, s.SASL.Username, pw)
	}
	return nil, fmt.Errorf("sasl.mechanism: %q not supported", s.SASL.Mechanism)
}

func (s *Security) tlsConfig() (*tls.Config, error) {
	if !s.TLS.Enabled {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: s.TLS.InsecureSkipVerify, ServerName: s.TLS.ServerName} //nolint:gosec // opt-in, for tests
	if s.TLS.CAFile != "" {
		pem, err := os.ReadFile(s.TLS.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file: no PEM certificates in %s", s.TLS.CAFile)
		}
		tc.RootCAs = pool
	}
	if s.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(s.TLS.CertFile, s.TLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("loading tls client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
