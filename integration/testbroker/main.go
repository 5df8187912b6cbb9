// Command testbroker runs the embedded kfake broker (pipeline/kfakebroker)
// as a program of its own, so that the container tests can put a Kafka
// broker on a Docker network without pulling a Kafka image: it is built
// static and packed FROM scratch like ingest.
//
//	testbroker [--addr 0.0.0.0:9092] [--advertised-host broker] [--partitions 3] [--topics a,b]
//
// The broker advertises --advertised-host with the real listening port, so
// containers on the network reach it under its network alias; clients
// outside (the test on the host) dial the mapped port and rewrite the
// advertised address. It prints "testbroker ready" once it accepts
// connections and runs until SIGTERM or SIGINT.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/syncwatch/syncwatch/pipeline/kafkasource"
	"github.com/syncwatch/syncwatch/pipeline/kfakebroker"
)

// defaultTopics are syncwatch's topics: the producers' and ingest's outputs.
var defaultTopics = append(append([]string(nil), kafkasource.DefaultTopics...), "sync.incidents", "sync.deadletter")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("testbroker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "0.0.0.0:9092", "`host:port` to listen on")
	adv := fs.String("advertised-host", "broker", "host name given to clients (the broker's network alias)")
	parts := fs.Int("partitions", 3, "partitions of every topic")
	topics := fs.String("topics", strings.Join(defaultTopics, ","), "topics created at start, comma-separated")
	if err := fs.Parse(args); err != nil {
		return 1
	}
	var ts []string
	for _, t := range strings.Split(*topics, ",") {
		if t = strings.TrimSpace(t); t != "" {
			ts = append(ts, t)
		}
	}
	b, err := kfakebroker.Start(kfakebroker.Config{Addr: *addr, AdvertisedHost: *adv, Partitions: *parts, Topics: ts})
	if err != nil {
		fmt.Fprintf(stderr, "testbroker: %v\n", err)
		return 1
	}
	defer b.Close()
	fmt.Fprintf(stdout, "testbroker ready: listening on %s, advertised as %s, topics %s (%d partitions)\n",
		*addr, strings.Join(b.Addrs(), ","), strings.Join(ts, ","), *parts)
	<-ctx.Done()
	fmt.Fprintln(stdout, "testbroker stopping")
	return 0
}
