package main

import (
	"net/http"
	"net/http/pprof"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/syncwatch/syncwatch/pipeline"
	"github.com/syncwatch/syncwatch/pipeline/repartition"
	"github.com/syncwatch/syncwatch/schemas"
	"github.com/syncwatch/syncwatch/sinks"
)

// metrics exports the pipeline's counters. Counters are read at scrape
// time (a collector) from the copy of the pipeline's summary that the
// consumer makes between batches (pipeline.Consumer.Summary), so the hot
// path pays one copy every 100ms and a scrape never reads the pipeline
// while it runs.
type metrics struct {
	mu      sync.Mutex
	summary func() pipeline.Summary
	lag     func() map[string]int64
	ready   func() bool
	// quietFlushes counts the flushes of a quiet input.
	quietFlushes func() int64
	// split counts the mailboxes seen on several partitions.
	split func() int
	// routes reads the notification router's decisions; nil without one.
	routes func() []sinks.RouteCount
	// forwarded reads the repartition's first hop; nil without one.
	forwarded func() repartition.Stats
	// live is the live view; nil without one.
	live *liveView
	// reloads reads the reloads of the catalog and routing (reload.go);
	// nil before they are set up.
	reloads func() reloadStats

	records, parsed, dead, opened, commitLag, evLag, events, capped, mbCapped, readyG, heldG, windowG, lateC, quiet, adopted, splitG *prometheus.Desc
}

// The notification router's counters (notify.go).
var (
	routedDesc     = prometheus.NewDesc("syncwatch_events_routed_total", "Incident events a route delivered to its notification sinks (webhook, Alertmanager, PagerDuty), by route.", []string{"route"}, nil)
	suppressedDesc = prometheus.NewDesc("syncwatch_events_suppressed_total", "Incident events a route held back from its notification sinks, by route and reason (muted, inhibited, rate_limited; unrouted, route \"\", when no route matched). Kafka and stdout still carry them.", []string{"route", "reason"}, nil)
)

// The reloads of the catalog and the routing (reload.go).
var (
	reloadsDesc          = prometheus.NewDesc("syncwatch_config_reloads_total", "Reloads of the catalog and the routing (SIGHUP, --watch-config), by result: success (applied) or failure (refused: a file has a problem, the running configuration is kept).", []string{"result"}, nil)
	reloadSuccessDesc    = prometheus.NewDesc("syncwatch_config_last_reload_success_timestamp_seconds", "When the catalog and the routing in force were loaded: at start, or by the latest reload that succeeded (Unix time).", nil, nil)
	reloadSuccessfulDesc = prometheus.NewDesc("syncwatch_config_last_reload_successful", "0 while the latest reload was refused (the files hold a configuration that is not running), else 1.", nil, nil)
)

// The repartition's counters (--repartition).
var (
	forwardedDesc      = prometheus.NewDesc("syncwatch_repartition_forwarded_total", "Messages the repartition's first hop wrote to the repartition topic, by kind: record (keyed by tenant/mailbox), dead_letter, mark (a raw partition's event time, to every partition).", []string{"kind"}, nil)
	forwardRetriesDesc = prometheus.NewDesc("syncwatch_repartition_write_retries_total", "Writes to the repartition topic that failed and were tried again (the raw offsets stay uncommitted meanwhile).", nil, nil)
	repeatedDesc       = prometheus.NewDesc("syncwatch_repartition_repeats_dropped_total", "Records a first hop forwarded again after a crash between writing and committing, dropped by the second hop.", nil, nil)
)

func newMetrics() *metrics {
	return &metrics{
		summary:      func() pipeline.Summary { return pipeline.Summary{} },
		lag:          func() map[string]int64 { return nil },
		ready:        func() bool { return false },
		quietFlushes: func() int64 { return 0 },
		split:        func() int { return 0 },
		records:      prometheus.NewDesc("syncwatch_records_in_total", "Log entries read, by producer (recognised from the entry's format).", []string{"producer"}, nil),
		parsed:       prometheus.NewDesc("syncwatch_records_parsed_total", "Log entries normalized, by producer.", []string{"producer"}, nil),
		dead:         prometheus.NewDesc("syncwatch_dead_letters_total", "Entries that could not be parsed and went to the dead-letter topic, by reason.", []string{"reason"}, nil),
		opened:       prometheus.NewDesc("syncwatch_incidents_opened_total", "Incidents opened, by kind and class: sync_error and sync_issue from the detectors, pipeline (format drift, a silent producer) from the health monitor.", []string{"kind", "class"}, nil),
		events:       prometheus.NewDesc("syncwatch_events_out_total", "Incident events delivered to the sinks.", nil, nil),
		commitLag:    prometheus.NewDesc("syncwatch_commit_lag_messages", "Messages between the committed offset and the high-water mark, by topic/partition.", []string{"partition"}, nil),
		evLag:        prometheus.NewDesc("syncwatch_event_time_lag_seconds", "Wall clock minus the latest event time seen, by producer.", []string{"producer"}, nil),
		capped:       prometheus.NewDesc("syncwatch_unknown_templates_capped_total", "Unknown-error failures grouped under the overflow template because their mailbox already had the maximum of distinct templates (a flood of unique messages).", nil, nil),
		heldG:        prometheus.NewDesc("syncwatch_reorder_held_records", "Records held back by the event-time reorder stage until every assigned partition has passed them: the main memory the pipeline holds.", nil, nil),
		windowG:      prometheus.NewDesc("syncwatch_reorder_window_seconds", "The largest reorder window of the assigned partitions: learned from each partition's disorder with --reorder-adaptive (the whole --reorder-window while a partition is new), else --reorder-window. About the latency the reorder stage adds.", nil, nil),
		lateC:        prometheus.NewDesc("syncwatch_reorder_late_records_total", "Records that came after the reorder stage had released past them (further out of order than their partition's window), since the current consumer generation began. Judged out of order: their events may differ from replay's.", nil, nil),
		quiet:        prometheus.NewDesc("syncwatch_quiet_flushes_total", "Times the input brought nothing new for --quiet-after and the decisions waiting for more event time were taken, as at the end of a replay.", nil, nil),
		adopted:      prometheus.NewDesc("syncwatch_incidents_resumed", "Incidents open from before the restore window, carried on from the incidents topic with their ids (--resume-incidents), in the current consumer generation.", nil, nil),
		mbCapped:     prometheus.NewDesc("syncwatch_mailboxes_capped_total", "Records of new mailboxes not judged because the detector already held the maximum of mailboxes (2,000,000): input naming ever new mailboxes, hostile or broken.", nil, nil),
		splitG:       prometheus.NewDesc("syncwatch_mailboxes_split", "Mailboxes whose logs came from more than one partition number: the producers do not key messages by tenant/mailbox. With more than one member in the group, each judges such a mailbox from part of its logs.", nil, nil),
		readyG:       prometheus.NewDesc("syncwatch_source_ready", "1 while the Kafka source is consuming (what /readyz reports), 0 while the broker or a partition leader is unreachable or partitions are being reassigned.", nil, nil),
	}
}

func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.records, m.parsed, m.dead, m.opened, m.events, m.commitLag, m.evLag, m.capped, m.readyG, m.heldG, m.windowG, m.lateC, m.quiet, m.adopted, m.splitG, m.mbCapped, routedDesc, suppressedDesc, forwardedDesc, forwardRetriesDesc, repeatedDesc,
		viewIncidentsDesc, viewBytesDesc, viewCaughtUpDesc, viewStreamsDesc, reloadsDesc, reloadSuccessDesc, reloadSuccessfulDesc} {
		ch <- d
	}
}

func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	s := m.summary()
	lag := m.lag()
	ready := m.ready()
	quiet := m.quietFlushes()
	split := m.split()
	routes := m.routes
	forwarded := m.forwarded
	live := m.live
	reloads := m.reloads
	m.mu.Unlock()
	if live != nil {
		live.collect(ch)
	}
	if reloads != nil {
		rs := reloads()
		ch <- prometheus.MustNewConstMetric(reloadsDesc, prometheus.CounterValue, float64(rs.successes), "success")
		ch <- prometheus.MustNewConstMetric(reloadsDesc, prometheus.CounterValue, float64(rs.failures), "failure")
		ch <- prometheus.MustNewConstMetric(reloadSuccessDesc, prometheus.GaugeValue, float64(rs.lastSuccess.UnixNano())/1e9)
		ok := 1.0
		if rs.lastFailed {
			ok = 0
		}
		ch <- prometheus.MustNewConstMetric(reloadSuccessfulDesc, prometheus.GaugeValue, ok)
	}
	if forwarded != nil {
		f := forwarded()
		ch <- prometheus.MustNewConstMetric(forwardedDesc, prometheus.CounterValue, float64(f.Records), "record")
		ch <- prometheus.MustNewConstMetric(forwardedDesc, prometheus.CounterValue, float64(f.DeadLetters), "dead_letter")
		ch <- prometheus.MustNewConstMetric(forwardedDesc, prometheus.CounterValue, float64(f.Marks), "mark")
		ch <- prometheus.MustNewConstMetric(forwardRetriesDesc, prometheus.CounterValue, float64(f.WriteRetries))
	}
	ch <- prometheus.MustNewConstMetric(repeatedDesc, prometheus.CounterValue, float64(s.Normalize.Repeated))
	if routes != nil {
		for _, c := range routes() {
			if c.Verdict == sinks.VerdictDelivered {
				ch <- prometheus.MustNewConstMetric(routedDesc, prometheus.CounterValue, float64(c.N), c.Route)
			} else {
				ch <- prometheus.MustNewConstMetric(suppressedDesc, prometheus.CounterValue, float64(c.N), c.Route, c.Verdict.String())
			}
		}
	}
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
	ch <- prometheus.MustNewConstMetric(m.capped, prometheus.CounterValue, float64(s.Detection.TemplatesCapped))
	ch <- prometheus.MustNewConstMetric(m.mbCapped, prometheus.CounterValue, float64(s.Detection.MailboxesCapped))
	readyV := 0.0
	if ready {
		readyV = 1
	}
	ch <- prometheus.MustNewConstMetric(m.readyG, prometheus.GaugeValue, readyV)
	ch <- prometheus.MustNewConstMetric(m.heldG, prometheus.GaugeValue, float64(s.Held))
	ch <- prometheus.MustNewConstMetric(m.windowG, prometheus.GaugeValue, s.Window.Seconds())
	ch <- prometheus.MustNewConstMetric(m.lateC, prometheus.CounterValue, float64(s.Late))
	ch <- prometheus.MustNewConstMetric(m.quiet, prometheus.CounterValue, float64(quiet))
	ch <- prometheus.MustNewConstMetric(m.splitG, prometheus.GaugeValue, float64(split))
	ch <- prometheus.MustNewConstMetric(m.adopted, prometheus.GaugeValue, float64(s.Detection.Adopted))
	for p, n := range lag {
		ch <- prometheus.MustNewConstMetric(m.commitLag, prometheus.GaugeValue, float64(n), p)
	}
}

// handler serves /metrics, /healthz and /readyz.
func (m *metrics) handler() *http.ServeMux {
	reg := prometheus.NewRegistry()
	reg.MustRegister(m, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	// Profiles, for `go tool pprof http://ADDR/debug/pprof/profile`: the
	// endpoint is on --metrics-addr, loopback by default.
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		m.mu.Lock()
		ready := m.ready
		m.mu.Unlock()
		if !ready() {
			http.Error(w, "not ready: broker unreachable or no partitions assigned", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	return mux
}
