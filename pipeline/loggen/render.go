package loggen

import (
	"strconv"
	"strings"
	"time"

	"github.com/syncwatch/syncwatch/schemas"
)

// line is a rendered entry waiting in the look-ahead window.
type line struct {
	t     int64 // event time as written, ms
	seq   uint64
	prod  schemas.Producer
	msOff int32 // offset of the ",fff"/".fff" of the timestamp; -1 if dirt may not drop it
	safe  bool
	raw   []byte
	key   string // tenant/mailbox
	// release: for a line Disorder delays, the event time (ms) of the
	// first line written after it
	release int64
}

// pushRun renders the lines of the run just built and adds them to the
// look-ahead window.
func (g *generator) pushRun(mb *mailbox, runID string) {
	for i := range g.evs {
		l := g.render(mb, runID, &g.evs[i])
		g.seq++
		l.seq = g.seq
		g.lines.push(l)
	}
}

func (g *generator) render(mb *mailbox, runID string, e *ev) line {
	p := e.kind.producer()
	l := line{t: e.t, prod: p, safe: e.safe, msOff: -1, key: mb.key}
	switch p {
	case schemas.ProducerExchange:
		l.raw, l.msOff = g.renderExchange(mb, runID, e)
	case schemas.ProducerEngine:
		l.raw, l.msOff = g.renderEngine(mb, runID, e)
	default:
		l.raw, l.msOff = g.renderC4CC(mb, runID, e)
	}
	if !e.safe {
		l.msOff = -1
	}
	return l
}

// appendDate appends ms as a UTC date and time: date, sep, clock and, if
// withMs, msSep and the milliseconds.
func appendDate(b []byte, ms int64, sep byte, msSep byte, withMs bool) []byte {
	t := time.UnixMilli(ms).UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = appendN(b, y, 4)
	b = append(b, '-')
	b = appendN(b, int(mo), 2)
	b = append(b, '-')
	b = appendN(b, d, 2)
	b = append(b, sep)
	b = appendN(b, h, 2)
	b = append(b, ':')
	b = appendN(b, mi, 2)
	b = append(b, ':')
	b = appendN(b, s, 2)
	if withMs {
		b = append(b, msSep)
		b = appendN(b, int(((ms%1000)+1000)%1000), 3)
	}
	return b
}

func appendN(b []byte, v, width int) []byte {
	var tmp [8]byte
	i := len(tmp)
	for ; width > 0 || v > 0; width-- {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, tmp[i:]...)
}

var exLevels = map[evKind]string{
	exFetch: "DEBUG", exBusy: "WARN ", exItemSynced: "INFO ", exItemFailed: "ERROR", exError: "ERROR", exWarn: "WARN ",
}

func (g *generator) renderExchange(mb *mailbox, runID string, e *ev) ([]byte, int32) {
	crlf := g.dirty && g.crlf == schemas.ProducerExchange
	b := make([]byte, 0, 192)
	b = appendDate(b, e.t, ' ', ',', true)
	off := int32(19)
	b = append(b, " ["...)
	b = strconv.AppendInt(b, int64(e.thread), 10)
	b = append(b, "] "...)
	b = append(b, exLevels[e.kind]...)
	b = append(b, ' ')
	b = append(b, e.logger...)
	b = append(b, " - ["...)
	b = append(b, mb.tenant...)
	b = append(b, '/')
	b = append(b, mb.name...)
	b = append(b, "/run:"...)
	b = append(b, runID...)
	b = append(b, "] "...)
	switch e.kind {
	case exFetch:
		b = append(b, "Fetching changes since watermark "...)
		b = strconv.AppendInt(b, e.num, 10)
	case exBusy:
		b = append(b, msgBusy...)
	case exItemSynced:
		b = append(b, "item "...)
		b = append(b, e.record...)
		b = append(b, " synced"...)
	case exItemFailed:
		b = append(b, "item "...)
		b = append(b, e.record...)
		b = append(b, " failed: "...)
		b = append(b, g.noise(e.msg, schemas.ProducerExchange)...)
	default:
		b = append(b, g.noise(e.msg, schemas.ProducerExchange)...)
	}
	for _, s := range e.stack {
		if crlf {
			b = append(b, '\r')
		}
		b = append(b, '\n')
		b = append(b, s...)
	}
	if crlf {
		b = append(b, '\r')
	}
	return b, off
}

type kv struct {
	k, v string
	ts   bool
}

var engineEvents = map[evKind]string{
	enStarted: "run_started", enSynced: "record_synced", enRecFailed: "record_failed",
	enRunFailed: "run_failed", enRunFinished: "run_finished",
}

func (g *generator) renderEngine(mb *mailbox, runID string, e *ev) ([]byte, int32) {
	level := "info"
	switch e.kind {
	case enRecFailed:
		level = "warn"
	case enRunFailed:
		level = "error"
	}
	var arr [12]kv
	kvs := append(arr[:0],
		kv{k: "ts", ts: true}, kv{k: "level", v: level}, kv{k: "component", v: "sync-engine"},
		kv{k: "tenant", v: mb.tenant}, kv{k: "mailbox", v: mb.name}, kv{k: "run", v: runID},
		kv{k: "event", v: engineEvents[e.kind]})
	switch e.kind {
	case enStarted:
		kvs = append(kvs, kv{k: "direction", v: "both"})
	case enSynced:
		kvs = append(kvs, kv{k: "record", v: e.record})
	case enRecFailed:
		kvs = append(kvs, kv{k: "record", v: e.record}, kv{k: "msg", v: g.noise(e.msg, schemas.ProducerEngine)})
	case enRunFailed:
		kvs = append(kvs, kv{k: "msg", v: g.noise(e.msg, schemas.ProducerEngine)})
	case enRunFinished:
		kvs = append(kvs, kv{k: "synced", v: strconv.Itoa(e.synced)}, kv{k: "failed", v: strconv.Itoa(e.failed)},
			kv{k: "duration_ms", v: strconv.FormatInt(e.dur, 10)})
	}
	plus2 := false
	if g.dirty {
		plus2 = g.renderRNG.chance(0.05)
		if g.renderRNG.chance(0.04) {
			for i := len(kvs) - 1; i > 0; i-- {
				j := g.renderRNG.intn(i + 1)
				kvs[i], kvs[j] = kvs[j], kvs[i]
			}
		}
	}
	b := make([]byte, 0, 192)
	off := int32(-1)
	for i, f := range kvs {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, f.k...)
		b = append(b, '=')
		if f.ts {
			off = int32(len(b) + 19)
			if plus2 {
				b = appendDate(b, e.t+2*3600e3, 'T', '.', true)
				b = append(b, "+02:00"...)
			} else {
				b = appendDate(b, e.t, 'T', '.', true)
				b = append(b, 'Z')
			}
			continue
		}
		b = appendLogfmtValue(b, f.v)
	}
	return b, off
}

func appendLogfmtValue(b []byte, v string) []byte {
	if v != "" && !strings.ContainsAny(v, " \"=\\\t") {
		return append(b, v...)
	}
	b = append(b, '"')
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '"' || c == '\\' {
			b = append(b, '\\')
		}
		b = append(b, c)
	}
	return append(b, '"')
}

var recordTypes = map[string]string{"APPT": "Appointment", "CONT": "Contact", "MAIL": "EMail", "TASK": "Task"}

func (g *generator) renderC4CC(mb *mailbox, runID string, e *ev) ([]byte, int32) {
	level := "INFO"
	if e.kind == c4Failed || e.status >= 400 {
		level = "ERROR"
	}
	lower, thread, host := false, false, false
	if g.dirty {
		lower = g.renderRNG.chance(0.1)
		thread = g.renderRNG.chance(0.1)
		host = g.renderRNG.chance(0.03)
	}
	if lower {
		level = strings.ToLower(level)
	}
	b := make([]byte, 0, 384)
	b = append(b, `{"@timestamp":"`...)
	off := int32(len(b) + 19)
	b = appendDate(b, e.t, 'T', '.', true)
	b = append(b, `Z","level":"`...)
	b = append(b, level...)
	if e.kind == c4Session {
		b = append(b, `","logger":"C4CC.Connector.Session","tenant":"`...)
	} else {
		b = append(b, `","logger":"C4CC.Connector.Push","tenant":"`...)
	}
	b = append(b, mb.tenant...)
	b = append(b, `","mailbox":`...)
	b = appendJSONString(b, mb.name)
	b = append(b, `,"runId":"`...)
	b = append(b, runID...)
	b = append(b, '"')
	msg := msgC4CSessionOpen
	if e.kind == c4Session && e.msg != "" {
		msg = g.noise(e.msg, schemas.ProducerC4CC)
	}
	if e.kind != c4Session {
		rt := recordTypes[e.record[:4]]
		b = append(b, `,"recordType":"`...)
		b = append(b, rt...)
		b = append(b, `","recordId":"`...)
		b = append(b, e.record...)
		b = append(b, `","http":{"method":"POST","url":"https://my`...)
		b = strconv.AppendInt(b, int64(mb.tenantNum), 10)
		b = append(b, `.crm.ondemand.com/sap/c4c/odata/v1/c4codataapi/`...)
		b = append(b, rt...)
		b = append(b, `Collection","status":`...)
		b = strconv.AppendInt(b, int64(e.status), 10)
		b = append(b, '}')
		msg = msgRecordPushed
		if e.kind == c4Failed {
			msg = g.noise(e.msg, schemas.ProducerC4CC)
		}
	}
	b = append(b, `,"message":`...)
	b = appendJSONString(b, msg)
	if thread {
		b = append(b, `,"threadId":`...)
		b = strconv.AppendInt(b, int64(g.renderRNG.between(1, 99)), 10)
	}
	if host {
		b = append(b, `,"host":"c4cc-worker-`...)
		b = strconv.AppendInt(b, int64(g.renderRNG.between(1, 8)), 10)
		b = append(b, '"')
	}
	b = append(b, '}')
	return b, off
}

func appendJSONString(b []byte, s string) []byte {
	const hexd = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

var noisePrefixes = [schemas.NumProducers]string{"", "EWS: ", "engine: ", "C4C: "}

// noise rewords an error message slightly (dirty mode, a quarter of
// them): a prefix, all upper or lower case, a trailing request id, or the
// trailing period dropped (or added).
func (g *generator) noise(msg string, p schemas.Producer) string {
	if !g.dirty || !g.renderRNG.chance(0.25) {
		return msg
	}
	r := g.renderRNG
	switch r.intn(5) {
	case 0:
		return noisePrefixes[p] + msg
	case 1:
		return strings.ToUpper(msg)
	case 2:
		return strings.ToLower(msg)
	case 3:
		return msg + " (request id " + guid(r) + ")"
	}
	if strings.HasSuffix(msg, ".") {
		return msg[:len(msg)-1]
	}
	return msg + "."
}

func guid(r *rng) string {
	const hexd = "0123456789abcdef"
	var b [36]byte
	x, y := r.u64(), r.u64()
	for i := range b {
		switch i {
		case 8, 13, 18, 23:
			b[i] = '-'
			continue
		}
		if i < 18 {
			b[i] = hexd[x&15]
			x >>= 4
		} else {
			b[i] = hexd[y&15]
			y >>= 4
		}
	}
	return string(b[:])
}
