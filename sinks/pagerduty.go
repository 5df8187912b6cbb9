package sinks

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-multierror"

	"github.com/syncwatch/syncwatch/schemas"
)

// DefaultPagerDutyURL is the Events API v2 endpoint, the default of
// PagerDutyConfig.URL. Timeout and RetryBudget default to
// DefaultHTTPSinkTimeout and DefaultHTTPSinkRetryBudget.
const DefaultPagerDutyURL = "https://events.pagerduty.com/v2/enqueue"

// pagerDutySummaryMax is the Events API's bound on payload.summary.
const pagerDutySummaryMax = 1024

// PagerDutyConfig configures a PagerDuty sink. Its zero value with
// RoutingKey set works: a zero field means its default, and a negative
// number or duration is rejected by Validate.
type PagerDutyConfig struct {
	// URL is the Events API v2 enqueue endpoint; http or https.
	//
	// Default: https://events.pagerduty.com/v2/enqueue (DefaultPagerDutyURL)
	URL string

	// RoutingKey is the integration key of the PagerDuty service (an
	// Events API v2 integration). Required. It is a secret: never
	// printed, in errors, logs or dead letters.
	RoutingKey string

	// Timeout bounds one attempt of an event (connect, send, response
	// headers).
	//
	// Default: 10s (DefaultHTTPSinkTimeout)
	Timeout time.Duration

	// RetryBudget bounds the attempts of one event and the waits between
	// them. 429 (PagerDuty's throttling), 5xx and network errors are
	// retried with exponential backoff (500ms doubling to 15s, jitter
	// ±50%, Retry-After honoured).
	//
	// Default: 1m (DefaultHTTPSinkRetryBudget)
	RetryBudget time.Duration

	// MaxAttempts bounds the attempts of one event, the first included.
	//
	// Default: 0 (no bound but RetryBudget)
	MaxAttempts int

	// DeadLetters receives every event PagerDuty rejected (400: an
	// invalid event or routing key) or that could not be sent within the
	// budget; origin "pagerduty/<event id>". The sink does not close it.
	//
	// Default: nil (Write fails instead)
	DeadLetters DeadLetterSink

	// Logger receives retry and dead-letter warnings.
	//
	// Default: slog.Default()
	Logger *slog.Logger
}

// url resolves URL.
func (c *PagerDutyConfig) url() string { return cmp.Or(c.URL, DefaultPagerDutyURL) }

// timeout resolves Timeout.
func (c *PagerDutyConfig) timeout() time.Duration { return cmp.Or(c.Timeout, DefaultHTTPSinkTimeout) }

// retryBudget resolves RetryBudget.
func (c *PagerDutyConfig) retryBudget() time.Duration {
	return cmp.Or(c.RetryBudget, DefaultHTTPSinkRetryBudget)
}

// logger resolves Logger.
func (c *PagerDutyConfig) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.Default()
	}
	return c.Logger
}

// Validate reports every problem of the configuration at once, each naming
// its field, combined into one error; nil means valid. It does not connect
// and never quotes the routing key.
func (c *PagerDutyConfig) Validate() error {
	var errs *multierror.Error
	add := func(format string, a ...any) { errs = multierror.Append(errs, fmt.Errorf(format, a...)) }
	validateHTTPURL(c.url(), "URL", add)
	if c.RoutingKey == "" {
		add("RoutingKey: required")
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

// pdEvent is an Events API v2 event.
type pdEvent struct {
	RoutingKey  string     `json:"routing_key"`
	EventAction string     `json:"event_action"`
	DedupKey    string     `json:"dedup_key"`
	Client      string     `json:"client,omitempty"`
	Payload     *pdPayload `json:"payload,omitempty"`
}

type pdPayload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     string         `json:"timestamp,omitempty"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

// pdResponse is the Events API's answer.
type pdResponse struct {
	Status   string   `json:"status"`
	Message  string   `json:"message"`
	DedupKey string   `json:"dedup_key"`
	Errors   []string `json:"errors"`
}

// PagerDuty is a Sink that sends incident events to PagerDuty's Events
// API v2, one request per event, dedup_key = the incident id: an opened
// event triggers an alert, an updated event triggers again (PagerDuty
// folds it into the open alert and its log, refreshing the details
// without paging anyone again), a resolved event resolves it. The
// payload's summary is the title, mailbox and tenant (at most 1024
// characters), source the event's subject (tenant/mailbox), component the
// producer, group the tenant, class the class, severity the incident's
// (critical or warning); custom_details carry the remediation, the
// evidence and the incident's other facts.
type PagerDuty struct {
	cfg    PagerDutyConfig
	log    *slog.Logger
	poster *jsonPoster
	closed atomic.Bool
}

var _ Sink = (*PagerDuty)(nil)

// NewPagerDuty validates cfg and returns a sink; it does not connect until
// the first write. The error wraps that of PagerDutyConfig.Validate.
func NewPagerDuty(cfg PagerDutyConfig) (*PagerDuty, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("validating pagerduty sink config: %w", err)
	}
	u, _ := url.Parse(cfg.url()) // Validate parsed it
	log := cfg.logger().With("component", "pagerduty_sink", "url", safeURL(u))
	p := newJSONPoster(u, httpSinkRetry(cfg.timeout(), cfg.retryBudget(), cfg.MaxAttempts), nil, log)
	return &PagerDuty{cfg: cfg, log: log, poster: p}, nil
}

// String names the sink in errors and logs, without the routing key.
func (p *PagerDuty) String() string { return "pagerduty:" + p.poster.name }

// pagerDutyEvent maps an incident event to its Events API event.
func pagerDutyEvent(routingKey string, ev *schemas.IncidentEvent) pdEvent {
	d := &ev.Data
	out := pdEvent{RoutingKey: routingKey, DedupKey: d.IncidentID, Client: "syncwatch"}
	if ev.Type == schemas.TypeResolved || d.Status == schemas.StatusResolved {
		out.EventAction = "resolve"
		return out
	}
	out.EventAction = "trigger"
	severity := d.Severity
	if severity != schemas.SeverityCritical && severity != schemas.SeverityWarning {
		severity = "error"
	}
	source := ev.Subject
	if source == "" {
		source = d.Tenant + "/" + d.Mailbox
	}
	out.Payload = &pdPayload{
		Summary:   truncateRunes(fmt.Sprintf("%s: %s (tenant %s)", d.Title, d.Mailbox, d.Tenant), pagerDutySummaryMax),
		Source:    source,
		Severity:  severity,
		Timestamp: ev.Time.UTC().Format(time.RFC3339Nano),
		Component: d.Producer,
		Group:     d.Tenant,
		Class:     d.Class,
		CustomDetails: map[string]any{
			"incident_id": d.IncidentID, "event_id": ev.ID, "kind": d.Kind, "remediation": d.Remediation,
			"evidence": d.Evidence, "details": d.Details, "first_seen": d.FirstSeen, "last_seen": d.LastSeen,
			"occurrences": d.Occurrences, "runs": d.Runs, "affected_records": d.AffectedRecords,
			"sample_records": d.SampleRecords, "template": d.Template,
		},
	}
	return out
}

// truncateRunes cuts s to at most n characters, marking the cut.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// Write sends events one at a time, in order, and returns nil once each
// was accepted (202) or, failing that, written to DeadLetters. ctx bounds
// the whole call, retries included: when it ends Write returns an error
// wrapping ctx.Err() and the caller must not acknowledge the batch.
// Without DeadLetters, an event that cannot be delivered makes Write
// return its *HTTPError. It returns ErrClosed after Close. Not safe for
// concurrent use.
func (p *PagerDuty) Write(ctx context.Context, events []schemas.IncidentEvent) error {
	if p.closed.Load() {
		return ErrClosed
	}
	for i := range events {
		ev := &events[i]
		body, err := json.Marshal(pagerDutyEvent(p.cfg.RoutingKey, ev))
		if err != nil {
			return fmt.Errorf("encoding event %s: %w", ev.ID, err)
		}
		resp, herr := p.poster.post(ctx, body, ev.ID)
		if herr == nil {
			var r pdResponse
			if err := json.Unmarshal(resp, &r); err == nil && r.DedupKey != "" && r.DedupKey != ev.Data.IncidentID {
				p.log.Warn("pagerduty answered another dedup_key", "event", ev.ID, "dedup_key", r.DedupKey)
			}
			continue
		}
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("sending event %s to %s: %w", ev.ID, p, cerr)
		}
		if err := p.deadLetter(ctx, ev, herr); err != nil {
			return err
		}
	}
	return nil
}

// deadLetter hands an undeliverable event to DeadLetters (its raw bytes
// are the incident event, never the request, which holds the routing
// key), or returns the delivery error when there is none.
func (p *PagerDuty) deadLetter(ctx context.Context, ev *schemas.IncidentEvent, herr *HTTPError) error {
	if p.cfg.DeadLetters == nil {
		return fmt.Errorf("sending event %s: %w", ev.ID, herr)
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encoding event %s: %w", ev.ID, err)
	}
	letter := schemas.DeadLetter{Reason: herr.Error(), Origin: "pagerduty/" + ev.ID, Received: schemas.Time{Time: p.poster.now().UTC()}, RawBase64: raw}
	if err := p.cfg.DeadLetters.WriteDeadLetters(ctx, []schemas.DeadLetter{letter}); err != nil {
		return fmt.Errorf("dead-lettering event %s (%v): %w", ev.ID, herr, err)
	}
	p.log.Warn("pagerduty delivery failed; event dead-lettered", "event", ev.ID, "attempts", herr.Attempts, "status", herr.StatusCode, "err", herr.Err)
	return nil
}

// Close makes later Writes return ErrClosed and closes idle connections.
// It does not close DeadLetters and always returns nil.
func (p *PagerDuty) Close(ctx context.Context) error {
	p.closed.Store(true)
	p.poster.tr.CloseIdleConnections()
	return nil
}
