package integration

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// The parser's fixtures of shipper envelopes: what each shipper variant
// sends for two small inputs, byte for byte, in
// pipeline/parse/testdata/shippers/ (its README.md says what is there).
//
// TestShipperFixtures ships the inputs stored there through every variant
// again and checks that the messages are the stored ones (the read time
// and the host name in the envelopes aside), and that the stored configs
// are integration/shippers/*.conf. With SYNCWATCH_UPDATE_SHIPPER_FIXTURES=1 it
// rewrites everything: the inputs (from a tiny generated corpus), the
// configs and the messages.
const updateFixturesEnv = "SYNCWATCH_UPDATE_SHIPPER_FIXTURES"

// The tiny corpus the sample input is cut from: 3 mailboxes over an hour,
// dirty; this seed has an ExchangeConnector entry with a stack trace and
// a garbage line.
var fixtureCorpusArgs = []string{"--mailboxes", "3", "--hours", "1", "--dirty", "--seed", "199"}

// fixtureInput is one input of the fixtures: a directory under
// testdata/shippers holding the files the shippers tail, and the variants
// that ship it (fixture NAME.jsonl for the sample, NAME-long.jsonl for the
// long input).
type fixtureInput struct {
	dir      string
	suffix   string
	variants []shipVariant
}

var fixtureInputs = []fixtureInput{
	{dir: "input", variants: append(append([]shipVariant{}, rsyslogVariants...), syslogNGVariants...)},
	// only rsyslog's limit (8096 bytes) is within reach of a small fixture
	{dir: "input-long", suffix: "-long", variants: rsyslogVariants},
}

func fixturesDir() string {
	return filepath.Join(repoRoot(), "pipeline", "parse", "testdata", "shippers")
}

func TestShipperFixtures(t *testing.T) {
	dir := fixturesDir()
	update := os.Getenv(updateFixturesEnv) != ""
	if update {
		writeFixtureInputs(t, dir)
	}
	for _, in := range fixtureInputs {
		for _, v := range in.variants {
			t.Run(v.name+in.suffix, func(t *testing.T) {
				var tool shipperTool
				if v.shipper == "rsyslog" {
					tool = requireRsyslog(t)
				} else {
					tool = requireSyslogNG(t)
				}
				confPath := filepath.Join(dir, v.name+".conf")
				conf, err := os.ReadFile(filepath.Join(repoRoot(), "integration", "shippers", v.name+".conf"))
				require.NoError(t, err)
				if update {
					require.NoError(t, os.WriteFile(confPath, conf, 0o644))
				} else {
					stored, err := os.ReadFile(confPath)
					require.NoError(t, err)
					require.Equal(t, string(conf), string(stored), "%s is not integration/shippers/%s.conf: rerun with %s=1", confPath, v.name, updateFixturesEnv)
				}

				msgs, inputs := shipFixture(t, tool, v, filepath.Join(dir, in.dir))
				path := filepath.Join(dir, v.name+in.suffix+".jsonl")
				if update {
					writeFixture(t, path, msgs)
					t.Logf("%s: %d messages", path, len(msgs))
					return
				}
				stored := readFixture(t, path)
				require.Equal(t, normalizeShipped(stored, inputs), normalizeShipped(msgs, inputs),
					"%s: messages differ from the fixture (read time and host aside); rerun with %s=1 if the shipper changed", path, updateFixturesEnv)
			})
		}
	}
}

// shipFixture ships the files in dir (a missing file is an empty one)
// through the variant, on a one-partition topic so that the messages are
// in the order they were sent, with the shipper in UTC.
func shipFixture(t *testing.T, tool shipperTool, v shipVariant, dir string) ([][]byte, []byte) {
	t.Helper()
	files := map[string]string{}
	data := map[string][]byte{}
	var all []byte
	for _, r := range shipRoles {
		p := filepath.Join(dir, r.file)
		b, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			p = filepath.Join(t.TempDir(), r.file)
			require.NoError(t, os.WriteFile(p, nil, 0o644))
			err = nil
		}
		require.NoError(t, err)
		files[r.field], data[r.field] = p, b
		all = append(all, b...)
	}
	tool.env = append(append([]string{}, tool.env...), "TZ=UTC")
	broker := startShipperBroker(t, 1)
	model := modelShipped(t, v, data)
	run := startShipper(t, tool, v, files, broker.Addrs())
	run.waitShipped(t, broker.Addrs(), model.messages)
	run.stop(t)
	shippedMsgs := readShipped(t, broker.Addrs())
	checkShipped(t, v, shippedMsgs, model)
	var out [][]byte
	for _, m := range shippedMsgs {
		out = append(out, m.Value)
	}
	return out, all
}

// fixtureRecord is one line of a fixture: the message value as a JSON
// string when it is valid UTF-8 (JSON escapes keep every byte), else in
// base64.
type fixtureRecord struct {
	Value       *string `json:"value,omitempty"`
	ValueBase64 string  `json:"value_base64,omitempty"`
}

func writeFixture(t *testing.T, path string, msgs [][]byte) {
	t.Helper()
	var b bytes.Buffer
	for _, m := range msgs {
		var rec fixtureRecord
		if utf8.Valid(m) {
			s := string(m)
			rec.Value = &s
		} else {
			rec.ValueBase64 = base64.StdEncoding.EncodeToString(m)
		}
		line, err := json.Marshal(rec)
		require.NoError(t, err)
		b.Write(line)
		b.WriteByte('\n')
	}
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
}

func readFixture(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err, "rerun with %s=1 to write the fixtures", updateFixturesEnv)
	var out [][]byte
	for _, line := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
		var rec fixtureRecord
		require.NoError(t, json.Unmarshal(line, &rec), "%s: %s", path, line)
		if rec.Value != nil {
			out = append(out, []byte(*rec.Value))
			continue
		}
		v, err := base64.StdEncoding.DecodeString(rec.ValueBase64)
		require.NoError(t, err)
		out = append(out, v)
	}
	return out
}

// envelopeHead is the start of both shippers' envelopes: a timestamp (with
// microseconds for rsyslog) and the host name.
var envelopeHead = regexp.MustCompile(`^(\d{4}-\d\d-\d\d)T\d\d:\d\d:\d\d(?:\.\d{6})?[+-]\d\d:\d\d (\S+) `)

// normalizeShipped replaces the envelopes' read time (a timestamp whose
// date is not in the input: syslog-ng's default parsing takes the
// ExchangeConnector's own) and host name, and sorts the messages: the
// shippers read the three files concurrently.
func normalizeShipped(msgs [][]byte, input []byte) []string {
	var out []string
	for _, m := range msgs {
		s := string(m)
		if loc := envelopeHead.FindStringSubmatchIndex(s); loc != nil {
			ts := s[:loc[4]-1]
			if !bytes.Contains(input, []byte(s[loc[2]:loc[3]])) {
				ts = "<read time>"
			}
			s = ts + " <host> " + s[loc[1]:]
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// writeFixtureInputs writes the two inputs: a sample of a tiny generated
// corpus, and a file with one entry longer than rsyslog's maxMessageSize.
func writeFixtureInputs(t *testing.T, dir string) {
	t.Helper()
	gen := t.TempDir()
	_, stderr, code := runReplay(t, append([]string{"generate", "--out", gen}, fixtureCorpusArgs...)...)
	require.Equal(t, 0, code, "replay generate: %s", stderr)
	read := func(name string) [][]byte {
		b, err := os.ReadFile(filepath.Join(gen, name))
		require.NoError(t, err)
		return shipLines(b)
	}
	ex, en, c4 := read("exchange.log"), read("engine.log"), read("c4cc.jsonl")

	// exchange.log: the first entries, dirt (another producer's line, a
	// blank line, binary garbage; with CRLF as the file has), the first
	// entry with a stack trace, the last two entries (the last one is what
	// the multiline rule holds back)
	first := 0
	for i := 1; i < len(ex); i++ {
		if !exchangeStart.Match(ex[i]) {
			first = i - 1
			break
		}
	}
	require.NotZero(t, first, "no stack trace in the generated exchange.log")
	trace := ex[first : first+1]
	for _, l := range ex[first+1:] {
		if exchangeStart.Match(l) {
			break
		}
		trace = append(trace, l)
	}
	garbage := []byte("\x00\x01\x02garbage\xc3\xbf\r")
	sample := map[string][][]byte{
		"exchange.log": concatLines(ex[:min(3, first)],
			[][]byte{append(append([]byte{}, en[0]...), '\r'), []byte("\r"), garbage},
			trace, ex[len(ex)-2:]),
	}
	// engine.log: the first lines, one with a +02:00 offset, a blank line,
	// the last line
	var offset [][]byte
	for _, l := range en {
		if bytes.Contains(l, []byte("+02:00")) {
			offset = append(offset, l)
			break
		}
	}
	sample["engine.log"] = concatLines(en[:3], offset, [][]byte{nil}, en[len(en)-1:])
	// c4cc.jsonl: the first lines, what is not a JSON object, the last line
	var dirt [][]byte
	for _, l := range c4[2 : len(c4)-1] {
		if !bytes.HasPrefix(l, []byte("{")) || !bytes.HasSuffix(l, []byte("}")) {
			dirt = append(dirt, l)
		}
	}
	sample["c4cc.jsonl"] = concatLines(c4[:2], dirt, c4[len(c4)-1:])
	writeFixtureLines(t, filepath.Join(dir, "input"), sample)

	// input-long/exchange.log: the stack trace's entry with its first line
	// made 8150 bytes long by a sync state, between short entries
	long := append(append([]byte{}, bytes.TrimSuffix(trace[0], []byte("\r"))...), " (sync state "...)
	long = append(long, syncState(8150-len(long)-2)...)
	long = append(long, ")\r"...)
	require.Len(t, long, 8150)
	writeFixtureLines(t, filepath.Join(dir, "input-long"), map[string][][]byte{
		"exchange.log": concatLines(ex[:1], [][]byte{long}, trace[1:], ex[1:3]),
	})
}

func concatLines(parts ...[][]byte) [][]byte {
	var out [][]byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// writeFixtureLines writes each file's lines, each with its LF, into dir.
func writeFixtureLines(t *testing.T, dir string, files map[string][][]byte) {
	t.Helper()
	require.NoError(t, os.RemoveAll(dir))
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for name, ls := range files {
		var b strings.Builder
		for _, l := range ls {
			b.Write(l)
			b.WriteByte('\n')
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644))
	}
}
