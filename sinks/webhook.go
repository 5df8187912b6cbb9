package sinks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/cloudevents/sdk-go/v2/binding/format"
	"github.com/cloudevents/sdk-go/v2/binding/utils"
	cloudevents "github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/hashicorp/go-multierror"

	"github.com/syncwatch/syncwatch/schemas"
)

// Headers of a webhook request that carry its signature. The signature is
// "sha256=" and the lower-case hex of HMAC-SHA256(secret, timestamp + "." +
// body), where timestamp is the value of WebhookTimestampHeader (Unix
// seconds) and body the request body, byte for byte. Subscribers check both
// with VerifyWebhook.
const (
	WebhookTimestampHeader = "X-Syncwatch-Timestamp"
	WebhookSignatureHeader = "X-Syncwatch-Signature"
	webhookSignaturePrefix = "sha256="
)

// Defaults of WebhookConfig, each resolved by the accessor of its field,
// and of VerifyWebhook's tolerance.
const (
	DefaultWebhookTimeout              = 10 * time.Second
	DefaultWebhookRetryBudget          = time.Minute
	DefaultWebhookRetryInitialInterval = 500 * time.Millisecond
	DefaultWebhookRetryMaxInterval     = 15 * time.Second
	DefaultWebhookTolerance            = 5 * time.Minute
)

// WebhookConfig configures a Webhook sink. Its zero value with URL and
// Secret set works: a zero field means its default, and a negative number
// or duration is rejected by Validate.
type WebhookConfig struct {
	// URL receives one POST per event. Required; http or https. It may
	// hold a token (userinfo or query): the sink names it in errors and
	// logs by scheme, host and path only.
	URL string

	// Secret is the HMAC-SHA256 key shared with the subscriber. Required;
	// 32 random bytes is a good choice. It is never printed.
	Secret []byte

	// Timeout bounds one attempt (connect, send, response headers).
	//
	// Default: 10s (DefaultWebhookTimeout)
	Timeout time.Duration

	// RetryBudget bounds the time spent on one event: attempts and the
	// waits between them. When it is spent, or when a Retry-After asks for
	// a wait past it, the event is dead-lettered.
	//
	// Default: 1m (DefaultWebhookRetryBudget)
	RetryBudget time.Duration

	// MaxAttempts bounds the attempts of one event, the first included.
	//
	// Default: 0 (no bound but RetryBudget)
	MaxAttempts int

	// RetryInitialInterval is the first wait of the exponential backoff
	// (factor 2, jitter ±50%) between attempts. A Retry-After header of a
	// 429 or 5xx response replaces the backoff's wait.
	//
	// Default: 500ms (DefaultWebhookRetryInitialInterval)
	RetryInitialInterval time.Duration

	// RetryMaxInterval caps the waits of the backoff between attempts.
	//
	// Default: 15s (DefaultWebhookRetryMaxInterval)
	RetryMaxInterval time.Duration

	// CAFile is a PEM bundle of the CAs that may sign the server's
	// certificate. Only used with an https URL.
	//
	// Default: "" (the system's CAs)
	CAFile string

	// InsecureSkipVerify turns certificate verification off. For tests
	// only. Only used with an https URL.
	//
	// Default: false
	InsecureSkipVerify bool

	// DeadLetters receives, as a dead letter, every event that could not
	// be delivered: a permanent rejection (a 4xx other than 429, a
	// redirect, an untrusted certificate) or a spent retry budget. The
	// dead letter's reason says why, its origin is "webhook/<event id>"
	// and its raw bytes are the event's JSON. The sink does not close it.
	//
	// Default: nil (Write fails instead, so the input is not acknowledged)
	DeadLetters DeadLetterSink

	// Logger receives retry and dead-letter warnings.
	//
	// Default: slog.Default()
	Logger *slog.Logger
}

// timeout resolves Timeout.
func (c *WebhookConfig) timeout() time.Duration {
	if c.Timeout == 0 {
		return DefaultWebhookTimeout
	}
	return c.Timeout
}

// retryBudget resolves RetryBudget.
func (c *WebhookConfig) retryBudget() time.Duration {
	if c.RetryBudget == 0 {
		return DefaultWebhookRetryBudget
	}
	return c.RetryBudget
}

// retryInitialInterval resolves RetryInitialInterval.
func (c *WebhookConfig) retryInitialInterval() time.Duration {
	if c.RetryInitialInterval == 0 {
		return DefaultWebhookRetryInitialInterval
	}
	return c.RetryInitialInterval
}

// retryMaxInterval resolves RetryMaxInterval.
func (c *WebhookConfig) retryMaxInterval() time.Duration {
	if c.RetryMaxInterval == 0 {
		return DefaultWebhookRetryMaxInterval
	}
	return c.RetryMaxInterval
}

// logger resolves Logger.
func (c *WebhookConfig) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.Default()
	}
	return c.Logger
}

// Validate reports every problem of the configuration at once, each naming
// its field, combined into one error; nil means valid. It reads CAFile but
// does not connect, and never prints the URL's credentials or the secret.
func (c *WebhookConfig) Validate() error {
	var errs *multierror.Error
	add := func(format string, a ...any) { errs = multierror.Append(errs, fmt.Errorf(format, a...)) }
	validateHTTPURL(c.URL, "URL", add)
	if len(c.Secret) == 0 {
		add("Secret: required")
	}
	if c.Timeout < 0 {
		add("Timeout %v: must not be negative", c.Timeout)
	}
	if c.RetryBudget < 0 {
		add("RetryBudget %v: must not be negative", c.RetryBudget)
	}
	if c.MaxAttempts < 0 {
		add("MaxAttempts %d: must not be negative", c.MaxAttempts)
	}
	if c.RetryInitialInterval < 0 {
		add("RetryInitialInterval %v: must not be negative", c.RetryInitialInterval)
	}
	if c.RetryMaxInterval < 0 {
		add("RetryMaxInterval %v: must not be negative", c.RetryMaxInterval)
	}
	if c.CAFile != "" {
		if _, err := c.rootCAs(); err != nil {
			add("CAFile: %v", err)
		}
	}
	return errs.ErrorOrNil()
}

// rootCAs reads CAFile.
func (c *WebhookConfig) rootCAs() (*x509.CertPool, error) {
	pem, err := os.ReadFile(c.CAFile)
	if err != nil {
		return nil, fmt.Errorf("reading CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no PEM certificate in %s", c.CAFile)
	}
	return pool, nil
}

// safeURL names a URL without what may be secret in it: userinfo, query
// and fragment.
func safeURL(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// Webhook is a Sink that POSTs each incident event to a URL, with the
// CloudEvents HTTP binding in structured mode: Content-Type
// application/cloudevents+json, and as body exactly encoding/json's bytes
// of the event, the same as every other sink. Each request is signed (see
// WebhookSignatureHeader) with a fresh timestamp, so that a subscriber can
// reject replays.
//
// A 2xx response delivers the event. A 429 or 5xx response, or a network
// error, is retried with exponential backoff and jitter (honouring
// Retry-After) within the retry budget; anything else, and a spent budget,
// is a failure that goes to WebhookConfig.DeadLetters.
type Webhook struct {
	cfg       WebhookConfig
	log       *slog.Logger
	url       *url.URL
	name      string // safeURL(url)
	client    *http.Client
	transport *http.Transport
	now       func() time.Time // signing clock, for tests
	closed    atomic.Bool
}

var _ Sink = (*Webhook)(nil)

// NewWebhook validates cfg and returns a sink; it does not connect until
// the first write.
func NewWebhook(cfg WebhookConfig) (*Webhook, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("validating webhook sink config: %w", err)
	}
	u, _ := url.Parse(cfg.URL) // Validate parsed it

	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.InsecureSkipVerify} //nolint:gosec // opt-in, for tests
	if cfg.CAFile != "" {
		pool, err := cfg.rootCAs()
		if err != nil {
			return nil, fmt.Errorf("webhook CAFile: %w", err)
		}
		tc.RootCAs = pool
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = tc
	cfg.Secret = bytes.Clone(cfg.Secret)
	return &Webhook{
		cfg:       cfg,
		log:       cfg.logger().With("component", "webhook_sink", "url", safeURL(u)),
		url:       u,
		name:      safeURL(u),
		transport: transport,
		client: &http.Client{
			Transport: transport,
			// A redirect is a misconfigured URL: following it would send
			// the signed event somewhere nobody configured.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		now: time.Now,
	}, nil
}

// String names the sink in errors and logs, without the URL's secrets.
func (w *Webhook) String() string { return "webhook:" + w.name }

// Write POSTs events one at a time, in order, and returns nil once each
// of them was either accepted with a 2xx response or, failing that,
// written to WebhookConfig.DeadLetters. Without DeadLetters, an event that
// cannot be delivered makes Write return a *WebhookError. ctx bounds the
// whole call, retries included: when it ends Write returns an error
// wrapping ctx.Err(), and the caller must not acknowledge the batch (events
// before the one in flight were delivered, and will be again). It returns
// ErrClosed after Close. Not safe for concurrent use.
func (w *Webhook) Write(ctx context.Context, events []schemas.IncidentEvent) error {
	if w.closed.Load() {
		return ErrClosed
	}
	for i := range events {
		ev := &events[i]
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("delivering event %s to %s: %w", ev.ID, w, err)
		}
		body, err := json.Marshal(ev)
		if err != nil {
			return fmt.Errorf("encoding event %s: %w", ev.ID, err)
		}
		derr := w.deliver(ctx, ev.ID, body)
		if derr == nil {
			continue
		}
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("delivering event %s to %s: %w", ev.ID, w, cerr)
		}
		if err := w.deadLetter(ctx, ev.ID, body, derr); err != nil {
			return err
		}
	}
	return nil
}

// deadLetter hands an undeliverable event to DeadLetters, or returns its
// delivery error when there is none.
func (w *Webhook) deadLetter(ctx context.Context, id string, body []byte, derr *WebhookError) error {
	if w.cfg.DeadLetters == nil {
		return derr
	}
	letter := schemas.DeadLetter{
		Reason:    derr.Error(),
		Origin:    "webhook/" + id,
		Received:  schemas.Time{Time: w.now().UTC()},
		RawBase64: body,
	}
	if err := w.cfg.DeadLetters.WriteDeadLetters(ctx, []schemas.DeadLetter{letter}); err != nil {
		return fmt.Errorf("dead-lettering event %s (%v): %w", id, derr, err)
	}
	w.log.Warn("webhook delivery failed; event dead-lettered", "event", id, "attempts", derr.Attempts, "status", derr.StatusCode, "err", derr.Err)
	return nil
}

// deliver sends one event until a 2xx response, a permanent failure, the
// retry budget or the end of ctx.
func (w *Webhook) deliver(ctx context.Context, id string, body []byte) *WebhookError {
	werr := &WebhookError{EventID: id, sink: w.String()}
	// The SDK parses and checks the event's required attributes once; a
	// body that is not a valid CloudEvent cannot become one by retrying.
	var ce cloudevents.Event
	if err := format.JSON.Unmarshal(body, &ce); err != nil {
		werr.Err = fmt.Errorf("not a CloudEvent: %w", err)
		return werr
	}
	if err := ce.Validate(); err != nil {
		werr.Err = fmt.Errorf("not a valid CloudEvent: %w", err)
		return werr
	}
	policy := httpRetry{initial: w.cfg.retryInitialInterval(), max: w.cfg.retryMaxInterval(), budget: w.cfg.retryBudget(), maxAttempts: w.cfg.MaxAttempts}
	err := retryHTTP(ctx, w.log, policy, &werr.Attempts, "event", id, func() error {
		status, err := w.attempt(ctx, body)
		werr.StatusCode = status
		return err
	})
	if err == nil {
		return nil
	}
	werr.Err = err
	return werr
}

// attempt makes one signed request and classifies the outcome: nil for a
// 2xx, a *backoff.PermanentError for what retrying cannot fix, else a
// retryable error (wrapping a *backoff.RetryAfterError when the server
// said when to come back). It returns the response status, or 0.
func (w *Webhook) attempt(ctx context.Context, body []byte) (int, error) {
	actx, cancel := context.WithTimeout(ctx, w.cfg.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, w.url.String(), nil)
	if err != nil {
		return 0, backoff.Permanent(fmt.Errorf("building request: %w", err))
	}
	// The SDK's HTTP binding writes the structured-mode request (the
	// Content-Type, and our bytes as the body, unchanged).
	msg := utils.NewStructuredMessage(format.JSON, bytes.NewReader(body))
	if err := cehttp.WriteRequest(actx, msg, req); err != nil {
		return 0, backoff.Permanent(fmt.Errorf("writing CloudEvents request: %w", err))
	}
	ts := strconv.FormatInt(w.now().Unix(), 10)
	req.Header.Set(WebhookTimestampHeader, ts)
	req.Header.Set(WebhookSignatureHeader, webhookSignature(w.cfg.Secret, ts, body))
	req.Header.Set("User-Agent", "syncwatch-webhook")
	resp, err := w.client.Do(req)
	if err != nil {
		err = w.scrub(err)
		if isCertificateError(err) {
			return 0, backoff.Permanent(err)
		}
		return 0, err
	}
	// Drain a little so the connection can be reused; the body says
	// nothing we act on.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		return code, nil
	case code == http.StatusTooManyRequests || code >= 500:
		err := fmt.Errorf("HTTP %s", resp.Status)
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), w.now()); ok {
			return code, fmt.Errorf("%w, %w", err, &backoff.RetryAfterError{Duration: d})
		}
		return code, err
	default:
		return code, backoff.Permanent(fmt.Errorf("HTTP %s", resp.Status))
	}
}

// scrub replaces the URL that net/http puts in its errors (query and all)
// by the sink's safe name.
func (w *Webhook) scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s %s: %w", ue.Op, w.name, ue.Err)
	}
	return err
}

// isCertificateError reports a failed certificate verification: retrying
// cannot fix it, only configuration can (WebhookConfig.CAFile).
func isCertificateError(err error) bool {
	var (
		verr *tls.CertificateVerificationError
		uerr x509.UnknownAuthorityError
		herr x509.HostnameError
		cerr x509.CertificateInvalidError
	)
	return errors.As(err, &verr) || errors.As(err, &uerr) || errors.As(err, &herr) || errors.As(err, &cerr)
}

// retryAfter parses a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil {
		return time.Duration(max(s, 0)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// Close makes later Writes return ErrClosed and closes idle connections.
// It does not wait for a Write in flight and does not close DeadLetters.
// It always returns nil.
func (w *Webhook) Close(ctx context.Context) error {
	w.closed.Store(true)
	w.transport.CloseIdleConnections()
	return nil
}

// WebhookError is the failure to deliver one event to a webhook: the last
// error, the attempts made and the last HTTP status (0 when no response
// came). Its message never holds the URL's credentials.
type WebhookError struct {
	EventID    string
	Attempts   int
	StatusCode int
	Err        error
	sink       string
}

// Error says which event failed where, after how many attempts, and why.
func (e *WebhookError) Error() string {
	return fmt.Sprintf("delivering event %s to %s failed after %d attempts: %v", e.EventID, e.sink, e.Attempts, e.Err)
}

// Unwrap returns the last error.
func (e *WebhookError) Unwrap() error { return e.Err }

// webhookSignature is the WebhookSignatureHeader value of body sent at ts.
func webhookSignature(secret []byte, ts string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return webhookSignaturePrefix + hex.EncodeToString(mac.Sum(nil))
}

// VerifyWebhook checks a webhook request as a subscriber receives it: the
// signature in header must be that of body and the timestamp under secret,
// and the timestamp must lie within tolerance of now (either way), so that
// a captured request cannot be replayed later. A zero tolerance means
// DefaultWebhookTolerance (5m). It does not block. It returns nil, or an
// error wrapping ErrWebhookSignature (missing, malformed or wrong
// signature; tampered body or timestamp) or ErrWebhookTimestamp (missing,
// malformed, or out of tolerance), or, for a negative tolerance, an error
// wrapping neither: the request is rejected either way. body must be the
// raw request body, not re-encoded JSON.
func VerifyWebhook(secret []byte, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	switch {
	case tolerance < 0:
		return fmt.Errorf("verifying webhook: tolerance %v must not be negative", tolerance)
	case tolerance == 0:
		tolerance = DefaultWebhookTolerance
	}
	ts := header.Get(WebhookTimestampHeader)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s %q is not Unix seconds", ErrWebhookTimestamp, WebhookTimestampHeader, ts)
	}
	sig, ok := strings.CutPrefix(header.Get(WebhookSignatureHeader), webhookSignaturePrefix)
	if !ok {
		return fmt.Errorf("%w: %s missing or not sha256=<hex>", ErrWebhookSignature, WebhookSignatureHeader)
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return fmt.Errorf("%w: %s is not hex", ErrWebhookSignature, WebhookSignatureHeader)
	}
	want, _ := hex.DecodeString(webhookSignature(secret, ts, body)[len(webhookSignaturePrefix):])
	if !hmac.Equal(got, want) {
		return fmt.Errorf("%w: signature does not match", ErrWebhookSignature)
	}
	if skew := now.Sub(time.Unix(sec, 0)).Abs(); skew > tolerance {
		return fmt.Errorf("%w: signed %v away from now, tolerance %v", ErrWebhookTimestamp, skew, tolerance)
	}
	return nil
}
