package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/syncwatch/syncwatch/schemas/redact"
	"github.com/syncwatch/syncwatch/sinks"
)

// Names of the notification sinks, as routes name them.
const (
	sinkWebhook      = "webhook"
	sinkAlertmanager = "alertmanager"
	sinkPagerDuty    = "pagerduty"
)

// AlertmanagerConfig configures the Alertmanager sink
// (sinks.Alertmanager). Only used when URL is set.
type AlertmanagerConfig struct {
	// URL is Alertmanager's base URL (the sink posts to /api/v2/alerts).
	// Env SYNCWATCH_ALERTMANAGER_URL. Default: "" (no Alertmanager).
	URL string `yaml:"url"`
	// ResendInterval: how often open alerts are posted again, so that
	// Alertmanager does not resolve them; each post keeps an alert firing
	// for 4 intervals. Default: 1m.
	ResendInterval time.Duration `yaml:"resend_interval"`
	// Timeout bounds one request. Default: 10s.
	Timeout time.Duration `yaml:"timeout"`
}

// PagerDutyConfig configures the PagerDuty sink (sinks.PagerDuty). Only
// used when a routing key is given.
type PagerDutyConfig struct {
	// URL is the Events API v2 endpoint. Default:
	// https://events.pagerduty.com/v2/enqueue.
	URL string `yaml:"url"`
	// RoutingKey is the service's integration key. It is never printed
	// and has no flag: prefer RoutingKeyFile or the environment variable
	// SYNCWATCH_PAGERDUTY_ROUTING_KEY over writing it in the file.
	RoutingKey     string `yaml:"routing_key"`
	RoutingKeyFile string `yaml:"routing_key_file"`
	// Timeout bounds one request. Default: 10s.
	Timeout time.Duration `yaml:"timeout"`
}

func (p *PagerDutyConfig) enabled() bool { return p.RoutingKey != "" || p.RoutingKeyFile != "" }

// notifyNames lists the configured notification sinks, by route name.
func (c *Config) notifyNames() []string {
	var names []string
	if c.Webhook.URL != "" {
		names = append(names, sinkWebhook)
	}
	if c.Alertmanager.URL != "" {
		names = append(names, sinkAlertmanager)
	}
	if c.PagerDuty.enabled() {
		names = append(names, sinkPagerDuty)
	}
	return names
}

// schemeHint suggests the scheme a URL like "alertmanager:9093" lacks:
// url.Parse reads its host as a scheme.
func schemeHint(u *url.URL) string {
	if u.Opaque != "" && u.Host == "" {
		return fmt.Sprintf(" (a scheme is missing? http://%s:%s)", u.Scheme, u.Opaque)
	}
	if u.Scheme == "" {
		return " (a scheme is missing? http://...)"
	}
	return ""
}

// validateNotify adds every problem of the Alertmanager, PagerDuty and
// routing settings, naming the YAML key; secrets are never quoted.
func (c *Config) validateNotify(add func(string, ...any)) {
	if a := c.Alertmanager; a.URL != "" {
		if u, err := url.Parse(a.URL); err != nil {
			add("alertmanager.url: not a valid URL")
		} else if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("alertmanager.url: %q is not an absolute http or https URL%s", redact.URL(a.URL), schemeHint(u))
		}
		if a.ResendInterval <= 0 {
			add("alertmanager.resend_interval: must be positive")
		}
		if a.Timeout <= 0 {
			add("alertmanager.timeout: must be positive")
		}
	}
	if p := c.PagerDuty; p.enabled() {
		if p.URL != "" {
			if u, err := url.Parse(p.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				add("pagerduty.url: not an absolute http or https URL")
			}
		}
		if p.RoutingKeyFile != "" {
			if _, err := os.Stat(p.RoutingKeyFile); err != nil {
				add("pagerduty.routing_key_file: %v", err)
			}
		}
		if p.Timeout <= 0 {
			add("pagerduty.timeout: must be positive")
		}
	} else if c.PagerDuty.URL != "" {
		add("pagerduty.routing_key: required with pagerduty.url (use pagerduty.routing_key_file or SYNCWATCH_PAGERDUTY_ROUTING_KEY)")
	}
	names := c.notifyNames()
	if len(names) == 0 && (len(c.Routing.Routes) > 0 || len(c.Routing.Mutes) > 0) {
		add("routing: no notification sink (webhook, alertmanager, pagerduty) is configured to route to")
		return
	}
	if err := c.Routing.Validate(names); err != nil {
		add("routing: %v", err)
	}
}

// routingKey resolves the PagerDuty routing key: the file wins over the
// value.
func (p *PagerDutyConfig) routingKey() (string, error) {
	if p.RoutingKeyFile == "" {
		return p.RoutingKey, nil
	}
	b, err := os.ReadFile(p.RoutingKeyFile)
	if err != nil {
		return "", fmt.Errorf("reading pagerduty.routing_key_file: %w", err)
	}
	k := strings.TrimSpace(string(b))
	if k == "" {
		return "", fmt.Errorf("pagerduty.routing_key_file %s: empty", p.RoutingKeyFile)
	}
	return k, nil
}

// notifySinks builds the notification sinks (webhook, Alertmanager,
// PagerDuty) behind a router that applies the routing section, or returns
// nil when none is configured. Events they cannot deliver go to dead. The
// Kafka topic and stdout are not routed: they are the record, and carry
// every event.
func (c *Config) notifySinks(dead sinks.DeadLetterSink, log *slog.Logger) (*sinks.Router, error) {
	members := map[string]sinks.Sink{}
	closeAll := func() {
		for _, s := range members {
			s.Close(context.Background())
		}
	}
	hook, err := c.Webhook.sink(dead, log)
	if err != nil {
		return nil, err
	}
	if hook != nil {
		members[sinkWebhook] = hook
	}
	if c.Alertmanager.URL != "" {
		am, err := sinks.NewAlertmanager(sinks.AlertmanagerConfig{
			URL: c.Alertmanager.URL, ResendInterval: c.Alertmanager.ResendInterval, Timeout: c.Alertmanager.Timeout,
			DeadLetters: dead, Logger: log,
		})
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("creating alertmanager sink: %w", err)
		}
		members[sinkAlertmanager] = am
	}
	if c.PagerDuty.enabled() {
		key, err := c.PagerDuty.routingKey()
		if err == nil {
			var pd *sinks.PagerDuty
			pd, err = sinks.NewPagerDuty(sinks.PagerDutyConfig{URL: c.PagerDuty.URL, RoutingKey: key, Timeout: c.PagerDuty.Timeout, DeadLetters: dead, Logger: log})
			if err == nil {
				members[sinkPagerDuty] = pd
			}
		}
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("creating pagerduty sink: %w", err)
		}
	}
	if len(members) == 0 {
		return nil, nil
	}
	r, err := sinks.NewRouter(c.Routing, members)
	if err != nil {
		closeAll()
		return nil, err
	}
	return r, nil
}

// redacted returns a copy fit for printing: the routing key blanked.
func (p PagerDutyConfig) redacted() PagerDutyConfig {
	if p.RoutingKey != "" {
		p.RoutingKey = "[REDACTED]"
	}
	return p
}

// redacted returns a copy fit for printing: the URL's credentials blanked.
func (a AlertmanagerConfig) redacted() AlertmanagerConfig {
	if u, err := url.Parse(a.URL); err == nil && (u.User != nil || u.RawQuery != "") {
		a.URL = (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String() + "?[REDACTED]"
	}
	return a
}
