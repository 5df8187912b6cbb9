package pipeline

import (
	"cmp"
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/syncwatch/syncwatch/pipeline/health"
	"github.com/syncwatch/syncwatch/pipeline/parse"
	"github.com/syncwatch/syncwatch/schemas"
)

// NormalizeStage turns Batch.Entries into Batch.Records; an entry that
// cannot be parsed becomes a dead letter with the reason, and its ack joins
// Batch.Acks so that it is acknowledged once the dead letter is delivered.
type NormalizeStage struct {
	maxEntry int

	mu     sync.Mutex
	stats  NormalizeStats
	parsed []normalized // Exec's scratch space
	// health, if not nil, counts every entry committed (pipeline
	// incidents), in commit order.
	health *health.Monitor
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
}

// NewNormalizeStage returns a stage that accepts entries up to maxEntry
// bytes (0: parse.DefaultMaxEntry).
func NewNormalizeStage(maxEntry int) *NormalizeStage {
	return &NormalizeStage{maxEntry: cmp.Or(maxEntry, parse.DefaultMaxEntry), stats: NormalizeStats{Reasons: map[string]int64{}}}
}

// parallelMin is the smallest batch Exec parses on several goroutines.
const parallelMin = 256

// Exec normalizes b.Entries, appending to b.Records and b.DeadLetters in
// the entries' order. A large batch is parsed on up to GOMAXPROCS
// goroutines (parsing is most of a live consumer's work; detection must
// stay on one).
func (s *NormalizeStage) Exec(_ context.Context, b *Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	workers := min(runtime.GOMAXPROCS(0), len(b.Entries)/(parallelMin/2))
	if workers < 2 {
		var n normalized
		for i := range b.Entries {
			s.normalize(&b.Entries[i], &n)
			s.commit(b, &n)
		}
		b.Entries = b.Entries[:0]
		return nil
	}
	if cap(s.parsed) < len(b.Entries) {
		s.parsed = make([]normalized, len(b.Entries))
	}
	parsed := s.parsed[:len(b.Entries)]
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*len(parsed)/workers, (w+1)*len(parsed)/workers
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				s.normalize(&b.Entries[i], &parsed[i])
			}
		})
	}
	wg.Wait()
	for i := range parsed {
		s.commit(b, &parsed[i])
		parsed[i] = normalized{} // the records are the batch's now
	}
	b.Entries = b.Entries[:0]
	return nil
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
}

// normalize parses en into n. It only reads the stage's configuration, so
// it may run concurrently (Replay parses each source on its own
// goroutine); commitOne then counts n and adds it to a batch, in the order
// the caller chooses. en.Raw is not retained.
func (s *NormalizeStage) normalize(en *Entry, n *normalized) {
	// A fresh record: Commit copies the record into a batch, Attributes
	// map included, so n's storage must not be reused.
	n.Record = Record{}
	r := &n.Record
	var err error
	if en.Oversize || len(en.Raw) > s.maxEntry {
		err = &parse.Error{Format: parse.DetectFormat(en.Raw), Reason: "entry exceeds " + strconv.Itoa(s.maxEntry) + " bytes", Offset: s.maxEntry}
	} else {
		err = parse.Entry(en.Raw, &r.LogRecord)
	}
	n.Ack = en.Ack
	n.Source = en.Source
	if err != nil {
		f := parse.FormatUnknown
		var pe *parse.Error
		if errors.As(err, &pe) {
			f = pe.Format
		}
		n.OK = false
		n.Producer = f.Producer()
		n.DeadLetter = schemas.DeadLetter{
			Reason: err.Error(),
			Origin: en.Origin,
			// never nil: an empty Kafka message must encode as "", which
			// the dead-letter schema requires, not null
			RawBase64: append([]byte{}, en.Raw...),
		}
		return
	}
	n.OK = true
	n.Producer = r.Producer
	n.DeadLetter = schemas.DeadLetter{}
	r.Origin = en.Origin
	r.Source = en.Source
	r.Ack = en.Ack
	r.tie = contentHash(en.Raw)
}

// commitOne counts n and adds it to b: the record to b.Records, or the dead
// letter (received at b.Now) to b.DeadLetters with its ack to b.Acks. It
// returns the record's event time, or false for a dead letter.
func (s *NormalizeStage) commitOne(b *Batch, n *normalized) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commit(b, n)
}

func (s *NormalizeStage) commit(b *Batch, n *normalized) (time.Time, bool) {
	if s.health != nil {
		b.health = append(b.health, healthObservation(n))
	}
	s.stats.Read[n.Producer]++
	if !n.OK {
		s.stats.DeadLettered[n.Producer]++
		s.stats.Reasons[reasonKind(n.DeadLetter.Reason)]++
		dl := n.DeadLetter
		dl.Received = schemas.Time{Time: b.Now}
		b.DeadLetters = append(b.DeadLetters, dl)
		if n.Ack != nil {
			b.Acks = append(b.Acks, n.Ack)
		}
		return time.Time{}, false
	}
	r := &n.Record
	s.stats.Parsed[r.Producer]++
	if r.Time.After(s.stats.Latest[r.Producer]) {
		s.stats.Latest[r.Producer] = r.Time
	}
	b.Records = append(b.Records, *r)
	return r.Time, true
}

// Stats returns a copy of the counters.
func (s *NormalizeStage) Stats() NormalizeStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Reasons = make(map[string]int64, len(s.stats.Reasons))
	for k, v := range s.stats.Reasons {
		st.Reasons[k] = v
	}
	return st
}

// reasonKind strips the variable tail (offsets, quoted text) of a reason so
// that reasons can be counted.
func reasonKind(r string) string {
	for i := 0; i < len(r); i++ {
		c := r[i]
		if c == '"' || (c >= '0' && c <= '9') {
			return trimRightSpace(r[:i])
		}
	}
	return r
}

func trimRightSpace(s string) string {
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == ':') {
		s = s[:len(s)-1]
	}
	for len(s) > 3 && (s[len(s)-3:] == " at" || s[len(s)-3:] == " of") {
		s = s[:len(s)-3]
	}
	return s
}

// contentHash is a stable hash of an entry's bytes (CR dropped), used to
// order records of equal event time independently of their arrival.
func contentHash(b []byte) uint64 {
	for len(b) > 0 && (b[len(b)-1] == '\r' || b[len(b)-1] == '\n') {
		b = b[:len(b)-1]
	}
	return xxhash.Sum64(b)
}

// healthObservation is what the health monitor counts of n.
func healthObservation(n *normalized) health.Observation {
	if n.OK {
		return health.Observation{Source: n.Source, Producer: n.Producer, OK: true, Time: n.Record.Time, Message: n.Record.Body, Origin: n.Record.Origin}
	}
	return health.Observation{Source: n.Source, Producer: n.Producer, Message: n.DeadLetter.Reason, Origin: n.DeadLetter.Origin, Raw: n.DeadLetter.RawBase64}
}
