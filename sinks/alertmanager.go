package sinks

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-multierror"

	"github.com/syncwatch/syncwatch/schemas"
)

// Defaults of AlertmanagerConfig, each resolved by the accessor of its
// field. Timeout and RetryBudget default to DefaultHTTPSinkTimeout and
// DefaultHTTPSinkRetryBudget.
const (
	DefaultAlertmanagerResendInterval = time.Minute
	DefaultAlertmanagerMaxOpen        = 10000
	DefaultAlertmanagerBatchSize      = 500
)

// alertmanagerAlertsPath is Alertmanager's API v2 endpoint for alerts.
const alertmanagerAlertsPath = "/api/v2/alerts"

// AlertmanagerConfig configures an Alertmanager sink. Its zero value with
// URL set works: a zero field means its default, and a negative number or
// duration is rejected by Validate.
type AlertmanagerConfig struct {
	// URL is Alertmanager's base URL, e.g. http://alertmanager:9093; the
	// sink POSTs to URL + /api/v2/alerts. Basic-auth credentials may be
	// given as userinfo; the sink names the URL by scheme, host and path
	// only. Required.
	URL string

	// ResendInterval is how often every open alert is posted again.
	// Alertmanager resolves an alert it has not heard of for a while
	// (resolve_timeout, or the endsAt the client sent); syncwatch
	// resolves only when an incident is resolved, so it keeps its open
	// alerts alive. Each post sets endsAt to now + 4 × ResendInterval, as
	// Prometheus does: three resends may be lost before Alertmanager
	// resolves the alert, and if syncwatch stops, its alerts resolve
	// 4 intervals later instead of firing forever.
	//
	// Default: 1m (DefaultAlertmanagerResendInterval)
	ResendInterval time.Duration

	// MaxOpen bounds the open alerts the sink keeps for resending (about
	// 1 KiB each). Past it, new alerts are still posted once but not
	// resent, with a warning, and so resolve in Alertmanager after
	// 4 × ResendInterval.
	//
	// Default: 10000 (DefaultAlertmanagerMaxOpen)
	MaxOpen int

	// BatchSize bounds the alerts of one POST.
	//
	// Default: 500 (DefaultAlertmanagerBatchSize)
	BatchSize int

	// Timeout bounds one attempt of a POST (connect, send, response
	// headers).
	//
	// Default: 10s (DefaultHTTPSinkTimeout)
	Timeout time.Duration

	// RetryBudget bounds the attempts of one POST and the waits between
	// them. 429, 5xx and network errors are retried with exponential
	// backoff (500ms doubling to 15s, jitter ±50%, Retry-After honoured).
	//
	// Default: 1m (DefaultHTTPSinkRetryBudget)
	RetryBudget time.Duration

	// MaxAttempts bounds the attempts of one POST, the first included.
	//
	// Default: 0 (no bound but RetryBudget)
	MaxAttempts int

	// DeadLetters receives every event whose alert Alertmanager rejected
	// (a 4xx other than 429) or that could not be posted within the
	// budget; origin "alertmanager/<event id>". The sink does not close
	// it.
	//
	// Default: nil (Write fails instead)
	DeadLetters DeadLetterSink

	// Logger receives retry, resend and dead-letter warnings.
	//
	// Default: slog.Default()
	Logger *slog.Logger
}

// resendInterval resolves ResendInterval.
func (c *AlertmanagerConfig) resendInterval() time.Duration {
	return cmp.Or(c.ResendInterval, DefaultAlertmanagerResendInterval)
}

// maxOpen resolves MaxOpen.
func (c *AlertmanagerConfig) maxOpen() int { return cmp.Or(c.MaxOpen, DefaultAlertmanagerMaxOpen) }

// batchSize resolves BatchSize.
func (c *AlertmanagerConfig) batchSize() int {
	return cmp.Or(c.BatchSize, DefaultAlertmanagerBatchSize)
}

// timeout resolves Timeout.
func (c *AlertmanagerConfig) timeout() time.Duration {
	return cmp.Or(c.Timeout, DefaultHTTPSinkTimeout)
}

// retryBudget resolves RetryBudget.
func (c *AlertmanagerConfig) retryBudget() time.Duration {
	return cmp.Or(c.RetryBudget, DefaultHTTPSinkRetryBudget)
}

// logger resolves Logger.
func (c *AlertmanagerConfig) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.Default()
	}
	return c.Logger
}

// Validate reports every problem of the configuration at once, each naming
// its field, combined into one error; nil means valid. It does not connect
// and never quotes the URL's credentials.
func (c *AlertmanagerConfig) Validate() error {
	var errs *multierror.Error
	add := func(format string, a ...any) { errs = multierror.Append(errs, fmt.Errorf(format, a...)) }
	validateHTTPURL(c.URL, "URL", add)
	if c.ResendInterval < 0 {
		add("ResendInterval %v: must not be negative", c.ResendInterval)
	}
	if c.MaxOpen < 0 {
		add("MaxOpen %d: must not be negative", c.MaxOpen)
	}
	if c.BatchSize < 0 {
		add("BatchSize %d: must not be negative", c.BatchSize)
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
	return errs.ErrorOrNil()
}

// amAlert is a postable alert of Alertmanager's API v2.
type amAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
}

// Alertmanager is a Sink that turns incident events into Alertmanager
// alerts. An alert's labels are the incident's identity and routing keys:
// alertname (the class), kind, tenant, mailbox, severity, producer and,
// for unknown errors grouped by message template, template (two such
// incidents of one mailbox may be open at once and must not share an
// alert). Its annotations are summary (the title), remediation and
// incident_id. startsAt is the incident's first_seen; an opened or updated
// event posts it firing, a resolved event posts it with endsAt = the
// event's time, which Alertmanager shows as resolved.
//
// The sink remembers its open alerts (up to MaxOpen) and posts them again
// every ResendInterval from a goroutine that Close stops.
type Alertmanager struct {
	cfg    AlertmanagerConfig
	log    *slog.Logger
	poster *jsonPoster
	now    func() time.Time

	// send serializes Write and the resend loop: a resend snapshot taken
	// before a resolve must not reach Alertmanager after it, or it would
	// fire the resolved alert again.
	send sync.Mutex
	mu   sync.Mutex
	open map[string]amAlert // incident id -> its firing alert

	cancel context.CancelFunc
	done   chan struct{}
	closed atomic.Bool
}

var _ Sink = (*Alertmanager)(nil)

// NewAlertmanager validates cfg and returns a sink whose resend loop runs
// until Close; it does not connect until the first write. The error wraps
// that of AlertmanagerConfig.Validate.
func NewAlertmanager(cfg AlertmanagerConfig) (*Alertmanager, error) {
	return newAlertmanager(cfg, time.Now)
}

func newAlertmanager(cfg AlertmanagerConfig, now func() time.Time) (*Alertmanager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("validating alertmanager sink config: %w", err)
	}
	u, _ := url.Parse(cfg.URL) // Validate parsed it
	u = u.JoinPath(alertmanagerAlertsPath)
	log := cfg.logger().With("component", "alertmanager_sink", "url", safeURL(u))
	p := newJSONPoster(u, httpSinkRetry(cfg.timeout(), cfg.retryBudget(), cfg.MaxAttempts), nil, log)
	ctx, cancel := context.WithCancel(context.Background())
	a := &Alertmanager{cfg: cfg, log: log, poster: p, now: now, open: map[string]amAlert{}, cancel: cancel, done: make(chan struct{})}
	go a.resendLoop(ctx)
	return a, nil
}

// String names the sink in errors and logs, without the URL's secrets.
func (a *Alertmanager) String() string { return "alertmanager:" + a.poster.name }

// validFor is how long past a post an open alert stays firing without
// another post.
func (a *Alertmanager) validFor() time.Duration { return 4 * a.cfg.resendInterval() }

// alert maps an event to its alert; endsAt is left to the caller.
func alertOf(ev *schemas.IncidentEvent) amAlert {
	d := &ev.Data
	labels := map[string]string{
		"alertname": d.Class, "kind": d.Kind, "tenant": d.Tenant, "mailbox": d.Mailbox,
		"severity": d.Severity, "producer": d.Producer, "template": d.Template,
	}
	for k, v := range labels {
		if v == "" {
			delete(labels, k) // an empty label is no label to Alertmanager
		}
	}
	return amAlert{
		Labels:      labels,
		Annotations: map[string]string{"summary": d.Title, "remediation": d.Remediation, "incident_id": d.IncidentID},
		StartsAt:    d.FirstSeen.UTC(),
	}
}

// Write posts the alerts of events, in order, BatchSize per request, and
// returns nil once every one was accepted or, failing that, written to
// DeadLetters. It updates the set of open alerts first, so the resend
// loop carries on even when a post fails. ctx bounds the whole call,
// retries included: when it ends Write returns an error wrapping
// ctx.Err() and the caller must not acknowledge the batch. Without
// DeadLetters, a rejected post makes Write return its *HTTPError. It
// returns ErrClosed after Close. Not safe for concurrent use.
func (a *Alertmanager) Write(ctx context.Context, events []schemas.IncidentEvent) error {
	if a.closed.Load() {
		return ErrClosed
	}
	a.send.Lock()
	defer a.send.Unlock()
	now := a.now()
	alerts := make([]amAlert, len(events))
	a.mu.Lock()
	for i := range events {
		ev := &events[i]
		al := alertOf(ev)
		if ev.Data.Status == schemas.StatusResolved || ev.Type == schemas.TypeResolved {
			al.EndsAt = maxTime(ev.Time.UTC(), al.StartsAt)
			delete(a.open, ev.Data.IncidentID)
		} else {
			al.EndsAt = maxTime(now, al.StartsAt).Add(a.validFor())
			if _, ok := a.open[ev.Data.IncidentID]; ok || len(a.open) < a.cfg.maxOpen() {
				a.open[ev.Data.IncidentID] = al
			} else {
				a.log.Warn("too many open alerts to resend; this one will resolve in Alertmanager unless updated", "incident", ev.Data.IncidentID, "max_open", a.cfg.maxOpen())
			}
		}
		alerts[i] = al
	}
	a.mu.Unlock()

	for lo := 0; lo < len(alerts); lo += a.cfg.batchSize() {
		hi := min(lo+a.cfg.batchSize(), len(alerts))
		body, err := json.Marshal(alerts[lo:hi])
		if err != nil {
			return fmt.Errorf("encoding alerts: %w", err)
		}
		_, herr := a.poster.post(ctx, body, fmt.Sprintf("%d alerts", hi-lo))
		if herr == nil {
			continue
		}
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("posting alerts to %s: %w", a, cerr)
		}
		if err := a.deadLetter(ctx, events[lo:hi], herr); err != nil {
			return err
		}
	}
	return nil
}

// deadLetter hands the events of a failed post to DeadLetters, or returns
// the post's error when there is none.
func (a *Alertmanager) deadLetter(ctx context.Context, events []schemas.IncidentEvent, herr *HTTPError) error {
	if a.cfg.DeadLetters == nil {
		return herr
	}
	letters := make([]schemas.DeadLetter, len(events))
	for i := range events {
		raw, err := json.Marshal(&events[i])
		if err != nil {
			return fmt.Errorf("encoding event %s: %w", events[i].ID, err)
		}
		letters[i] = schemas.DeadLetter{Reason: herr.Error(), Origin: "alertmanager/" + events[i].ID, Received: schemas.Time{Time: a.now().UTC()}, RawBase64: raw}
	}
	if err := a.cfg.DeadLetters.WriteDeadLetters(ctx, letters); err != nil {
		return fmt.Errorf("dead-lettering %d events (%v): %w", len(events), herr, err)
	}
	a.log.Warn("alertmanager rejected alerts; events dead-lettered", "events", len(events), "attempts", herr.Attempts, "status", herr.StatusCode, "err", herr.Err)
	return nil
}

// resendLoop posts the open alerts every ResendInterval until ctx ends.
func (a *Alertmanager) resendLoop(ctx context.Context) {
	defer close(a.done)
	t := time.NewTicker(a.cfg.resendInterval())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			rctx, cancel := context.WithTimeout(ctx, a.cfg.resendInterval())
			if err := a.resend(rctx); err != nil && ctx.Err() == nil {
				a.log.Warn("resending open alerts failed; next try in one interval", "err", err)
			}
			cancel()
		}
	}
}

// resend posts every open alert once, with a fresh endsAt, oldest first.
func (a *Alertmanager) resend(ctx context.Context) error {
	a.send.Lock()
	defer a.send.Unlock()
	ends := a.now().Add(a.validFor())
	a.mu.Lock()
	alerts := make([]amAlert, 0, len(a.open))
	for id, al := range a.open {
		al.EndsAt = maxTime(ends, al.StartsAt.Add(a.validFor()))
		a.open[id] = al
		alerts = append(alerts, al)
	}
	a.mu.Unlock()
	sort.Slice(alerts, func(i, j int) bool {
		if !alerts[i].StartsAt.Equal(alerts[j].StartsAt) {
			return alerts[i].StartsAt.Before(alerts[j].StartsAt)
		}
		return alerts[i].Annotations["incident_id"] < alerts[j].Annotations["incident_id"]
	})
	var errs *multierror.Error
	for lo := 0; lo < len(alerts); lo += a.cfg.batchSize() {
		hi := min(lo+a.cfg.batchSize(), len(alerts))
		body, err := json.Marshal(alerts[lo:hi])
		if err != nil {
			return fmt.Errorf("encoding alerts: %w", err)
		}
		if _, herr := a.poster.post(ctx, body, "resend"); herr != nil {
			errs = multierror.Append(errs, herr)
		}
	}
	if err := errs.ErrorOrNil(); err != nil {
		return fmt.Errorf("resending %d open alerts: %w", len(alerts), err)
	}
	return nil
}

// Open returns the ids of the incidents whose alerts the sink keeps
// firing, sorted. It does not block on I/O.
func (a *Alertmanager) Open() []string {
	a.mu.Lock()
	ids := make([]string, 0, len(a.open))
	for id := range a.open {
		ids = append(ids, id)
	}
	a.mu.Unlock()
	sort.Strings(ids)
	return ids
}

// Close stops the resend loop, waits for it, makes later Writes return
// ErrClosed and closes idle connections. Open alerts are not resolved:
// they are still open; Alertmanager resolves them 4 × ResendInterval after
// their last post unless another instance takes over. It does not close
// DeadLetters and always returns nil.
func (a *Alertmanager) Close(ctx context.Context) error {
	if a.closed.Swap(true) {
		return nil
	}
	a.cancel()
	select {
	case <-a.done:
	case <-ctx.Done():
	}
	a.poster.tr.CloseIdleConnections()
	return nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
