package sinks

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hashicorp/go-multierror"
	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/schemas"
)

func TestJSONLHappy(t *testing.T) {
	three := testEvents(t, 3)
	tests := []struct {
		name    string
		opts    JSONLOptions
		batches [][]schemas.IncidentEvent
		want    string
	}{
		{name: "events.md example, byte-exact", batches: [][]schemas.IncidentEvent{{fixedEvent()}}, want: fixedLine},
		{name: "one batch", batches: [][]schemas.IncidentEvent{three}, want: linesOf(t, three)},
		{name: "two batches keep order", batches: [][]schemas.IncidentEvent{three[:1], three[1:]}, want: linesOf(t, three)},
		{name: "empty batch writes nothing", batches: [][]schemas.IncidentEvent{{}, nil}, want: ""},
		{name: "buffer smaller than a line", opts: JSONLOptions{BufferSize: 16}, batches: [][]schemas.IncidentEvent{three}, want: linesOf(t, three)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			j := NewJSONL(&out, tt.opts)
			for _, batch := range tt.batches {
				require.NoError(t, j.Write(t.Context(), batch))
			}
			// Write flushed: everything is out before Close.
			require.Equal(t, tt.want, out.String())
			requireValidLines(t, schemas.SchemaIncidentEvent, out.Bytes())
			require.NoError(t, j.Close(t.Context()))
			require.Equal(t, tt.want, out.String())
		})
	}
}

func TestJSONLDeterministic(t *testing.T) {
	events := testEvents(t, 5)
	var a, b bytes.Buffer
	require.NoError(t, NewJSONL(&a, JSONLOptions{}).Write(t.Context(), events))
	require.NoError(t, NewJSONL(&b, JSONLOptions{BufferSize: 64}).Write(t.Context(), events))
	require.Equal(t, a.String(), b.String())
	require.Len(t, requireValidLines(t, schemas.SchemaIncidentEvent, a.Bytes()), 5)
}

func TestJSONLSad(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name      string
		ctx       context.Context
		w         *fakeWriter
		prepare   func(t *testing.T, j *JSONL)
		events    func(t *testing.T) []schemas.IncidentEvent
		wantIs    error
		wantBytes string
	}{
		{
			name:   "writer fails",
			w:      &fakeWriter{writeErr: errInjected},
			events: func(t *testing.T) []schemas.IncidentEvent { return testEvents(t, 2) },
			wantIs: errInjected,
		},
		{
			name:   "sync fails",
			w:      &fakeWriter{syncErr: errInjected},
			events: func(t *testing.T) []schemas.IncidentEvent { return []schemas.IncidentEvent{fixedEvent()} },
			wantIs: errInjected,
			// The line reached the writer; only the fsync failed.
			wantBytes: fixedLine,
		},
		{
			name:   "ctx cancelled",
			ctx:    cancelled,
			w:      &fakeWriter{},
			events: func(t *testing.T) []schemas.IncidentEvent { return testEvents(t, 2) },
			wantIs: context.Canceled,
		},
		{
			name:    "closed",
			w:       &fakeWriter{},
			prepare: func(t *testing.T, j *JSONL) { require.NoError(t, j.Close(t.Context())) },
			events:  func(t *testing.T) []schemas.IncidentEvent { return testEvents(t, 1) },
			wantIs:  ErrClosed,
		},
		{
			name:    "closed, empty batch",
			w:       &fakeWriter{},
			prepare: func(t *testing.T, j *JSONL) { require.NoError(t, j.Close(t.Context())) },
			events:  func(t *testing.T) []schemas.IncidentEvent { return nil },
			wantIs:  ErrClosed,
		},
		{
			// Not a product event: a detail encoding/json cannot encode.
			name: "unencodable event writes no line of it",
			w:    &fakeWriter{},
			events: func(t *testing.T) []schemas.IncidentEvent {
				e := fixedEvent()
				e.Data.Details = map[string]any{"ratio": math.NaN()}
				return []schemas.IncidentEvent{e}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := tt.ctx
			if ctx == nil {
				ctx = t.Context()
			}
			j := NewJSONL(tt.w, JSONLOptions{Sync: true})
			if tt.prepare != nil {
				tt.prepare(t, j)
			}
			err := j.Write(ctx, tt.events(t))
			require.Error(t, err)
			if tt.wantIs != nil {
				require.ErrorIs(t, err, tt.wantIs)
			}
			require.Equal(t, tt.wantBytes, tt.w.buf.String())
		})
	}
}

func TestJSONLBrokenWriterStaysBroken(t *testing.T) {
	w := &fakeWriter{writeErr: errInjected}
	j := NewJSONL(w, JSONLOptions{})
	require.ErrorIs(t, j.Write(t.Context(), testEvents(t, 1)), errInjected)
	w.writeErr = nil
	require.ErrorIs(t, j.Write(t.Context(), testEvents(t, 1)), errInjected)
	require.Empty(t, w.buf.String())
}

func TestJSONLSyncAndClose(t *testing.T) {
	tests := []struct {
		name       string
		opts       JSONLOptions
		w          *fakeWriter
		wantSyncs  int
		wantCloses int
		wantIs     error
	}{
		{name: "zero options: no sync, writer left open", w: &fakeWriter{}},
		{name: "sync per write and on close", opts: JSONLOptions{Sync: true}, w: &fakeWriter{}, wantSyncs: 3},
		{name: "close writer", opts: JSONLOptions{CloseWriter: true}, w: &fakeWriter{}, wantCloses: 1},
		{name: "close error", opts: JSONLOptions{CloseWriter: true}, w: &fakeWriter{closeErr: errInjected}, wantCloses: 1, wantIs: errInjected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := NewJSONL(tt.w, tt.opts)
			events := testEvents(t, 2)
			require.NoError(t, j.Write(t.Context(), events[:1]))
			require.NoError(t, j.Write(t.Context(), events[1:]))
			err := j.Close(t.Context())
			if tt.wantIs != nil {
				require.ErrorIs(t, err, tt.wantIs)
				var merr *multierror.Error
				require.ErrorAs(t, err, &merr)
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, tt.wantSyncs, tt.w.syncs)
			require.Equal(t, tt.wantCloses, tt.w.closes)
			require.Equal(t, linesOf(t, events), tt.w.buf.String())
			requireValidLines(t, schemas.SchemaIncidentEvent, tt.w.buf.Bytes())

			// Close is idempotent; Write after Close fails.
			require.NoError(t, j.Close(t.Context()))
			require.Equal(t, tt.wantCloses, tt.w.closes)
			require.ErrorIs(t, j.Write(t.Context(), events), ErrClosed)
		})
	}
}

func TestJSONLConcurrentWrites(t *testing.T) {
	const writers, perWriter = 4, 25
	batches := make([][]schemas.IncidentEvent, writers)
	for i := range batches {
		batches[i] = testEvents(t, perWriter)
	}
	var out bytes.Buffer
	j := NewJSONL(&out, JSONLOptions{BufferSize: 512})
	errs := make([]error, writers*perWriter)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				errs[w*perWriter+i] = j.Write(t.Context(), batches[w][i:i+1])
			}
		})
	}
	wg.Wait()
	require.NoError(t, j.Close(t.Context()))
	for _, err := range errs {
		require.NoError(t, err)
	}
	// Every line whole and valid: no interleaving.
	require.Len(t, requireValidLines(t, schemas.SchemaIncidentEvent, out.Bytes()), writers*perWriter)
}

func TestNewFile(t *testing.T) {
	events := testEvents(t, 3)
	tests := []struct {
		name     string
		existing string
		opts     JSONLOptions
		want     string
	}{
		{name: "creates", want: linesOf(t, events)},
		{name: "truncates", existing: "old\n", want: linesOf(t, events)},
		{name: "appends", existing: fixedLine, opts: JSONLOptions{Append: true}, want: fixedLine + linesOf(t, events)},
		{name: "appends, fsync", existing: fixedLine, opts: JSONLOptions{Append: true, Sync: true}, want: fixedLine + linesOf(t, events)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "incidents.jsonl")
			if tt.existing != "" {
				require.NoError(t, os.WriteFile(path, []byte(tt.existing), 0o644))
			}
			j, err := NewFile(path, tt.opts)
			require.NoError(t, err)
			require.NoError(t, j.Write(t.Context(), events))
			// Durable before Close.
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, tt.want, string(got))
			requireValidLines(t, schemas.SchemaIncidentEvent, got)
			require.NoError(t, j.Close(t.Context()))
		})
	}
}

func TestNewFileClosesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "incidents.jsonl")
	j, err := NewFile(path, JSONLOptions{})
	require.NoError(t, err)
	require.NoError(t, j.Close(t.Context()))
	f, ok := j.lw.w.(*os.File)
	require.True(t, ok)
	_, err = f.Write([]byte("x"))
	require.ErrorIs(t, err, os.ErrClosed)
}

func TestNewFileSad(t *testing.T) {
	tests := []struct {
		name   string
		path   func(dir string) string
		wantIs error
	}{
		{name: "missing directory", path: func(dir string) string { return filepath.Join(dir, "nope", "x.jsonl") }, wantIs: fs.ErrNotExist},
		{name: "path is a directory", path: func(dir string) string { return dir }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path(t.TempDir())
			j, err := NewFile(path, JSONLOptions{})
			require.Error(t, err)
			require.Nil(t, j)
			if tt.wantIs != nil {
				require.ErrorIs(t, err, tt.wantIs)
			}
			d, err := NewDeadLetterFile(path, JSONLOptions{})
			require.Error(t, err)
			require.Nil(t, d)
		})
	}
}

func BenchmarkJSONLWrite(b *testing.B) {
	events := testEvents(b, 100)
	var size int64
	for _, e := range events {
		line, err := json.Marshal(e)
		require.NoError(b, err)
		size += int64(len(line)) + 1
	}
	j := NewJSONL(io.Discard, JSONLOptions{})
	b.ReportAllocs()
	b.SetBytes(size)
	for b.Loop() {
		if err := j.Write(context.Background(), events); err != nil {
			b.Fatal(err)
		}
	}
}

func TestJSONLOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		opts    JSONLOptions
		wantErr []string // one substring per problem; none: valid
	}{
		{name: "zero value"},
		{name: "every field set", opts: JSONLOptions{Sync: true, CloseWriter: true, Append: true, BufferSize: 1}},
		{name: "negative buffer size", opts: JSONLOptions{BufferSize: -1}, wantErr: []string{"BufferSize -1: must not be negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireProblems(t, tt.opts.Validate(), tt.wantErr)
			path := filepath.Join(t.TempDir(), "out.jsonl")
			j, err := NewFile(path, tt.opts)
			d, derr := NewDeadLetterFile(path, tt.opts)
			if len(tt.wantErr) == 0 {
				require.NoError(t, err)
				require.NoError(t, derr)
				require.NoError(t, j.Close(t.Context()))
				require.NoError(t, d.Close(t.Context()))
				require.NotPanics(t, func() { NewJSONL(io.Discard, tt.opts) })
				return
			}
			require.ErrorContains(t, err, "validating JSONL options")
			require.ErrorContains(t, derr, "validating JSONL options")
			require.NoFileExists(t, path, "invalid options must not create the file")
			require.PanicsWithValue(t, "sinks: invalid JSONLOptions: "+tt.opts.Validate().Error(), func() { NewJSONL(io.Discard, tt.opts) })
			require.Panics(t, func() { newDeadLetterJSONL(io.Discard, tt.opts) })
		})
	}
}
