package loggen

import (
	"bytes"
	"time"

	"github.com/syncwatch/syncwatch/schemas"
)

// Dirt rates (dirty mode), per emitted entry.
const (
	pMsDrop  = 0.04   // a safe entry loses its milliseconds
	pDup     = 0.009  // an entry is delivered twice
	pBad     = 0.0025 // a bad entry follows an entry
	pForeign = 0.0008 // a safe entry is copied into another producer's file

	pDelay = 0.02 // a safe entry is written late (Config.Disorder)
)

// flush emits the buffered lines with a time before upto (all of them if
// all is set), applying the emission-time dirt.
func (g *generator) flush(upto int64, all bool) error {
	for g.lines.len() > 0 && (all || g.lines.top().t < upto) {
		l := g.lines.pop()
		// lines delayed to before this one go first
		for g.delayed.len() > 0 && g.delayed.top().release <= l.t {
			if err := g.out(g.delayed.pop()); err != nil {
				return err
			}
		}
		if g.cfg.Disorder > 0 && l.safe && g.disorderRNG.chance(pDelay) {
			l.release = l.t + 1 + int64(g.disorderRNG.intn(max(1, int(g.cfg.Disorder.Milliseconds()))))
			g.stats.Delayed++
			g.delayed.push(l)
			continue
		}
		if err := g.out(l); err != nil {
			return err
		}
	}
	for all && g.delayed.len() > 0 {
		if err := g.out(g.delayed.pop()); err != nil {
			return err
		}
	}
	return nil
}

func (g *generator) put(p schemas.Producer, t int64, raw []byte, key string) error {
	g.stats.Lines[p]++
	g.last[p] = max(g.last[p], t)
	return g.emit(Entry{Producer: p, Time: time.UnixMilli(t).UTC(), Raw: raw, Key: key})
}

func (g *generator) out(l line) error {
	t, raw := l.t, l.raw
	if !g.dirty {
		return g.put(l.prod, t, raw, l.key)
	}
	r := g.flushRNG
	dropped := false
	if l.msOff >= 0 && r.chance(pMsDrop) {
		if ft := t - ((t%1000)+1000)%1000; ft >= g.last[l.prod] {
			raw = append(raw[:l.msOff:l.msOff], raw[l.msOff+4:]...)
			t, dropped = ft, true
		}
	}
	if err := g.put(l.prod, t, raw, l.key); err != nil {
		return err
	}
	if r.chance(pDup) {
		g.stats.Dup++
		if err := g.put(l.prod, t, bytes.Clone(raw), l.key); err != nil {
			return err
		}
	}
	if r.chance(pBad) {
		g.stats.Bad++
		if err := g.put(l.prod, t, g.bad(l.prod, t, raw, l.safe), ""); err != nil {
			return err
		}
	}
	if l.safe && !dropped && r.chance(pForeign) {
		host := schemas.Producer(1 + (int(l.prod)+r.intn(2))%3)
		if t >= g.last[host] {
			g.stats.Dup++
			g.stats.Foreign++
			return g.put(host, t, g.crlfFor(host, bytes.TrimSuffix(raw, []byte{'\r'})), l.key)
		}
	}
	return nil
}

// crlfFor appends the "\r" of host's file if it is the CRLF one.
func (g *generator) crlfFor(host schemas.Producer, b []byte) []byte {
	out := make([]byte, len(b), len(b)+1)
	copy(out, b)
	if host == g.crlf {
		out = append(out, '\r')
	}
	return out
}

var garbage = []byte("\x00\x01\x02garbage\xc3\xbf")

// bad returns an entry no parser should accept, to follow raw (an entry
// of p at time t) in p's file.
func (g *generator) bad(p schemas.Producer, t int64, raw []byte, safe bool) []byte {
	raw = bytes.TrimSuffix(raw, []byte{'\r'})
	var b []byte
	switch g.flushRNG.intn(6) {
	case 0: // blank line
	case 1: // truncated copy of the entry
		b = truncated(p, raw, safe)
		if b == nil {
			b = garbage
		}
	case 2:
		b = garbage
	case 3: // a JSON line cut in half
		if p == schemas.ProducerC4CC && safe {
			b = raw[:len(raw)/2]
		} else {
			b = appendDate([]byte(`{"@timestamp":"`), t, 'T', '.', true)
			b = append(b, `Z","level":`...)
		}
	case 4: // logfmt with an unclosed quote
		b = appendDate([]byte("ts="), t, 'T', '.', true)
		b = append(b, `Z level=info component=sync-engine msg="connection reset by pe`...)
	default: // a cut entry of another producer's format
		if p == schemas.ProducerEngine {
			b = appendDate(nil, t, ' ', ',', true)
			b = append(b, " [4] INFO  ExchangeConnector.SyncWorker -"...)
		} else {
			b = appendDate([]byte("ts="), t, 'T', '.', true)
			b = append(b, "Z level=info component=sync-engine tenant=t-1000 mailbox="...)
		}
	}
	return g.crlfFor(p, b)
}

// truncated cuts a safe entry where it no longer names its run or says
// what happened; nil if it cannot.
func truncated(p schemas.Producer, raw []byte, safe bool) []byte {
	if !safe {
		return nil
	}
	switch p {
	case schemas.ProducerExchange:
		if i := bytes.Index(raw, []byte(" - [")); i > 0 {
			return raw[:i+2]
		}
	case schemas.ProducerEngine:
		if i := bytes.Index(raw, []byte("mailbox=")); i > 0 {
			cut := raw[:i+len("mailbox=")]
			if !bytes.Contains(cut, []byte("event=")) && !bytes.Contains(cut, []byte("run=")) {
				return cut
			}
		}
	default:
		return raw[:len(raw)/2]
	}
	return nil
}
