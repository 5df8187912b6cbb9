package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/syncwatch/syncwatch/schemas"
	"github.com/syncwatch/syncwatch/sinks"
)

// printer is a sink that prints each event as one readable line (or as
// its JSON with asJSON), for --demo.
type printer struct {
	mu     sync.Mutex
	w      io.Writer
	asJSON bool
	counts map[string]int
}

var _ sinks.Sink = (*printer)(nil)

func newPrinter(w io.Writer, asJSON bool) *printer {
	return &printer{w: w, asJSON: asJSON, counts: map[string]int{}}
}

func (p *printer) Write(_ context.Context, events []schemas.IncidentEvent) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ev := range events {
		p.counts[ev.Type[strings.LastIndexByte(ev.Type, '.')+1:]+" "+ev.Data.Kind]++
		if p.asJSON {
			b, err := json.Marshal(ev)
			if err != nil {
				return fmt.Errorf("encoding event: %w", err)
			}
			if _, err := fmt.Fprintf(p.w, "%s\n", b); err != nil {
				return err
			}
			continue
		}
		d := ev.Data
		verb := strings.ToUpper(ev.Type[strings.LastIndexByte(ev.Type, '.')+1:])
		line := fmt.Sprintf("%s  %-8s %-10s %-32s %s/%s", ev.Time.UTC().Format("2006-01-02 15:04:05"), verb, d.Kind, d.Class, d.Tenant, d.Mailbox)
		if d.Template != "" {
			line += fmt.Sprintf("  [%s]", d.Template)
		}
		if verb == "OPENED" {
			line += "\n      " + d.Title + " — fix: " + d.Remediation
		}
		if _, err := fmt.Fprintln(p.w, line); err != nil {
			return err
		}
	}
	return nil
}

func (p *printer) Close(context.Context) error { return nil }

func (p *printer) summary() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.counts))
	for k, v := range p.counts {
		out[k] = v
	}
	return out
}
