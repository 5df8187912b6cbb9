package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/syncwatch/syncwatch/pipeline/kafkasource"
	"github.com/syncwatch/syncwatch/pipeline/kfakebroker"
	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/schemas"
)

// testCA makes a CA and a server certificate for 127.0.0.1, and returns
// the server's TLS config and the CA's PEM file.
func testCA(t *testing.T) (*tls.Config, string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "syncwatch test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	srv := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srv, ca, &srvKey.PublicKey, caKey)
	require.NoError(t, err)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644))
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}}}, caFile
}

// TestIngestTLSAndSASL runs the whole round trip against a broker that
// speaks only TLS and requires SASL, for each mechanism ingest offers:
// the test produces and reads back with kafka-go over TLS+SASL (kcat,
// librdkafka 2.0, fails kfake's SASL handshake: "SASL Handshake not
// supported by broker"), ingest authenticates with the password from the
// environment and verifies the broker against the CA file, and the
// password is never printed.
func TestIngestTLSAndSASL(t *testing.T) {
	const user, password = "syncwatch", "s3cret-Pa55-never-printed"
	cfg := loggen.Config{Seed: 81, Mailboxes: 8, Duration: 6 * time.Hour}
	kc := newKafkaCorpus(t, cfg)
	_, wantData := expectedFromReplay(t, kc)
	for _, mech := range []string{"SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"} {
		t.Run(mech, func(t *testing.T) {
			serverTLS, caFile := testCA(t)
			topics := append([]string{"sync.incidents", "sync.deadletter"}, kafkasource.DefaultTopics...)
			br, err := kfakebroker.Start(kfakebroker.Config{Topics: topics, Partitions: partitions, Opts: []kfake.Opt{
				kfake.TLS(serverTLS), kfake.EnableSASL(), kfake.Superuser(mech, user, password),
			}})
			require.NoError(t, err)
			t.Cleanup(br.Close)
			brokers := br.Addrs()
			pem, err := os.ReadFile(caFile)
			require.NoError(t, err)
			roots := x509.NewCertPool()
			require.True(t, roots.AppendCertsFromPEM(pem))
			clientTLS := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
			dialer := &kafka.Dialer{Timeout: 10 * time.Second, TLS: clientTLS, SASLMechanism: saslMechanism(t, mech, user, password)}

			// The broker really refuses a client without credentials.
			conn, err := (&kafka.Dialer{Timeout: 5 * time.Second, TLS: clientTLS}).DialLeader(context.Background(), "tcp", brokers[0], "sync.engine", 0)
			if err == nil {
				_, err = conn.ReadPartitions()
				conn.Close()
			}
			require.Error(t, err, "a broker requiring SASL must refuse a client without it")

			produceTLS(t, brokers, dialer, cfg, kc.tickLine)

			cmd := exec.Command(bin("ingest"), "--brokers", strings.Join(brokers, ","), "--group", "syncwatch-tls",
				"--metrics-addr", "off", "--log-level", "info", "--tls", "--tls-ca-file", caFile,
				"--sasl-mechanism", mech, "--sasl-username", user)
			cmd.Env = append(os.Environ(), "SYNCWATCH_SASL_PASSWORD="+password)
			var stderr syncBuffer
			cmd.Stderr = &stderr
			startCmd(t, cmd)

			deadline := time.Now().Add(90 * time.Second)
			var got []schemas.IncidentEvent
			for {
				got = readIncidentsWith(t, brokers, dialer)
				if len(withoutOrigins(t, got)) >= len(wantData) || time.Now().After(deadline) {
					break
				}
				time.Sleep(500 * time.Millisecond)
			}
			gotData := withoutOrigins(t, got)
			require.Len(t, gotData, len(wantData), "events over TLS+SASL (ingest log:\n%s)", stderr.String())
			for id, w := range wantData {
				require.Equal(t, w, gotData[id], "event %s", id)
			}
			require.NoError(t, cmd.Process.Kill())
			cmd.Wait()
			require.NotContains(t, stderr.String(), password, "the SASL password must never be printed")

			// replay --brokers with the same client options, the password
			// from a file this time: the file replay's events.
			pwFile := filepath.Join(t.TempDir(), "sasl-password")
			require.NoError(t, os.WriteFile(pwFile, []byte(password+"\n"), 0o600))
			out, rerr, code := runReplay(t, "--brokers", strings.Join(brokers, ","), "--time-margin", "-1s",
				"--tls", "--tls-ca-file", caFile, "--sasl-mechanism", mech, "--sasl-username", user, "--sasl-password-file", pwFile)
			require.Equal(t, 0, code, "replay --brokers over TLS+SASL: %s", rerr)
			require.NotContains(t, string(rerr), password)
			fromKafka := withoutOrigins(t, decodeEvents(t, out))
			require.Equal(t, wantData, fromKafka, "replay --brokers over TLS+SASL gives the file replay's events")
			_, rerr, code = runReplay(t, "--brokers", strings.Join(brokers, ","), "--time-margin", "-1s", "--tls", "--tls-ca-file", caFile)
			require.NotEqual(t, 0, code, "replay --brokers without credentials is refused")
			t.Logf("%s over TLS: %d events from ingest and from replay --brokers, identical to the file replay's", mech, len(gotData))
		})
	}

	// A wrong password: ingest keeps retrying, says why, never prints it.
	serverTLS, caFile := testCA(t)
	br, err := kfakebroker.Start(kfakebroker.Config{Partitions: partitions, Opts: []kfake.Opt{
		kfake.TLS(serverTLS), kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", user, password),
	}})
	require.NoError(t, err)
	t.Cleanup(br.Close)
	maddr := freeAddr(t)
	p := startLoggedIngestEnv(t, "ingest (wrong password)", br.Addrs(), "syncwatch-badpw",
		[]string{"SYNCWATCH_SASL_PASSWORD=wrong-" + password},
		"--metrics-addr", maddr, "--tls", "--tls-ca-file", caFile, "--sasl-mechanism", "SCRAM-SHA-256", "--sasl-username", user)
	waitStatus(t, maddr, "/healthz", 200, 20*time.Second)
	time.Sleep(2 * time.Second)
	code, _, err := httpGet(maddr, "/readyz")
	require.NoError(t, err)
	require.Equal(t, 503, code, "not ready while the broker refuses the credentials")
	p.stop(t, 40*time.Second)
	logs, _ := p.linesSince(0)
	all := strings.Join(logs, "\n")
	require.NotContains(t, all, password, "the wrong password must not be printed either")
	require.Contains(t, strings.ToLower(all), "sasl", "the log says authentication is what fails:\n%s", all)
}

func saslMechanism(t *testing.T, mech, user, password string) sasl.Mechanism {
	t.Helper()
	switch mech {
	case "PLAIN":
		return plain.Mechanism{Username: user, Password: password}
	case "SCRAM-SHA-256":
		m, err := scram.Mechanism(scram.SHA256, user, password)
		require.NoError(t, err)
		return m
	}
	m, err := scram.Mechanism(scram.SHA512, user, password)
	require.NoError(t, err)
	return m
}

// produceTLS writes the corpus of cfg, keyed by mailbox, and the tick
// entry on every partition, through dialer's TLS and SASL.
func produceTLS(t *testing.T, brokers []string, dialer *kafka.Dialer, cfg loggen.Config, tick string) {
	t.Helper()
	w := &kafka.Writer{
		Addr: kafka.TCP(brokers...), RequiredAcks: kafka.RequireAll, BatchTimeout: 2 * time.Millisecond,
		Transport: &kafka.Transport{TLS: dialer.TLS, SASL: dialer.SASLMechanism},
		Balancer: kafka.BalancerFunc(func(m kafka.Message, parts ...int) int {
			if len(m.Headers) > 0 { // a tick: its own partition
				p, _ := strconv.Atoi(string(m.Headers[0].Value))
				return p
			}
			return (&kafka.Hash{}).Balance(m, parts...)
		}),
	}
	defer w.Close()
	var msgs []kafka.Message
	_, _, err := loggen.Generate(cfg, func(e loggen.Entry) error {
		msgs = append(msgs, kafka.Message{Topic: topicOf[e.Producer], Key: []byte(e.Key), Value: append([]byte(nil), e.Raw...)})
		return nil
	})
	require.NoError(t, err)
	for _, tp := range topicOf {
		for p := 0; p < partitions; p++ {
			msgs = append(msgs, kafka.Message{Topic: tp, Value: []byte(tick), Headers: []kafka.Header{{Key: "partition", Value: []byte(strconv.Itoa(p))}}})
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	require.NoError(t, w.WriteMessages(ctx, msgs...))
}

// readIncidentsWith reads every partition of sync.incidents to its end.
func readIncidentsWith(t *testing.T, brokers []string, dialer *kafka.Dialer) []schemas.IncidentEvent {
	t.Helper()
	var out []byte
	for p := 0; p < partitions; p++ {
		conn, err := dialer.DialLeader(context.Background(), "tcp", brokers[0], "sync.incidents", p)
		require.NoError(t, err)
		last, err := conn.ReadLastOffset()
		require.NoError(t, err)
		for off := int64(0); off < last; {
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, err := conn.Seek(off, kafka.SeekAbsolute)
			require.NoError(t, err)
			batch := conn.ReadBatch(1, 10<<20)
			for {
				m, err := batch.ReadMessage()
				if err != nil {
					break
				}
				out = append(append(out, m.Value...), '\n')
				off = m.Offset + 1
			}
			require.NoError(t, batch.Close())
		}
		conn.Close()
	}
	return decodeEvents(t, out)
}
