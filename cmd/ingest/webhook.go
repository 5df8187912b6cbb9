package main

import (
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/syncwatch/syncwatch/sinks"
)

// WebhookConfig configures the webhook sink (sinks.Webhook). Only used
// when URL is set.
type WebhookConfig struct {
	// URL receives every incident event as a signed CloudEvents POST.
	// Env SYNCWATCH_WEBHOOK_URL. Default: "" (no webhook).
	URL string `yaml:"url"`
	// Secret is the HMAC key shared with the subscriber. It is never
	// printed and has no flag: prefer SecretFile or the environment
	// variable SYNCWATCH_WEBHOOK_SECRET over writing it in the file.
	Secret     string `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
	// CAFile is a PEM bundle of CAs to trust for an https URL (default:
	// the system's). Certificates are always verified.
	CAFile string `yaml:"ca_file"`
	// Timeout bounds one attempt. Default: 10s.
	Timeout time.Duration `yaml:"timeout"`
}

// validate adds every problem of the webhook settings, naming the YAML
// key. Neither the secret nor the URL's credentials are ever quoted.
func (w *WebhookConfig) validate(add func(string, ...any)) {
	if w.URL == "" {
		if w.Secret != "" || w.SecretFile != "" || w.CAFile != "" {
			add("webhook.url: required when other webhook settings are given")
		}
		return
	}
	if u, err := url.Parse(w.URL); err != nil {
		add("webhook.url: not a valid URL") // url's error quotes the URL, credentials and all
	} else if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add("webhook.url: %q is not an absolute http or https URL", (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String())
	}
	if w.Secret == "" && w.SecretFile == "" {
		add("webhook.secret: required with webhook.url (use webhook.secret_file or SYNCWATCH_WEBHOOK_SECRET)")
	}
	for name, f := range map[string]string{"webhook.secret_file": w.SecretFile, "webhook.ca_file": w.CAFile} {
		if f != "" {
			if _, err := os.Stat(f); err != nil {
				add("%s: %v", name, err)
			}
		}
	}
	if w.Timeout <= 0 {
		add("webhook.timeout: must be positive")
	}
}

// secret resolves the secret: the file wins over the value.
func (w *WebhookConfig) secret() ([]byte, error) {
	if w.SecretFile == "" {
		return []byte(w.Secret), nil
	}
	b, err := os.ReadFile(w.SecretFile)
	if err != nil {
		return nil, fmt.Errorf("reading webhook.secret_file: %w", err)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return nil, fmt.Errorf("webhook.secret_file %s: empty", w.SecretFile)
	}
	return []byte(s), nil
}

// sink builds the webhook sink, or returns nil when no URL is set. Events
// it cannot deliver go to dead.
func (w *WebhookConfig) sink(dead sinks.DeadLetterSink, log *slog.Logger) (*sinks.Webhook, error) {
	if w.URL == "" {
		return nil, nil
	}
	secret, err := w.secret()
	if err != nil {
		return nil, err
	}
	hook, err := sinks.NewWebhook(sinks.WebhookConfig{
		URL: w.URL, Secret: secret, CAFile: w.CAFile, Timeout: w.Timeout, DeadLetters: dead, Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("creating webhook sink: %w", err)
	}
	return hook, nil
}

// redacted returns a copy fit for printing: the secret blanked, the URL
// reduced to scheme, host and path.
func (w WebhookConfig) redacted() WebhookConfig {
	if w.Secret != "" {
		w.Secret = "[REDACTED]"
	}
	if u, err := url.Parse(w.URL); err == nil && (u.User != nil || u.RawQuery != "") {
		w.URL = (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String() + "?[REDACTED]"
	}
	return w
}
