package integration

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/schemas"
	"github.com/syncwatch/syncwatch/schemas/redact"
)

// leakCase is a secret-bearing failure message; %s is where the planted
// secret goes.
type leakCase struct {
	name string
	msg  string
}

// leakCases are the ways credentials show up in connector logs: the
// issue's list, each written the way a connector would.
var leakCases = []leakCase{
	{"password kv", "Login for EWS impersonation failed: password=%s rejected"},
	{"password json", `Login rejected by the mailbox server: {"username":"svc-sync","password":"%s"}`},
	{"pwd", "Connection string rejected: Server=mail.contoso.com;User Id=svc;pwd=%s;Timeout=30"},
	{"oauth access token", `Token response rejected by the connector: {"access_token":"%s","token_type":"Bearer","expires_in":3599}`},
	{"oauth refresh token", "Token refresh failed: grant_type=refresh_token&refresh_token=%s&client_id=c4c"},
	{"bearer header", "Request rejected (401). Request headers: Authorization: Bearer %s"},
	{"basic header", "Request rejected (401). Authorization: Basic %s"},
	{"url userinfo", "Cannot reach https://svc-sync:%s@mail.contoso.com/EWS/Exchange.asmx: timeout"},
	{"url query token", "Autodiscover redirect to https://mail.contoso.com/ews?access_token=%s&sig=%s failed"},
	{"client secret", "AADSTS7000215: Invalid client secret provided. client_id=4f1c&client_secret=%s&scope=https://outlook.office365.com/.default"},
	// found missing: the key's position shifted by non-ASCII text whose
	// lower case is longer (İ, ẞ), and JSON escaped inside a message
	{"after non-ASCII text", "Postfach İlker.Yılmaz (ẞtraße): Anmeldung fehlgeschlagen, password=%s"},
	{"escaped json", `Upstream body: "{\"client_secret\":\"%s\",\"grant_type\":\"client_credentials\"}"`},
}

// leakFormats write one failed record of a run in each producer's format.
var leakFormats = []struct {
	name string
	// line renders the failed record; msg is the failure message.
	line func(at time.Time, tenant, mailbox, run, rec, msg string) string
}{
	{"log4net", func(at time.Time, tenant, mailbox, run, rec, msg string) string {
		return fmt.Sprintf("%s [12] ERROR ExchangeConnector.SyncWorker - [%s/%s/run:%s] item %s failed: %s",
			at.Format("2006-01-02 15:04:05,000"), tenant, mailbox, run, rec, msg)
	}},
	{"logfmt", func(at time.Time, tenant, mailbox, run, rec, msg string) string {
		return fmt.Sprintf("ts=%s level=warn component=sync-engine tenant=%s mailbox=%s run=%s event=record_failed record=%s msg=%s",
			at.Format(time.RFC3339Nano), tenant, mailbox, run, rec, strconv.Quote(msg))
	}},
	{"c4cc json", func(at time.Time, tenant, mailbox, run, rec, msg string) string {
		b, _ := json.Marshal(map[string]any{
			"@timestamp": at.Format(time.RFC3339Nano), "level": "ERROR", "logger": "C4CC.Connector.Push",
			"tenant": tenant, "mailbox": mailbox, "runId": run, "recordType": "Appointment", "recordId": rec,
			"http": map[string]any{"method": "POST", "status": 400}, "message": msg,
		})
		return string(b)
	}},
}

// plantedSecret is unique per case and format, so a leak names its origin.
// It mixes cases and digits as real tokens do, and holds none of the
// characters JSON would escape.
func plantedSecret(c, f, n int) string {
	return fmt.Sprintf("Pl4nted%c%dx%dZq9", 'A'+c, f, n)
}

// leakCorpus writes one run per (case, format) whose failed record opens
// an incident with the secret in its message, plus garbage lines full of
// secrets that must be dead-lettered. It returns the corpus file, the
// secrets of the good lines and those of the garbage lines.
func leakCorpus(t *testing.T) (path string, inEvidence, inGarbage []string) {
	t.Helper()
	var b strings.Builder
	at := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	for ci, c := range leakCases {
		for fi, f := range leakFormats {
			tenant, mailbox, run := fmt.Sprintf("t-%d%d", ci, fi), fmt.Sprintf("leak%d.%d@contoso.com", ci, fi), fmt.Sprintf("r%02d%d", ci, fi)
			var args []any
			for n := range strings.Count(c.msg, "%s") {
				s := plantedSecret(ci, fi, n)
				args = append(args, s)
				inEvidence = append(inEvidence, s)
			}
			msg := fmt.Sprintf(c.msg, args...)
			at = at.Add(time.Second)
			fmt.Fprintf(&b, "ts=%s level=info component=sync-engine tenant=%s mailbox=%s run=%s event=run_started direction=both\n", at.Format(time.RFC3339Nano), tenant, mailbox, run)
			at = at.Add(100 * time.Millisecond)
			fmt.Fprintf(&b, "%s [12] INFO  ExchangeConnector.SyncWorker - [%s/%s/run:%s] item MAIL-1 synced\n", at.Format("2006-01-02 15:04:05,000"), tenant, mailbox, run)
			at = at.Add(100 * time.Millisecond)
			b.WriteString(f.line(at, tenant, mailbox, run, "APPT-1", msg) + "\n")
			at = at.Add(100 * time.Millisecond)
			fmt.Fprintf(&b, "ts=%s level=info component=sync-engine tenant=%s mailbox=%s run=%s event=run_finished synced=1 failed=1\n", at.Format(time.RFC3339Nano), tenant, mailbox, run)
		}
	}
	// Garbage: every parser's error path, with a secret where the parser
	// quotes the bad bytes back in its reason.
	garbage := []string{
		"2026-11-24 10:20:00,000 [3] password=%s ExchangeConnector.SyncWorker - [t-1/m@x.com/run:1] bad level",
		"2026-11-24 10:20:00,000 [3] Bearer %s - [t-1/m@x.com/run:1] bad level",
		"ts=access_token=%s level=error tenant=t-1 mailbox=m@x.com msg=x",
		`ts="Authorization: Basic %s" level=error tenant=t-1 mailbox=m@x.com msg=x`,
		"ts=2026-11-24T10:20:00Z level=info tenant=t-1 mailbox=m@x.com run=r event=run_finished synced=pwd=%s failed=0",
		`ts=2026-11-24T10:20:00Z level=error tenant=t-1 mailbox=m@x.com msg="Authorization: Bearer %s`,
		`{"@timestamp":"refresh_token=%s","level":"ERROR","tenant":"t-1","mailbox":"m@x.com","message":"x"}`,
		`{"@timestamp":"2026-11-24T10:20:00Z","level":"ERROR","tenant":"t-1","message":"client_secret=%s`,
		"https://svc:%s@mail.contoso.com/ews",
		"Authorization: Bearer %s",
	}
	for gi, g := range garbage {
		s := plantedSecret(len(leakCases)+gi, 9, 0)
		inGarbage = append(inGarbage, s)
		b.WriteString(fmt.Sprintf(g, s) + "\n")
	}
	path = filepath.Join(t.TempDir(), "leaky.log")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	return path, inEvidence, inGarbage
}

// TestRedactionEndToEnd replays logs with credentials planted in every
// format and checks that none of them comes out: not in the events
// (evidence, template, details), not in the dead letters' reasons, not on
// stderr.
func TestRedactionEndToEnd(t *testing.T) {
	corpusFile, inEvidence, inGarbage := leakCorpus(t)
	deadFile := filepath.Join(t.TempDir(), "dead.jsonl")
	reportFile := filepath.Join(t.TempDir(), "report.html")
	stdout, stderr, code := runReplay(t, "--dead-letter", deadFile, "--report", reportFile, corpusFile)
	require.Equal(t, 0, code, "stderr: %s", stderr)
	dead, err := os.ReadFile(deadFile)
	require.NoError(t, err)
	report, err := os.ReadFile(reportFile)
	require.NoError(t, err)

	// The secrets did reach the pipeline: every planted run opened an
	// incident whose evidence holds the redacted message.
	evs := decodeEvents(t, stdout)
	redactedByMailbox := map[string]bool{}
	for _, ev := range evs {
		for _, e := range ev.Data.Evidence {
			if strings.Contains(e.Message, redact.Placeholder) {
				redactedByMailbox[ev.Data.Mailbox] = true
			}
		}
	}
	for ci, c := range leakCases {
		for fi, f := range leakFormats {
			require.True(t, redactedByMailbox[fmt.Sprintf("leak%d.%d@contoso.com", ci, fi)],
				"%s in %s: no incident evidence with %s", c.name, f.name, redact.Placeholder)
		}
	}

	// Every garbage line was dead-lettered, with a reason.
	var letters []schemas.DeadLetter
	sc := bufio.NewScanner(bytes.NewReader(dead))
	for sc.Scan() {
		var l schemas.DeadLetter
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l))
		require.NotEmpty(t, l.Reason)
		letters = append(letters, l)
	}
	require.Len(t, letters, len(inGarbage), "dead letters: %s", dead)

	// No secret anywhere. Compared case-insensitively: templates are
	// lower-cased. The dead letters' entries are decoded: base64 would
	// hide a secret from a plain search.
	outputs := map[string]string{"events": string(stdout), "dead letters": string(dead), "stderr": string(stderr), "report": string(report)}
	require.Contains(t, string(report), "leak0.0@contoso.com", "the report shows the planted incidents")
	redacted := 0
	for _, l := range letters {
		outputs["dead letter reasons"] += l.Reason + "\n"
		outputs["dead letter entries"] += string(l.RawBase64) + "\n"
		require.Positive(t, l.RawLength, "raw_length")
		require.Len(t, l.RawSHA256, 64, "raw_sha256")
		if l.RawRedacted {
			redacted++
			require.Contains(t, string(l.RawBase64), redact.Placeholder)
		}
	}
	require.Equal(t, len(letters), redacted, "every garbage line held a secret, every dead letter says it was redacted")
	for name, out := range outputs {
		low := strings.ToLower(out)
		for _, s := range append(append([]string(nil), inEvidence...), inGarbage...) {
			require.NotContains(t, low, strings.ToLower(s), "a planted secret leaks into the %s", name)
		}
	}
	t.Logf("%d secrets planted in %d runs (%d formats) and %d garbage lines: %d events, %d dead letters, none leaked",
		len(inEvidence)+len(inGarbage), len(leakCases)*len(leakFormats), len(leakFormats), len(inGarbage), len(evs), len(letters))
}

// TestRedactionDeadLetterRawFull: with --dead-letter-raw=full the dead
// letters carry the original bytes again, secrets included, and their
// length and hash are those of the original.
func TestRedactionDeadLetterRawFull(t *testing.T) {
	corpusFile, _, inGarbage := leakCorpus(t)
	deadFile := filepath.Join(t.TempDir(), "dead.jsonl")
	_, stderr, code := runReplay(t, "--quiet", "--dead-letter-raw=full", "--dead-letter", deadFile, corpusFile)
	require.Equal(t, 0, code, "stderr: %s", stderr)
	dead, err := os.ReadFile(deadFile)
	require.NoError(t, err)
	var raws []string
	sc := bufio.NewScanner(bytes.NewReader(dead))
	for sc.Scan() {
		var l schemas.DeadLetter
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l))
		require.False(t, l.RawRedacted)
		require.Equal(t, len(l.RawBase64), l.RawLength)
		sum := sha256.Sum256(l.RawBase64)
		require.Equal(t, hex.EncodeToString(sum[:]), l.RawSHA256)
		require.NoError(t, schemas.Validate(schemas.SchemaDeadLetter, sc.Bytes()))
		raws = append(raws, string(l.RawBase64))
	}
	require.Len(t, raws, len(inGarbage))
	for i, s := range inGarbage {
		require.Contains(t, raws[i], s, "the original bytes, secret included")
	}

	_, stderr, code = runReplay(t, "--quiet", "--dead-letter-raw=all", corpusFile)
	require.Equal(t, 1, code, "a bad --dead-letter-raw is bad usage")
	require.Contains(t, string(stderr), "--dead-letter-raw")
}

// TestRedactionDeadLetterTopic: the same lines through Kafka, with the
// webhook, Alertmanager and PagerDuty sinks on: nothing on the dead-letter
// topic or the incidents topic, in the notification payloads, /metrics or
// ingest's debug log holds a planted secret.
func TestRedactionDeadLetterTopic(t *testing.T) {
	kcat := requireTool(t, "kcat")
	broker := startBroker(t)
	corpusFile, inEvidence, inGarbage := leakCorpus(t)
	b, err := os.ReadFile(corpusFile)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	cmd := exec.Command(kcat, "-b", strings.Join(broker.Addrs(), ","), "-P", "-t", "sync.engine", "-p", "0")
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "kcat: %s", out)

	// Every notification sink posts to one recorder; /metrics is scraped
	// while ingest runs.
	var mu sync.Mutex
	var posted strings.Builder
	rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		posted.WriteString(r.URL.String() + " " + string(b) + "\n")
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte(`{"status":"success","message":"Event processed"}`))
	}))
	defer rec.Close()
	keyFile := filepath.Join(t.TempDir(), "pd-key")
	require.NoError(t, os.WriteFile(keyFile, []byte("R0ut1ngKeyR0ut1ngKeyR0ut1ngKey12"), 0o600))
	maddr := freeAddr(t)
	var logs syncBuffer
	ingest := exec.Command(bin("ingest"), "--brokers", strings.Join(broker.Addrs(), ","), "--group", "syncwatch-redaction",
		"--metrics-addr", maddr, "--log-level", "debug", "--quiet-after", "1s",
		"--webhook-url", rec.URL+"/hook", "--alertmanager-url", rec.URL, "--pagerduty-url", rec.URL+"/v2/enqueue", "--pagerduty-routing-key-file", keyFile)
	ingest.Env = append(os.Environ(), "SYNCWATCH_WEBHOOK_SECRET=hook-secret-0123456789")
	ingest.Stderr = &logs
	require.NoError(t, ingest.Start())
	var metrics string
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, body := faultGet(maddr, "/metrics")
		if n, ok := metricSum(body, "syncwatch_quiet_flushes_total"); code == 200 && ok && n >= 1 {
			metrics = body
			break
		}
		require.True(t, time.Now().Before(deadline), "ingest did not go through the input within 60s: %s", logs.String())
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(time.Second) // the notification sinks' last posts
	require.NoError(t, ingest.Process.Signal(syscall.SIGTERM))
	require.NoError(t, ingest.Wait(), "ingest: %s", logs.String())
	mu.Lock()
	notifications := posted.String()
	mu.Unlock()
	for _, path := range []string{"/hook", "/api/v2/alerts", "/v2/enqueue"} {
		require.Contains(t, notifications, path+" ", "the %s sink posted", path)
	}

	letters := readDeadLetters(t, kcat, broker.Addrs())
	require.Len(t, letters, len(inGarbage))
	outputs := map[string]string{"ingest's log": logs.String(), "metrics": metrics, "webhook, Alertmanager and PagerDuty payloads": notifications}
	for _, l := range letters {
		require.True(t, l.RawRedacted, "%s", l.RawBase64)
		outputs["dead-letter topic"] += l.Reason + "\n" + string(l.RawBase64) + "\n"
	}
	for _, e := range readIncidents(t, kcat, broker.Addrs()) {
		j, err := json.Marshal(e)
		require.NoError(t, err)
		outputs["incidents topic"] += string(j) + "\n"
	}
	require.NotEmpty(t, outputs["incidents topic"])
	for name, out := range outputs {
		low := strings.ToLower(out)
		for _, s := range append(append([]string(nil), inEvidence...), inGarbage...) {
			require.NotContains(t, low, strings.ToLower(s), "a planted secret leaks into the %s", name)
		}
	}
	t.Logf("%d lines through Kafka: %d dead letters, all redacted; %d bytes posted to the notification sinks; no planted secret on the topics, in the payloads, the metrics or the log",
		len(lines), len(letters), len(notifications))
}
