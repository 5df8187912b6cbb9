package schemas

import (
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends e to b as encoding/json writes it (fields in order,
// its string escaping with HTML escaped, nil slices and maps as null,
// details' keys sorted), without reflection: the sinks write every event,
// and reflection was most of their cost. TestEventJSONMatchesEncodingJSON
// and FuzzEventJSON hold the two to the same bytes. (Not a MarshalJSON:
// encoding/json validates and compacts a Marshaler's output again, which
// cost more than its reflection saved.)
func (e *IncidentEvent) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"specversion":`...)
	b = appendJSONString(b, e.SpecVersion)
	b = append(b, `,"id":`...)
	b = appendJSONString(b, e.ID)
	b = append(b, `,"source":`...)
	b = appendJSONString(b, e.Source)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, e.Type)
	b = append(b, `,"subject":`...)
	b = appendJSONString(b, e.Subject)
	b = append(b, `,"time":`...)
	b = appendJSONTime(b, e.Time)
	b = append(b, `,"datacontenttype":`...)
	b = appendJSONString(b, e.DataContentType)
	b = append(b, `,"data":`...)
	d := &e.Data
	b = append(b, `{"incident_id":`...)
	b = appendJSONString(b, d.IncidentID)
	b = append(b, `,"kind":`...)
	b = appendJSONString(b, d.Kind)
	b = append(b, `,"class":`...)
	b = appendJSONString(b, d.Class)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, d.Status)
	b = append(b, `,"severity":`...)
	b = appendJSONString(b, d.Severity)
	b = append(b, `,"tenant":`...)
	b = appendJSONString(b, d.Tenant)
	b = append(b, `,"mailbox":`...)
	b = appendJSONString(b, d.Mailbox)
	b = append(b, `,"producer":`...)
	b = appendJSONString(b, d.Producer)
	b = append(b, `,"title":`...)
	b = appendJSONString(b, d.Title)
	b = append(b, `,"remediation":`...)
	b = appendJSONString(b, d.Remediation)
	b = append(b, `,"first_seen":`...)
	b = appendJSONTime(b, d.FirstSeen)
	b = append(b, `,"last_seen":`...)
	b = appendJSONTime(b, d.LastSeen)
	b = append(b, `,"occurrences":`...)
	b = strconv.AppendInt(b, int64(d.Occurrences), 10)
	b = append(b, `,"runs":`...)
	b = appendJSONStrings(b, d.Runs)
	b = append(b, `,"affected_records":`...)
	b = strconv.AppendInt(b, int64(d.AffectedRecords), 10)
	b = append(b, `,"sample_records":`...)
	b = appendJSONStrings(b, d.SampleRecords)
	b = append(b, `,"template":`...)
	b = appendJSONString(b, d.Template)
	b = append(b, `,"details":`...)
	b, err := appendJSONDetails(b, d.Details)
	if err != nil {
		return nil, err
	}
	b = append(b, `,"evidence":`...)
	if d.Evidence == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range d.Evidence {
			ev := &d.Evidence[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"producer":`...)
			b = appendJSONString(b, ev.Producer)
			b = append(b, `,"time":`...)
			b = appendJSONTime(b, ev.Time)
			b = append(b, `,"message":`...)
			b = appendJSONString(b, ev.Message)
			b = append(b, `,"origin":`...)
			b = appendJSONString(b, ev.Origin)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, "}}"...), nil
}

// appendJSONTime appends t as Time.MarshalJSON writes it.
func appendJSONTime(b []byte, t Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, TimeLayout)
	return append(b, '"')
}

func appendJSONStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// appendJSONDetails appends details with its keys sorted, as
// encoding/json does; a value other than a string, an integer or a bool
// is left to encoding/json.
func appendJSONDetails(b []byte, details map[string]any) ([]byte, error) {
	if details == nil {
		return append(b, "null"...), nil
	}
	var keys [8]string
	ks := keys[:0]
	for k := range details {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	b = append(b, '{')
	for i, k := range ks {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		switch v := details[k].(type) {
		case string:
			b = appendJSONString(b, v)
		case int:
			b = strconv.AppendInt(b, int64(v), 10)
		case int64:
			b = strconv.AppendInt(b, v, 10)
		case bool:
			b = strconv.AppendBool(b, v)
		case nil:
			b = append(b, "null"...)
		default:
			raw, err := json.Marshal(v)
			if err != nil {
				return nil, err
			}
			b = append(b, raw...)
		}
	}
	return append(b, '}'), nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s quoted as encoding/json quotes a string with
// HTML escaping on (its default): \" \\ \b \f \n \r \t, other control
// characters and < > & as \u00XX, invalid UTF-8 as \ufffd, U+2028 and
// U+2029 as \u2028 and \u2029.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
