package sinks

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/schemas"
)

func TestDeadLetterJSONLHappy(t *testing.T) {
	second := fixedDeadLetter()
	second.Reason = "json: unexpected end of input"
	second.Origin = "c4cc.log:17"
	second.RawBase64 = []byte{}
	tests := []struct {
		name    string
		letters []schemas.DeadLetter
		want    string
	}{
		{name: "events.md key order, byte-exact", letters: []schemas.DeadLetter{fixedDeadLetter()}, want: fixedDeadLetterLine},
		{name: "empty raw entry", letters: []schemas.DeadLetter{second}, want: `{"reason":"json: unexpected end of input","origin":"c4cc.log:17","received":"2026-11-24T10:17:02.000Z","raw_base64":""}` + "\n"},
		{name: "batch in order", letters: []schemas.DeadLetter{fixedDeadLetter(), second}, want: fixedDeadLetterLine + `{"reason":"json: unexpected end of input","origin":"c4cc.log:17","received":"2026-11-24T10:17:02.000Z","raw_base64":""}` + "\n"},
		{name: "empty batch", letters: nil, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			d := newDeadLetterJSONL(&out, JSONLOptions{})
			require.NoError(t, d.WriteDeadLetters(t.Context(), tt.letters))
			require.Equal(t, tt.want, out.String())
			requireValidLines(t, schemas.SchemaDeadLetter, out.Bytes())
			require.NoError(t, d.Close(t.Context()))
		})
	}
}

func TestDeadLetterJSONLSad(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		w       *fakeWriter
		prepare func(t *testing.T, d *DeadLetterJSONL)
		wantIs  error
	}{
		{name: "writer fails", w: &fakeWriter{writeErr: errInjected}, wantIs: errInjected},
		{name: "ctx cancelled", ctx: cancelled, w: &fakeWriter{}, wantIs: context.Canceled},
		{
			name:    "closed",
			w:       &fakeWriter{},
			prepare: func(t *testing.T, d *DeadLetterJSONL) { require.NoError(t, d.Close(t.Context())) },
			wantIs:  ErrClosed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := tt.ctx
			if ctx == nil {
				ctx = t.Context()
			}
			d := newDeadLetterJSONL(tt.w, JSONLOptions{})
			if tt.prepare != nil {
				tt.prepare(t, d)
			}
			err := d.WriteDeadLetters(ctx, []schemas.DeadLetter{fixedDeadLetter()})
			require.ErrorIs(t, err, tt.wantIs)
			require.Empty(t, tt.w.buf.String())
		})
	}
}

func TestNewDeadLetterFile(t *testing.T) {
	tests := []struct {
		name     string
		existing string
		opts     JSONLOptions
		want     string
	}{
		{name: "truncates", existing: "old\n", want: fixedDeadLetterLine},
		{name: "appends", existing: fixedDeadLetterLine, opts: JSONLOptions{Append: true, Sync: true}, want: fixedDeadLetterLine + fixedDeadLetterLine},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "deadletter.jsonl")
			require.NoError(t, os.WriteFile(path, []byte(tt.existing), 0o644))
			d, err := NewDeadLetterFile(path, tt.opts)
			require.NoError(t, err)
			require.NoError(t, d.WriteDeadLetters(t.Context(), []schemas.DeadLetter{fixedDeadLetter()}))
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, tt.want, string(got))
			requireValidLines(t, schemas.SchemaDeadLetter, got)
			require.NoError(t, d.Close(t.Context()))
			require.ErrorIs(t, d.WriteDeadLetters(t.Context(), nil), ErrClosed)
		})
	}
}
