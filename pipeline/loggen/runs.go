package loggen

import (
	"fmt"
	"math"

	"github.com/syncwatch/syncwatch/schemas"
)

// evKind is what a line of a run says.
type evKind uint8

const (
	exFetch       evKind = iota // ExchangeConnector DEBUG Fetching changes
	exBusy                      // ExchangeConnector WARN Server busy (429)
	exItemSynced                // ExchangeConnector INFO item X synced
	exItemFailed                // ExchangeConnector ERROR item X failed: msg
	exError                     // ExchangeConnector ERROR msg (+ stack)
	exWarn                      // ExchangeConnector WARN msg
	enStarted                   // engine run_started
	enSynced                    // engine record_synced
	enRecFailed                 // engine record_failed
	enRunFailed                 // engine run_failed
	enRunFinished               // engine run_finished
	c4Pushed                    // C4CC record pushed (2xx)
	c4Failed                    // C4CC record failed (4xx/5xx)
	c4Session                   // C4CC INFO without a record
)

func (k evKind) producer() schemas.Producer {
	switch {
	case k <= exWarn:
		return schemas.ProducerExchange
	case k <= enRunFinished:
		return schemas.ProducerEngine
	}
	return schemas.ProducerC4CC
}

// ev is one line of a run before rendering.
type ev struct {
	kind   evKind
	t      int64 // event time as stamped by its producer, ms
	record string
	msg    string
	logger string
	stack  []string
	status int
	num    int64 // watermark
	synced int
	failed int
	dur    int64
	thread int
	class  string // the class this line is evidence of ("" for none)
	safe   bool   // no failure semantics: dirt may copy or alter it
}

// add appends a line of producer-local time t (engine clock) to the run
// being built, stamping it with its producer's clock.
func (g *generator) add(mb *mailbox, k evKind, t int64, e ev) {
	e.kind = k
	e.t = t + g.skew(k.producer(), t)
	if k.producer() == schemas.ProducerExchange {
		e.thread = mb.rng.between(1, 40)
	}
	g.evs = append(g.evs, e)
}

// runSummary is the outcome of a run, as the truth rules see it.
type runSummary struct {
	hasEnd     bool  // run_finished or run_failed was written
	finished   bool  // run_finished was written
	end        int64 // its time
	synced     int   // records synced (retries included)
	nFailed    int   // records failed and not recovered
	total      string
	totalFirst int64 // first line of the total class
	issues     []classTime
}

type classTime struct {
	class string
	t     int64
}

// item is one unit of work of a sync run.
type item struct {
	rs    *recScen // failing record, if set
	i     int
	retry bool
	id    string // a given record that syncs (else a fresh one)
}

// retry kinds: a record fails and then succeeds, by the same producer,
// in the same run.
var retryKinds = []struct {
	prod  schemas.Producer
	class string
}{
	{schemas.ProducerC4CC, classC4CInternal},
	{schemas.ProducerC4CC, classRecordUnknown},
	{schemas.ProducerEngine, classRecordConflict},
	{schemas.ProducerExchange, classRecordUnknown},
	{schemas.ProducerExchange, classRecordConflict},
}

// buildSyncRun builds a run that syncs records: a healthy run, or one in
// which the records of active fail (sync issues). The records fixed sync
// in it besides fresh ones; die drops its end line.
func (g *generator) buildSyncRun(mb *mailbox, start int64, active []*recScen, fixed []string, die bool, excluded map[string]bool) runSummary {
	r := mb.rng
	g.evs = g.evs[:0]
	g.add(mb, enStarted, start, ev{safe: true})
	if r.chance(0.35) {
		g.add(mb, exFetch, start+r.between64(5, 300), ev{safe: true, logger: "ExchangeConnector.SyncWorker", num: r.between64(1e11, 1e12-1)})
	}
	cur := start + r.between64(60, 400)
	if r.chance(0.05) {
		g.add(mb, exBusy, cur, ev{safe: true, logger: "ExchangeConnector.EwsClient"})
		cur += 2000
	}
	if r.chance(0.04) {
		g.add(mb, c4Session, cur, ev{safe: true})
	}
	n := min(1+int(r.expo(6)), g.maxRecords)
	retry := -1
	if !die && r.chance(0.08) {
		k := r.intn(len(retryKinds))
		if !excluded[retryKinds[k].class] {
			retry = k
		}
	}
	var w *wording
	if retry >= 0 {
		w = g.wording(r)
	}

	items := make([]item, 0, n+4)
	taken := map[string]bool{}
	for _, rs := range active {
		for i, id := range rs.ids {
			items = append(items, item{rs: rs, i: i})
			taken[id] = true
		}
	}
	for range n {
		items = append(items, item{})
	}
	for _, id := range fixed {
		if !taken[id] {
			taken[id] = true
			items = append(items, item{id: id})
			n++
		}
	}
	if retry >= 0 {
		items = append(items, item{retry: true})
	}
	for i := len(items) - 1; i > 0; i-- {
		j := r.intn(i + 1)
		items[i], items[j] = items[j], items[i]
	}
	freshID := func() string {
		for {
			id := newRecordID(r)
			if !taken[id] {
				taken[id] = true
				return id
			}
		}
	}

	sum := runSummary{synced: n}
	first := map[string]int64{}
	maxT := cur
	for _, it := range items {
		cur += r.between64(30, 600)
		switch {
		case it.rs != nil:
			rs := it.rs
			id, msg := rs.ids[it.i], rs.msgs[it.i]
			var t int64
			switch rs.prod {
			case schemas.ProducerExchange:
				t = cur
				g.add(mb, exItemFailed, t, ev{record: id, msg: msg, class: rs.class, logger: "ExchangeConnector.SyncWorker"})
			case schemas.ProducerEngine:
				t = cur + r.between64(10, 150)
				g.add(mb, enRecFailed, t, ev{record: id, msg: msg, class: rs.class})
			default:
				t = cur + r.between64(40, 350)
				g.add(mb, c4Failed, t, ev{record: id, msg: msg, status: rs.status, class: rs.class})
			}
			st := g.evs[len(g.evs)-1].t
			if f, ok := first[rs.class]; !ok || st < f {
				first[rs.class] = st
			}
			sum.failed()
			maxT = max(maxT, t)
		case it.retry:
			id := freshID()
			rk := retryKinds[retry]
			t := cur
			back := r.between64(300, 1500)
			switch rk.prod {
			case schemas.ProducerC4CC:
				t += r.between64(40, 350)
				if rk.class == classC4CInternal {
					g.add(mb, c4Failed, t, ev{record: id, msg: w.c4c500, status: 500})
				} else {
					g.add(mb, c4Failed, t, ev{record: id, msg: msgC4CGateway, status: 504})
				}
				g.add(mb, c4Pushed, t+back, ev{record: id, status: 200 + r.intn(2)})
			case schemas.ProducerEngine:
				t += r.between64(10, 150)
				g.add(mb, enRecFailed, t, ev{record: id, msg: w.conflict})
				g.add(mb, enSynced, t+back, ev{record: id})
			default:
				msg := msgExTimeout
				if rk.class == classRecordConflict {
					msg = w.conflict
				}
				g.add(mb, exItemFailed, t, ev{record: id, msg: msg, logger: "ExchangeConnector.SyncWorker"})
				g.add(mb, exItemSynced, t+back, ev{record: id, logger: "ExchangeConnector.SyncWorker"})
			}
			sum.synced++
			maxT = max(maxT, t+back)
		default:
			id := it.id
			if id == "" {
				id = freshID()
			}
			// Mostly one producer reports a synced record, sometimes more.
			var ex, en, c4 bool
			switch x := r.float(); {
			case x < 0.3:
				ex = true
			case x < 0.55:
				en = true
			case x < 0.85:
				c4 = true
			default:
				ex, en, c4 = r.chance(0.7), r.chance(0.5), true
			}
			if ex {
				g.add(mb, exItemSynced, cur, ev{record: id, safe: true, logger: "ExchangeConnector.SyncWorker"})
			}
			if en {
				t := cur + r.between64(10, 150)
				g.add(mb, enSynced, t, ev{record: id, safe: true})
				maxT = max(maxT, t)
			}
			if c4 {
				t := cur + r.between64(40, 350)
				g.add(mb, c4Pushed, t, ev{record: id, status: 200 + r.intn(2), safe: true})
				maxT = max(maxT, t)
			}
			maxT = max(maxT, cur)
		}
	}
	end := max(cur, maxT) + r.between64(50, 400)
	if !die {
		g.add(mb, enRunFinished, end, ev{synced: sum.synced, failed: sum.nFailed, dur: end - start})
		sum.hasEnd, sum.finished, sum.end = true, true, end
	}
	for _, rs := range active {
		sum.issues = append(sum.issues, classTime{rs.class, first[rs.class]})
	}
	return sum
}

// failed counts one unrecovered failed record.
func (s *runSummary) failed() { s.nFailed++ }

var snapshotLimits = []int{10000, 10000, 10000, 20000, 5000}

// buildTotalRun builds a run in which nothing syncs because of sc's class.
// die drops its end line.
func (g *generator) buildTotalRun(mb *mailbox, start int64, sc *scenario, die bool) runSummary {
	r := mb.rng
	w := sc.w
	g.evs = g.evs[:0]
	g.add(mb, enStarted, start, ev{safe: true})
	if r.chance(0.3) {
		g.add(mb, exFetch, start+r.between64(5, 300), ev{safe: true, logger: "ExchangeConnector.SyncWorker", num: r.between64(1e11, 1e12-1)})
	}
	t := start + r.between64(150, 700)
	class := sc.class
	sum := runSummary{total: class, totalFirst: math.MaxInt64}
	endKind, endT, endEv := enRunFailed, int64(0), ev{msg: msgConnectorFailed}

	exchangeError := func(msg string, stack []string) {
		g.add(mb, exError, t, ev{msg: msg, stack: stack, class: class, logger: "ExchangeConnector.EwsClient"})
		last := t
		if !alwaysTotal(class) && r.chance(0.2) {
			last = t + r.between64(200, 900)
			g.add(mb, exError, last, ev{msg: msg, stack: stack, class: class, logger: "ExchangeConnector.EwsClient"})
		}
		endT = last + r.between64(80, 300)
		if r.chance(0.5) {
			endKind, endEv = enRunFinished, ev{synced: 0, failed: r.between(1, 30)}
		}
	}
	c4cAll := func(status int, msg string) {
		n := r.between(1, min(12, g.maxRecords))
		cur := t
		for range n {
			cur += r.between64(30, 400)
			g.add(mb, c4Failed, cur, ev{record: newRecordID(r), msg: msg, status: status, class: class})
		}
		endT = cur + r.between64(100, 400)
		endKind, endEv = enRunFinished, ev{synced: 0, failed: n}
	}

	switch class {
	case classAuthPassword, classAuthOAuthExpired:
		e, wr := w.authPasswordErr, w.authPasswordWarn
		if class == classAuthOAuthExpired {
			e, wr = w.authOAuthErr, w.authOAuthWarn
		}
		g.add(mb, exError, t, ev{msg: e, class: class, logger: "ExchangeConnector.SyncWorker"})
		g.add(mb, exWarn, t+2, ev{msg: wr, class: class, logger: "ExchangeConnector.SyncWorker"})
		endT, endEv = t+r.between64(60, 250), ev{msg: msgAccessDenied}
	case classSnapshotLimit:
		limit := pick(r, snapshotLimits)
		third := 0
		if r.chance(0.2) {
			third = r.between(1, 50)
		}
		endT = t + r.between64(300, 1200)
		endEv = ev{msg: fmt.Sprintf(w.snapshot, limit, limit+r.between(1, 3000), third), class: class}
	case classEWSNotFound:
		exchangeError(w.notFound, w.notFoundStack)
	case classEWSForbidden:
		var stack []string
		if r.chance(0.5) {
			stack = w.forbiddenStack
		}
		exchangeError(w.forbidden, stack)
	case classXMLTruncated:
		var stack []string
		if r.chance(0.3) {
			stack = w.xmlStack
		}
		exchangeError(w.xml, stack)
	case classOrgRemoval:
		exchangeError(fmt.Sprintf(w.org, sc.org), nil)
	case classServerUnsupp:
		exchangeError(fmt.Sprintf(w.unsupported, sc.server), nil)
	case classC4CInternal:
		c4cAll(500, w.c4c500)
	default: // classUnknown
		msg, stack := unknownTotal(sc.unk, mb, r)
		switch sc.unk {
		case unkStateStore:
			endT, endEv = t+r.between64(200, 900), ev{msg: msg, class: class}
		case unkMaintenance:
			// A run-level C4CC error (no record): which of unknown and
			// record.unknown an unknown failure of every record would be
			// is not settled by detection.md, so none is generated.
			g.add(mb, c4Session, t, ev{msg: msg, class: class, status: 503})
			endT = t + r.between64(100, 400)
			endKind, endEv = enRunFinished, ev{synced: 0, failed: 0}
		default:
			exchangeError(msg, stack)
		}
	}
	if !die {
		if endKind == enRunFinished {
			endEv.dur = endT - start
		}
		g.add(mb, endKind, endT, endEv)
		sum.hasEnd, sum.finished, sum.end = true, endKind == enRunFinished, endT
	}
	for i := range g.evs {
		if g.evs[i].class == class {
			sum.totalFirst = min(sum.totalFirst, g.evs[i].t)
		}
	}
	return sum
}
