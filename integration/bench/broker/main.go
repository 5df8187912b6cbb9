// Command broker runs the embedded kfake broker (pipeline/kfakebroker) as
// a process of its own for integration/bench.sh, so that kcat and ingest
// measure against the same broker over TCP and the broker's CPU is not
// counted as theirs.
//
//	broker [--addr 127.0.0.1:0] [--partitions 3]
//
// It creates syncwatch's topics (the producers', incidents, dead letters),
// prints "broker HOST:PORT" on stdout once it accepts connections, and runs
// until SIGTERM or SIGINT.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/syncwatch/syncwatch/pipeline/kafkasource"
	"github.com/syncwatch/syncwatch/pipeline/kfakebroker"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "`host:port` to listen on")
	parts := flag.Int("partitions", 3, "partitions of every topic")
	flag.Parse()
	topics := append(append([]string(nil), kafkasource.DefaultTopics...), "sync.incidents", "sync.deadletter")
	b, err := kfakebroker.Start(kfakebroker.Config{Addr: *addr, Partitions: *parts, Topics: topics})
	if err != nil {
		fmt.Fprintf(os.Stderr, "broker: %v\n", err)
		os.Exit(1)
	}
	defer b.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Printf("broker %s\n", b.Addrs()[0])
	<-ctx.Done()
}
