package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/schemas"
	"github.com/syncwatch/syncwatch/sinks"
)

// subscriber is a webhook receiver that verifies every request, fails the
// first attempt of some events with 503 and rejects one event for good.
type subscriber struct {
	secret []byte
	reject string // event id answered 400

	mu       sync.Mutex
	verified map[string]bool // event id -> delivered with a valid signature
	attempts map[string]int
	invalid  int
}

func (s *subscriber) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.Header.Get("Content-Type") != schemas.ContentType || sinks.VerifyWebhook(s.secret, r.Header, body, time.Now(), time.Minute) != nil {
		s.mu.Lock()
		s.invalid++
		s.mu.Unlock()
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	ev, err := schemas.DecodeEvent(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts[ev.ID]++
	switch {
	case ev.ID == s.reject:
		w.WriteHeader(http.StatusBadRequest)
	case len(s.attempts)%4 == 0 && s.attempts[ev.ID] == 1:
		w.WriteHeader(http.StatusServiceUnavailable) // retried by the sink
	default:
		s.verified[ev.ID] = true
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *subscriber) state() (verified map[string]bool, retried, invalid int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	verified = map[string]bool{}
	for id := range s.verified {
		verified[id] = true
	}
	for _, n := range s.attempts {
		if n > 1 {
			retried++
		}
	}
	return verified, retried, s.invalid
}

// TestIngestWebhook runs ingest with --webhook-url against an HTTPS
// subscriber whose certificate only the given CA file makes trusted: every
// incident event arrives signed, 503s are retried, the event answered 400
// is dead-lettered to the DLQ topic, and the secret is never printed.
func TestIngestWebhook(t *testing.T) {
	kcat := requireTool(t, "kcat")
	broker := startBroker(t)
	kc := newKafkaCorpus(t, loggen.Config{Seed: 41, Mailboxes: 10, Duration: 8 * time.Hour})
	kc.produce(t, kcat, broker.Addrs())
	_, wantData := expectedFromReplay(t, kc)
	ids := make([]string, 0, len(wantData))
	for id := range wantData {
		ids = append(ids, id)
	}
	sort.Strings(ids)

	const secret = "webhook-secret-PLANTED-0c41e7"
	sub := &subscriber{secret: []byte(secret), reject: ids[0], verified: map[string]bool{}, attempts: map[string]int{}}
	srv := httptest.NewTLSServer(sub)
	defer srv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))

	var stderr syncBuffer
	cmd := exec.Command(bin("ingest"), "--brokers", strings.Join(broker.Addrs(), ","), "--group", "syncwatch-webhook",
		"--metrics-addr", "off", "--log-level", "debug", "--webhook-url", srv.URL+"/hooks/syncwatch", "--webhook-ca-file", caFile)
	cmd.Env = append(os.Environ(), "SYNCWATCH_WEBHOOK_SECRET="+secret)
	cmd.Stderr = &stderr
	startCmd(t, cmd)

	deadline := time.Now().Add(90 * time.Second)
	for {
		verified, _, _ := sub.state()
		if len(verified) == len(ids)-1 {
			break
		}
		require.True(t, time.Now().Before(deadline), "after 90s the subscriber has %d of %d events", len(verified), len(ids)-1)
		time.Sleep(200 * time.Millisecond)
	}
	waitFor(t, kcat, broker.Addrs(), wantData, 30*time.Second) // the Kafka sink got them all too

	// the rejected event is in the dead-letter topic, as sent
	var letter *schemas.DeadLetter
	for time.Now().Before(deadline) && letter == nil {
		out, _ := exec.Command(kcat, "-b", strings.Join(broker.Addrs(), ","), "-C", "-t", "sync.deadletter", "-o", "beginning", "-e", "-q", "-f", "%s\n").Output()
		sc := bufio.NewScanner(bytes.NewReader(out))
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			var l schemas.DeadLetter
			if json.Unmarshal(sc.Bytes(), &l) == nil && l.Origin == "webhook/"+sub.reject {
				letter = &l
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	require.NotNil(t, letter, "event %s, answered 400, is not in sync.deadletter", sub.reject)
	require.Contains(t, letter.Reason, "HTTP 400")
	ev, err := schemas.DecodeEvent(letter.RawBase64)
	require.NoError(t, err)
	require.Equal(t, sub.reject, ev.ID)

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait())
	verified, retried, invalid := sub.state()
	require.Zero(t, invalid, "requests with a bad signature")
	require.Positive(t, retried, "some first attempts were answered 503")
	require.False(t, verified[sub.reject])
	require.NotContains(t, stderr.String(), secret)
	t.Logf("%d events delivered signed over TLS, %d retried after a 503, 1 dead-lettered after a 400", len(verified), retried)
}
