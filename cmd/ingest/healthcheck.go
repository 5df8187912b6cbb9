package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/syncwatch/syncwatch/cmd/internal/cliusage"
)

// runHealthcheck is `ingest healthcheck`: one GET of /healthz on a running
// ingest, exit 0 when it answers 200 and 1 otherwise. It exists for the
// container image's HEALTHCHECK: a FROM scratch image has no shell or curl.
//
// The address defaults to the one the server listens on (the
// SYNCWATCH_METRICS_ADDR the image sets, else ingest's default), with an
// unspecified host ("0.0.0.0", "::", "") dialled on loopback.
func runHealthcheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	addr := getenv("SYNCWATCH_METRICS_ADDR")
	if addr == "" {
		addr = defaultConfig().MetricsAddr
	}
	fs := flag.NewFlagSet("ingest healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&addr, "addr", addr, "`host:port` of ingest's /healthz (default: SYNCWATCH_METRICS_ADDR, else 127.0.0.1:9108)")
	timeout := fs.Duration("timeout", 2*time.Second, "how long to wait for the answer")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: ingest healthcheck [--addr HOST:PORT] [--timeout D]\n\nExit 0 when /healthz answers 200, 1 otherwise.\n\nFlags:\n")
		cliusage.PrintDefaults(fs)
	}
	if err := cliusage.Parse(fs, args, "ingest healthcheck", stderr, fs.Usage); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if err := checkHealth(ctx, addr, *timeout); err != nil {
		fmt.Fprintf(stderr, "ingest healthcheck: %v\n", err)
		return exitUsage // 1: what Docker reads as unhealthy
	}
	fmt.Fprintln(stdout, "healthy")
	return exitOK
}

// checkHealth GETs http://addr/healthz within timeout and fails unless the
// answer is 200.
func checkHealth(ctx context.Context, addr string, timeout time.Duration) error {
	if addr == "off" {
		return errors.New("the metrics server is off (--metrics-addr off): nothing to check")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("parsing --addr %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1" // a server on every interface is reachable on loopback
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	url := "http://" + net.JoinHostPort(host, port) + "/healthz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("building request: %w", err)
	}
	// no proxy: the check is always local to the container
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("getting %s: %w", url, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("getting %s: %s", url, resp.Status)
	}
	return nil
}
