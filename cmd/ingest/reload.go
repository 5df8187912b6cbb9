package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-multierror"

	"github.com/syncwatch/syncwatch/detectors"
	"github.com/syncwatch/syncwatch/sinks"
)

// Reloading. The catalog (--catalog) and the routing (routing: of
// --config) are read again on SIGHUP and, with --watch-config, when
// their files change. Everything is checked before anything changes: a
// file with problems is refused, every problem logged at error level, and
// the running catalog and routing stay. A reload that passes swaps the
// catalog under the running pipelines at once (detectors.LiveCatalog: the
// next record asked about is classified under it; incidents already open
// keep their class) and hands the routing to the router, whose next batch
// meets it (sinks.Router.Reload). Settings that cannot change while
// running (brokers, topics, group, sinks' URLs...) are named in a warning
// and kept until the next start.

// watchInterval is how often --watch-config polls the files.
var watchInterval = time.Second

// configSource is where the running configuration came from.
type configSource struct {
	// path is the config file, "" without one.
	path string
	// reread resolves the configuration again, as at start: the file,
	// under the environment, under the flags given.
	reread func() (Config, error)
}

// source is what a reload reads again: the config file (--config or
// SYNCWATCH_CONFIG) under the same environment and flags.
func (f *cliFlags) source(getenv func(string) string) *configSource {
	return &configSource{
		path:   cmp.Or(f.config, getenv("SYNCWATCH_CONFIG")),
		reread: func() (Config, error) { return f.resolve(getenv) },
	}
}

// loadCatalog loads the catalog file path merged over the embedded
// catalog, or the embedded catalog alone when path is "".
func loadCatalog(path string) (*detectors.Catalog, error) {
	if path == "" {
		return detectors.DefaultCatalog()
	}
	return detectors.LoadCatalog(path)
}

// liveDetectors builds the detector chain on a live catalog holding the
// catalog of path, which reloads replace.
func liveDetectors(path string) ([]detectors.Detector, *detectors.LiveCatalog, error) {
	cat, err := loadCatalog(path)
	if err != nil {
		return nil, nil, err
	}
	live := detectors.NewLiveCatalog(cat)
	dets, err := detectors.Build(nil, detectors.Options{Live: live})
	if err != nil {
		return nil, nil, err
	}
	return dets, live, nil
}

// reloadStats are the reloads so far, for /metrics.
type reloadStats struct {
	successes, failures int64
	// lastSuccess is when the catalog and routing in force were loaded:
	// at start, or by the latest reload that passed.
	lastSuccess time.Time
	// lastFailed: the latest reload was refused.
	lastFailed bool
}

// reloader reloads the catalog and the routing on SIGHUP and, with
// Config.WatchConfig, when their files change.
type reloader struct {
	log    *slog.Logger
	source *configSource // nil: reload the catalog file alone
	live   *detectors.LiveCatalog
	router *sinks.Router // nil: no notification sink

	mu sync.Mutex // one reload at a time; guards running and seen
	// running is the configuration in force: as at start, but for the
	// catalog and routing of the latest reload that passed.
	running Config
	// seen is the files' fingerprint when they were last read.
	seen string

	successes, failures atomic.Int64
	lastSuccess         atomic.Int64 // unix nanoseconds
	lastFailed          atomic.Bool

	hup    chan os.Signal
	cancel context.CancelFunc
	done   chan struct{}
}

// startReloader starts reloading on SIGHUP (and on file changes with
// cfg.WatchConfig) until ctx ends or stop is called. cfg is the running
// configuration, live holds its catalog, router (nil without
// notification sinks) applies its routing.
func startReloader(ctx context.Context, cfg Config, live *detectors.LiveCatalog, router *sinks.Router, log *slog.Logger) *reloader {
	r := &reloader{
		log: log, source: cfg.source, live: live, router: router, running: cfg,
		hup: make(chan os.Signal, 1), done: make(chan struct{}),
	}
	r.lastSuccess.Store(time.Now().UnixNano())
	r.seen = r.fingerprint(cfg.Catalog)
	signal.Notify(r.hup, syscall.SIGHUP)
	ctx, r.cancel = context.WithCancel(ctx)
	var every time.Duration
	if cfg.WatchConfig {
		every = watchInterval
		log.Info("watching the configuration files: a change reloads the catalog and the routing", "files", r.files(cfg.Catalog), "every", every)
	}
	go r.loop(ctx, every)
	return r
}

// stop stops reloading and waits for a reload under way.
func (r *reloader) stop() {
	signal.Stop(r.hup)
	r.cancel()
	<-r.done
}

func (r *reloader) stats() reloadStats {
	return reloadStats{
		successes: r.successes.Load(), failures: r.failures.Load(),
		lastSuccess: time.Unix(0, r.lastSuccess.Load()), lastFailed: r.lastFailed.Load(),
	}
}

// loop reloads on SIGHUP and, every > 0, when the files' fingerprint
// changes, polling them at that interval.
func (r *reloader) loop(ctx context.Context, every time.Duration) {
	defer close(r.done)
	var tick <-chan time.Time
	if every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
	}
	settling := "" // a new fingerprint seen once: reload when it holds
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.hup:
			r.reload("SIGHUP")
		case <-tick:
			r.mu.Lock()
			seen, catalog := r.seen, r.running.Catalog
			r.mu.Unlock()
			fp := r.fingerprint(catalog)
			switch {
			case fp == seen:
				settling = ""
			case fp != settling:
				// changed since the last poll: wait for one more poll
				// without change, so that a file being written is read
				// whole
				settling = fp
			default:
				settling = ""
				r.reload("file change")
			}
		}
	}
}

// files are the files a reload reads: the config file, the catalog file.
func (r *reloader) files(catalog string) []string {
	var files []string
	if r.source != nil && r.source.path != "" {
		files = append(files, r.source.path)
	}
	if catalog != "" {
		files = append(files, catalog)
	}
	return files
}

// fingerprint identifies the contents of the files, with the catalog
// file at path catalog: any change of one, its appearance or
// disappearance changes it, whatever its modification time says. Editors
// that write a new file and rename it over the old one change it too.
func (r *reloader) fingerprint(catalog string) string {
	var b strings.Builder
	for _, p := range r.files(catalog) {
		data, err := os.ReadFile(p)
		if err != nil {
			fmt.Fprintf(&b, "%s: %v\n", p, err)
			continue
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(&b, "%s: %s\n", p, hex.EncodeToString(sum[:]))
	}
	return b.String()
}

// reload reads the configuration and the catalog again and applies their
// catalog and routing, or nothing if a file has a problem: the error
// then names every problem, and is logged. trigger says what asked for
// the reload, in the log.
func (r *reloader) reload(trigger string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	// what is read from here on is at least as new as this
	r.seen = r.fingerprint(r.running.Catalog)
	next, cat, err := r.load()
	if err == nil && r.router != nil {
		err = r.router.Reload(next.Routing) // checked by load already: applied by the next batch
	}
	// logged, then counted: whoever sees the count can read the log
	if err != nil {
		ps := problems(err)
		r.log.Error("reloading the configuration failed: the running catalog and routing are kept",
			"trigger", trigger, "problems", len(ps), "err", strings.Join(ps, "; "))
		r.lastFailed.Store(true)
		r.failures.Add(1)
		return err
	}
	if keys := r.restartOnly(next); len(keys) > 0 {
		r.log.Warn("the configuration changes settings that apply only at start: they are kept until ingest restarts",
			"trigger", trigger, "keys", strings.Join(keys, ", "))
	}
	r.live.Store(cat)
	if r.router != nil {
		r.running.Routing = next.Routing
	}
	if r.running.Catalog != next.Catalog {
		r.seen = r.fingerprint(next.Catalog) // another catalog file to watch
	}
	r.running.Catalog = next.Catalog
	r.log.Info("reloaded the catalog and the routing", "trigger", trigger,
		"catalog", cmp.Or(next.Catalog, "(embedded)"), "classes", len(cat.Entries()),
		"routes", len(r.running.Routing.Routes), "mutes", len(r.running.Routing.Mutes))
	r.lastSuccess.Store(time.Now().UnixNano())
	r.lastFailed.Store(false)
	r.successes.Add(1)
	return nil
}

// load reads the configuration and the catalog it names, and checks
// them: the configuration as at start, the routing against the running
// notification sinks. Every problem is in the error.
func (r *reloader) load() (Config, *detectors.Catalog, error) {
	var errs *multierror.Error
	next := r.running
	if r.source != nil {
		cfg, err := r.source.reread()
		if err == nil {
			err = cfg.Validate(false)
		}
		if err != nil {
			errs = multierror.Append(errs, err)
		} else {
			next = cfg
		}
		// sinks cannot be added live: routes may name the running ones only
		if running := r.runningSinks(); err == nil && r.router != nil && !slices.Equal(running, slices.Sorted(slices.Values(next.notifyNames()))) {
			if err := next.Routing.Validate(running); err != nil {
				errs = multierror.Append(errs, fmt.Errorf("routing, against the running notification sinks %v: %w", running, err))
			}
		}
	}
	cat, err := loadCatalog(next.Catalog)
	if err != nil {
		errs = multierror.Append(errs, err)
	}
	return next, cat, errs.ErrorOrNil()
}

// runningSinks are the names of the running notification sinks, sorted.
func (r *reloader) runningSinks() []string {
	if r.router == nil {
		return nil
	}
	return r.router.Sinks()
}

// restartOnly lists the keys whose values next changes that a reload
// does not apply: all but catalog and routing (and routing too when no
// notification sink runs).
func (r *reloader) restartOnly(next Config) []string {
	var keys []string
	changedKeys(reflect.ValueOf(r.running), reflect.ValueOf(next), "", &keys)
	if r.router == nil && !reflect.DeepEqual(r.running.Routing, next.Routing) {
		keys = append(keys, "routing (no notification sink runs)")
	}
	return keys
}

// liveKeys are the keys a reload applies.
var liveKeys = map[string]bool{"catalog": true, "routing": true}

// changedKeys appends to keys the config keys whose values differ
// between a and b (Configs, or structs of them), live keys excepted.
// Values are never printed: secrets are among them.
func changedKeys(a, b reflect.Value, prefix string, keys *[]string) {
	t := a.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if strings.Contains(opts, "inline") {
			changedKeys(a.Field(i), b.Field(i), prefix, keys)
			continue
		}
		if name == "" || name == "-" || !f.IsExported() || liveKeys[prefix+name] {
			continue
		}
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Duration(0)) && f.Type != reflect.TypeOf(time.Time{}) {
			changedKeys(a.Field(i), b.Field(i), prefix+name+".", keys)
			continue
		}
		if !reflect.DeepEqual(a.Field(i).Interface(), b.Field(i).Interface()) {
			*keys = append(*keys, prefix+name)
		}
	}
}

// problems lists the problems err combines, one a line's worth each: the
// errors of the multierrors in it, each with what wraps it unless it
// names its file and line itself ("decoding config F: F:9: ..." is
// "F:9: ...").
func problems(err error) []string {
	var me *multierror.Error
	if !errors.As(err, &me) {
		return []string{err.Error()}
	}
	prefix := strings.TrimSuffix(err.Error(), me.Error())
	var out []string
	for _, e := range me.Errors {
		for _, p := range problems(e) {
			if file, _, ok := strings.Cut(p, ":"); !ok || file == "" || !strings.Contains(prefix, file) {
				p = prefix + p
			}
			out = append(out, p)
		}
	}
	return out
}
