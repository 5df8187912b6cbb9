package ship

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/schemas"
)

func TestParseKind(t *testing.T) {
	for _, k := range Kinds() {
		got, err := ParseKind(strings.ToUpper(string(k)))
		require.NoError(t, err)
		require.Equal(t, k, got)
	}
	for alias, want := range map[string]Kind{"logstash": LogstashPlain, "otel": OTLPProto, "otlp_json": OTLPJSON, "fluentbit": FluentBit} {
		got, err := ParseKind(alias)
		require.NoError(t, err, alias)
		require.Equal(t, want, got, alias)
	}
	_, err := ParseKind("rsyslog")
	require.ErrorIs(t, err, ErrUnknownKind)
	require.Contains(t, err.Error(), "filebeat, logstash-plain")

	for _, s := range []string{"", "none", "host", "mailbox", "tenant/mailbox"} {
		_, err := ParseKeying(s)
		require.NoError(t, err, s)
	}
	_, err = ParseKeying("partition")
	require.ErrorIs(t, err, ErrUnknownKind)
	require.Equal(t, "mailbox", KeyMailbox.String())
}

func TestArchiveFile(t *testing.T) {
	want := map[Kind]string{
		Filebeat: "filebeat.ndjson", LogstashPlain: "logstash-plain.kcat", LogstashJSON: "logstash-json.kcat",
		FluentBit: "fluent-bit.kcat", FluentBitGELF: "fluent-bit-gelf.kcat", Fluentd: "fluentd.kcat", Vector: "vector.kcat", OTLPJSON: "otlp-json.kcat",
		OTLPProto: "", Kind("nope"): "",
	}
	for k, w := range want {
		require.Equal(t, w, k.ArchiveFile(), k)
	}
}

func TestValidate(t *testing.T) {
	require.NoError(t, Config{Kind: Filebeat}.Validate())
	err := Config{
		Host: "conn 01", Paths: map[schemas.Producer]string{schemas.ProducerEngine: "engine.log"},
		Delay: -1, Keying: 7, BatchSize: -1, BatchTimeout: -1,
	}.Validate()
	require.ErrorIs(t, err, ErrInvalidConfig)
	for _, field := range []string{"Kind", "Host", "Paths[SyncEngine]", "Delay", "Keying", "BatchSize", "BatchTimeout"} {
		require.Contains(t, err.Error(), field)
	}
	require.ErrorIs(t, Config{Kind: "rsyslog"}.Validate(), ErrInvalidConfig)
	_, err = New(Config{})
	require.ErrorIs(t, err, ErrInvalidConfig)
	_, _, err = Generate(loggen.Config{}, Config{}, nil)
	require.ErrorIs(t, err, ErrInvalidConfig)
}

func TestJSONStyles(t *testing.T) {
	in := "a\"b\\c\nd\re\tf\bg\fh\x00i\x1fj<k>l&m/n–o\u2028p😀q\xffr"
	tests := []struct {
		name  string
		style jsonStyle
		want  string
	}{
		{"filebeat", goJSON, `"a\"b\\c\nd\re\tf\u0008g\u000ch\u0000i\u001fj\u003ck\u003el\u0026m/n–o\u2028p😀q` + "\ufffd" + `r"`},
		{"logstash", jacksonJSON, `"a\"b\\c\nd\re\tf\bg\fh\u0000i\u001Fj<k>l&m/n–o` + "\u2028" + `p😀q` + "\ufffd" + `r"`},
		{"fluent-bit", flbJSON, `"a\"b\\c\nd\re\tf\bg\fh\u0000i\u001fj<k>l&m/n\u2013o\u2028p\ud83d\ude00q\ufffdr"`},
		{"vector", serdeJSON, `"a\"b\\c\nd\re\tf\bg\fh\u0000i\u001fj<k>l&m/n–o` + "\u2028" + `p😀q` + "\ufffd" + `r"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(tt.style.appendString(nil, []byte(in)))
			require.Equal(t, tt.want, got)
			var s string
			require.NoError(t, json.Unmarshal([]byte(got), &s))
			require.Equal(t, strings.ToValidUTF8(in, "\ufffd"), s, "decodes to the input")
		})
	}
	// Filebeat's escaping is Go's encoding/json (EscapeHTML)
	want, err := json.Marshal("x<y>&z\u2028\x01\n")
	require.NoError(t, err)
	require.Equal(t, string(want), string(goJSON.appendString(nil, []byte("x<y>&z\u2028\x01\n"))))
}

func TestTimeFormats(t *testing.T) {
	at := func(ns int) time.Time { return time.Date(2026, 11, 24, 10, 16, 2, ns, time.UTC) }
	tests := []struct {
		ns                      int
		iso, autosi, flb, vbeat string
	}{
		{0, "2026-11-24T10:16:02.000Z", "2026-11-24T10:16:02Z", "1795515362.0", "2026-11-24T10:16:02.000Z"},
		{123e6, "2026-11-24T10:16:02.123Z", "2026-11-24T10:16:02.123Z", "1795515362.123", "2026-11-24T10:16:02.123Z"},
		{123456e3, "2026-11-24T10:16:02.123456Z", "2026-11-24T10:16:02.123456Z", "1795515362.123456", "2026-11-24T10:16:02.123Z"},
		{123456789, "2026-11-24T10:16:02.123456789Z", "2026-11-24T10:16:02.123456789Z", "1795515362.123457", "2026-11-24T10:16:02.123Z"},
		{5e3, "2026-11-24T10:16:02.000005Z", "2026-11-24T10:16:02.000005Z", "1795515362.000005", "2026-11-24T10:16:02.000Z"},
	}
	for _, tt := range tests {
		tm := at(tt.ns)
		require.Equal(t, tt.iso, string(appendISOInstant(nil, tm)), "ISO_INSTANT %d", tt.ns)
		require.Equal(t, tt.autosi, string(appendRFC3339AutoSi(nil, tm)), "AutoSi %d", tt.ns)
		require.Equal(t, tt.flb, string(appendFlbDouble(nil, tm)), "flb double %d", tt.ns)
		require.Equal(t, tt.vbeat, tm.Format("2006-01-02T15:04:05.000Z"), "filebeat %d", tt.ns)
	}
	// Logstash reads microseconds: its stamps have 3 or 6 digits
	require.Equal(t, "2026-11-24T10:16:02.123456Z", string(appendISOInstant(nil, logstashTime(at(123456789)))))
	// the notes' example: read time ...02.123456789 is 1795515362.123457 for Fluent Bit
	require.Equal(t, int64(1795515362), at(0).Unix())
}

func TestTokens(t *testing.T) {
	raw := []byte("2026-11-24 10:16:01,900 [7] ERROR X - boom\r\nSystem.Exception: boom\r\n   at A.B()\r")
	tests := []struct {
		kind      Kind
		multiline bool
		want      []string
		offsets   []int64
	}{
		{Filebeat, false, []string{"2026-11-24 10:16:01,900 [7] ERROR X - boom", "System.Exception: boom", "   at A.B()"}, []int64{100, 144, 168}},
		{Filebeat, true, []string{"2026-11-24 10:16:01,900 [7] ERROR X - boom\nSystem.Exception: boom\n   at A.B()"}, []int64{100}},
		{FluentBit, true, []string{"2026-11-24 10:16:01,900 [7] ERROR X - boom\nSystem.Exception: boom\n   at A.B()"}, nil},
		{Fluentd, false, []string{"2026-11-24 10:16:01,900 [7] ERROR X - boom", "System.Exception: boom", "   at A.B()"}, nil},
		{Fluentd, true, []string{"2026-11-24 10:16:01,900 [7] ERROR X - boom\r\nSystem.Exception: boom\r\n   at A.B()"}, nil},
		{LogstashJSON, false, []string{"2026-11-24 10:16:01,900 [7] ERROR X - boom\r", "System.Exception: boom\r", "   at A.B()\r"}, nil},
		{Vector, true, []string{string(raw)}, nil},
		{OTLPProto, false, []string{"2026-11-24 10:16:01,900 [7] ERROR X - boom", "System.Exception: boom", "at A.B()"}, nil},
		{OTLPJSON, true, []string{"2026-11-24 10:16:01,900 [7] ERROR X - boom\r\nSystem.Exception: boom\r\n   at A.B()"}, nil},
	}
	for _, tt := range tests {
		toks := tt.kind.tokens(nil, raw, 100, tt.multiline)
		var got []string
		var offs []int64
		for _, tk := range toks {
			got = append(got, string(tk.text))
			offs = append(offs, tk.offset)
		}
		require.Equal(t, tt.want, got, "%s multiline=%v", tt.kind, tt.multiline)
		if tt.offsets != nil {
			require.Equal(t, tt.offsets, offs, "%s multiline=%v", tt.kind, tt.multiline)
		}
	}
	// empty lines (a blank entry of a CRLF file is "\r")
	for _, k := range Kinds() {
		n := len(k.tokens(nil, []byte("\r"), 0, false))
		if k == Filebeat || k.Batched() {
			require.Zero(t, n, "%s drops an empty line", k)
		} else {
			require.Equal(t, 1, n, "%s sends an empty line", k)
		}
	}
}

// unwrap returns the log texts of one message of kind k, as an unwrapping
// consumer would: independent of the encoders, through encoding/json and
// pdata.
func unwrap(t *testing.T, k Kind, v []byte) []string {
	t.Helper()
	field := map[Kind]string{Filebeat: "message", LogstashJSON: "message", FluentBit: "log", FluentBitGELF: "short_message", Fluentd: "message", Vector: "message"}
	switch k {
	case LogstashPlain:
		// "TS {name=conn01} line": the line follows the balanced {...}
		_, rest, ok := bytes.Cut(v, []byte("Z {name="))
		require.True(t, ok, "%q", v)
		_, line, ok := bytes.Cut(rest, []byte("} "))
		require.True(t, ok, "%q", v)
		return []string{string(line)}
	case OTLPProto, OTLPJSON:
		var ld plog.Logs
		var err error
		if k == OTLPProto {
			require.Equal(t, byte(0x0a), v[0])
			ld, err = (&plog.ProtoUnmarshaler{}).UnmarshalLogs(v)
		} else {
			require.True(t, bytes.HasPrefix(v, []byte(`{"resourceLogs":[`)))
			ld, err = (&plog.JSONUnmarshaler{}).UnmarshalLogs(v)
		}
		require.NoError(t, err)
		var out []string
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, r := range sl.LogRecords().All() {
					name, ok := r.Attributes().Get("log.file.name")
					require.True(t, ok)
					require.Contains(t, []string{"exchange.log", "engine.log", "c4cc.jsonl"}, name.Str())
					require.NotZero(t, r.ObservedTimestamp())
					require.Zero(t, r.Timestamp(), "no parser: no timestamp")
					out = append(out, r.Body().Str())
				}
			}
		}
		return out
	}
	var m map[string]any
	require.NoError(t, json.Unmarshal(v, &m), "%s", v)
	s, ok := m[field[k]].(string)
	require.True(t, ok, "%s: no %s in %s", k, field[k], v)
	return []string{s}
}

// expected returns the texts kind k should carry for one entry, written
// independently of lines.go from the package documentation's rules.
func expected(k Kind, raw string, multiline bool) []string {
	lines := strings.Split(raw, "\n")
	cr := func(s string) string { return strings.TrimSuffix(s, "\r") }
	var out []string
	if multiline && len(lines) > 1 {
		switch k {
		case Filebeat, FluentBit, FluentBitGELF:
			for i := range lines {
				lines[i] = cr(lines[i])
			}
			return []string{strings.Join(lines, "\n")}
		case Fluentd:
			return []string{cr(raw)}
		case OTLPProto, OTLPJSON:
			return []string{strings.TrimSpace(raw)}
		}
		return []string{raw}
	}
	for _, l := range lines {
		switch k {
		case Filebeat:
			if l = cr(l); l == "" {
				continue
			}
		case FluentBit, FluentBitGELF, Fluentd:
			l = cr(l)
		case OTLPProto, OTLPJSON:
			if l = strings.TrimSpace(l); l == "" {
				continue
			}
		}
		out = append(out, l)
	}
	return out
}

// TestCorpusRoundTrip ships a dirty corpus with every kind and checks that
// an unwrapping consumer gets back exactly the texts the shipper reads.
func TestCorpusRoundTrip(t *testing.T) {
	gen := loggen.Config{Seed: 5, Mailboxes: 6, Duration: 4 * time.Hour, Dirty: true}
	var entries []loggen.Entry
	_, _, err := loggen.Generate(gen, func(e loggen.Entry) error { entries = append(entries, e); return nil })
	require.NoError(t, err)
	for _, k := range Kinds() {
		for _, ml := range []bool{false, true} {
			t.Run(string(k)+map[bool]string{false: "", true: "/multiline"}[ml], func(t *testing.T) {
				s, err := New(Config{Kind: k, Multiline: ml, Seed: 3})
				require.NoError(t, err)
				var want, got []string
				msgs, records := 0, 0
				emit := func(m Message) error {
					msgs++
					records += m.Records
					texts := unwrap(t, k, m.Value)
					require.Len(t, texts, m.Records)
					got = append(got, texts...)
					return nil
				}
				for _, e := range entries {
					want = append(want, expected(k, string(e.Raw), ml)...)
					require.NoError(t, s.Ship(e, emit))
				}
				require.NoError(t, s.Flush(emit))
				valid := func(ss []string) []string {
					out := make([]string, len(ss))
					for i, s := range ss {
						out[i] = strings.ToValidUTF8(s, "\ufffd")
					}
					return out
				}
				require.Equal(t, valid(want), valid(got))
				if !k.Batched() {
					require.Equal(t, len(got), msgs)
				} else {
					require.Less(t, msgs, records, "otlp batches several records")
				}
			})
		}
	}
}

// TestFilebeatOffsets checks log.offset against the file WriteDir writes
// for the same corpus, and the read times against the event times.
func TestFilebeatOffsets(t *testing.T) {
	gen := loggen.Config{Seed: 9, Mailboxes: 4, Duration: 3 * time.Hour, Dirty: true}
	dir := t.TempDir()
	_, err := loggen.WriteDir(dir, gen)
	require.NoError(t, err)
	files := map[string][]byte{}
	for _, p := range []schemas.Producer{schemas.ProducerExchange, schemas.ProducerEngine, schemas.ProducerC4CC} {
		b, err := os.ReadFile(filepath.Join(dir, loggen.FileFor(p)))
		require.NoError(t, err)
		files[DefaultDir+"/"+loggen.FileFor(p)] = b
	}
	type fbEvent struct {
		Timestamp string `json:"@timestamp"`
		Log       struct {
			Offset int64 `json:"offset"`
			File   struct {
				Path string `json:"path"`
			} `json:"file"`
		} `json:"log"`
		Message string `json:"message"`
	}
	last := map[string]string{}
	n := 0
	_, _, err = Generate(gen, Config{Kind: Filebeat, Delay: time.Second, Jitter: -1}, func(m Message) error {
		var ev fbEvent
		require.NoError(t, json.Unmarshal(m.Value, &ev))
		f := files[ev.Log.File.Path]
		require.NotNil(t, f, ev.Log.File.Path)
		line, _, _ := bytes.Cut(f[ev.Log.Offset:], []byte{'\n'})
		require.Equal(t, strings.ToValidUTF8(string(bytes.TrimSuffix(line, []byte{'\r'})), "\ufffd"), ev.Message, "offset %d", ev.Log.Offset)
		require.GreaterOrEqual(t, ev.Timestamp, last[ev.Log.File.Path], "read times never go back in a file")
		last[ev.Log.File.Path] = ev.Timestamp
		require.Equal(t, ev.Timestamp, m.Time.UTC().Format("2006-01-02T15:04:05.000Z"), "record timestamp = @timestamp")
		n++
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, n, 500)
}

func TestReadTimeAndKeys(t *testing.T) {
	e := loggen.Entry{Producer: schemas.ProducerEngine, Time: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC), Raw: []byte("ts=... x=1"), Key: "t-1/a@b.c"}
	garbage := loggen.Entry{Producer: schemas.ProducerEngine, Time: e.Time, Raw: []byte("\x00\x01garbage")}
	tests := []struct {
		keying    Keying
		entryKey  string
		junkKey   string
		jitter    time.Duration
		wantDelay time.Duration
	}{
		{KeyNone, "", "", -1, DefaultDelay},
		{KeyHost, "conn01", "conn01", -1, DefaultDelay},
		{KeyMailbox, "t-1/a@b.c", "", -1, DefaultDelay},
	}
	for _, tt := range tests {
		s, err := New(Config{Kind: Fluentd, Keying: tt.keying, Jitter: tt.jitter})
		require.NoError(t, err)
		var got []Message
		emit := func(m Message) error { got = append(got, m); return nil }
		require.NoError(t, s.Ship(e, emit))
		require.NoError(t, s.Ship(garbage, emit))
		require.Len(t, got, 2)
		require.Equal(t, tt.entryKey, string(got[0].Key), tt.keying)
		require.Equal(t, tt.junkKey, string(got[1].Key), tt.keying)
		if tt.keying == KeyNone {
			require.Nil(t, got[0].Key)
		}
		require.Equal(t, e.Time.Add(tt.wantDelay), got[0].Time)
		require.Equal(t, schemas.ProducerEngine, got[0].Producer)
	}
	// jitter: within [Delay, Delay+Jitter), seeded
	stamps := func(seed int64) []time.Time {
		s, err := New(Config{Kind: Vector, Seed: seed, Delay: 50 * time.Millisecond, Jitter: 30 * time.Millisecond})
		require.NoError(t, err)
		var out []time.Time
		for i := range 50 {
			e := e
			e.Time = e.Time.Add(time.Duration(i) * time.Second)
			require.NoError(t, s.Ship(e, func(m Message) error {
				var v struct{ Timestamp time.Time }
				require.NoError(t, json.Unmarshal(m.Value, &v))
				d := v.Timestamp.Sub(e.Time)
				require.True(t, d >= 50*time.Millisecond && d < 80*time.Millisecond, "delay %s", d)
				out = append(out, v.Timestamp)
				return nil
			}))
		}
		return out
	}
	require.Equal(t, stamps(1), stamps(1))
	require.NotEqual(t, stamps(1), stamps(2))
}

func TestDeterministic(t *testing.T) {
	gen := loggen.Config{Seed: 2, Mailboxes: 3, Duration: 2 * time.Hour, Dirty: true}
	for _, k := range Kinds() {
		run := func() []byte {
			var b bytes.Buffer
			_, _, err := Generate(gen, Config{Kind: k, Keying: KeyMailbox, Multiline: true, Seed: 4}, func(m Message) error {
				b.Write(m.Key)
				b.WriteByte(0)
				b.Write(m.Value)
				b.WriteByte(0)
				return nil
			})
			require.NoError(t, err)
			return b.Bytes()
		}
		require.Equal(t, run(), run(), "%s: the same corpus gives the same bytes", k)
	}
}

func TestVectorKeyOrderAndFluentBitFirstKey(t *testing.T) {
	keysOf := func(v []byte) []string {
		dec := json.NewDecoder(bytes.NewReader(v))
		_, err := dec.Token()
		require.NoError(t, err)
		var keys []string
		for dec.More() {
			k, err := dec.Token()
			require.NoError(t, err)
			keys = append(keys, k.(string))
			var skip json.RawMessage
			require.NoError(t, dec.Decode(&skip))
		}
		return keys
	}
	e := loggen.Entry{Producer: schemas.ProducerC4CC, Time: time.Now(), Raw: []byte(`{"a":1}`)}
	for _, k := range []Kind{Vector, FluentBit, Filebeat, LogstashJSON} {
		s, err := New(Config{Kind: k})
		require.NoError(t, err)
		require.NoError(t, s.Ship(e, func(m Message) error {
			keys := keysOf(m.Value)
			switch k {
			case Vector:
				require.True(t, slices.IsSorted(keys), "%v", keys)
				require.Equal(t, []string{"file", "host", "message", "source_type", "timestamp"}, keys)
			case FluentBit:
				require.Equal(t, []string{"@timestamp", "log"}, keys)
				var v map[string]any
				require.NoError(t, json.Unmarshal(m.Value, &v))
				require.IsType(t, float64(0), v["@timestamp"])
			case Filebeat:
				require.Equal(t, []string{"@timestamp", "@metadata"}, keys[:2])
			case LogstashJSON:
				require.Contains(t, keys, "@version")
			}
			return nil
		}))
	}
}

func TestOTLPBatching(t *testing.T) {
	base := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	var entries []loggen.Entry
	for i := range 40 {
		key := []string{"t-1/a@x", "t-1/b@x"}[i%2]
		entries = append(entries, loggen.Entry{
			Producer: schemas.ProducerEngine, Time: base.Add(time.Duration(i) * 100 * time.Millisecond),
			Raw: []byte("line " + key), Key: key,
		})
	}
	tests := []struct {
		name    string
		cfg     Config
		batches []int
	}{
		{"size", Config{Kind: OTLPProto, BatchSize: 15, BatchTimeout: time.Hour}, []int{15, 15, 10}},
		{"timeout", Config{Kind: OTLPJSON, BatchSize: 1000, BatchTimeout: time.Second}, []int{10, 10, 10, 10}},
		{"per key", Config{Kind: OTLPProto, BatchSize: 8, BatchTimeout: time.Hour, Keying: KeyMailbox}, []int{8, 8, 8, 8, 4, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Jitter = -1
			s, err := New(tt.cfg)
			require.NoError(t, err)
			var sizes []int
			emit := func(m Message) error {
				texts := unwrap(t, tt.cfg.Kind, m.Value)
				require.Len(t, texts, m.Records)
				sizes = append(sizes, m.Records)
				if tt.cfg.Keying == KeyMailbox {
					for _, x := range texts {
						require.Equal(t, "line "+string(m.Key), x, "a batch holds one key's records")
					}
				} else {
					require.Nil(t, m.Key)
				}
				return nil
			}
			for _, e := range entries {
				require.NoError(t, s.Ship(e, emit))
			}
			require.NoError(t, s.Flush(emit))
			require.Equal(t, tt.batches, sizes)
		})
	}
}

func TestEmitError(t *testing.T) {
	boom := errors.New("boom")
	for _, k := range []Kind{Filebeat, OTLPProto} {
		_, _, err := Generate(loggen.Config{Seed: 1, Mailboxes: 2, Duration: time.Hour}, Config{Kind: k, BatchSize: 1},
			func(Message) error { return boom })
		require.ErrorIs(t, err, boom, k)
	}
}

// TestReferenceExamples reproduces, byte for byte, the example values of
// the research notes on shipper formats (shipper-formats.md §1.2-§6.2)
// for their reference line, read from /var/log/c4c/exchange.log on host
// conn01 at 2026-11-24T10:16:02.123456789Z. Filebeat's example has
// placeholders (versions, device id, inode, agent ids), replaced here by
// this package's values.
func TestReferenceExamples(t *testing.T) {
	line := "2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found."
	require.Len(t, line, 201)
	e := loggen.Entry{Producer: schemas.ProducerExchange, Time: time.Date(2026, 11, 24, 10, 16, 1, 900e6, time.UTC), Raw: []byte(line)}
	read := time.Date(2026, 11, 24, 10, 16, 2, 123456789, time.UTC)
	id, eph := agentIDs(Config{})
	want := map[Kind]string{
		Filebeat:      `{"@timestamp":"2026-11-24T10:16:02.123Z","@metadata":{"beat":"filebeat","type":"_doc","version":"8.15.0"},"log":{"offset":0,"file":{"path":"/var/log/c4c/exchange.log","device_id":"64769","inode":"1048601"}},"message":"2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found.","input":{"type":"filestream"},"ecs":{"version":"8.0.0"},"host":{"name":"conn01"},"agent":{"ephemeral_id":"00000000-0000-0000-0000-000000000001","id":"00000000-0000-0000-0000-000000000002","name":"conn01","type":"filebeat","version":"8.15.0"}}`,
		LogstashPlain: `2026-11-24T10:16:02.123456Z {name=conn01} 2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found.`,
		LogstashJSON:  `{"@timestamp":"2026-11-24T10:16:02.123456Z","@version":"1","message":"2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found.","event":{"original":"2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found."},"host":{"name":"conn01"},"log":{"file":{"path":"/var/log/c4c/exchange.log"}}}`,
		FluentBit:     `{"@timestamp":1795515362.123457,"log":"2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found."}`,
		FluentBitGELF: `{"version":"1.1", "short_message":"2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found.", "timestamp":1795515362.123456}`,
		Fluentd:       `{"message":"2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found."}`,
		Vector:        `{"file":"/var/log/c4c/exchange.log","host":"conn01","message":"2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found.","source_type":"file","timestamp":"2026-11-24T10:16:02.123456789Z"}`,
		OTLPJSON:      `{"resourceLogs":[{"resource":{},"scopeLogs":[{"scope":{},"logRecords":[{"observedTimeUnixNano":"1795515362123456789","body":{"stringValue":"2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found."},"attributes":[{"key":"log.file.name","value":{"stringValue":"exchange.log"}}]}]}]}]}`,
	}
	// the notes' placeholders
	placeholders := strings.NewReplacer(
		`"inode":"1048601"`, `"inode":"`+inode("/var/log/c4c/exchange.log")+`"`,
		"00000000-0000-0000-0000-000000000001", eph, "00000000-0000-0000-0000-000000000002", id)
	for _, k := range Kinds() {
		s, err := New(Config{Kind: k, Delay: read.Sub(e.Time), Jitter: -1})
		require.NoError(t, err)
		var got []Message
		emit := func(m Message) error { got = append(got, m); return nil }
		require.NoError(t, s.Ship(e, emit))
		require.NoError(t, s.Flush(emit))
		require.Len(t, got, 1, k)
		require.Nil(t, got[0].Key, "%s: no key by default", k)
		if k == OTLPProto {
			// the same batch as protobuf: first byte 0x0A (resource_logs)
			require.Equal(t, byte(0x0a), got[0].Value[0])
			ld, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(got[0].Value)
			require.NoError(t, err)
			j, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
			require.NoError(t, err)
			require.Equal(t, want[OTLPJSON], string(j))
			continue
		}
		require.Equal(t, placeholders.Replace(want[k]), string(got[0].Value), k)
	}
}
