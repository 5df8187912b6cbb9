package schemas

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestForwardedRoundTrip: what the first hop writes, the second reads
// back unchanged, every field of the record included (severity, counts,
// producer and event travel as numbers).
func TestForwardedRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 24, 10, 15, 32, 123_000_000, time.UTC)
	rec := &LogRecord{
		Time: at, Producer: ProducerEngine, Severity: 4, SeverityText: "ERROR", Tenant: "t-1", Mailbox: "a@b.c",
		RunID: "r1", RecordID: "x", RecordType: "appointment", Event: EventRunFinished, Synced: 3, Failed: 2,
		HasCounts: true, HTTPStatus: 503, Logger: "engine", Body: "run finished", Attributes: AttrsFrom(map[string]string{"k": "v"}),
		Origin: "sync.engine/1/42 \xff\xfe not UTF-8 \"quoted\"\n",
	}
	for _, f := range []Forwarded{
		{Kind: ForwardedRecord, Source: "sync.engine/1", Offset: 42, Index: 2, Floor: 40, Time: at, Tie: 1 << 63, Record: rec},
		{Kind: ForwardedMark, Source: "sync.engine/1", Offset: -1, Floor: 40, Time: at},
		{Kind: ForwardedDeadLetter, Source: "sync.engine/1", Offset: 43, Floor: 40, Producer: ProducerC4CC,
			DeadLetter: &DeadLetter{Reason: "logfmt: unclosed quote", Origin: "sync.engine/1/43", RawBase64: []byte("x=\"y"), RawLength: 4, RawSHA256: "ab"}},
	} {
		b, err := f.AppendBinary(nil)
		require.NoError(t, err)
		var got Forwarded
		require.NoError(t, got.UnmarshalBinary(b), "%q", b)
		require.Equal(t, f, got, "%q", b)
		// every cut is an error, never a panic
		for n := range len(b) {
			require.Error(t, got.UnmarshalBinary(b[:n]), "cut at %d of %d", n, len(b))
		}
	}
}

// TestForwardedRejects: another version, an unknown kind, a kind without
// what it carries: each an error that says which.
func TestForwardedRejects(t *testing.T) {
	mark, err := (&Forwarded{Kind: ForwardedMark, Source: "s/0"}).AppendBinary(nil)
	require.NoError(t, err)
	v2 := append([]byte{2}, mark[1:]...)
	blob := append([]byte{1, 9}, mark[2:]...)
	noSource, err := (&Forwarded{Kind: ForwardedMark}).AppendBinary(nil)
	require.NoError(t, err)
	for _, c := range []struct {
		in   []byte
		want string
	}{{v2, "version 2"}, {blob, "unknown kind 9"}, {noSource, "no source"}, {nil, "shorter than its header"}} {
		var f Forwarded
		require.ErrorContains(t, f.UnmarshalBinary(c.in), c.want, "%q", c.in)
	}
	for _, f := range []Forwarded{{Kind: ForwardedRecord, Source: "s/0"}, {Kind: ForwardedDeadLetter, Source: "s/0"}, {Kind: "blob", Source: "s/0"}} {
		_, err := f.AppendBinary(nil)
		require.Error(t, err, "%+v", f)
	}
}

// BenchmarkForwarded: a record's trip through the repartition topic,
// encoded by the first hop and decoded by the second.
func BenchmarkForwarded(b *testing.B) {
	at := time.Date(2026, 11, 24, 10, 15, 32, 123_000_000, time.UTC)
	rec := &LogRecord{Time: at, Producer: ProducerEngine, Severity: 4, SeverityText: "ERROR", Tenant: "t-1042", Mailbox: "m.rossi5@adatum.com",
		RunID: "run:a11c02", RecordID: "AAMkAGI2TG93AAA=", RecordType: "appointment", Event: EventRecordFailed, Logger: "sync-engine",
		Body: "record failed: mandatory field missing", Attributes: AttrsFrom(map[string]string{"field": "Subject", "code": "E_MANDATORY"}),
		Origin: "sync.engine/1/123456"}
	f := Forwarded{Kind: ForwardedRecord, Source: "sync.engine/1", Offset: 123456, Floor: 123000, Time: at, Tie: 1 << 62, Record: rec}
	b.ReportAllocs()
	for b.Loop() {
		v, err := f.AppendBinary(nil)
		if err != nil {
			b.Fatal(err)
		}
		var got Forwarded
		if err := got.UnmarshalBinary(v); err != nil {
			b.Fatal(err)
		}
	}
}
