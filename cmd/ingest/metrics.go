package main

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/syncwatch/syncwatch/pipeline"
	"github.com/syncwatch/syncwatch/schemas"
)

// metrics exports the pipeline's counters. Counters are read from the
// pipeline's summary at scrape time (a collector), so the hot path pays
// nothing for them.
type metrics struct {
	mu      sync.Mutex
	summary func() pipeline.Summary
	lag     func() map[string]int64
	ready   func() bool

	records, parsed, dead, opened, commitLag, evLag, events *prometheus.Desc
}

func newMetrics() *metrics {
	return &metrics{
		summary:   func() pipeline.Summary { return pipeline.Summary{} },
		lag:       func() map[string]int64 { return nil },
		ready:     func() bool { return false },
		records:   prometheus.NewDesc("syncwatch_records_in_total", "Log entries read, by producer (recognised from the entry's format).", []string{"producer"}, nil),
		parsed:    prometheus.NewDesc("syncwatch_records_parsed_total", "Log entries normalized, by producer.", []string{"producer"}, nil),
		dead:      prometheus.NewDesc("syncwatch_dead_letters_total", "Entries that could not be parsed and went to the dead-letter topic, by reason.", []string{"reason"}, nil),
		opened:    prometheus.NewDesc("syncwatch_incidents_opened_total", "Incidents opened, by kind and class.", []string{"kind", "class"}, nil),
		events:    prometheus.NewDesc("syncwatch_events_out_total", "Incident events delivered to the sinks.", nil, nil),
		commitLag: prometheus.NewDesc("syncwatch_commit_lag_messages", "Messages between the committed offset and the high-water mark, by topic/partition.", []string{"partition"}, nil),
		evLag:     prometheus.NewDesc("syncwatch_event_time_lag_seconds", "Wall clock minus the latest event time seen, by producer.", []string{"producer"}, nil),
	}
}

func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.records, m.parsed, m.dead, m.opened, m.events, m.commitLag, m.evLag} {
		ch <- d
	}
}

func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	s := m.summary()
	lag := m.lag()
	m.mu.Unlock()
	for p := schemas.Producer(0); p < schemas.NumProducers; p++ {
		ch <- prometheus.MustNewConstMetric(m.records, prometheus.CounterValue, float64(s.Normalize.Read[p]), p.String())
		ch <- prometheus.MustNewConstMetric(m.parsed, prometheus.CounterValue, float64(s.Normalize.Parsed[p]), p.String())
		if t := s.Normalize.Latest[p]; !t.IsZero() {
			ch <- prometheus.MustNewConstMetric(m.evLag, prometheus.GaugeValue, time.Since(t).Seconds(), p.String())
		}
	}
	for r, n := range s.Normalize.Reasons {
		ch <- prometheus.MustNewConstMetric(m.dead, prometheus.CounterValue, float64(n), r)
	}
	for k, n := range s.Detection.Opened {
		kind, class, _ := strings.Cut(k, "/")
		ch <- prometheus.MustNewConstMetric(m.opened, prometheus.CounterValue, float64(n), kind, class)
	}
	ch <- prometheus.MustNewConstMetric(m.events, prometheus.CounterValue, float64(s.Events))
	for p, n := range lag {
		ch <- prometheus.MustNewConstMetric(m.commitLag, prometheus.GaugeValue, float64(n), p)
	}
}

// handler serves /metrics, /healthz and /readyz.
func (m *metrics) handler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(m, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !m.ready() {
			http.Error(w, "not ready: broker unreachable or no partitions assigned", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	return mux
}
