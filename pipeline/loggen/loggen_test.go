package loggen_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/schemas"
)

// generate collects a whole corpus in memory (tests only).
func generate(t testing.TB, cfg loggen.Config) ([]loggen.Entry, []loggen.Truth, loggen.Stats) {
	t.Helper()
	var es []loggen.Entry
	truth, st, err := loggen.Generate(cfg, func(e loggen.Entry) error {
		es = append(es, e)
		return nil
	})
	require.NoError(t, err)
	return es, truth, st
}

func digest(es []loggen.Entry, truth []loggen.Truth) [32]byte {
	h := sha256.New()
	for _, e := range es {
		h.Write([]byte{byte(e.Producer)})
		h.Write([]byte(e.Time.Format(time.RFC3339Nano)))
		h.Write(e.Raw)
		h.Write([]byte{0})
	}
	h.Write(truthJSONL(truth))
	var d [32]byte
	copy(d[:], h.Sum(nil))
	return d
}

var small = loggen.Config{Mailboxes: 12, Duration: 8 * time.Hour, IncidentRate: 0.3}

func TestGenerateDeterministic(t *testing.T) {
	tests := []struct {
		name string
		cfg  loggen.Config
	}{
		{name: "clean", cfg: small},
		{name: "dirty", cfg: loggen.Config{Mailboxes: 12, Duration: 8 * time.Hour, IncidentRate: 0.3, Dirty: true}},
		{name: "paraphrased", cfg: loggen.Config{Mailboxes: 12, Duration: 8 * time.Hour, IncidentRate: 0.3, Wording: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, ta, sa := generate(t, tt.cfg)
			b, tb, sb := generate(t, tt.cfg)
			require.Equal(t, digest(a, ta), digest(b, tb), "same config, different bytes")
			require.Equal(t, sa, sb)
			other := tt.cfg
			other.Seed = 2
			c, tc, _ := generate(t, other)
			require.NotEqual(t, digest(a, ta), digest(c, tc), "seed 2 gave the corpus of seed 1")
		})
	}
}

func TestGenerateOrderPerProducer(t *testing.T) {
	for _, dirty := range []bool{false, true} {
		t.Run(map[bool]string{false: "clean", true: "dirty"}[dirty], func(t *testing.T) {
			cfg := small
			cfg.Dirty = dirty
			es, _, st := generate(t, cfg)
			var last [schemas.NumProducers]time.Time
			var n [schemas.NumProducers]int
			for i, e := range es {
				require.Contains(t, []schemas.Producer{schemas.ProducerExchange, schemas.ProducerEngine, schemas.ProducerC4CC}, e.Producer)
				require.False(t, e.Time.Before(last[e.Producer]), "entry %d of %s goes back in time: %s after %s", i, e.Producer, e.Time, last[e.Producer])
				last[e.Producer] = e.Time
				n[e.Producer]++
			}
			require.Equal(t, st.Lines, n, "Stats.Lines must count the emitted entries")
		})
	}
}

// TestGenerateDisorder: with Disorder, some entries of each producer come
// after later ones, never by more than Disorder, none that carries a
// failure, and the truth is the ordered corpus'.
func TestGenerateDisorder(t *testing.T) {
	// clean: the same entries, in another order
	ordered, wantTruth, _ := generate(t, small)
	cfg := small
	cfg.Disorder = 700 * time.Millisecond
	es, truth, _ := generate(t, cfg)
	require.Equal(t, wantTruth, truth, "disorder does not change the truth")
	sorted := func(es []loggen.Entry) []string {
		var out []string
		for _, e := range es {
			out = append(out, string(e.Raw))
		}
		slices.Sort(out)
		return out
	}
	require.True(t, slices.Equal(sorted(ordered), sorted(es)), "the same entries")

	// dirty: the dirt is drawn in the order the entries are written
	cfg.Dirty = true
	dirty := small
	dirty.Dirty = true
	_, wantTruth, _ = generate(t, dirty)
	es, truth, st := generate(t, cfg)
	require.Equal(t, wantTruth, truth, "disorder does not change the truth")
	var latest [schemas.NumProducers]time.Time
	var behind [schemas.NumProducers]int
	var most time.Duration
	for _, e := range es {
		if lag := latest[e.Producer].Sub(e.Time); lag > 0 {
			behind[e.Producer]++
			most = max(most, lag)
			require.NotContains(t, string(e.Raw), "ERROR", "only entries without a failure are delayed")
		}
		if e.Time.After(latest[e.Producer]) {
			latest[e.Producer] = e.Time
		}
	}
	for _, p := range []schemas.Producer{schemas.ProducerExchange, schemas.ProducerEngine, schemas.ProducerC4CC} {
		require.Positive(t, behind[p], "%s has entries out of order", p)
	}
	require.LessOrEqual(t, most, cfg.Disorder)
	require.Greater(t, most, cfg.Disorder/2)
	require.Positive(t, st.Delayed)
	require.GreaterOrEqual(t, st.Delayed, behind[1]+behind[2]+behind[3]-st.Dup, "Stats.Delayed counts them")
}

// TestGenerateStreams checks the bounded-memory shape of the API: entries
// flow out while the corpus is generated, and an emit error stops it.
func TestGenerateStreams(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	_, _, err := loggen.Generate(loggen.Config{Mailboxes: 500, Duration: 240 * time.Hour}, func(loggen.Entry) error {
		n++
		if n == 1000 {
			return stop
		}
		return nil
	})
	require.ErrorIs(t, err, stop)
	require.Equal(t, 1000, n)
}

// TestTruthFromLines derives the truth from the generated lines alone (an
// independent parser and reading of detection.md) and requires it to be
// exactly the truth Generate returns. It also checks the shape of every
// clean line.
func TestTruthFromLines(t *testing.T) {
	tests := []struct {
		name string
		cfg  loggen.Config
	}{
		{name: "default corpus", cfg: loggen.Config{}},
		{name: "paraphrased", cfg: loggen.Config{Seed: 3, Mailboxes: 15, Duration: 12 * time.Hour, IncidentRate: 0.3, Wording: 1}},
		{name: "mixed wording, many incidents", cfg: loggen.Config{Seed: 4, Mailboxes: 20, Duration: 8 * time.Hour, IncidentRate: 0.5, Wording: 2}},
		{name: "slow runs", cfg: loggen.Config{Seed: 5, Mailboxes: 6, Duration: 48 * time.Hour, RunInterval: 45 * time.Minute, IncidentRate: 0.4}},
		{name: "fast runs", cfg: loggen.Config{Seed: 6, Mailboxes: 6, Duration: 3 * time.Hour, RunInterval: time.Minute, IncidentRate: 0.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, truth, st := generate(t, tt.cfg)
			ref, err := refTruth(es)
			require.NoError(t, err)
			require.NotEmpty(t, truth)
			require.Equal(t, truthLines(t, ref), truthLines(t, truth))
			require.Equal(t, len(truth), st.Episodes)
		})
	}
}

func truthLines(t *testing.T, ts []loggen.Truth) string {
	return string(truthJSONL(ts))
}

// truthJSONL is truth as WriteDir writes it to loggen.TruthFile: one
// Truth.MarshalJSON line each.
func truthJSONL(truth []loggen.Truth) []byte {
	var b bytes.Buffer
	for _, tr := range truth {
		line, _ := tr.MarshalJSON() // never fails
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func TestDefaultCorpusHasEveryClass(t *testing.T) {
	want := []string{
		"sync_error/exchange.auth.password", "sync_error/exchange.auth.oauth_expired", "sync_error/engine.snapshot_limit",
		"sync_error/exchange.ews.not_found", "sync_error/exchange.ews.forbidden", "sync_error/exchange.xml.truncated",
		"sync_error/exchange.org.marked_for_removal", "sync_error/exchange.server.unsupported",
		"sync_error/c4c.server.internal_error", "sync_error/unknown",
		"sync_issue/c4c.server.internal_error", "sync_issue/record.too_large", "sync_issue/record.mandatory_field",
		"sync_issue/record.not_found", "sync_issue/record.conflict", "sync_issue/record.unknown",
	}
	for _, seed := range []int64{1, 2, 3} {
		t.Run("seed "+string(rune('0'+seed)), func(t *testing.T) {
			_, truth, st := generate(t, loggen.Config{Seed: seed})
			for _, k := range want {
				require.Positive(t, st.ByClass[k], "no %s episode", k)
			}
			require.Len(t, st.ByClass, len(want), "unexpected classes: %v", st.ByClass)
			require.GreaterOrEqual(t, st.Episodes, 60)
			require.LessOrEqual(t, st.Episodes, 80)
			require.Equal(t, st.Episodes, st.ByKind[schemas.KindSyncError]+st.ByKind[schemas.KindSyncIssue])
			for _, tr := range truth {
				if tr.End != nil {
					require.True(t, tr.End.After(tr.Start), "episode ends before it starts: %+v", tr)
				}
			}
		})
	}
}

func TestDirt(t *testing.T) {
	cfg := loggen.Config{Seed: 7, Mailboxes: 20, Duration: 12 * time.Hour}
	clean, cleanTruth, cleanSt := generate(t, cfg)
	cfg.Dirty = true
	dirty, dirtyTruth, st := generate(t, cfg)

	require.Equal(t, truthLines(t, cleanTruth), truthLines(t, dirtyTruth), "dirt changed the truth")
	require.Equal(t, cleanSt.Runs, st.Runs)
	require.Positive(t, st.Dup)
	require.Positive(t, st.Bad)
	require.Positive(t, st.Foreign)

	var total, good int
	for _, n := range st.Lines {
		total += n
	}
	for _, n := range cleanSt.Lines {
		good += n
	}
	require.Equal(t, good+st.Dup+st.Bad, total, "dirty corpus = clean entries + duplicates + bad entries")

	var bad, foreign, adjacentDup int
	var prev [schemas.NumProducers][]byte
	features := map[string]int{}
	for _, e := range dirty {
		shape := shapeOf(e.Raw)
		switch {
		case shape == schemas.ProducerUnknown:
			bad++
		case shape != e.Producer:
			foreign++
		case bytes.Equal(e.Raw, prev[e.Producer]):
			adjacentDup++
		}
		if shape != schemas.ProducerUnknown {
			prev[e.Producer] = e.Raw
		}
		s := string(e.Raw)
		switch {
		case e.Producer == schemas.ProducerExchange && shape == e.Producer:
			require.True(t, strings.HasSuffix(s, "\r"), "exchange.log is the CRLF file: %q", s)
			if len(s) > 20 && s[19] == ' ' {
				features["exchange without ms"]++
			}
		case e.Producer == schemas.ProducerEngine && shape == e.Producer:
			require.False(t, strings.HasSuffix(s, "\r"))
			if strings.Contains(s, "+02:00 ") || strings.HasSuffix(s, "+02:00") {
				features["+02:00"]++
			}
			if !strings.HasPrefix(s, "ts=") {
				features["shuffled keys"]++
			}
		case e.Producer == schemas.ProducerC4CC && shape == e.Producer:
			if strings.Contains(s, `"level":"info"`) || strings.Contains(s, `"level":"error"`) {
				features["lower-case level"]++
			}
			if strings.Contains(s, `"threadId":`) {
				features["threadId"]++
			}
		}
		for _, noise := range []string{"EWS: ", "(request id "} {
			if strings.Contains(s, noise) {
				features[noise]++
			}
		}
	}
	require.Equal(t, st.Bad, bad, "bad entries")
	require.Equal(t, st.Foreign, foreign, "foreign-format copies")
	require.Equal(t, st.Dup-st.Foreign, adjacentDup, "adjacent exact duplicates")
	for _, f := range []string{"exchange without ms", "+02:00", "shuffled keys", "lower-case level", "threadId", "EWS: ", "(request id "} {
		require.Positive(t, features[f], "no %q in the dirty corpus", f)
	}
	// The clean corpus has none of it.
	for _, e := range clean {
		require.Equal(t, e.Producer, shapeOf(e.Raw))
		require.False(t, bytes.ContainsRune(e.Raw, '\r'))
	}
}

func TestWriteDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "corpus")
	cfg := loggen.Config{Mailboxes: 6, Duration: 6 * time.Hour, IncidentRate: 0.4, Dirty: true}
	st, err := loggen.WriteDir(dir, cfg)
	require.NoError(t, err)
	es, truth, st2 := generate(t, cfg)
	require.Equal(t, st2, st)

	var want [schemas.NumProducers]bytes.Buffer
	for _, e := range es {
		want[e.Producer].Write(e.Raw)
		want[e.Producer].WriteByte('\n')
	}
	for p := schemas.ProducerExchange; p <= schemas.ProducerC4CC; p++ {
		got, err := os.ReadFile(filepath.Join(dir, loggen.FileFor(p)))
		require.NoError(t, err)
		require.Equal(t, want[p].Bytes(), got, "%s", loggen.FileFor(p))
	}
	f, err := os.Open(filepath.Join(dir, loggen.TruthFile))
	require.NoError(t, err)
	defer f.Close()
	got, err := loggen.ReadTruth(f)
	require.NoError(t, err)
	require.Equal(t, truth, got)
	m, err := os.ReadFile(filepath.Join(dir, loggen.ManifestFile))
	require.NoError(t, err)
	require.Contains(t, string(m), `"truth_episodes": `)
	require.Contains(t, string(m), `"dirty": true`)
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     loggen.Config
		wantErr []string // one substring per problem; none: valid
	}{
		{name: "zero value", cfg: loggen.Config{}},
		{name: "every field set", cfg: loggen.Config{Seed: -7, Mailboxes: 1, Tenants: 100000, Start: time.Date(9000, 12, 31, 0, 0, 0, 0, time.UTC),
			Duration: time.Hour, RunInterval: time.Minute, Dirty: true, IncidentRate: 1, Wording: 2}},
		{name: "no incidents", cfg: loggen.Config{IncidentRate: -1}},
		{name: "disorder too large", cfg: loggen.Config{Disorder: 61 * time.Second}, wantErr: []string{"Disorder 1m1s: must lie in 0-1m"}},
		{name: "negative mailboxes", cfg: loggen.Config{Mailboxes: -1}, wantErr: []string{"Mailboxes -1: must not be negative"}},
		{name: "negative tenants", cfg: loggen.Config{Tenants: -1}, wantErr: []string{"Tenants -1: must not be negative"}},
		{name: "too many tenants", cfg: loggen.Config{Tenants: 100001}, wantErr: []string{"Tenants 100001: more than 100000"}},
		{name: "start too early", cfg: loggen.Config{Start: time.Date(999, 1, 1, 0, 0, 0, 0, time.UTC)}, wantErr: []string{"Start 0999-01-01T00:00:00Z: year 999 is out of range 1000-9000"}},
		{name: "start too late", cfg: loggen.Config{Start: time.Date(9001, 1, 1, 0, 0, 0, 0, time.UTC)}, wantErr: []string{"year 9001 is out of range"}},
		{name: "negative duration", cfg: loggen.Config{Duration: -time.Hour}, wantErr: []string{"Duration -1h0m0s: must not be negative"}},
		{name: "run interval too short", cfg: loggen.Config{RunInterval: time.Second}, wantErr: []string{"RunInterval 1s: shorter than 1m0s"}},
		{name: "negative run interval", cfg: loggen.Config{RunInterval: -time.Minute}, wantErr: []string{"RunInterval -1m0s: shorter than 1m0s"}},
		{name: "rate above 1", cfg: loggen.Config{IncidentRate: 1.5}, wantErr: []string{"IncidentRate 1.5: not a probability"}},
		{name: "rate not a number", cfg: loggen.Config{IncidentRate: math.NaN()}, wantErr: []string{"IncidentRate NaN: not a probability"}},
		{name: "unknown wording", cfg: loggen.Config{Wording: 3}, wantErr: []string{"Wording 3: not 0, 1 or 2"}},
		{name: "negative wording", cfg: loggen.Config{Wording: -1}, wantErr: []string{"Wording -1: not 0, 1 or 2"}},
		{
			name: "every problem at once",
			cfg: loggen.Config{Mailboxes: -1, Tenants: -1, Start: time.Date(999, 1, 1, 0, 0, 0, 0, time.UTC), Duration: -1,
				RunInterval: -1, IncidentRate: 2, Wording: 3},
			wantErr: []string{"Mailboxes", "Tenants", "Start", "Duration", "RunInterval", "IncidentRate", "Wording"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if len(tt.wantErr) == 0 {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, loggen.ErrInvalidConfig)
			for _, w := range tt.wantErr {
				require.Contains(t, err.Error(), w)
			}
			require.Contains(t, err.Error(), fmt.Sprintf("%d error", len(tt.wantErr)), "one problem per field")
			_, _, err = loggen.Generate(tt.cfg, func(loggen.Entry) error { return nil })
			require.ErrorIs(t, err, loggen.ErrInvalidConfig)
			dir := filepath.Join(t.TempDir(), "corpus")
			_, err = loggen.WriteDir(dir, tt.cfg)
			require.ErrorIs(t, err, loggen.ErrInvalidConfig)
			require.NoDirExists(t, dir, "an invalid config writes nothing")
		})
	}
}

func TestNoIncidents(t *testing.T) {
	es, truth, st := generate(t, loggen.Config{Mailboxes: 10, Duration: 6 * time.Hour, IncidentRate: -1})
	require.Empty(t, truth)
	require.Zero(t, st.Episodes)
	ref, err := refTruth(es)
	require.NoError(t, err)
	require.Empty(t, ref)
}

// TestWordingParaphrases checks that Wording 1 replaces every catalog
// text (the truth stays the same: TestTruthFromLines derives it from the
// paraphrased lines) and that Wording 0 uses them.
func TestWordingParaphrases(t *testing.T) {
	catalog := []string{
		"Authentication error", "Probably your e-mail password was changed", "OAuthRefreshToken might have expired",
		"Synchronization was disabled", "A limit on the number of snapshot records", "(404) Not Found",
		"(403) Forbidden", "The XML document ended unexpectedly", "is marked for removal",
		"Unsupported property field URI type", "(500) Internal server error", "The item exceeds the maximum allowed size",
		"Mandatory field", "The specified object was not found in the store", "Update conflict",
	}
	cfg := loggen.Config{Seed: 11, Mailboxes: 40, Duration: 24 * time.Hour, IncidentRate: 0.4}
	w0, t0, _ := generate(t, cfg)
	cfg.Wording = 1
	w1, t1, _ := generate(t, cfg)
	require.Equal(t, truthLines(t, t0), truthLines(t, t1), "wording changed the truth")
	count := func(es []loggen.Entry, s string) int {
		n := 0
		for _, e := range es {
			if bytes.Contains(e.Raw, []byte(s)) {
				n++
			}
		}
		return n
	}
	for _, s := range catalog {
		require.Positive(t, count(w0, s), "wording 0 lacks %q", s)
		require.Zero(t, count(w1, s), "wording 1 still says %q", s)
	}
}

// TestEntryKeys checks that every entry of a mailbox carries its
// "tenant/mailbox" key (what a producer keys its Kafka messages by) and
// that the key names the mailbox the entry itself is about.
func TestEntryKeys(t *testing.T) {
	es, _, _ := generate(t, loggen.Config{Seed: 7, Mailboxes: 12, Tenants: 3, Duration: 6 * time.Hour})
	keys := map[string]bool{}
	for _, e := range es {
		tenant, mailbox, ok := strings.Cut(e.Key, "/")
		require.True(t, ok, "entry without a tenant/mailbox key: %q", e.Raw)
		require.Contains(t, string(e.Raw), tenant, "key %q", e.Key)
		require.Contains(t, string(e.Raw), mailbox, "key %q", e.Key)
		keys[e.Key] = true
	}
	require.Len(t, keys, 12, "one key per mailbox")
}
