package loggen

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/syncwatch/syncwatch/schemas"
)

// Entry is one log entry of the corpus.
type Entry struct {
	// Producer is the producer whose file/topic the entry belongs to. In
	// dirty mode a few entries are written in another producer's format
	// (see Stats.Foreign) or in no format at all (Stats.Bad).
	Producer schemas.Producer
	// Time is the entry's event time as written in it (for a bad entry,
	// the time of the entry it follows).
	Time time.Time
	// Raw is exactly the bytes of the entry, without a trailing newline.
	// An ExchangeConnector entry with a stack trace has embedded "\n";
	// in dirty mode the entries of exchange.log end in "\r" (CRLF file)
	// and some entries are garbage. Generate does not touch Raw after
	// emit returns: emit may keep it.
	Raw []byte
	// Key is the Kafka message key a producer would use: "tenant/mailbox".
	// Keying every topic by mailbox puts all of a mailbox's entries on the
	// same partition number of each topic, which is what lets a consumer
	// group split the work (docs/rebalancing.md). Empty for garbage
	// entries, which belong to no mailbox.
	Key string
}

// Stats counts what a corpus holds.
type Stats struct {
	// Runs is the number of sync runs (engine run_started entries).
	Runs int
	// Lines counts the entries emitted per producer (file/topic),
	// including duplicates and bad entries; a multi-line
	// ExchangeConnector entry counts once.
	Lines [schemas.NumProducers]int
	// Episodes is the number of true episodes.
	Episodes int
	// ByKind counts the true episodes per kind (sync_error, sync_issue).
	ByKind map[string]int
	// ByClass counts the true episodes per "kind/class".
	ByClass map[string]int
	// Dup counts exact duplicate entries (dirty mode), Foreign among them
	// the copies of an entry written into another producer's file. Bad
	// counts the entries no parser should accept: blank, truncated,
	// binary garbage, JSON cut in half, logfmt with an unclosed quote,
	// a cut entry of another producer's format.
	Dup, Bad, Foreign int
	// Delayed counts the entries written after later ones (Disorder).
	Delayed int
}

// Generate produces the corpus cfg describes. It streams the entries
// through emit, each producer's entries in event-time order but for
// those Config.Disorder delays (entries of
// different producers are interleaved roughly by time, never by more than
// a few seconds), and returns the true episodes sorted by start time. It
// blocks until the corpus is complete, emit returns an error (returned
// wrapped, with the truth so far) or cfg is invalid (ErrInvalidConfig).
// Memory stays bounded whatever the corpus size: only a window of a few
// seconds of event time is buffered, plus the truth.
func Generate(cfg Config, emit func(Entry) error) ([]Truth, Stats, error) {
	if err := cfg.Validate(); err != nil {
		return nil, Stats{}, err
	}
	g := newGenerator(cfg, emit)
	err := g.run()
	truth := g.finish()
	if err != nil {
		return truth, g.stats, fmt.Errorf("emitting entry: %w", err)
	}
	return truth, g.stats, nil
}

// flushMargin bounds how far an entry's time may precede its run's start
// (the largest producer clock skew, see skew).
const flushMargin = 2000

type generator struct {
	cfg            Config
	dirty          bool
	rate           float64
	startMs, endMs int64
	maxRecords     int

	deckRNG, renderRNG, flushRNG *rng
	disorderRNG                  *rng
	delayed                      minHeap[line] // Disorder's, by release time
	deck                         []card
	deckPos                      int

	mbs   []*mailbox
	sched minHeap[*mailbox] // by next run start
	lines minHeap[line]     // the look-ahead window, by time
	seq   uint64
	evs   []ev

	skewAmp    [schemas.NumProducers]float64
	skewPeriod [schemas.NumProducers]float64
	skewPhase  [schemas.NumProducers]float64

	truth []Truth
	stats Stats
	emit  func(Entry) error
	last  [schemas.NumProducers]int64
	crlf  schemas.Producer
	onRun func() // test hook, called after each run is buffered
}

func newGenerator(cfg Config, emit func(Entry) error) *generator {
	seed := cfg.seed()
	g := &generator{
		cfg:         cfg,
		dirty:       cfg.Dirty,
		rate:        cfg.incidentRate(),
		startMs:     cfg.start().UnixMilli(),
		deckRNG:     newRNG(seed, 2),
		renderRNG:   newRNG(seed, 3),
		flushRNG:    newRNG(seed, 4),
		disorderRNG: newRNG(seed, 5),
		delayed:     minHeap[line]{less: func(a, b *line) bool { return a.release < b.release || a.release == b.release && a.seq < b.seq }},
		emit:        emit,
		crlf:        schemas.ProducerExchange,
		sched:       minHeap[*mailbox]{less: mailboxBefore},
		lines:       minHeap[line]{less: lineBefore},
	}
	g.endMs = g.startMs + cfg.duration().Milliseconds()
	for i := range g.last {
		g.last[i] = math.MinInt64
	}
	sk := newRNG(seed, 5)
	g.skewAmp[schemas.ProducerExchange] = 800 + float64(sk.intn(400))
	g.skewAmp[schemas.ProducerC4CC] = 1100 + float64(sk.intn(400))
	g.skewPeriod[schemas.ProducerExchange] = float64(3*3600e3 + sk.intn(3*3600e3))
	g.skewPeriod[schemas.ProducerC4CC] = float64(5*3600e3 + sk.intn(3*3600e3))
	for p := range g.skewPhase {
		g.skewPhase[p] = sk.float() * 2 * math.Pi
	}
	interval := cfg.runInterval().Milliseconds()
	// A run must end well before the next run of its mailbox starts.
	g.maxRecords = int(min(60, max(1, interval/2/3/700)))
	g.deck = newDeck()
	g.shuffleDeck()

	n, tenants := cfg.mailboxes(), cfg.tenants()
	g.mbs = make([]*mailbox, n)
	for i := range g.mbs {
		g.mbs[i] = newMailbox(g, seed, i, tenants, interval)
		if g.mbs[i].next < g.endMs {
			g.sched.push(g.mbs[i])
		}
	}
	return g
}

// run generates every run in start-time order, flushing the entries that
// no later run can precede.
func (g *generator) run() error {
	for g.sched.len() > 0 {
		mb := g.sched.pop()
		if err := g.flush(mb.next-flushMargin, false); err != nil {
			return err
		}
		g.runMailbox(mb)
		if g.onRun != nil {
			g.onRun()
		}
		if mb.alive && mb.next < g.endMs {
			g.sched.push(mb)
		}
	}
	return g.flush(0, true)
}

// finish sorts the truth and completes the stats.
func (g *generator) finish() []Truth {
	sort.SliceStable(g.truth, func(i, j int) bool { return truthLess(&g.truth[i], &g.truth[j]) })
	g.stats.Episodes = len(g.truth)
	g.stats.ByKind = map[string]int{}
	g.stats.ByClass = map[string]int{}
	for _, t := range g.truth {
		g.stats.ByKind[t.Kind]++
		g.stats.ByClass[t.Kind+"/"+t.Class]++
	}
	return g.truth
}

func truthLess(a, b *Truth) bool {
	if !a.Start.Equal(b.Start) {
		return a.Start.Before(b.Start)
	}
	if a.Tenant != b.Tenant {
		return a.Tenant < b.Tenant
	}
	if a.Mailbox != b.Mailbox {
		return a.Mailbox < b.Mailbox
	}
	if a.Kind != b.Kind {
		return a.Kind < b.Kind
	}
	return a.Class < b.Class
}

// skew is the clock offset (ms) of producer p at engine time t: a slow
// wave of at most ~1.5 s, so that lines of one run disagree by up to a
// few seconds across producers while each producer stays monotonic.
func (g *generator) skew(p schemas.Producer, t int64) int64 {
	if g.skewAmp[p] == 0 {
		return 0
	}
	x := 2*math.Pi*float64(t-g.startMs)/g.skewPeriod[p] + g.skewPhase[p]
	return int64(math.Round(g.skewAmp[p] * math.Sin(x)))
}

// ---- the deck of scenarios -------------------------------------------

type scKind uint8

const (
	scTotal   scKind = iota // an always-total class (not auth)
	scAuth                  // exchange.auth.*: one failing run, then quiet
	scDepends               // a depends-on-run class failing >= 2 runs
	scBlip                  // a depends-on-run class failing one run: no truth
	scRecord                // per-record failures (sync_issue)
	scMulti                 // per-record failures of two classes at once
)

type card struct {
	kind  scKind
	class string
}

// newDeck lists the scenarios in the proportions of a real day (and of
// samples/dev); drawing from a shuffled deck rather than independently
// makes every class appear in any corpus of a day or more.
func newDeck() []card {
	var d []card
	add := func(n int, k scKind, class string) {
		for range n {
			d = append(d, card{k, class})
		}
	}
	add(1, scAuth, classAuthPassword)
	add(1, scAuth, classAuthOAuthExpired)
	add(2, scTotal, classSnapshotLimit)
	add(1, scTotal, classEWSNotFound)
	add(1, scTotal, classOrgRemoval)
	add(2, scTotal, classServerUnsupp)
	add(1, scDepends, classEWSForbidden)
	add(1, scDepends, classXMLTruncated)
	add(2, scDepends, classC4CInternal)
	add(2, scDepends, classUnknown)
	add(5, scBlip, "")
	add(5, scRecord, classC4CInternal)
	add(6, scRecord, classRecordTooLarge)
	add(6, scRecord, classRecordMandatory)
	add(6, scRecord, classRecordNotFound)
	add(6, scRecord, classRecordConflict)
	add(5, scRecord, classRecordUnknown)
	add(2, scMulti, "")
	return d
}

func (g *generator) shuffleDeck() {
	for i := len(g.deck) - 1; i > 0; i-- {
		j := g.deckRNG.intn(i + 1)
		g.deck[i], g.deck[j] = g.deck[j], g.deck[i]
	}
	g.deckPos = 0
}

func (g *generator) drawCard() card {
	if g.deckPos == len(g.deck) {
		g.shuffleDeck()
	}
	c := g.deck[g.deckPos]
	g.deckPos++
	return c
}

// ---- mailboxes ---------------------------------------------------------

var (
	localParts = []string{"e.schmidt", "l.martin", "r.garcia", "h.suzuki", "o.ivanova", "t.nguyen",
		"c.dubois", "m.kowalski", "f.bianchi", "a.haddad", "sales", "support", "info", "office"}
	domains = []string{"contoso.com", "fabrikam.com", "adatum.com", "northwind.com", "litware.de",
		"tailspin.io", "woodgrove.com"}
	periodFactors = []float64{0.75, 1, 1, 1.25, 1.5}
)

type mailbox struct {
	idx       int
	tenant    string
	tenantNum int
	name      string
	key       string // Entry.Key
	domain    string
	rng       *rng
	periodMs  int64
	next      int64 // start of the next run
	last      int64 // start of the previous run
	runs      uint32
	runKey    uint32
	alive     bool
	sc        *scenario
	tr        tracker
}

func newMailbox(g *generator, seed int64, idx, tenants int, interval int64) *mailbox {
	r := newRNG(seed, 1, uint64(idx))
	k := r.intn(tenants)
	mb := &mailbox{
		idx:       idx,
		tenantNum: 1000 + 7*k,
		domain:    pick(r, domains),
		rng:       r,
		runKey:    uint32(r.u64()),
		alive:     true,
	}
	mb.tenant = "t-" + strconv.Itoa(mb.tenantNum)
	mb.name = pick(r, localParts) + strconv.Itoa(idx) + "@" + mb.domain
	mb.key = mb.tenant + "/" + mb.name
	mb.periodMs = int64(float64(interval) * pick(r, periodFactors))
	mb.next = g.startMs + r.between64(0, mb.periodMs)
	mb.last = mb.next - mb.periodMs
	return mb
}

// runID returns the next run id: 6 hex digits, unique within the mailbox
// (a bijection of a counter on 24 bits).
func (mb *mailbox) runID() string {
	const m = 1<<24 - 1
	x := mb.runs & m
	mb.runs++
	x ^= mb.runKey & m
	x = (x * 0x9e3779) & m
	x ^= x >> 12
	x = (x * 0x5bd1e9) & m
	x ^= x >> 11
	x ^= (mb.runKey >> 8) & m
	const hexd = "0123456789abcdef"
	var b [6]byte
	for i := 5; i >= 0; i-- {
		b[i] = hexd[x&15]
		x >>= 4
	}
	return string(b[:])
}

// wording returns the message set for a new scenario or retry; it always
// draws from the mailbox's generator so that Wording never changes the
// runs, only their texts.
func (g *generator) wording(r *rng) *wording {
	v := r.intn(2)
	switch g.cfg.Wording {
	case 0:
		return &wordings[0]
	case 1:
		return &wordings[1]
	}
	return &wordings[v]
}

// ---- scenarios ---------------------------------------------------------

type scenario struct {
	kind       scKind
	class      string // failing class of total kinds
	w          *wording
	failLeft   int  // failing runs still to come (total kinds)
	recovering bool // the next run is the recovery run
	org        string
	server     string
	unk        int // unknown variant
	recs       []*recScen
}

// recScen is one per-record failure class of a scenario: the same records
// fail, with the same message, in each of `left` runs.
type recScen struct {
	class  string
	prod   schemas.Producer
	ids    []string
	msgs   []string
	status int
	left   int
}

const forever = 1 << 30

func (g *generator) newScenario(mb *mailbox, c card) *scenario {
	r := mb.rng
	sc := &scenario{kind: c.kind, class: c.class, w: g.wording(r)}
	switch c.kind {
	case scTotal:
		sc.failLeft = 1 + r.intn(4)
		if r.chance(0.3) {
			sc.failLeft += r.intn(6)
		}
		if r.chance(0.04) {
			sc.failLeft = forever
		}
		sc.org = orgName(r)
		sc.server = pick(r, servers)
	case scAuth:
		sc.failLeft = 1
		if r.chance(0.2) {
			sc.failLeft = 2
		}
	case scDepends, scBlip:
		if c.kind == scBlip {
			sc.class = pick(r, []string{classEWSForbidden, classXMLTruncated, classC4CInternal, classUnknown})
			sc.failLeft = 1
		} else {
			sc.failLeft = 2 + r.intn(3)
			if r.chance(0.3) {
				sc.failLeft += r.intn(4)
			}
		}
		sc.unk = r.intn(numUnknownTotal)
	case scRecord:
		sc.recs = []*recScen{g.newRecScen(mb, sc.w, c.class)}
	case scMulti:
		classes := []string{classC4CInternal, classRecordTooLarge, classRecordMandatory, classRecordNotFound, classRecordConflict, classRecordUnknown}
		i := r.intn(len(classes))
		j := (i + 1 + r.intn(len(classes)-1)) % len(classes)
		sc.recs = []*recScen{g.newRecScen(mb, sc.w, classes[i]), g.newRecScen(mb, sc.w, classes[j])}
	}
	return sc
}

var recPrefixes = []string{"APPT", "CONT", "MAIL", "TASK"}

func newRecordID(r *rng) string {
	return pick(r, recPrefixes) + "-" + fmt.Sprintf("%05d", r.intn(100000))
}

func (g *generator) newRecScen(mb *mailbox, w *wording, class string) *recScen {
	r := mb.rng
	rs := &recScen{class: class, left: 1 + r.intn(3)}
	if r.chance(0.35) {
		rs.left += r.intn(5)
	}
	n := 1 + r.intn(2)
	if r.chance(0.2) {
		n += r.intn(3)
	}
	prodBy := func(pEx, pEn float64) schemas.Producer {
		x := r.float()
		switch {
		case x < pEx:
			return schemas.ProducerExchange
		case x < pEx+pEn:
			return schemas.ProducerEngine
		}
		return schemas.ProducerC4CC
	}
	unkVariant := r.intn(numUnknownRecord)
	for range n {
		id := newRecordID(r)
		var msg string
		switch class {
		case classC4CInternal:
			rs.prod, rs.status, msg = schemas.ProducerC4CC, 500, w.c4c500
		case classRecordTooLarge:
			rs.prod, rs.status, msg = prodBy(0.7, 0), 413, w.tooLarge
		case classRecordMandatory:
			rs.prod, rs.status = prodBy(0, 0.7), 400
			msg = fmt.Sprintf(w.mandatory, pick(r, mandatoryFields))
		case classRecordNotFound:
			rs.prod, msg = prodBy(0.8, 0.2), w.recNotFound
		case classRecordConflict:
			rs.prod, rs.status, msg = prodBy(0.2, 0.6), 409, w.conflict
		default: // classRecordUnknown
			switch unkVariant {
			case recUnkInvalidDate:
				rs.prod, rs.status = schemas.ProducerC4CC, 400
				msg = "Invalid value for property StartDateTime: " +
					time.UnixMilli(g.startMs+int64(r.intn(30*24))*3600e3).UTC().Format("2006-01-02T15:04:05")
			case recUnkCurrency:
				rs.prod, rs.status = schemas.ProducerC4CC, 422
				msg = "Value '" + pick(r, []string{"XTS", "EUR-", "US$", "ZZZ"}) + "' is not allowed for property CurrencyCode"
			case recUnkRecurrence:
				rs.prod = schemas.ProducerExchange
				msg = "Recurrence pattern is invalid: FirstDayOfWeek " + strconv.Itoa(r.between(7, 9)) + " is out of range"
			case recUnkDuplicateKey:
				rs.prod = schemas.ProducerEngine
				msg = "Duplicate external key " + strconv.Itoa(r.between(1000, 99999)) + " for business partner"
			default:
				rs.prod = schemas.ProducerExchange
				msg = "Attachment 'scan_" + fmt.Sprintf("%04d", r.intn(10000)) + ".pdf' could not be converted"
			}
		}
		rs.ids = append(rs.ids, id)
		rs.msgs = append(rs.msgs, msg)
	}
	return rs
}

// ---- one run -------------------------------------------------------------

// runMailbox generates the next run of mb: plans it from the mailbox's
// scenario, builds its lines, feeds its outcome to the truth tracker,
// renders and buffers the lines, and schedules the next run.
func (g *generator) runMailbox(mb *mailbox) {
	r := mb.rng
	start := mb.next
	if mb.sc == nil && g.rate > 0 {
		gapH := float64(start-mb.last) / 3.6e6
		if r.chance(1 - math.Pow(1-g.rate, gapH)) {
			mb.sc = g.newScenario(mb, g.drawCard())
		}
	}
	runID := mb.runID()
	g.stats.Runs++
	nextGap := int64(float64(mb.periodMs) * (0.85 + 0.3*r.float()))
	sc := mb.sc
	var sum runSummary
	switch {
	case sc == nil:
		die := r.chance(0.02)
		sum = g.buildSyncRun(mb, start, nil, nil, die, mb.tr.excluded(nil))
	case sc.recovering:
		// The records that failed usually get through now.
		var fixed []string
		if r.chance(0.7) {
			for _, rs := range sc.recs {
				fixed = append(fixed, rs.ids...)
			}
		}
		sum = g.buildSyncRun(mb, start, nil, fixed, false, mb.tr.excluded(sc))
		mb.sc = nil
	case sc.kind == scRecord || sc.kind == scMulti:
		var active []*recScen
		done := true
		for _, rs := range sc.recs {
			if rs.left > 0 {
				active = append(active, rs)
				rs.left--
			}
			if rs.left > 0 {
				done = false
			}
		}
		sum = g.buildSyncRun(mb, start, active, nil, false, mb.tr.excluded(sc))
		sc.recovering = done
	default:
		die := alwaysTotal(sc.class) && sc.kind != scAuth && sc.class != classSnapshotLimit && r.chance(0.12)
		sum = g.buildTotalRun(mb, start, sc, die)
		sc.failLeft--
		sc.recovering = sc.failLeft == 0
		if sc.kind == scAuth {
			// Sync is disabled: the mailbox goes quiet for hours, or for
			// good.
			nextGap = r.between64(2*3600e3, 9*3600e3)
			if r.chance(0.1) {
				mb.alive = false
			}
		}
	}
	mb.tr.apply(g, mb, &sum)
	g.pushRun(mb, runID)
	mb.last = start
	mb.next = start + nextGap
}

// excluded returns the classes a retry must not use in this run: those
// of open incidents and of the scenario, so that a retried failure never
// sits next to a real one of its class.
func (t *tracker) excluded(sc *scenario) map[string]bool {
	if sc == nil && len(t.errs) == 0 && len(t.issues) == 0 {
		return nil
	}
	ex := map[string]bool{}
	for c := range t.errs {
		ex[c] = true
	}
	for c := range t.issues {
		ex[c] = true
	}
	if sc != nil {
		ex[sc.class] = true
		for _, rs := range sc.recs {
			ex[rs.class] = true
		}
	}
	return ex
}
