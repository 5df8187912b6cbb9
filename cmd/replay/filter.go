package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/syncwatch/syncwatch/pipeline/parse"
	"github.com/syncwatch/syncwatch/schemas"
)

// eventFilter selects the events a replay writes (--tenant, --mailbox,
// --kind, --class, --since, --until). It filters the output only:
// detection sees every entry, so the events written are exactly the
// matching events of an unfiltered run.
type eventFilter struct {
	tenants, mailboxes, kinds, classes []string
	since, until                       time.Time
}

// active reports whether the filter drops anything.
// describe writes the filters as the flags that set them, "" when none.
func (f *eventFilter) describe() string {
	var parts []string
	for _, x := range []struct {
		flag string
		vals []string
	}{{"--tenant", f.tenants}, {"--mailbox", f.mailboxes}, {"--kind", f.kinds}, {"--class", f.classes}} {
		if len(x.vals) > 0 {
			parts = append(parts, x.flag+" "+strings.Join(x.vals, ","))
		}
	}
	if !f.since.IsZero() {
		parts = append(parts, "--since "+f.since.UTC().Format(time.RFC3339))
	}
	if !f.until.IsZero() {
		parts = append(parts, "--until "+f.until.UTC().Format(time.RFC3339))
	}
	return strings.Join(parts, " ")
}

func (f *eventFilter) active() bool {
	return len(f.tenants)+len(f.mailboxes)+len(f.kinds)+len(f.classes) > 0 || !f.since.IsZero() || !f.until.IsZero()
}

// keep is the DeliverStage filter. Mailboxes compare case-insensitively
// (addresses do); a class ending in ".*" matches every class under it.
func (f *eventFilter) keep(e *schemas.IncidentEvent) bool {
	d := &e.Data
	if len(f.tenants) > 0 && !slices.Contains(f.tenants, d.Tenant) {
		return false
	}
	if len(f.mailboxes) > 0 && !slices.ContainsFunc(f.mailboxes, func(m string) bool { return strings.EqualFold(m, d.Mailbox) }) {
		return false
	}
	if len(f.kinds) > 0 && !slices.Contains(f.kinds, d.Kind) {
		return false
	}
	if len(f.classes) > 0 && !slices.ContainsFunc(f.classes, func(c string) bool { return classMatches(c, d.Class) }) {
		return false
	}
	if !f.since.IsZero() && e.Time.Before(f.since) {
		return false
	}
	if !f.until.IsZero() && !e.Time.Before(f.until) {
		return false
	}
	return true
}

func classMatches(pattern, class string) bool {
	if prefix, ok := strings.CutSuffix(pattern, ".*"); ok {
		return strings.HasPrefix(class, prefix+".")
	}
	return pattern == class
}

// validate checks the values that can be checked without the data.
func (f *eventFilter) validate() []error {
	var errs []error
	for _, k := range f.kinds {
		if k != schemas.KindSyncError && k != schemas.KindSyncIssue && k != schemas.KindPipeline {
			errs = append(errs, fmt.Errorf("--kind %q: want %s, %s or %s", k, schemas.KindSyncError, schemas.KindSyncIssue, schemas.KindPipeline))
		}
	}
	if !f.since.IsZero() && !f.until.IsZero() && !f.until.After(f.since) {
		errs = append(errs, fmt.Errorf("--until: must be after --since"))
	}
	return errs
}

// listFlag is a flag.Value taking comma-separated values; it may be
// repeated, and the values add up.
type listFlag struct{ dst *[]string }

func (l listFlag) String() string {
	if l.dst == nil {
		return ""
	}
	return strings.Join(*l.dst, ",")
}

func (l listFlag) Set(s string) error {
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l.dst = append(*l.dst, v)
		}
	}
	return nil
}

// timeFlag is a flag.Value taking an RFC 3339 time. Seconds may be left
// out ("2026-11-20T00:00Z") and so may the time ("2026-11-20", midnight
// UTC).
type timeFlag struct{ dst *time.Time }

// timeLayouts are the layouts timeFlag accepts, tried in order.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02"}

func (t timeFlag) String() string {
	if t.dst == nil || t.dst.IsZero() {
		return ""
	}
	return t.dst.Format(time.RFC3339Nano)
}

func (t timeFlag) Set(s string) error {
	for _, l := range timeLayouts {
		if v, err := time.Parse(l, s); err == nil {
			*t.dst = v.UTC()
			return nil
		}
	}
	return fmt.Errorf("not an RFC 3339 time (2026-11-20T00:00:00Z, 2026-11-20T00:00Z or 2026-11-20)")
}

// envelopeFlag is a flag.Value for parse.Envelope.
type envelopeFlag struct{ dst *parse.Envelope }

func (e envelopeFlag) String() string {
	if e.dst == nil {
		return parse.EnvelopeAuto.String()
	}
	return e.dst.String()
}

func (e envelopeFlag) Set(s string) error {
	v, err := parse.ParseEnvelope(s)
	if err != nil {
		return err
	}
	*e.dst = v
	return nil
}
