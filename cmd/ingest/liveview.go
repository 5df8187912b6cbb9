package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/syncwatch/syncwatch/cmd/internal/liveapi"
	"github.com/syncwatch/syncwatch/cmd/internal/livepage"
	"github.com/syncwatch/syncwatch/pipeline/view"
)

// APIConfig configures the live view: every member reads the incidents
// topic whole into a view.View and serves it, as JSON (/api/v1/) and as
// a page (/), for the whole group (docs/live-view.md).
type APIConfig struct {
	// Addr serves the API and the page. Default: "" (on metrics_addr,
	// and off with it); "off" turns the live view off.
	Addr string `yaml:"addr"`
	// Token, when set, is required of every API and page request as a
	// bearer token. It is never printed and has no flag: prefer
	// TokenFile or the environment variable SYNCWATCH_API_TOKEN.
	Token     string `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	// TLSCertFile and TLSKeyFile serve the API's own listener (Addr) over
	// HTTPS; ClientCAFile then requires client certificates it signed
	// (mutual TLS).
	TLSCertFile  string `yaml:"tls_cert_file"`
	TLSKeyFile   string `yaml:"tls_key_file"`
	ClientCAFile string `yaml:"client_ca_file"`
	// KeepResolved is how long resolved incidents stay in the view, in
	// event time. Default: 24h.
	KeepResolved time.Duration `yaml:"keep_resolved"`
	// MaxMB bounds the view's events, in MiB. Default: 256.
	MaxMB int `yaml:"max_mb"`
}

func (a *APIConfig) off() bool { return a.Addr == "off" }

// validate adds every problem of the API settings, naming the YAML key.
func (a *APIConfig) validate(metricsAddr string, add func(string, ...any)) {
	if a.off() {
		return
	}
	if a.Addr != "" {
		if err := checkHostPort(a.Addr); err != nil {
			add("api.addr: %q: %v (or \"off\"; \"\": on metrics_addr)", a.Addr, err)
		}
	}
	tlsSet := a.TLSCertFile != "" || a.TLSKeyFile != "" || a.ClientCAFile != ""
	if tlsSet && (a.TLSCertFile == "" || a.TLSKeyFile == "") {
		add("api.tls_cert_file, api.tls_key_file: both are required for HTTPS (api.client_ca_file needs them too)")
	}
	if tlsSet && a.Addr == "" {
		add("api.addr: HTTPS (api.tls_*) needs the API's own address, apart from metrics_addr")
	}
	for name, f := range map[string]string{"api.token_file": a.TokenFile, "api.tls_cert_file": a.TLSCertFile, "api.tls_key_file": a.TLSKeyFile, "api.client_ca_file": a.ClientCAFile} {
		if f != "" {
			if _, err := os.Stat(f); err != nil {
				add("%s: %v", name, err)
			}
		}
	}
	if a.KeepResolved <= 0 {
		add("api.keep_resolved: must be positive")
	}
	if a.MaxMB < 1 {
		add("api.max_mb: must be at least 1")
	}
}

func (a APIConfig) redacted() APIConfig {
	if a.Token != "" {
		a.Token = "[REDACTED]"
	}
	return a
}

// liveView is a member's live view: the view, the tailer that fills it,
// and the handler that serves it.
type liveView struct {
	v       *view.View
	tail    *view.Tailer
	handler http.Handler // /api/ and /, behind the token
	srv     *http.Server // the API's own listener, nil on metrics_addr
	cancel  context.CancelFunc
	done    sync.WaitGroup
	// base is the context of the requests it serves, ended by stop
	base        context.Context
	endRequests context.CancelFunc
}

// startLiveView starts reading the incidents topic into a view and, with
// an address of its own, serving it. nil with the live view off.
func startLiveView(ctx context.Context, cfg Config, dialer *kafka.Dialer, log *slog.Logger) (*liveView, error) {
	a := cfg.API
	if a.off() || (a.Addr == "" && (cfg.MetricsAddr == "off" || cfg.MetricsAddr == "")) {
		return nil, nil
	}
	token := a.Token
	if a.TokenFile != "" {
		var err error
		if token, err = liveapi.ReadToken(a.TokenFile); err != nil {
			return nil, fmt.Errorf("api.token_file: %w", err)
		}
	}
	v := view.New(view.Config{KeepResolved: a.KeepResolved, MaxBytes: int64(a.MaxMB) << 20})
	tail, err := view.NewTailer(view.TailConfig{Brokers: cfg.Brokers, Topic: cfg.IncidentsTopic, Dialer: dialer, Logger: log}, v)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", liveapi.New(v, liveapi.Options{}))
	mux.Handle("/", livepage.New(v, livepage.Options{}))
	lv := &liveView{v: v, tail: tail, handler: liveapi.RequireToken(token, mux)}
	lv.base, lv.endRequests = context.WithCancel(context.Background())
	if a.Addr != "" {
		var tlsCfg *tls.Config
		if a.TLSCertFile != "" {
			if tlsCfg, err = liveapi.ServerTLS(a.TLSCertFile, a.TLSKeyFile, a.ClientCAFile); err != nil {
				return nil, err
			}
		}
		ln, err := net.Listen("tcp", a.Addr)
		if err != nil {
			return nil, fmt.Errorf("listening on --api-addr: %w", err)
		}
		scheme := "http"
		if tlsCfg != nil {
			ln = tls.NewListener(ln, tlsCfg)
			scheme = "https"
		}
		lv.srv = &http.Server{Handler: lv.handler, ReadHeaderTimeout: 5 * time.Second, TLSConfig: tlsCfg, BaseContext: lv.baseContext}
		go lv.srv.Serve(ln)
		log.Info("serving the live view", "url", scheme+"://"+ln.Addr().String()+"/", "token", token != "", "mtls", a.ClientCAFile != "")
	}
	tctx, cancel := context.WithCancel(ctx)
	lv.cancel = cancel
	lv.done.Add(1)
	go func() {
		defer lv.done.Done()
		tail.Run(tctx)
	}()
	return lv, nil
}

// baseContext is an http.Server's BaseContext: requests end when the
// live view stops, so that its event streams, which never end by
// themselves, do not hold a graceful Shutdown up until its timeout. nil
// serves a server without a live view.
func (lv *liveView) baseContext(net.Listener) context.Context {
	if lv == nil {
		return context.Background()
	}
	return lv.base
}

// mount serves the live view on the metrics listener's mux.
func (lv *liveView) mount(mux *http.ServeMux, addr string, log *slog.Logger) {
	mux.Handle("/api/", lv.handler)
	mux.Handle("/{$}", lv.handler)
	log.Info("serving the live view", "url", "http://"+addr+"/")
}

// stop stops reading and serving.
func (lv *liveView) stop(ctx context.Context) {
	if lv == nil {
		return
	}
	lv.endRequests()
	lv.cancel()
	if lv.srv != nil {
		lv.srv.Shutdown(ctx)
		lv.srv.Close() // event streams do not end by themselves
	}
	lv.done.Wait()
}

// The live view's gauges (metrics.go collects them).
var (
	viewIncidentsDesc = prometheus.NewDesc("syncwatch_view_incidents", "Incidents in the live view, by state (open, resolved: kept for api.keep_resolved).", []string{"state"}, nil)
	viewBytesDesc     = prometheus.NewDesc("syncwatch_view_bytes", "Bytes of the events the live view holds (bounded by api.max_mb).", nil, nil)
	viewCaughtUpDesc  = prometheus.NewDesc("syncwatch_view_caught_up", "1 once the live view has read the incidents topic to where it ended when ingest started.", nil, nil)
	viewStreamsDesc   = prometheus.NewDesc("syncwatch_view_streams", "Open event streams (GET /api/v1/events) of the live view.", nil, nil)
)

func (lv *liveView) collect(ch chan<- prometheus.Metric) {
	s := lv.v.Stats()
	ch <- prometheus.MustNewConstMetric(viewIncidentsDesc, prometheus.GaugeValue, float64(s.Open), "open")
	ch <- prometheus.MustNewConstMetric(viewIncidentsDesc, prometheus.GaugeValue, float64(s.Resolved), "resolved")
	ch <- prometheus.MustNewConstMetric(viewBytesDesc, prometheus.GaugeValue, float64(s.Bytes))
	up := 0.0
	if lv.tail.CaughtUp() {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(viewCaughtUpDesc, prometheus.GaugeValue, up)
	ch <- prometheus.MustNewConstMetric(viewStreamsDesc, prometheus.GaugeValue, float64(lv.v.Subscribers()))
}
