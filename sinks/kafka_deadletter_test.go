package sinks

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/schemas"
)

// TestKafkaDeadLetterOfOversizeEntry writes the dead letter of a 10 MB
// entry to a broker with the default message.max.bytes (1 MB). Unbounded,
// the letter (13 MB of base64) failed as too large on every attempt and
// stopped ingest at that entry after every restart; cut, it goes through,
// and its reason says how much of the entry it carries.
func TestKafkaDeadLetterOfOversizeEntry(t *testing.T) {
	b := startKafkaSinkBroker(t)
	k := newKafkaSink(t, KafkaConfig{Brokers: b.Addrs()})
	huge := schemas.DeadLetter{
		Reason: "entry exceeds 1048576 bytes", Origin: "sync.engine/0/7",
		Received:  schemas.Time{Time: time.Date(2026, 11, 24, 10, 17, 2, 0, time.UTC)},
		RawBase64: bytes.Repeat([]byte("A"), 10<<20),
	}
	small := fixedDeadLetter()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, k.WriteDeadLetters(ctx, []schemas.DeadLetter{huge, small}))
	require.Len(t, huge.RawBase64, 10<<20, "the caller's letter is not modified")

	var got []schemas.DeadLetter
	for _, msgs := range readTopic(t, b, DefaultDeadLetterTopic) {
		for _, m := range msgs {
			require.NoError(t, schemas.Validate(schemas.SchemaDeadLetter, m.Value))
			var dl schemas.DeadLetter
			require.NoError(t, json.Unmarshal(m.Value, &dl))
			got = append(got, dl)
		}
	}
	require.Len(t, got, 2)
	for _, dl := range got {
		if dl.Origin == small.Origin {
			require.Equal(t, small, dl, "a letter within the bound is unchanged")
			continue
		}
		require.Equal(t, "entry exceeds 1048576 bytes (entry cut to its first 524288 of 10485760 bytes)", dl.Reason)
		require.Equal(t, huge.RawBase64[:DefaultDeadLetterMaxRaw], dl.RawBase64)
	}
}
