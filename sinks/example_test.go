package sinks_test

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/syncwatch/syncwatch/schemas"
	"github.com/syncwatch/syncwatch/sinks"
)

// kindCounter is a Sink plugin that counts incident events by kind, e.g.
// to feed a dashboard. A Sink needs only Write and Close.
type kindCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

var _ sinks.Sink = (*kindCounter)(nil)

// Write counts the batch. It honours ctx like any Sink: a cancelled ctx
// means the batch is not delivered.
func (k *kindCounter) Write(ctx context.Context, events []schemas.IncidentEvent) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, e := range events {
		k.counts[e.Data.Kind]++
	}
	return nil
}

// Close has nothing to flush.
func (k *kindCounter) Close(ctx context.Context) error { return nil }

func Example_customSink() {
	event := func(id, kind string) schemas.IncidentEvent {
		return schemas.IncidentEvent{
			SpecVersion: schemas.SpecVersion, ID: id + "-1", Source: "syncwatch/example",
			Type: schemas.TypeOpened, Subject: "t-1042/anna.berg@contoso.com",
			DataContentType: schemas.DataContentType,
			Data: schemas.IncidentData{
				IncidentID: id, Kind: kind, Class: "exchange.auth.password",
				Status: schemas.StatusOpen, Severity: schemas.SeverityCritical,
				Occurrences: 1, Runs: []string{"7f3a9c"}, SampleRecords: []string{},
				Details: map[string]any{}, Evidence: []schemas.Evidence{},
			},
		}
	}
	events := []schemas.IncidentEvent{
		event("inc-000000000001", schemas.KindSyncError),
		event("inc-000000000002", schemas.KindSyncIssue),
		event("inc-000000000003", schemas.KindSyncError),
	}
	for _, e := range events {
		if err := schemas.ValidateEvent(e); err != nil {
			fmt.Println("invalid event:", err)
			return
		}
	}

	// The plugin runs beside the built-in sinks, behind a Fanout.
	counter := &kindCounter{counts: map[string]int{}}
	memory := sinks.NewMemory()
	out := sinks.NewFanout(counter, memory)
	ctx := context.Background()
	if err := out.Write(ctx, events); err != nil {
		fmt.Println("not delivered, retry the batch:", err)
		return
	}
	if err := out.Close(ctx); err != nil {
		fmt.Println("closing:", err)
	}

	kinds := make([]string, 0, len(counter.counts))
	for kind := range counter.counts {
		kinds = append(kinds, kind)
	}
	slices.Sort(kinds)
	for _, kind := range kinds {
		fmt.Printf("%s: %d\n", kind, counter.counts[kind])
	}
	fmt.Println("memory sink:", len(memory.Events()), "events")
	// Output:
	// sync_error: 2
	// sync_issue: 1
	// memory sink: 3 events
}
