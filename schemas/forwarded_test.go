package schemas

import (
	"encoding/json"
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
		Origin: "sync.engine/1/42",
	}
	for _, f := range []Forwarded{
		{Kind: ForwardedRecord, Source: "sync.engine/1", Offset: 42, Index: 2, Floor: 40, Time: at, Tie: 1 << 63, Record: rec},
		{Kind: ForwardedMark, Source: "sync.engine/1", Offset: -1, Floor: 40, Time: at},
		{Kind: ForwardedDeadLetter, Source: "sync.engine/1", Offset: 43, Floor: 40, Producer: ProducerC4CC,
			DeadLetter: &DeadLetter{Reason: "logfmt: unclosed quote", Origin: "sync.engine/1/43", RawBase64: []byte("x=\"y"), RawLength: 4, RawSHA256: "ab"}},
	} {
		b, err := json.Marshal(&f)
		require.NoError(t, err)
		var got Forwarded
		require.NoError(t, json.Unmarshal(b, &got), "%s", b)
		require.Equal(t, f, got, "%s", b)
	}
}

// TestForwardedRejects: another version, an unknown kind, a kind without
// what it carries: each an error that says which.
func TestForwardedRejects(t *testing.T) {
	for in, want := range map[string]string{
		`{"v":2,"kind":"mark","source":"s/0"}`:        "version 2",
		`{"v":1,"kind":"blob","source":"s/0"}`:        `unknown kind "blob"`,
		`{"v":1,"kind":"record","source":"s/0"}`:      "without a record",
		`{"v":1,"kind":"dead_letter","source":"s/0"}`: "without a dead letter",
		`{"v":1,"kind":"mark"}`:                       "no source",
	} {
		var f Forwarded
		err := json.Unmarshal([]byte(in), &f)
		require.ErrorContains(t, err, want, in)
	}
}
