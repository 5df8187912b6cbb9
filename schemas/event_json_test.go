package schemas

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// requireSameJSON: AppendJSON gives the bytes encoding/json gives for e.
func requireSameJSON(t *testing.T, e IncidentEvent) {
	t.Helper()
	want, wantErr := json.Marshal(e)
	got, err := e.AppendJSON([]byte("prefix"))
	if wantErr != nil {
		require.Error(t, err)
		return
	}
	require.NoError(t, err)
	require.Equal(t, "prefix"+string(want), string(got))
}

// TestEventJSONMatchesEncodingJSON: the hand-written encoding is byte for
// byte encoding/json's: string escaping (quotes, backslashes, control
// characters, HTML, invalid UTF-8, U+2028/9), nil and empty slices and
// maps, details' key order and value types.
func TestEventJSONMatchesEncodingJSON(t *testing.T) {
	odd := "a\"b\\c\b\f\n\r\t\x00\x01\x1f\x7f <x> & é 日本 \u2028\u2029 \xff\xfe end 😀"
	for _, tt := range []struct {
		name   string
		mutate func(e *IncidentEvent)
	}{
		{"contract event", func(e *IncidentEvent) {}},
		{"nil slices and map", func(e *IncidentEvent) {
			e.Data.Runs, e.Data.SampleRecords, e.Data.Details, e.Data.Evidence = nil, nil, nil, nil
		}},
		{"empty slices and map", func(e *IncidentEvent) {
			e.Data.Runs, e.Data.SampleRecords, e.Data.Details, e.Data.Evidence = []string{}, []string{}, map[string]any{}, []Evidence{}
		}},
		{"odd strings everywhere", func(e *IncidentEvent) {
			e.ID, e.Subject, e.Data.Title, e.Data.Remediation, e.Data.Mailbox = odd, odd, odd, odd, odd
			e.Data.Runs = []string{odd, ""}
			e.Data.Evidence = append(e.Data.Evidence, Evidence{Producer: odd, Message: odd, Origin: odd})
			e.Data.Details = map[string]any{odd: odd}
		}},
		{"details of every kind", func(e *IncidentEvent) {
			e.Data.Details = map[string]any{
				"z": 1, "a": "x", "m": int64(-7), "b": true, "n": nil, "f": 1.5, "g": 1e21, "h": float32(0.1),
				"u": uint8(3), "nested": map[string]any{"k": []int{1, 2}}, "s": []string{"<a>"},
				"k1": 1, "k2": 2, "k3": 3, "k4": 4, "k5": 5, "k6": 6, "k7": 7, "k8": 8, "k9": 9, // more than 8 keys
			}
		}},
		{"negative and large counts", func(e *IncidentEvent) {
			e.Data.Occurrences, e.Data.AffectedRecords = -1, 1<<40
		}},
		{"times in other zones and zero", func(e *IncidentEvent) {
			e.Time = Time{time.Date(2026, 11, 24, 10, 0, 0, 123456789, time.FixedZone("x", 3600))}
			e.Data.FirstSeen = Time{}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := contractEvent()
			tt.mutate(&e)
			requireSameJSON(t, e)
		})
	}
}

// FuzzEventJSON: any strings, in any field, encode as encoding/json
// encodes them.
func FuzzEventJSON(f *testing.F) {
	f.Add("t-1042", "a.b@contoso.com", "Update conflict: <item> & \"x\"", 3)
	f.Add("\xff", "\u2028", "\x00\x1f\\", -1)
	f.Fuzz(func(t *testing.T, s1, s2, s3 string, n int) {
		e := contractEvent()
		e.Subject, e.Data.Tenant, e.Data.Mailbox, e.Data.Title = s1, s1, s2, s3
		e.Data.Occurrences = n
		e.Data.Runs = []string{s1, s2}
		e.Data.SampleRecords = []string{s3}
		e.Data.Details = map[string]any{s1: s2, s3: n, "x": s3}
		e.Data.Evidence = []Evidence{{Producer: s1, Message: s3, Origin: s2}}
		requireSameJSON(t, e)
	})
}

func BenchmarkEventJSON(b *testing.B) {
	e := contractEvent()
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			var err error
			if buf, err = e.AppendJSON(buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
