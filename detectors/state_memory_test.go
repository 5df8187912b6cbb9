package detectors

import (
	"fmt"
	"hash/maphash"
	"sort"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/pipeline/parse"
	"github.com/syncwatch/syncwatch/schemas"
)

// tiedRuns is one run per mailbox, every mailbox's lines at the same
// instants (as a million mailboxes logging at millisecond precision share
// them), fed in descending mailbox order: each run's timeout falls at the
// instant of the one queued before it, in reverse order. Every run syncs a
// record and fails one: its sync issue opens when it is decided.
func tiedRuns(n int) []schemas.LogRecord {
	var recs []schemas.LogRecord
	add := func(at time.Duration, p schemas.Producer, ev schemas.Event, sev schemas.Severity, rec, body string) {
		for i := n - 1; i >= 0; i-- {
			r := schemas.LogRecord{
				Time: t0.Add(at), Producer: p, Event: ev, Severity: sev, SeverityText: sev.String(),
				Tenant: "t-1", Mailbox: fmt.Sprintf("m%04d@x.com", i), RunID: fmt.Sprintf("run%d", i), RecordID: rec, Body: body,
				Origin: fmt.Sprintf("test:%d", len(recs)+1),
			}
			if ev == schemas.EventRunFinished {
				r.HasCounts, r.Synced, r.Failed = true, 1, 1
			}
			recs = append(recs, r)
		}
	}
	add(0, schemas.ProducerEngine, schemas.EventRunStarted, schemas.SeverityInfo, "", "")
	add(time.Second, schemas.ProducerExchange, schemas.EventRecordSynced, schemas.SeverityInfo, "M-1", "item M-1 synced")
	add(time.Second, schemas.ProducerEngine, schemas.EventRecordFailed, schemas.SeverityWarn, "A-1", "The item exceeds the maximum allowed size")
	add(2*time.Second, schemas.ProducerEngine, schemas.EventRunFinished, schemas.SeverityInfo, "", "")
	return recs
}

// TestEngineDecidesTiesInOrder: runs due at one instant are decided in
// mailbox order, whether their items wait in the heap or in the queue.
func TestEngineDecidesTiesInOrder(t *testing.T) {
	recs := tiedRuns(50)
	e, err := NewEngine(Config{})
	require.NoError(t, err)
	var out []schemas.IncidentEvent
	for i := range recs {
		out = e.Process(&recs[i], out)
	}
	out = e.Advance(t0.Add(time.Minute), out)
	require.Len(t, out, 50)
	var got []string
	for _, ev := range out {
		got = append(got, ev.Data.Mailbox)
	}
	require.True(t, sort.StringsAreSorted(got), "events in mailbox order: %v", got)

	// a run timing out: the same order from the queue alone
	recs = tiedRuns(50)
	var started []schemas.LogRecord
	for _, r := range recs {
		if r.Event == schemas.EventRunStarted || r.Event == schemas.EventRecordFailed || r.Event == schemas.EventRecordSynced {
			started = append(started, r)
		}
	}
	e, err = NewEngine(Config{})
	require.NoError(t, err)
	out = out[:0]
	for i := range started {
		out = e.Process(&started[i], out)
	}
	out = e.Advance(t0.Add(time.Hour), out)
	require.Len(t, out, 50)
	got = got[:0]
	for _, ev := range out {
		got = append(got, ev.Data.Mailbox)
	}
	require.True(t, sort.StringsAreSorted(got), "events in mailbox order: %v", got)
	require.Equal(t, 50, e.Stats().RunsTimedOut)
}

// TestEngineKeepsNoDecidedRun: once a run is decided, no queued item
// holds it (its timeout item would have kept it alive for the run
// timeout: with a million mailboxes, a million decided runs).
func TestEngineKeepsNoDecidedRun(t *testing.T) {
	recs := tiedRuns(200)
	e, err := NewEngine(Config{})
	require.NoError(t, err)
	var out []schemas.IncidentEvent
	for i := range recs {
		out = e.Process(&recs[i], out)
	}
	out = e.Advance(t0.Add(time.Minute), out)
	require.Len(t, out, 200)
	require.Equal(t, 200, e.Stats().RunsDecided)
	held := 0
	for _, it := range append(e.due[:len(e.due):len(e.due)], e.dueQ.items[e.dueQ.head:]...) {
		if it.r != nil && it.r.decided {
			held++
		}
	}
	require.Zero(t, held, "queued items holding decided runs")
	for _, it := range e.batch[:cap(e.batch)] {
		require.Nil(t, it.r, "Advance's scratch holds a run")
	}
}

// knownOne hands the engine one open incident for the mailbox a@x.
type knownOne struct{ taken bool }

func (k *knownOne) Take(tenant, mailbox string, _ time.Time) []schemas.IncidentEvent {
	if k.taken || mailbox != "a@x" {
		return nil
	}
	k.taken = true
	return []schemas.IncidentEvent{schemas.NewIncidentEvent("test", schemas.TypeOpened, 1, t0, schemas.IncidentData{
		IncidentID: "inc-a", Kind: schemas.KindSyncError, Class: "exchange.auth.password", Tenant: tenant, Mailbox: mailbox,
	})}
}

// TestEngineCountsOpenIncidents: Stats' OpenIncidents, kept as incidents
// open and resolve (and are adopted), is the count over the mailboxes.
func TestEngineCountsOpenIncidents(t *testing.T) {
	var recs []schemas.LogRecord
	_, _, err := loggen.Generate(loggen.Config{Seed: 3, Mailboxes: 20, Duration: 12 * time.Hour, Dirty: true}, func(e loggen.Entry) error {
		var r schemas.LogRecord
		if parse.Entry(e.Raw, &r) == nil {
			recs = append(recs, r)
		}
		return nil
	})
	require.NoError(t, err)
	// a@x: adopted open, resolved by its first healthy run
	s := &script{at: t0}
	s.ok("ra")
	for i := range s.recs {
		s.recs[i].Mailbox = "a@x"
	}
	recs = append(s.recs, recs...)
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].Time.Before(recs[j].Time) })

	e, err := NewEngine(Config{Known: &knownOne{}})
	require.NoError(t, err)
	count := func() int {
		n := 0
		e.mailboxes.each(func(mb *mailbox) { n += len(mb.openIncidents()) })
		return n
	}
	var out []schemas.IncidentEvent
	most, resolved := 0, 0
	for i := range recs {
		out = e.Process(&recs[i], out[:0])
		for _, ev := range out {
			if ev.Data.Status == schemas.StatusResolved {
				resolved++
			}
		}
		require.Equal(t, count(), e.Stats().OpenIncidents, "after record %d", i)
		most = max(most, count())
	}
	out = e.Flush(out[:0])
	require.Equal(t, count(), e.Stats().OpenIncidents)
	require.Equal(t, 1, e.Stats().Adopted)
	require.Greater(t, most, 2)
	require.Greater(t, resolved, 0)
}

// TestMailboxMapCollisions: mailboxes whose keys hash alike are told
// apart, found again and evicted, whichever went first.
func TestMailboxMapCollisions(t *testing.T) {
	m := newMailboxMap(maphash.MakeSeed())
	now := instantOf(t0)
	ka, kb, kc := mbKey{"t-1", "a@x"}, mbKey{"t-1", "b@x"}, mbKey{"t-2", "c@x"}
	const h = 42 // all three, as if their hashes collided
	var mbs []*mailbox
	for _, k := range []mbKey{ka, kb, kc} {
		require.Nil(t, m.lookup(k, h))
		mb := m.add(k, h, now)
		require.Equal(t, k, mb.key)
		require.Same(t, mb, m.lookup(k, h))
		mbs = append(mbs, mb)
	}
	a, b, c := mbs[0], mbs[1], mbs[2]
	require.Equal(t, 3, m.len())
	require.Len(t, m.collided, 2)
	require.Equal(t, 1, m.evict(func(mb *mailbox) bool { return mb == a }, now.add(time.Hour), time.Minute))
	require.Nil(t, m.lookup(ka, h))
	require.Same(t, b, m.lookup(kb, h), "found when the first of its hash is gone")
	require.Same(t, c, m.lookup(kc, h))
	a2 := m.add(ka, h, now.add(time.Hour))
	require.Same(t, a2, m.lookup(ka, h))
	n := 0
	m.each(func(*mailbox) { n++ })
	require.Equal(t, 3, n)

	// a real hash: the same key finds the same mailbox
	kd := mbKey{"t-1", "d@x"}
	got, hd := m.get(kd)
	require.Nil(t, got)
	d := m.add(kd, hd, now)
	got, _ = m.get(mbKey{strings.Clone("t-1"), strings.Clone("d@x")})
	require.Same(t, d, got)
	require.Same(t, unsafe.StringData(a.key.tenant), unsafe.StringData(d.key.tenant), "tenant interned")
}

// TestMailboxMapReusesSlots: an evicted mailbox's slot is reused, and
// only once no queued run decision can point to it: until then it keeps
// its key.
func TestMailboxMapReusesSlots(t *testing.T) {
	m := newMailboxMap(maphash.MakeSeed())
	now := instantOf(t0)
	var mbs []*mailbox
	for i := range int(2*slabSize) + 3 {
		k := mbKey{"t-1", fmt.Sprintf("m%d@x", i)}
		_, h := m.get(k)
		mb := m.add(k, h, now)
		mb.lastSeen = now
		mbs = append(mbs, mb)
	}
	require.Len(t, m.slabs, 3)
	for i, mb := range mbs {
		got, _ := m.get(mb.key)
		require.Same(t, mb, got, "mailbox %d", i)
	}
	victim := mbs[7]
	key := victim.key
	// evicted while a decision may still be queued: kept, not reused
	require.Equal(t, 1, m.evict(func(mb *mailbox) bool { return mb == victim }, now.add(time.Minute), time.Hour))
	require.Equal(t, key, victim.key)
	other := m.add(mbKey{"t-1", "new1@x"}, 1, now.add(time.Minute))
	require.NotSame(t, victim, other)
	// past the hold: reused, zeroed
	mbs[8].lastSeen = now
	victim = mbs[8]
	require.Equal(t, 1, m.evict(func(mb *mailbox) bool { return mb == victim }, now.add(2*time.Hour), time.Hour))
	require.Zero(t, *victim, "nothing kept alive")
	reused := m.add(mbKey{"t-1", "new2@x"}, 2, now.add(2*time.Hour))
	require.Same(t, victim, reused)
	require.Equal(t, "new2@x", reused.key.mailbox)
	require.Equal(t, int(2*slabSize)+3, m.len())
	require.Len(t, m.slabs, 3, "no new slab")
}

// TestMailboxMapManyKeys: mailboxes are added until three of their
// 32-bit hashes collided (after about 150,000): every mailbox is found
// again, before and after half of them are evicted.
func TestMailboxMapManyKeys(t *testing.T) {
	m := newMailboxMap(maphash.MakeSeed())
	now := instantOf(t0)
	var keys []mbKey
	for i := 0; len(m.collided) < 3; i++ {
		require.Less(t, i, 2_000_000, "no three 32-bit hashes collided")
		k := mbKey{fmt.Sprintf("t-%d", i%300), fmt.Sprintf("user%d@contoso.com", i)}
		got, h := m.get(k)
		require.Nil(t, got)
		m.add(k, h, now)
		keys = append(keys, k)
	}
	require.Equal(t, len(keys), m.len())
	for _, k := range keys {
		got, _ := m.get(k)
		require.NotNil(t, got)
		require.Equal(t, k, got.key)
	}
	odd := func(mb *mailbox) bool { return mb.key.mailbox[len(mb.key.mailbox)-len("@contoso.com")-1]%2 == 1 }
	require.Equal(t, len(keys)/2, m.evict(odd, now.add(time.Hour), time.Minute))
	for i, k := range keys {
		got, _ := m.get(k)
		if i%2 == 1 {
			require.Nil(t, got, "%v evicted", k)
		} else {
			require.NotNil(t, got, "%v kept", k)
			require.Equal(t, k, got.key)
		}
	}
}
