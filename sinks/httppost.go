package sinks

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
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
	// Sink names the sink and its URL, without credentials.
	Sink string
	// Attempts is the number of requests made, the first included.
	Attempts int
	// StatusCode is the status of the last response, 0 if none came.
	StatusCode int
	// Body is the start (up to 512 bytes) of the last response's body,
	// when its status was not 2xx.
	Body string
	// Err is the last attempt's error.
	Err error
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

// attempt makes one request and classifies the outcome (see doRequest),
// returning up to 64 KiB of the response body.
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
	return doRequest(p.client, req, p.name, p.now)
}

// maxResponseBody bounds what is read of a response body: enough for an
// error message, and to drain the body so the connection can be reused.
const maxResponseBody = 64 << 10

// doRequest sends req with client and classifies the outcome as every HTTP
// sink does: nil for a 2xx response; a *backoff.PermanentError for what
// retrying cannot fix (a certificate the sink does not trust, a 4xx other
// than 429, a redirect); else a retryable error, which wraps a
// *backoff.RetryAfterError when a 429 or 5xx response's Retry-After says
// when to come back (read against now()). Errors name the URL by name,
// never by req.URL, which may hold secrets. It returns the status (0 when
// no response came) and up to 64 KiB of the response body.
func doRequest(client *http.Client, req *http.Request, name string, now func() time.Time) (int, []byte, error) {
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = fmt.Errorf("%s %s: %w", ue.Op, name, ue.Err) // ue.Error() quotes the URL, query and all
		}
		if isCertificateError(err) {
			return 0, nil, backoff.Permanent(err)
		}
		return 0, nil, err
	}
	rb, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	resp.Body.Close()
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		return code, rb, nil
	case code == http.StatusTooManyRequests || code >= 500:
		err := fmt.Errorf("HTTP %s", resp.Status)
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), now()); ok {
			// Not two failures: the hint that backoff.Retry finds with
			// errors.As, and that the message shows.
			return code, rb, fmt.Errorf("%w, %w", err, &backoff.RetryAfterError{Duration: d})
		}
		return code, rb, err
	default:
		return code, rb, backoff.Permanent(fmt.Errorf("HTTP %s", resp.Status))
	}
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

// safeURL names a URL without what may be secret in it: userinfo, query
// and fragment.
func safeURL(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
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
