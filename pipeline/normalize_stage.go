package pipeline

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/hashicorp/go-multierror"

	"github.com/syncwatch/syncwatch/pipeline/health"
	"github.com/syncwatch/syncwatch/pipeline/keycheck"
	"github.com/syncwatch/syncwatch/pipeline/parse"
	"github.com/syncwatch/syncwatch/pipeline/repartition/repeats"
	"github.com/syncwatch/syncwatch/schemas"
	"github.com/syncwatch/syncwatch/schemas/redact"
)

// NormalizeStage turns Batch.Entries into Batch.Records: it takes each
// log entry out of its shipper's envelope (parse.Unwrapper), joins the
// continuation lines of a stack trace that a shipper sent as messages of
// their own back to their entry (see joiner), and parses the entries. An
// entry that cannot be parsed becomes a dead letter with the reason, and
// its ack joins Batch.Acks so that it is acknowledged once the dead letter
// is delivered.
type NormalizeStage struct {
	cfg NormalizeConfig

	mu     sync.Mutex
	stats  NormalizeStats
	join   joiner
	parsed [][]normalized // Exec's scratch space, one per worker
	// seconds counts, per stream, the records of the latest second whose
	// times have whole seconds (keepOrderInSecond)
	seconds map[string]secondCount
	// health, if not nil, counts every entry committed (pipeline
	// incidents), in commit order.
	health *health.Monitor
	// tenants, if not nil, are the tenants accepted (AcceptTenants).
	tenants map[string]struct{}
	// keys, if not nil, notes the partitions each mailbox comes from (a
	// Consumer's: producers that do not key by mailbox).
	keys *keycheck.Check
	// forwarded drops what a first hop forwarded twice (Repartitioned).
	forwarded repeats.Filter
}

// DefaultJoinWait is NormalizeConfig.JoinWait's default.
const DefaultJoinWait = 20 * time.Millisecond

// NormalizeConfig configures a NormalizeStage. The zero value works.
type NormalizeConfig struct {
	// MaxEntry is the largest entry accepted, joined continuation lines
	// included; larger ones are dead-lettered.
	//
	// Default: parse.DefaultMaxEntry (1 MiB)
	MaxEntry int

	// Envelope is the envelope entries come in.
	//
	// Default: parse.EnvelopeAuto, recognised per entry
	Envelope parse.Envelope

	// JoinWait is how long, in wall-clock time, an ExchangeConnector
	// entry that arrived as a message of its own is held for the
	// continuation lines a shipper may send after it, when its stream
	// sends nothing more. Only used when batches have a Now (a live
	// consumer); a replay decides on the lines that follow alone.
	//
	// Default: DefaultJoinWait (20ms)
	JoinWait time.Duration

	// DeadLetterRaw is what dead letters carry of their entry: its bytes
	// with secrets redacted, or the original bytes (which may hold
	// passwords and tokens that end up in tickets).
	//
	// Default: schemas.DeadLetterRedacted
	DeadLetterRaw schemas.DeadLetterRaw

	// AcceptTenants, when not empty, are the only tenants whose entries
	// are judged; an entry that names another tenant is dead-lettered
	// ("tenant not accepted"). syncwatch trusts the tenant a log line
	// names: with a topic per tenant group, writable only by that group's
	// shippers (Kafka ACLs), and a syncwatch per topic set accepting only
	// that group's tenants, a producer that writes another tenant's name
	// cannot open or resolve that tenant's incidents.
	//
	// Default: every tenant
	AcceptTenants []string

	// Repartitioned says the entries are messages of the repartition
	// topic (schemas.Forwarded): records parsed by the first hop of
	// `ingest --repartition`, with the watermarks of the raw partitions
	// they came from. They are decoded, not parsed; the raw partition is
	// their Source; a record the first hop forwarded twice (it crashed
	// between writing and committing) is dropped.
	//
	// Default: false, entries are log entries
	Repartitioned bool
}

func (c *NormalizeConfig) maxEntry() int           { return cmp.Or(c.MaxEntry, parse.DefaultMaxEntry) }
func (c *NormalizeConfig) joinWait() time.Duration { return cmp.Or(c.JoinWait, DefaultJoinWait) }

// Validate reports every problem of the configuration at once, each
// naming its field. c is not changed.
func (c *NormalizeConfig) Validate() error {
	var errs *multierror.Error
	if c.MaxEntry < 0 {
		errs = multierror.Append(errs, fmt.Errorf("MaxEntry %d: must not be negative", c.MaxEntry))
	}
	if c.Envelope > parse.EnvelopeOTLP {
		errs = multierror.Append(errs, fmt.Errorf("Envelope %v: unknown", c.Envelope))
	}
	if c.JoinWait < 0 {
		errs = multierror.Append(errs, fmt.Errorf("JoinWait %v: must not be negative", c.JoinWait))
	}
	for i, t := range c.AcceptTenants {
		if t == "" {
			errs = multierror.Append(errs, fmt.Errorf("AcceptTenants[%d]: empty", i))
		}
	}
	if _, err := schemas.ParseDeadLetterRaw(string(c.DeadLetterRaw)); err != nil {
		errs = multierror.Append(errs, fmt.Errorf("DeadLetterRaw %w", err))
	}
	return errs.ErrorOrNil()
}

// NormalizeStats counts entries by producer (recognised from their format;
// dead letters whose format was not recognised count under
// ProducerUnknown) and dead letters by reason.
type NormalizeStats struct {
	Read         [schemas.NumProducers]int64
	Parsed       [schemas.NumProducers]int64
	DeadLettered [schemas.NumProducers]int64
	// Latest is the latest event time parsed, by producer.
	Latest [schemas.NumProducers]time.Time
	// Reasons counts dead letters by the first word(s) of their reason
	// ("logfmt: unclosed quote", "binary data", ...).
	Reasons map[string]int64
	// Shippers counts the entries that came in an envelope, by the
	// shipper that wrapped them ("filebeat", "rsyslog", "otlp", ...).
	Shippers map[string]int64
	// Joined counts the continuation lines sent as entries of their own
	// and joined back to the entry they belong to.
	Joined int64
	// Repeated counts the entries a first hop forwarded again after a
	// crash, dropped (Repartitioned).
	Repeated int64
}

// NewNormalizeStage returns a stage for a valid cfg (see
// NormalizeConfig.Validate).
func NewNormalizeStage(cfg NormalizeConfig) *NormalizeStage {
	s := &NormalizeStage{cfg: cfg, stats: NormalizeStats{Reasons: map[string]int64{}, Shippers: map[string]int64{}}}
	if len(cfg.AcceptTenants) > 0 {
		s.tenants = map[string]struct{}{}
		for _, t := range cfg.AcceptTenants {
			s.tenants[t] = struct{}{}
		}
	}
	return s
}

// parallelMin is the smallest batch Exec parses on several goroutines.
const parallelMin = 256

// Exec normalizes b.Entries, appending to b.Records and b.DeadLetters in
// the entries' order (an entry held for its continuation lines comes
// when it is complete). A large batch is parsed on up to GOMAXPROCS
// goroutines (parsing is most of a live consumer's work; detection must
// stay on one). With b.Now set and no b.Backlog, entries held longer than
// JoinWait are released; with b.Final, every one.
func (s *NormalizeStage) Exec(_ context.Context, b *Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	workers := max(1, min(runtime.GOMAXPROCS(0), len(b.Entries)/(parallelMin/2)))
	for len(s.parsed) < workers {
		s.parsed = append(s.parsed, nil)
	}
	if workers == 1 {
		var u parse.Unwrapper
		s.parsed[0] = s.normalizeAll(&u, b.Entries, s.parsed[0][:0])
	} else {
		var wg sync.WaitGroup
		for w := range workers {
			lo, hi := w*len(b.Entries)/workers, (w+1)*len(b.Entries)/workers
			wg.Go(func() {
				var u parse.Unwrapper
				s.parsed[w] = s.normalizeAll(&u, b.Entries[lo:hi], s.parsed[w][:0])
			})
		}
		wg.Wait()
	}
	for w := range workers {
		for i := range s.parsed[w] {
			s.commit(b, &s.parsed[w][i])
			s.parsed[w][i] = normalized{} // the records are the batch's now
		}
	}
	b.Entries = b.Entries[:0]
	switch {
	case b.Final:
		s.join.releaseAll(b, s.cfg.maxEntry(), s.commitItem)
	case !b.Now.IsZero() && !b.Backlog:
		// (while a source catches up, the lines that follow are waiting
		// at the broker: the wall clock says nothing about them)
		s.join.releaseIdle(b, b.Now.Add(-s.cfg.joinWait()), s.cfg.maxEntry(), s.commitItem)
	}
	b.held = s.join.floors(b.held[:0])
	return nil
}

// normalizeAll normalizes entries, appending to dst.
func (s *NormalizeStage) normalizeAll(u *parse.Unwrapper, entries []Entry, dst []normalized) []normalized {
	for i := range entries {
		dst = s.normalize(u, &entries[i], dst)
	}
	return dst
}

// normalized is an entry parsed by NormalizeStage.normalize, not yet counted
// nor added to a batch (NormalizeStage.commitOne does both).
type normalized struct {
	// Record is the record when OK.
	Record Record
	// DeadLetter is the dead letter when !OK, from producer Producer (by
	// its format; ProducerUnknown if none was recognised).
	DeadLetter schemas.DeadLetter
	Producer   schemas.Producer
	// Source is the Entry's source, for dead letters too.
	Source string
	Ack    AckFunc
	OK     bool
	// healthAs, if not nil, is what the health monitor counts of a dead
	// letter that parsed well (a tenant not accepted).
	healthAs *health.Observation
	// ackOnly: the input carried no entry (an empty OTLP batch); only its
	// ack is committed.
	ackOnly bool
	// fwd identifies an entry forwarded by a first hop (Repartitioned),
	// for dropping repeats; mark says it is a raw partition's watermark.
	fwd  *repeats.ID
	mark bool
	// shipper is who wrapped the entry ("" if no one).
	shipper string
	// secondsOnly: the record's time has whole seconds (parse.Unwrapped).
	secondsOnly bool
	// join is the entry's part in joining continuation lines; stream,
	// raw and seen only matter when it is not joinNone.
	join   joinRole
	stream string // the stream within Source: shipper, host and file
	raw    []byte // the entry (a copy), for a head to be joined to
}

// normalize unwraps en and parses the entries it carries, appending one
// normalized per entry to dst (one with ackOnly when there is none). It
// only reads the stage's configuration, so it may run concurrently, with
// one u per goroutine (Replay parses each source on its own goroutine);
// commitOne then counts each and adds it to a batch, in the order the
// caller chooses. en.Raw is not retained.
func (s *NormalizeStage) normalize(u *parse.Unwrapper, en *Entry, dst []normalized) []normalized {
	maxEntry := s.cfg.maxEntry()
	if en.Oversize || len(en.Raw) > maxEntry {
		err := &parse.Error{Format: parse.DetectFormat(en.Raw), Reason: "entry exceeds " + strconv.Itoa(maxEntry) + " bytes", Offset: maxEntry}
		return append(dst, deadLetter(en, en.Ack, en.Origin, "", en.Raw, err))
	}
	if s.cfg.Repartitioned {
		return append(dst, decodeForwarded(en))
	}
	u.Envelope = s.cfg.Envelope
	// Each normalized is filled where it lies in dst: it is large (464
	// bytes), and copies of it were a tenth of replay's CPU.
	dst = append(dst, normalized{})
	n := &dst[len(dst)-1]
	// an entry of its own is read once, not by Unwrap and again by Entry
	// (a quarter of replay's CPU on the C4CC log)
	if u.RawEntryText(en.Raw, en.Text, &n.Record.LogRecord) {
		s.complete(n, en, &parse.Unwrapped{Entry: en.Raw}, en.Ack, en.Origin, nil)
		return dst
	}
	dst = dst[:len(dst)-1]
	ws, err := u.Unwrap(en.Raw)
	switch {
	case err != nil:
		return append(dst, deadLetter(en, en.Ack, en.Origin, "", en.Raw, err))
	case len(ws) == 0:
		return append(dst, normalized{Source: en.Source, Ack: en.Ack, ackOnly: true})
	}
	acks := splitAck(en.Ack, len(ws))
	for i := range ws {
		w := &ws[i]
		origin := en.Origin
		if len(ws) > 1 {
			origin += "#" + strconv.Itoa(i)
		}
		if w.Shipper != "" {
			origin += " (" + w.Shipper + " " + w.Host + ":" + w.File + ")"
		}
		dst = append(dst, normalized{})
		s.parseEntry(&dst[len(dst)-1], en, w, acks(i), origin)
	}
	return dst
}

// parseEntry parses one unwrapped entry of en into n, a zero normalized.
func (s *NormalizeStage) parseEntry(n *normalized, en *Entry, w *parse.Unwrapped, ack AckFunc, origin string) {
	var err error
	if maxEntry := s.cfg.maxEntry(); len(w.Entry) > maxEntry {
		err = &parse.Error{Format: parse.DetectFormat(w.Entry), Reason: "entry exceeds " + strconv.Itoa(maxEntry) + " bytes", Offset: maxEntry}
	} else {
		err = parse.Entry(w.Entry, &n.Record.LogRecord)
	}
	s.complete(n, en, w, ack, origin, err)
}

// complete completes n, whose record was parsed from w (an entry of en)
// with the outcome err.
func (s *NormalizeStage) complete(n *normalized, en *Entry, w *parse.Unwrapped, ack AckFunc, origin string, err error) {
	// Entries that a shipper sent line by line take part in joining; a
	// file's entries were joined by its scanner already.
	role := joinNone
	if en.Message || w.Shipper != "" {
		role = joinLine
	}
	var accepted *health.Observation // an entry parsed but not accepted
	if err == nil && s.tenants != nil && n.Record.Tenant != "" {
		if _, ok := s.tenants[n.Record.Tenant]; !ok {
			err = &parse.Error{Format: parse.DetectFormat(w.Entry), Reason: "tenant not accepted (--accept-tenants)"}
			r := &n.Record
			// for the health monitor, a well-formed entry: its format did not drift
			accepted = &health.Observation{Source: en.Source, Producer: r.Producer, OK: true, Time: r.Time, Message: r.Body, Origin: origin}
		}
	}
	if err != nil {
		if role == joinLine && parse.IsContinuation(w.Entry) {
			role = joinCont
		}
		*n = deadLetter(en, ack, origin, w.Shipper, w.Entry, err)
		n.healthAs = accepted
	} else {
		n.OK = true
		n.Producer = n.Record.Producer
		n.Source = en.Source
		n.Ack = ack
		n.shipper = w.Shipper
		r := &n.Record
		r.Origin = origin
		r.Source = en.Source
		r.Ack = ack
		r.tie = contentHash(w.Entry)
		n.secondsOnly = w.SecondsOnly
		if role == joinLine && n.Producer == schemas.ProducerExchange {
			role = joinHead
		}
	}
	n.join = role
	if role != joinNone {
		if w.Shipper != "" || w.Host != "" || w.File != "" {
			n.stream = w.Shipper + "\x00" + w.Host + "\x00" + w.File
		} // else "": no envelope, the source is the stream (no allocation)
		if role == joinHead || role == joinCont {
			n.raw = bytes.Clone(w.Entry)
		}
	}
}

// deadLetter is the normalized of an entry (raw, of en) that cannot be
// parsed; shipper names its envelope, if any, in the reason.
func deadLetter(en *Entry, ack AckFunc, origin, shipper string, raw []byte, err error) normalized {
	f := parse.FormatUnknown
	var pe *parse.Error
	if errors.As(err, &pe) {
		f = pe.Format
	}
	reason := err.Error()
	if shipper != "" {
		reason = shipper + " envelope: " + reason
	}
	return normalized{
		Producer: f.Producer(),
		Source:   en.Source,
		Ack:      ack,
		shipper:  shipper,
		DeadLetter: schemas.DeadLetter{
			Reason: reason,
			Origin: origin,
			// never nil: an empty Kafka message must encode as "", which
			// the dead-letter schema requires, not null
			RawBase64: append([]byte{}, raw...),
		},
	}
}

// describeRaw sets the dead letter's raw length and hash from its
// original bytes and, unless mode is DeadLetterFull, redacts them.
func describeRaw(dl *schemas.DeadLetter, mode schemas.DeadLetterRaw) {
	sum := sha256.Sum256(dl.RawBase64)
	dl.RawLength, dl.RawSHA256 = len(dl.RawBase64), hex.EncodeToString(sum[:])
	if mode == schemas.DeadLetterFull {
		return
	}
	if r := redact.String(string(dl.RawBase64)); r != string(dl.RawBase64) {
		dl.RawBase64, dl.RawRedacted = []byte(r), true
	}
}

// splitAck returns the ack of each of the n entries of one input: the
// input's ack when n is 1; otherwise acks that ack the input once all n
// were acked, or nack it at the first nack.
func splitAck(ack AckFunc, n int) func(i int) AckFunc {
	if ack == nil || n == 1 {
		return func(int) AckFunc { return ack }
	}
	var mu sync.Mutex
	left, failed := n, false
	part := func(ctx context.Context, err error) error {
		mu.Lock()
		if failed {
			mu.Unlock()
			return nil
		}
		if err != nil {
			failed = true
			mu.Unlock()
			return ack(ctx, err)
		}
		left--
		done := left == 0
		mu.Unlock()
		if done {
			return ack(ctx, nil)
		}
		return nil
	}
	return func(int) AckFunc { return part }
}

// commitOne counts n and adds it to b, with whatever the joiner releases
// because of it: records to b.Records, dead letters (received at b.Now)
// to b.DeadLetters with their acks to b.Acks. It returns the latest event
// time of the records it added, and whether it added one.
func (s *NormalizeStage) commitOne(b *Batch, n *normalized) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	from := len(b.Records)
	s.commit(b, n)
	return latestFrom(b.Records[from:])
}

// sourceDone adds to b the entries of source name held for continuation
// lines: it will send no more. It returns what commitOne does.
func (s *NormalizeStage) sourceDone(b *Batch, name string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	from := len(b.Records)
	s.join.releaseSource(b, name, s.cfg.maxEntry(), s.commitItem)
	return latestFrom(b.Records[from:])
}

// latestFrom is the latest event time of records, and whether there is one.
func latestFrom(records []Record) (time.Time, bool) {
	var latest time.Time
	for i := range records {
		if t := records[i].Time; t.After(latest) {
			latest = t
		}
	}
	return latest, len(records) > 0
}

// commit adds n to b through the joiner: a continuation line goes to the
// entry held for it, a head is held, and what they complete is released.
func (s *NormalizeStage) commit(b *Batch, n *normalized) {
	if n.fwd != nil && !s.forwarded.First(n.fwd) {
		n.ackOnly = true // forwarded again: the first one counted
		s.stats.Repeated++
	}
	if n.mark && !n.ackOnly {
		b.Records = append(b.Records, Record{LogRecord: schemas.LogRecord{Time: n.Record.Time}, Source: n.Source, Ack: n.Ack, mark: true})
		return
	}
	if n.ackOnly {
		if n.Ack != nil {
			b.Acks = append(b.Acks, n.Ack)
		}
		return
	}
	if n.join == joinNone {
		s.commitItem(b, n)
		return
	}
	s.join.add(b, n, s.cfg.maxEntry(), s.commitItem, &s.stats.Joined)
}

// commitItem counts n and adds it to b.
func (s *NormalizeStage) commitItem(b *Batch, n *normalized) {
	if n.secondsOnly && n.OK {
		s.keepOrderInSecond(n)
	}
	if !n.OK && n.fwd == nil { // a first hop described it
		describeRaw(&n.DeadLetter, s.cfg.DeadLetterRaw)
	}
	if s.health != nil {
		b.health = append(b.health, healthObservation(n))
	}
	s.stats.Read[n.Producer]++
	if n.shipper != "" {
		s.stats.Shippers[n.shipper]++
	}
	if !n.OK {
		s.stats.DeadLettered[n.Producer]++
		s.stats.Reasons[reasonKind(n.DeadLetter.Reason)]++
		dl := n.DeadLetter
		dl.Received = schemas.Time{Time: b.Now}
		b.DeadLetters = append(b.DeadLetters, dl)
		if n.Ack != nil {
			b.Acks = append(b.Acks, n.Ack)
		}
		return
	}
	r := &n.Record
	s.stats.Parsed[r.Producer]++
	if r.Time.After(s.stats.Latest[r.Producer]) {
		s.stats.Latest[r.Producer] = r.Time
	}
	if s.keys != nil {
		s.keys.Observe(n.Source, r.Tenant, r.Mailbox)
	}
	b.Records = append(b.Records, *r)
}

// keepOrderInSecond moves a record whose time has whole seconds (its
// milliseconds lost on the way) by a microsecond per record of its stream
// before it in the same second: the stream's order is the order they were
// written in, which ordering by content within the second would lose (a
// record that failed and then synced on retry, in the same second, looked
// like one that failed).
func (s *NormalizeStage) keepOrderInSecond(n *normalized) {
	key := n.Source + "\x00" + n.stream
	sec := n.Record.Time.Unix()
	st := s.seconds[key]
	if st.sec == sec && st.n > 0 {
		n.Record.Time = n.Record.Time.Add(time.Duration(st.n) * time.Microsecond)
	} else {
		st = secondCount{sec: sec}
	}
	st.n++
	if s.seconds == nil {
		s.seconds = map[string]secondCount{}
	}
	s.seconds[key] = st
}

// secondCount counts a stream's records in one second.
type secondCount struct {
	sec int64
	n   int
}

// Stats returns a copy of the counters.
func (s *NormalizeStage) Stats() NormalizeStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Reasons = maps.Clone(s.stats.Reasons)
	st.Shippers = maps.Clone(s.stats.Shippers)
	return st
}

// reasonKind strips the variable tail (offsets, quoted text) of a reason so
// that reasons can be counted.
func reasonKind(r string) string {
	for i := 0; i < len(r); i++ {
		c := r[i]
		// a quoted snippet, or a number standing as a word of its own
		// ("at byte 88"): not a digit inside a word ("log4net")
		if c == '"' || (c >= '0' && c <= '9' && (i == 0 || r[i-1] == ' ' || r[i-1] == '(')) {
			return trimRightSpace(r[:i])
		}
	}
	return r
}

func trimRightSpace(s string) string {
	for {
		n := len(s)
		for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == ':' || s[len(s)-1] == '(') {
			s = s[:len(s)-1]
		}
		for _, w := range [...]string{" at", " of", " byte", " bytes", " offset", " line"} {
			if len(s) > len(w) && s[len(s)-len(w):] == w {
				s = s[:len(s)-len(w)]
			}
		}
		if len(s) == n {
			return s
		}
	}
}

// contentHash is a stable hash of an entry's bytes, CRs and trailing line
// breaks dropped, used to order records of equal event time independently
// of their arrival: a file's scanner joins a stack trace's lines without
// their CRs, a shipper may keep them.
func contentHash(b []byte) uint64 {
	for len(b) > 0 && (b[len(b)-1] == '\r' || b[len(b)-1] == '\n') {
		b = b[:len(b)-1]
	}
	if bytes.IndexByte(b, '\r') < 0 {
		return xxhash.Sum64(b)
	}
	d := xxhash.New()
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\r')
		if i < 0 {
			i = len(b)
		}
		d.Write(b[:i])
		b = b[min(i+1, len(b)):]
	}
	return d.Sum64()
}

// healthObservation is what the health monitor counts of n.
func healthObservation(n *normalized) health.Observation {
	if n.healthAs != nil {
		return *n.healthAs
	}
	if n.OK {
		return health.Observation{Source: n.Source, Producer: n.Producer, OK: true, Time: n.Record.Time, Message: n.Record.Body, Origin: n.Record.Origin}
	}
	return health.Observation{Source: n.Source, Producer: n.Producer, Message: n.DeadLetter.Reason, Origin: n.DeadLetter.Origin, Raw: n.DeadLetter.RawBase64,
		Placed: n.fwd != nil, Time: n.Record.Time} // (a forwarded one's placement)
}
