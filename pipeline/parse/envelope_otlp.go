package parse

import (
	"bytes"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// OpenTelemetry collector batches. The collector's Kafka exporter sends a
// whole plog.Logs batch per message, otlp_proto by default
// (ExportLogsServiceRequest, whose field 1, resource_logs, makes the first
// byte 0x0A) or otlp_json ({"resourceLogs":[...]}). With the filelog
// receiver each record's body is one line of a file, and its attributes
// name the file (log.file.name; log.file.path with include_file_path);
// the host comes from a resource attribute (host.name) when the
// resourcedetection processor set one. Both encodings are decoded with
// the collector's own pdata unmarshalers.

// looksLikeOTLP reports whether msg is an OTLP batch: protobuf whose first
// field is resource_logs, or JSON whose first key is "resourceLogs". No
// log entry of the three formats starts either way.
func looksLikeOTLP(msg []byte) bool {
	if len(msg) > 1 && msg[0] == 0x0A && !isEntrySpace(msg[1]) {
		return true
	}
	b := trimSpace(msg)
	if len(b) == 0 || b[0] != '{' {
		return false
	}
	b = trimSpace(b[1:])
	return bytes.HasPrefix(b, []byte(`"resourceLogs"`)) || bytes.HasPrefix(b, []byte(`"resource_logs"`))
}

// otlp returns the entries of an OTLP batch, one per log record, in the
// batch's order. A record whose body is not a string gives the body's
// rendering (a map as JSON), which the parsers then take or reject.
func (u *Unwrapper) otlp(msg []byte) ([]Unwrapped, error) {
	var (
		logs plog.Logs
		err  error
	)
	if b := trimSpace(msg); len(b) > 0 && b[0] == '{' {
		var d plog.JSONUnmarshaler
		logs, err = d.UnmarshalLogs(b)
	} else {
		var d plog.ProtoUnmarshaler
		logs, err = d.UnmarshalLogs(msg)
	}
	if err != nil {
		return nil, envelopeErr("otlp", "not an OTLP logs batch: "+err.Error())
	}
	rls := logs.ResourceLogs()
	for i := range rls.Len() {
		rl := rls.At(i)
		host := attrString(rl.Resource().Attributes(), "host.name")
		sls := rl.ScopeLogs()
		for j := range sls.Len() {
			lrs := sls.At(j).LogRecords()
			for k := range lrs.Len() {
				lr := lrs.At(k)
				file := attrString(lr.Attributes(), "log.file.path")
				if file == "" {
					file = attrString(lr.Attributes(), "log.file.name")
				}
				w := Unwrapped{Entry: bodyBytes(lr.Body()), Shipper: "otlp", Host: host, File: file}
				if inner, err := u.unwrap(w.Entry, 1, EnvelopeAuto); err == nil && inner.Shipper != "" {
					// a body that is itself wrapped; its entry may be in
					// a buffer the next record reuses
					w.Entry, w.Shipper = bytes.Clone(inner.Entry), "otlp/"+inner.Shipper
				}
				u.out = appendEntries(u.out, w)
			}
		}
	}
	return u.out, nil
}

// attrString is the string attribute key of m, or "".
func attrString(m pcommon.Map, key string) string {
	if v, ok := m.Get(key); ok && v.Type() == pcommon.ValueTypeStr {
		return v.Str()
	}
	return ""
}

// bodyBytes is a record's body as a log entry: a string as it is, bytes as
// they are, anything else as pdata renders it (a map or a list as JSON).
func bodyBytes(v pcommon.Value) []byte {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return []byte(v.Str())
	case pcommon.ValueTypeBytes:
		return v.Bytes().AsRaw()
	case pcommon.ValueTypeEmpty:
		return nil
	}
	return []byte(v.AsString())
}
