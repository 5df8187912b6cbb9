package loggen_test

// An independent reading of a generated corpus: strict parsers for the
// three clean formats, a tolerant recognizer for dirty entries, a message
// classifier that knows both wordings, and detection.md's rules applied to
// the parsed runs. The truth Generate returns must equal what this
// reference derives from the lines alone.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/schemas"
)

type pline struct {
	prod                 schemas.Producer
	t                    time.Time
	level                string
	tenant, mailbox, run string
	kind                 string // started finished runfailed synced recfailed error warn info
	record               string
	msg                  string
	status               int
	synced, failed       int
}

var (
	reExFirst = regexp.MustCompile(`^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \[(\d+)\] (DEBUG|INFO |WARN |ERROR) (ExchangeConnector\.(?:SyncWorker|EwsClient)) - \[(t-\d+)/([a-z0-9.]+@[a-z0-9.]+)/run:([0-9a-f]{6})\] (.+)$`)
	reExCont  = regexp.MustCompile(`^(System\.|Microsoft\.|   at )`)
	reItem    = regexp.MustCompile(`^item ([A-Z]{4}-\d{5}) (synced|failed: (.+))$`)
	reEngTS   = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	reRecord  = regexp.MustCompile(`^(APPT|CONT|MAIL|TASK)-\d{5}$`)
	reTenant  = regexp.MustCompile(`^t-\d+$`)
	reRun     = regexp.MustCompile(`^[0-9a-f]{6}$`)
)

// parseLogfmt splits a logfmt line; ok is false on a syntax error
// (unclosed quote, token without '=').
func parseLogfmt(s string) (kv map[string]string, order []string, ok bool) {
	kv = map[string]string{}
	for i := 0; i < len(s); {
		if s[i] == ' ' {
			i++
			continue
		}
		eq := strings.IndexByte(s[i:], '=')
		if eq <= 0 {
			return nil, nil, false
		}
		key := s[i : i+eq]
		if strings.ContainsAny(key, " \"") {
			return nil, nil, false
		}
		i += eq + 1
		var val strings.Builder
		if i < len(s) && s[i] == '"' {
			i++
			closed := false
			for i < len(s) {
				c := s[i]
				if c == '\\' && i+1 < len(s) {
					val.WriteByte(s[i+1])
					i += 2
					continue
				}
				i++
				if c == '"' {
					closed = true
					break
				}
				val.WriteByte(c)
			}
			if !closed {
				return nil, nil, false
			}
		} else {
			j := strings.IndexByte(s[i:], ' ')
			if j < 0 {
				j = len(s) - i
			}
			val.WriteString(s[i : i+j])
			i += j
		}
		kv[key] = val.String()
		order = append(order, key)
	}
	return kv, order, true
}

// parseClean parses one clean entry of producer p strictly.
func parseClean(p schemas.Producer, raw []byte) (pline, error) {
	l := pline{prod: p}
	switch p {
	case schemas.ProducerExchange:
		parts := strings.Split(string(raw), "\n")
		m := reExFirst.FindStringSubmatch(parts[0])
		if m == nil {
			return l, fmt.Errorf("exchange line shape: %q", parts[0])
		}
		for _, c := range parts[1:] {
			if !reExCont.MatchString(c) {
				return l, fmt.Errorf("exchange continuation shape: %q", c)
			}
		}
		t, err := time.Parse("2006-01-02 15:04:05.000", strings.Replace(m[1], ",", ".", 1))
		if err != nil {
			return l, err
		}
		l.t, l.level, l.tenant, l.mailbox, l.run = t, strings.TrimSpace(m[3]), m[5], m[6], m[7]
		msg := m[8]
		if im := reItem.FindStringSubmatch(msg); im != nil {
			l.record = im[1]
			if im[2] == "synced" {
				l.kind = "synced"
				if l.level != "INFO" {
					return l, fmt.Errorf("synced item at level %s", l.level)
				}
			} else {
				l.kind, l.msg = "recfailed", im[3]
				if l.level != "ERROR" {
					return l, fmt.Errorf("failed item at level %s", l.level)
				}
			}
			return l, nil
		}
		l.msg = msg
		switch l.level {
		case "ERROR":
			l.kind = "error"
		case "WARN":
			l.kind = "warn"
		default:
			l.kind = "info"
		}
		return l, nil
	case schemas.ProducerEngine:
		kv, order, ok := parseLogfmt(string(raw))
		if !ok {
			return l, fmt.Errorf("logfmt syntax: %q", raw)
		}
		want := []string{"ts", "level", "component", "tenant", "mailbox", "run", "event"}
		if len(order) < len(want) || strings.Join(order[:len(want)], " ") != strings.Join(want, " ") {
			return l, fmt.Errorf("logfmt key order %v", order)
		}
		if !reEngTS.MatchString(kv["ts"]) || kv["component"] != "sync-engine" {
			return l, fmt.Errorf("logfmt ts/component: %q", raw)
		}
		l.t, _ = time.Parse(time.RFC3339Nano, kv["ts"])
		l.level, l.tenant, l.mailbox, l.run = strings.ToUpper(kv["level"]), kv["tenant"], kv["mailbox"], kv["run"]
		extra := map[string][]string{
			"run_started": {"direction"}, "record_synced": {"record"}, "record_failed": {"record", "msg"},
			"run_failed": {"msg"}, "run_finished": {"synced", "failed", "duration_ms"},
		}
		ev := kv["event"]
		keys, known := extra[ev]
		if !known || strings.Join(order[len(want):], " ") != strings.Join(keys, " ") {
			return l, fmt.Errorf("logfmt event %q keys %v", ev, order)
		}
		levels := map[string]string{"record_failed": "WARN", "run_failed": "ERROR"}
		if lv, ok := levels[ev]; (ok && l.level != lv) || (!ok && l.level != "INFO") {
			return l, fmt.Errorf("event %s at level %s", ev, l.level)
		}
		l.record, l.msg = kv["record"], kv["msg"]
		switch ev {
		case "run_started":
			l.kind = "started"
		case "record_synced":
			l.kind = "synced"
		case "record_failed":
			l.kind = "recfailed"
		case "run_failed":
			l.kind = "runfailed"
		case "run_finished":
			l.kind = "finished"
			var err error
			if l.synced, err = strconv.Atoi(kv["synced"]); err != nil {
				return l, err
			}
			if l.failed, err = strconv.Atoi(kv["failed"]); err != nil {
				return l, err
			}
			if _, err = strconv.Atoi(kv["duration_ms"]); err != nil {
				return l, err
			}
		}
		return l, nil
	default:
		var j struct {
			TS         string `json:"@timestamp"`
			Level      string `json:"level"`
			Logger     string `json:"logger"`
			Tenant     string `json:"tenant"`
			Mailbox    string `json:"mailbox"`
			RunID      string `json:"runId"`
			RecordType string `json:"recordType"`
			RecordID   string `json:"recordId"`
			HTTP       *struct {
				Method string `json:"method"`
				URL    string `json:"url"`
				Status int    `json:"status"`
			} `json:"http"`
			Message string `json:"message"`
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&j); err != nil {
			return l, fmt.Errorf("json: %w: %q", err, raw)
		}
		if !reEngTS.MatchString(j.TS) || (j.Level != "INFO" && j.Level != "ERROR") {
			return l, fmt.Errorf("json ts/level: %q", raw)
		}
		l.t, _ = time.Parse(time.RFC3339Nano, j.TS)
		l.level, l.tenant, l.mailbox, l.run, l.msg = j.Level, j.Tenant, j.Mailbox, j.RunID, j.Message
		if j.Logger == "C4CC.Connector.Session" {
			if j.RecordID != "" || j.HTTP != nil {
				return l, fmt.Errorf("json session line with a record: %q", raw)
			}
			l.kind = map[string]string{"INFO": "info", "ERROR": "error"}[j.Level]
			return l, nil
		}
		if j.Logger != "C4CC.Connector.Push" || j.HTTP == nil || j.HTTP.Method != "POST" {
			return l, fmt.Errorf("json logger/http: %q", raw)
		}
		types := map[string]string{"APPT": "Appointment", "CONT": "Contact", "MAIL": "EMail", "TASK": "Task"}
		if !reRecord.MatchString(j.RecordID) || types[j.RecordID[:4]] != j.RecordType {
			return l, fmt.Errorf("json record: %q", raw)
		}
		wantURL := "https://my" + strings.TrimPrefix(j.Tenant, "t-") + ".crm.ondemand.com/sap/c4c/odata/v1/c4codataapi/" + j.RecordType + "Collection"
		if j.HTTP.URL != wantURL {
			return l, fmt.Errorf("json url %q", j.HTTP.URL)
		}
		l.record, l.status = j.RecordID, j.HTTP.Status
		switch {
		case j.HTTP.Status == 200 || j.HTTP.Status == 201:
			l.kind = "synced"
			if j.Level != "INFO" || j.Message != "record pushed" {
				return l, fmt.Errorf("json pushed: %q", raw)
			}
		case j.HTTP.Status >= 400:
			l.kind = "recfailed"
			if j.Level != "ERROR" {
				return l, fmt.Errorf("json failed level: %q", raw)
			}
		default:
			return l, fmt.Errorf("json status %d", j.HTTP.Status)
		}
		return l, nil
	}
}

// ---- tolerant recognizer (dirty input) ----

var (
	reExDirty = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(,\d{3})? \[\d+\] (DEBUG|INFO|WARN|ERROR) +ExchangeConnector\.\w+ - \[t-\d+/[^/\]]+/run:[0-9a-f]{6}\] .+$`)
	reTSDirty = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?(Z|\+02:00)$`)
)

// shapeOf tells which producer's format a (possibly dirty) entry has, or
// ProducerUnknown for a bad entry.
func shapeOf(raw []byte) schemas.Producer {
	lines := strings.Split(string(raw), "\n")
	for i := range lines {
		lines[i] = strings.TrimSuffix(lines[i], "\r")
	}
	first := lines[0]
	switch {
	case reExDirty.MatchString(first):
		for _, c := range lines[1:] {
			if !reExCont.MatchString(c) {
				return schemas.ProducerUnknown
			}
		}
		return schemas.ProducerExchange
	case len(lines) > 1:
		return schemas.ProducerUnknown
	case strings.HasPrefix(first, "{"):
		var m map[string]any
		if json.Unmarshal([]byte(first), &m) != nil {
			return schemas.ProducerUnknown
		}
		ts, _ := m["@timestamp"].(string)
		lv, _ := m["level"].(string)
		if !reTSDirty.MatchString(ts) || (strings.ToUpper(lv) != "INFO" && strings.ToUpper(lv) != "ERROR") || m["runId"] == nil || m["tenant"] == nil || m["mailbox"] == nil {
			return schemas.ProducerUnknown
		}
		return schemas.ProducerC4CC
	default:
		kv, _, ok := parseLogfmt(first)
		if !ok || !reTSDirty.MatchString(kv["ts"]) || kv["tenant"] == "" || kv["mailbox"] == "" || kv["run"] == "" || kv["event"] == "" {
			return schemas.ProducerUnknown
		}
		return schemas.ProducerEngine
	}
}

// ---- classifier (both wordings) ----

var refCatalog = []struct {
	re    *regexp.Regexp
	class string
}{
	{regexp.MustCompile(`^(Exchange connector failed|Mailbox access denied by connector)$`), ""},
	{regexp.MustCompile(`OAuth`), "exchange.auth.oauth_expired"},
	{regexp.MustCompile(`^Authentication (error|failed)$`), "exchange.auth.password"},
	{regexp.MustCompile(`restricted`), "auth.warn"},
	{regexp.MustCompile(`(?i)snapshot record`), "engine.snapshot_limit"},
	{regexp.MustCompile(`\(404\) Not Found|HTTP 404 \(Not Found\)`), "exchange.ews.not_found"},
	{regexp.MustCompile(`\(403\) Forbidden|HTTP 403 \(Forbidden\)`), "exchange.ews.forbidden"},
	{regexp.MustCompile(`XML document ended unexpectedly|XML stream ended prematurely`), "exchange.xml.truncated"},
	{regexp.MustCompile(`marked for removal`), "exchange.org.marked_for_removal"},
	{regexp.MustCompile(`[Pp]roperty field URI type`), "exchange.server.unsupported"},
	{regexp.MustCompile(`\(500\) Internal server error|HTTP 500 Internal Server Error`), "c4c.server.internal_error"},
	{regexp.MustCompile(`(exceeds|larger than) the maximum allowed size`), "record.too_large"},
	{regexp.MustCompile(`^(Mandatory|Required) field (Subject|OwnerID|StartDateTime) is missing$`), "record.mandatory_field"},
	{regexp.MustCompile(`not found in the store`), "record.not_found"},
	{regexp.MustCompile(`^(Update conflict: the item was changed|Conflict on update: item was modified) by another client$`), "record.conflict"},
}

func classify(msg string, perRecord bool) string {
	for _, c := range refCatalog {
		if c.re.MatchString(msg) {
			return c.class
		}
	}
	if perRecord {
		return "record.unknown"
	}
	return "unknown"
}

// ---- runs and rules ----

type refRun struct {
	tenant, mailbox, id string
	start               time.Time
	started             int
	lines               []pline
}

type refOutcome struct {
	synced     int
	hasEnd     bool
	finished   bool
	end        time.Time
	total      string
	totalFirst time.Time
	issues     map[string]time.Time
}

// outcome derives a run's outcome from its lines alone; it returns an error
// when the lines contradict each other (counts, causes).
func (r *refRun) outcome() (refOutcome, error) {
	var o refOutcome
	type key struct {
		p   schemas.Producer
		rec string
	}
	success := map[key][]time.Time{}
	syncedRecs := map[string]bool{}
	for _, l := range r.lines {
		if l.kind == "synced" {
			success[key{l.prod, l.record}] = append(success[key{l.prod, l.record}], l.t)
			syncedRecs[l.record] = true
		}
	}
	recovered := func(l pline) bool {
		for _, t := range success[key{l.prod, l.record}] {
			if t.After(l.t) {
				return true
			}
		}
		return false
	}
	o.synced = len(syncedRecs)
	classes := map[string]time.Time{}
	note := func(c string, t time.Time) {
		if f, ok := classes[c]; !ok || t.Before(f) {
			classes[c] = t
		}
	}
	failedRecs := map[string]bool{}
	finishedSynced, finishedFailed := -1, -1
	var nonRecord []string
	for _, l := range r.lines {
		switch l.kind {
		case "recfailed":
			if recovered(l) {
				continue
			}
			if syncedRecs[l.record] {
				return o, fmt.Errorf("record %s both failed and synced in run %s", l.record, r.id)
			}
			failedRecs[l.record] = true
			note(classify(l.msg, true), l.t)
		case "error":
			c := classify(l.msg, false)
			nonRecord = append(nonRecord, c)
			note(c, l.t)
		case "warn":
			if c := classify(l.msg, false); c != "auth.warn" && c != "unknown" {
				return o, fmt.Errorf("unexpected warning class %s in run %s", c, r.id)
			}
		case "runfailed":
			if c := classify(l.msg, false); c != "" {
				nonRecord = append(nonRecord, c)
				note(c, l.t)
			}
			o.hasEnd, o.end = true, l.t
		case "finished":
			o.hasEnd, o.finished, o.end = true, true, l.t
			finishedSynced, finishedFailed = l.synced, l.failed
		}
	}
	if finishedSynced >= 0 && finishedSynced != o.synced {
		return o, fmt.Errorf("run %s: run_finished synced=%d but %d records synced", r.id, finishedSynced, o.synced)
	}
	delete(classes, "")
	if o.synced > 0 {
		if finishedFailed >= 0 && finishedFailed != len(failedRecs) {
			return o, fmt.Errorf("run %s: run_finished failed=%d but %d records failed", r.id, finishedFailed, len(failedRecs))
		}
		if len(nonRecord) > 0 {
			return o, fmt.Errorf("run %s synced records but has run-level errors %v", r.id, nonRecord)
		}
		o.issues = classes
		return o, nil
	}
	if len(classes) != 1 {
		return o, fmt.Errorf("run %s synced nothing; causes %v", r.id, classes)
	}
	for c, t := range classes {
		o.total, o.totalFirst = c, t
	}
	return o, nil
}

// refTruth parses a clean corpus and applies detection.md's rules.
func refTruth(entries []loggen.Entry) ([]loggen.Truth, error) {
	runs := map[string]*refRun{}
	tenantOf := map[string]string{}
	for _, e := range entries {
		l, err := parseClean(e.Producer, e.Raw)
		if err != nil {
			return nil, err
		}
		if !l.t.Equal(e.Time) {
			return nil, fmt.Errorf("entry time %s != written time %s", e.Time, l.t)
		}
		if !reTenant.MatchString(l.tenant) || !reRun.MatchString(l.run) || (l.record != "" && !reRecord.MatchString(l.record)) {
			return nil, fmt.Errorf("identity fields of %q", e.Raw)
		}
		if t, ok := tenantOf[l.mailbox]; ok && t != l.tenant {
			return nil, fmt.Errorf("mailbox %s in tenants %s and %s", l.mailbox, t, l.tenant)
		}
		tenantOf[l.mailbox] = l.tenant
		k := l.tenant + "/" + l.mailbox + "/" + l.run
		r := runs[k]
		if r == nil {
			r = &refRun{tenant: l.tenant, mailbox: l.mailbox, id: l.run}
			runs[k] = r
		}
		if l.kind == "started" {
			r.started++
			r.start = l.t
		}
		r.lines = append(r.lines, l)
	}
	byMailbox := map[string][]*refRun{}
	for _, r := range runs {
		if r.started != 1 {
			return nil, fmt.Errorf("run %s has %d run_started", r.id, r.started)
		}
		for _, l := range r.lines {
			if d := l.t.Sub(r.start); d < -3*time.Second || d > 2*time.Minute {
				return nil, fmt.Errorf("line of run %s at %s, run started %s", r.id, l.t, r.start)
			}
		}
		byMailbox[r.mailbox] = append(byMailbox[r.mailbox], r)
	}
	var out []loggen.Truth
	for _, rs := range byMailbox {
		sort.Slice(rs, func(i, j int) bool { return rs[i].start.Before(rs[j].start) })
		errs, issues := map[string]int{}, map[string]int{}
		chain, chainN, chainFirst := "", 0, time.Time{}
		open := func(r *refRun, kind, class string, t time.Time) int {
			out = append(out, loggen.Truth{Tenant: r.tenant, Mailbox: r.mailbox, Kind: kind, Class: class, Start: t})
			return len(out) - 1
		}
		for _, r := range rs {
			o, err := r.outcome()
			if err != nil {
				return nil, err
			}
			alwaysTotal := map[string]bool{"exchange.auth.password": true, "exchange.auth.oauth_expired": true,
				"engine.snapshot_limit": true, "exchange.ews.not_found": true, "exchange.org.marked_for_removal": true, "exchange.server.unsupported": true}
			if o.total != "" {
				if alwaysTotal[o.total] {
					chain, chainN = "", 0
					if _, ok := errs[o.total]; !ok {
						errs[o.total] = open(r, schemas.KindSyncError, o.total, o.totalFirst)
					}
				} else {
					if chain == o.total {
						chainN++
					} else {
						chain, chainN, chainFirst = o.total, 1, o.totalFirst
					}
					if _, ok := errs[o.total]; !ok && chainN >= 2 {
						errs[o.total] = open(r, schemas.KindSyncError, o.total, chainFirst)
					}
				}
				continue
			}
			if len(errs) > 0 && !o.hasEnd {
				return nil, fmt.Errorf("run %s died while a sync_error was open", r.id)
			}
			chain, chainN = "", 0
			if o.hasEnd {
				for c, i := range errs {
					end := o.end
					out[i].End = &end
					delete(errs, c)
				}
			}
			for c, t := range o.issues {
				if _, ok := issues[c]; !ok {
					issues[c] = open(r, schemas.KindSyncIssue, c, t)
				}
			}
			if !o.finished && len(issues) > 0 {
				return nil, fmt.Errorf("run %s died while a sync_issue was open", r.id)
			}
			for c, i := range issues {
				if _, failing := o.issues[c]; !failing {
					end := o.end
					out[i].End = &end
					delete(issues, c)
				}
			}
		}
	}
	sortTruth(out)
	return out, nil
}

func sortTruth(ts []loggen.Truth) {
	sort.SliceStable(ts, func(i, j int) bool {
		a, b := ts[i], ts[j]
		if !a.Start.Equal(b.Start) {
			return a.Start.Before(b.Start)
		}
		return a.Tenant+a.Mailbox+a.Kind+a.Class < b.Tenant+b.Mailbox+b.Kind+b.Class
	})
}
