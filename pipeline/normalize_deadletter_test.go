package pipeline

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/schemas"
)

// TestNormalizeDeadLetterOfEmptyEntry: a Kafka message can be empty (files
// skip blank lines). Its dead letter must still match the dead-letter
// schema, whose raw_base64 is a string: "" rather than null.
func TestNormalizeDeadLetterOfEmptyEntry(t *testing.T) {
	s := NewNormalizeStage(NormalizeConfig{})
	for _, raw := range [][]byte{nil, {}, []byte("  \t ")} {
		var b Batch
		b.Entries = append(b.Entries, Entry{Source: "sync.engine/0", Raw: raw, Origin: "sync.engine/0/1"})
		require.NoError(t, s.Exec(context.Background(), &b))
		require.Len(t, b.DeadLetters, 1)
		doc, err := json.Marshal(&b.DeadLetters[0])
		require.NoError(t, err)
		require.NoError(t, schemas.Validate(schemas.SchemaDeadLetter, doc), "%s", doc)
	}
}
