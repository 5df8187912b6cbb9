package sinks

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
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
func (c *WebhookConfig) timeout() time.Duration { return cmp.Or(c.Timeout, DefaultWebhookTimeout) }

// retryBudget resolves RetryBudget.
func (c *WebhookConfig) retryBudget() time.Duration {
	return cmp.Or(c.RetryBudget, DefaultWebhookRetryBudget)
}

// retryInitialInterval resolves RetryInitialInterval.
func (c *WebhookConfig) retryInitialInterval() time.Duration {
	return cmp.Or(c.RetryInitialInterval, DefaultWebhookRetryInitialInterval)
}

// retryMaxInterval resolves RetryMaxInterval.
func (c *WebhookConfig) retryMaxInterval() time.Duration {
	return cmp.Or(c.RetryMaxInterval, DefaultWebhookRetryMaxInterval)
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

// Webhook is a Sink that POSTs each incident event to a URL, with the
// CloudEvents HTTP binding in structured mode: Content-Type
// application/cloudevents+json, and as body exactly encoding/json's bytes
// of the event, the same as every other sink. Each request is signed with
// a fresh timestamp, so that a subscriber can reject replays: header
// X-Syncwatch-Timestamp holds the Unix seconds of the request and header
// X-Syncwatch-Signature "sha256=" and the lower-case hex of
// HMAC-SHA256(secret, timestamp + "." + body), body byte for byte.
// Subscribers check both with VerifyWebhook.
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
// the first write. The error wraps that of WebhookConfig.Validate.
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

// attempt makes one signed request and classifies the outcome (see
// doRequest). It returns the response status, or 0.
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
	req.Header.Set(webhookTimestampHeader, ts)
	req.Header.Set(webhookSignatureHeader, webhookSignature(w.cfg.Secret, ts, body))
	req.Header.Set("User-Agent", "syncwatch-webhook")
	// The body says nothing we act on; doRequest drains it so the
	// connection can be reused.
	status, _, err := doRequest(w.client, req, w.name, w.now)
	return status, err
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
	// EventID is the id of the event that was not delivered.
	EventID string
	// Attempts is the number of requests made, the first included.
	Attempts int
	// StatusCode is the status of the last response, 0 if none came.
	StatusCode int
	// Err is the last attempt's error.
	Err error

	sink string // names the sink in Error, without credentials
}

// Error says which event failed where, after how many attempts, and why.
func (e *WebhookError) Error() string {
	return fmt.Sprintf("delivering event %s to %s failed after %d attempts: %v", e.EventID, e.sink, e.Attempts, e.Err)
}

// Unwrap returns the last error.
func (e *WebhookError) Unwrap() error { return e.Err }
