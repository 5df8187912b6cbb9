package ship

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/syncwatch/syncwatch/schemas"
)

// Versions the envelopes name (placeholders of a current release).
const (
	// FilebeatVersion is @metadata.version and agent.version.
	FilebeatVersion = "8.15.0"
	// FilebeatECSVersion is ecs.version (a per-release constant; 8.x
	// releases use "8.0.0" or "8.2.0").
	FilebeatECSVersion = "8.0.0"
	// filebeatDeviceID is log.file.device_id (a string; 64769 = 253:1).
	filebeatDeviceID = "64769"
)

// encoder renders one event of a per-event kind.
type encoder func(s *Shipper, t *token) []byte

func newEncoder(cfg Config) encoder {
	switch cfg.Kind {
	case Filebeat:
		return newFilebeat(cfg)
	case LogstashPlain:
		return newLogstashPlain(cfg)
	case LogstashJSON:
		return newLogstashJSON(cfg)
	case FluentBit:
		return encodeFluentBit
	case FluentBitGELF:
		return encodeFluentBitGELF
	case Fluentd:
		return encodeFluentd
	case Vector:
		return newVector(cfg)
	}
	return nil // otlp: the batcher encodes
}

// perFile caches a fragment of JSON per producer's file.
type perFile [schemas.NumProducers][]byte

func (pf *perFile) get(p schemas.Producer, build func() []byte) []byte {
	if pf[p] == nil {
		pf[p] = build()
	}
	return pf[p]
}

// newFilebeat renders Filebeat's codec.json event (filestream input, no
// processors): @timestamp and @metadata first (struct fields), then the
// event's fields in one fixed order (Filebeat's own order follows Go map
// iteration and varies).
func newFilebeat(cfg Config) encoder {
	host := goJSON.appendString(nil, []byte(cfg.host()))
	id, eph := agentIDs(cfg)
	tail := []byte(`,"input":{"type":"filestream"},"ecs":{"version":"` + FilebeatECSVersion + `"},"host":{"name":`)
	tail = append(tail, host...)
	tail = append(tail, `},"agent":{"ephemeral_id":"`+eph+`","id":"`+id+`","name":`...)
	tail = append(tail, host...)
	tail = append(tail, `,"type":"filebeat","version":"`+FilebeatVersion+`"}}`...)
	var files perFile
	return func(s *Shipper, t *token) []byte {
		b := make([]byte, 0, 512+len(t.text))
		b = append(b, `{"@timestamp":"`...)
		b = t.read.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
		b = append(b, `","@metadata":{"beat":"filebeat","type":"_doc","version":"`+FilebeatVersion+`"},"log":{"offset":`...)
		b = strconv.AppendInt(b, t.offset, 10)
		b = append(b, files.get(t.producer, func() []byte {
			p := cfg.Path(t.producer)
			f := append([]byte(`,"file":{"path":`), goJSON.appendString(nil, []byte(p))...)
			return append(f, `,"device_id":"`+filebeatDeviceID+`","inode":"`+inode(p)+`"}`...)
		})...)
		if t.lines > 1 {
			b = append(b, `,"flags":["multiline"]`...)
		}
		b = append(b, `},"message":`...)
		b = goJSON.appendString(b, t.text)
		return append(b, tail...)
	}
}

// agentIDs returns Filebeat's agent.id and agent.ephemeral_id for cfg:
// UUIDs derived from the seed and host, so equal configs give equal bytes.
func agentIDs(cfg Config) (id, ephemeral string) {
	return uuid(fmt.Sprintf("agent.id/%d/%s", cfg.Seed, cfg.host())), uuid(fmt.Sprintf("agent.ephemeral_id/%d/%s", cfg.Seed, cfg.host()))
}

// uuid formats a version-4-shaped UUID from the hash of s.
func uuid(s string) string {
	h := sha256.Sum256([]byte(s))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// inode returns a stable inode number for path p (a string, as Filebeat
// writes it).
func inode(p string) string {
	h := sha256.Sum256([]byte(p))
	return strconv.FormatUint(1<<20+binary.BigEndian.Uint64(h[:8])%(1<<24), 10)
}

// appendISOInstant appends t as Java's DateTimeFormatter.ISO_INSTANT
// prints it (Logstash Timestamp.toString): UTC, "Z", the fraction in
// groups of 3 digits as needed, and ".000" when it is zero (Logstash
// forces it).
func appendISOInstant(b []byte, t time.Time) []byte {
	t = t.UTC()
	b = t.AppendFormat(b, "2006-01-02T15:04:05")
	ns := t.Nanosecond()
	switch {
	case ns%1e6 == 0:
		b = append(b, '.')
		return append(pad(b, ns/1e6, 3), 'Z')
	case ns%1e3 == 0:
		b = append(b, '.')
		return append(pad(b, ns/1e3, 6), 'Z')
	}
	b = append(b, '.')
	return append(pad(b, ns, 9), 'Z')
}

// appendRFC3339AutoSi appends t as chrono's to_rfc3339_opts(AutoSi, true)
// (Vector): UTC, "Z", no fraction when it is zero, else 3, 6 or 9 digits.
func appendRFC3339AutoSi(b []byte, t time.Time) []byte {
	t = t.UTC()
	b = t.AppendFormat(b, "2006-01-02T15:04:05")
	ns := t.Nanosecond()
	switch {
	case ns == 0:
	case ns%1e6 == 0:
		b = pad(append(b, '.'), ns/1e6, 3)
	case ns%1e3 == 0:
		b = pad(append(b, '.'), ns/1e3, 6)
	default:
		b = pad(append(b, '.'), ns, 9)
	}
	return append(b, 'Z')
}

// pad appends v with at least n digits.
func pad(b []byte, v, n int) []byte {
	s := strconv.Itoa(v)
	for i := len(s); i < n; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// logstashTime is the read time as Logstash stamps it: Instant.now() on
// JDK 17 / Linux has microsecond precision [INF].
func logstashTime(t time.Time) time.Time { return t.Truncate(time.Microsecond) }

// newLogstashPlain renders the plain codec's Event#toString: "@timestamp
// host message", host being the ECS v8 object {name=...} as Java's
// AbstractMap prints it [INF]. A multi-line message keeps its raw "\n".
func newLogstashPlain(cfg Config) encoder {
	host := []byte(" {name=" + cfg.host() + "} ")
	return func(s *Shipper, t *token) []byte {
		b := make([]byte, 0, 64+len(t.text))
		b = appendISOInstant(b, logstashTime(t.read))
		b = append(b, host...)
		return append(b, t.text...)
	}
}

// newLogstashJSON renders the json codec's Event#toJson (ECS v8, file
// input): @metadata is not serialised; event.original is the line (the
// plain codec's decode in ECS mode); a multiline codec's event carries
// tags ["multiline"]. Logstash's field order varies; this is one.
func newLogstashJSON(cfg Config) encoder {
	host := jacksonJSON.appendString(nil, []byte(cfg.host()))
	var files perFile
	return func(s *Shipper, t *token) []byte {
		b := make([]byte, 0, 256+2*len(t.text))
		b = append(b, `{"@timestamp":"`...)
		b = appendISOInstant(b, logstashTime(t.read))
		b = append(b, `","@version":"1","message":`...)
		b = jacksonJSON.appendString(b, t.text)
		b = append(b, `,"event":{"original":`...)
		b = jacksonJSON.appendString(b, t.text)
		b = append(b, `},"host":{"name":`...)
		b = append(b, host...)
		b = append(b, files.get(t.producer, func() []byte {
			f := append([]byte(`},"log":{"file":{"path":`), jacksonJSON.appendString(nil, []byte(cfg.Path(t.producer)))...)
			return append(f, "}}"...)
		})...)
		if t.lines > 1 {
			b = append(b, `,"tags":["multiline"]`...)
		}
		return append(b, '}')
	}
}

// appendFlbDouble appends the read time as Fluent Bit's json formatter
// writes a double timestamp (flb_pack.c): "%.16g", or "%.1f" when it is
// integral.
func appendFlbDouble(b []byte, t time.Time) []byte {
	f := float64(t.Unix()) + float64(t.Nanosecond())/1e9
	if f == math.Trunc(f) {
		return strconv.AppendFloat(b, f, 'f', 1, 64)
	}
	return strconv.AppendFloat(b, f, 'g', 16, 64)
}

// encodeFluentBit renders out_kafka's json record: the timestamp key
// first, then the tail record (key "log").
func encodeFluentBit(s *Shipper, t *token) []byte {
	b := make([]byte, 0, 48+len(t.text))
	b = append(b, `{"@timestamp":`...)
	b = appendFlbDouble(b, t.read)
	b = append(b, `,"log":`...)
	b = flbJSON.appendString(b, t.text)
	return append(b, '}')
}

// encodeFluentBitGELF renders out_kafka's format gelf
// (flb_msgpack_to_gelf): "version" first, the record's key named by
// gelf_short_message_key (tail's "log", which format gelf needs set: its
// default, short_message, is not a key of tail's records) as
// "short_message", the record's time last, members separated by ", ".
// GELF's host is left out: tail's records have no host key.
func encodeFluentBitGELF(s *Shipper, t *token) []byte {
	b := make([]byte, 0, 64+len(t.text))
	b = append(b, `{"version":"1.1", "short_message":`...)
	b = flbJSON.appendString(b, t.text)
	b = append(b, `, "timestamp":`...)
	b = strconv.AppendInt(b, t.read.Unix(), 10)
	b = append(b, '.')
	b = pad(b, t.read.Nanosecond()/1e3, 6)
	return append(b, '}')
}

// encodeFluentd renders out_kafka2's json (Oj.dump of the record): the
// in_tail record of parser none, nothing else.
func encodeFluentd(s *Shipper, t *token) []byte {
	b := make([]byte, 0, 16+len(t.text))
	b = append(b, `{"message":`...)
	b = rubyJSON.appendString(b, t.text)
	return append(b, '}')
}

// newVector renders the kafka sink's json codec over a file source event
// (legacy namespace): keys in alphabetical order (a BTreeMap).
func newVector(cfg Config) encoder {
	host := serdeJSON.appendString(nil, []byte(cfg.host()))
	var files perFile
	return func(s *Shipper, t *token) []byte {
		b := make([]byte, 0, 160+len(t.text))
		b = append(b, files.get(t.producer, func() []byte {
			f := append([]byte(`{"file":`), serdeJSON.appendString(nil, []byte(cfg.Path(t.producer)))...)
			f = append(f, `,"host":`...)
			f = append(f, host...)
			return append(f, `,"message":`...)
		})...)
		b = serdeJSON.appendString(b, t.text)
		b = append(b, `,"source_type":"file","timestamp":"`...)
		b = appendRFC3339AutoSi(b, t.read)
		return append(b, `"}`...)
	}
}
