package sinks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Defaults of the Timeout and RetryBudget fields of AlertmanagerConfig and
// PagerDutyConfig.
const (
	DefaultHTTPSinkTimeout     = 10 * time.Second
	DefaultHTTPSinkRetryBudget = time.Minute
)

// httpRetry is the retry policy of the HTTP sinks (retryHTTP).
type httpRetry struct {
	timeout, budget, initial, max time.Duration
	maxAttempts                   int // 0: no bound but budget
}

// httpSinkRetry is the policy of the Alertmanager and PagerDuty sinks:
// their resolved Timeout and RetryBudget and their MaxAttempts, with the
// webhook's default backoff intervals.
func httpSinkRetry(timeout, budget time.Duration, maxAttempts int) httpRetry {
	return httpRetry{
		timeout:     timeout,
		budget:      budget,
		initial:     DefaultWebhookRetryInitialInterval,
		max:         DefaultWebhookRetryMaxInterval,
		maxAttempts: maxAttempts,
	}
}

// jsonPoster POSTs JSON bodies to one URL, retrying 429, 5xx and network
// errors with exponential backoff and jitter (honouring Retry-After)
// within a budget. It names the URL by scheme, host and path only; the
// URL's userinfo still reaches the server as basic auth.
type jsonPoster struct {
	url    *url.URL
	name   string // safeURL(url)
	client *http.Client
	tr     *http.Transport
	retry  httpRetry
	header http.Header
	log    *slog.Logger
	now    func() time.Time
}

func newJSONPoster(u *url.URL, retry httpRetry, header http.Header, log *slog.Logger) *jsonPoster {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	return &jsonPoster{
		url: u, name: safeURL(u), tr: tr, retry: retry, header: header, log: log, now: time.Now,
		client: &http.Client{
			Transport: tr,
			// A redirect is a misconfigured URL; following it would send
			// incidents somewhere nobody configured.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// HTTPError is the failure of an HTTP sink (Alertmanager, PagerDuty) to
// deliver one request: the last error, the attempts made, the last HTTP
// status (0 when no response came) and the start of the last response
// body, which for a 400 says what the receiver rejected. Its message never
// holds the URL's credentials.
type HTTPError struct {
	Sink       string
	Attempts   int
	StatusCode int
	Body       string
	Err        error
}

// Error says where the request failed, after how many attempts, and why.
func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("posting to %s failed after %d attempts: %v", e.Sink, e.Attempts, e.Err)
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Unwrap returns the last error.
func (e *HTTPError) Unwrap() error { return e.Err }

// Permanent reports a failure that retrying the same request cannot fix:
// the receiver rejected it (a 4xx other than 429).
func (e *HTTPError) Permanent() bool {
	return e.StatusCode >= 400 && e.StatusCode < 500 && e.StatusCode != http.StatusTooManyRequests
}

// post sends body until a 2xx response, a permanent failure, the retry
// budget or the end of ctx, and returns the 2xx response's body (up to
// 64 KiB). what names the request in logs.
func (p *jsonPoster) post(ctx context.Context, body []byte, what string) ([]byte, *HTTPError) {
	herr := &HTTPError{Sink: p.name}
	var respBody []byte
	err := retryHTTP(ctx, p.log, p.retry, &herr.Attempts, "request", what, func() error {
		status, rb, err := p.attempt(ctx, body)
		herr.StatusCode, respBody = status, rb
		return err
	})
	if err != nil {
		herr.Err = err
		if herr.StatusCode != 0 && (herr.StatusCode < 200 || herr.StatusCode >= 300) {
			herr.Body = strings.TrimSpace(string(respBody[:min(len(respBody), 512)]))
		}
		return nil, herr
	}
	return respBody, nil
}

// retryHTTP calls attempt until it returns nil, a *backoff.PermanentError,
// or the policy's budget or attempts run out, waiting with exponential
// backoff and jitter (or what a *backoff.RetryAfterError says) between
// attempts; *attempts counts the calls. The first failure is logged as a
// warning, the next ones at debug, with key=id naming the request. It is
// the retry loop of every HTTP sink (Webhook, Alertmanager, PagerDuty).
func retryHTTP(ctx context.Context, log *slog.Logger, policy httpRetry, attempts *int, key, id string, attempt func() error) error {
	op := func() (struct{}, error) {
		*attempts++
		err := attempt()
		if err != nil && ctx.Err() != nil {
			return struct{}{}, backoff.Permanent(ctx.Err())
		}
		return struct{}{}, err
	}
	notify := func(err error, wait time.Duration) {
		level := slog.LevelDebug
		if *attempts == 1 {
			level = slog.LevelWarn
		}
		log.Log(ctx, level, "delivery failed, retrying", key, id, "attempt", *attempts, "retry_in", wait, "err", err)
	}
	opts := []backoff.RetryOption{
		backoff.WithBackOff(&backoff.ExponentialBackOff{
			InitialInterval:     policy.initial,
			RandomizationFactor: 0.5,
			Multiplier:          2,
			MaxInterval:         policy.max,
		}),
		backoff.WithMaxElapsedTime(policy.budget),
		backoff.WithNotify(notify),
	}
	if policy.maxAttempts > 0 {
		opts = append(opts, backoff.WithMaxTries(uint(policy.maxAttempts)))
	}
	_, err := backoff.Retry(ctx, op, opts...)
	return err
}

// attempt makes one request and classifies the outcome as Webhook.attempt
// does: nil for a 2xx, a *backoff.PermanentError for what retrying cannot
// fix, else a retryable error.
func (p *jsonPoster) attempt(ctx context.Context, body []byte) (int, []byte, error) {
	actx, cancel := context.WithTimeout(ctx, p.retry.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, p.url.String(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, backoff.Permanent(fmt.Errorf("building request: %w", err))
	}
	for k, v := range p.header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "syncwatch")
	resp, err := p.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = fmt.Errorf("%s %s: %w", ue.Op, p.name, ue.Err)
		}
		if isCertificateError(err) {
			return 0, nil, backoff.Permanent(err)
		}
		return 0, nil, err
	}
	rb, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		return code, rb, nil
	case code == http.StatusTooManyRequests || code >= 500:
		err := fmt.Errorf("HTTP %s", resp.Status)
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), p.now()); ok {
			return code, rb, fmt.Errorf("%w, %w", err, &backoff.RetryAfterError{Duration: d})
		}
		return code, rb, err
	default:
		return code, rb, backoff.Permanent(fmt.Errorf("HTTP %s", resp.Status))
	}
}

// validateHTTPURL checks an absolute http(s) URL, never quoting its
// credentials.
func validateHTTPURL(raw, field string, add func(string, ...any)) {
	if raw == "" {
		add("%s: required", field)
	} else if u, err := url.Parse(raw); err != nil {
		add("%s: not a valid URL", field) // url's error quotes the URL, credentials and all
	} else if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add("%s %q: want an absolute http or https URL", field, safeURL(u))
	}
}
