package sinks

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-multierror"
	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/schemas"
)

func TestFanoutHappy(t *testing.T) {
	events := testEvents(t, 4)
	a, b := NewMemory(), NewMemory()
	var out bytes.Buffer
	f := NewFanout(a, b, NewJSONL(&out, JSONLOptions{}))
	require.NoError(t, f.Write(t.Context(), events[:1]))
	require.NoError(t, f.Write(t.Context(), events[1:]))
	require.NoError(t, f.Close(t.Context()))

	for _, m := range []*Memory{a, b} {
		require.Equal(t, events, m.Events())
		require.True(t, m.isClosed())
	}
	require.Equal(t, linesOf(t, events), out.String())
	require.Len(t, requireValidLines(t, schemas.SchemaIncidentEvent, out.Bytes()), len(events))
}

func TestFanoutEmpty(t *testing.T) {
	f := NewFanout()
	require.NoError(t, f.Write(t.Context(), testEvents(t, 1)))
	require.NoError(t, f.Close(t.Context()))
	require.ErrorIs(t, f.Write(t.Context(), testEvents(t, 1)), ErrClosed)
}

func TestFanoutSad(t *testing.T) {
	failing := func() *Memory {
		m := NewMemory()
		m.onWrite = func([]schemas.IncidentEvent) error { return errInjected }
		return m
	}
	failingNamed := func(name string) *funcSink {
		return &funcSink{name: name, write: func(context.Context, []schemas.IncidentEvent) error { return errInjected }}
	}
	tests := []struct {
		name string
		// members are the Fanout's sinks; got[i] is true when member i
		// is a Memory that must have received the batch.
		members   func() []Sink
		got       []bool
		cancelled bool
		wantIs    error
		wantIdx   []int
		wantText  []string
	}{
		{
			name:     "one member fails, others still get the batch",
			members:  func() []Sink { return []Sink{NewMemory(), failing(), NewMemory()} },
			got:      []bool{true, false, true},
			wantIs:   errInjected,
			wantIdx:  []int{1},
			wantText: []string{"writing to sink 1 (*sinks.Memory): injected failure"},
		},
		{
			name:     "two members fail, errors in member order, named by String",
			members:  func() []Sink { return []Sink{failingNamed("kafka"), NewMemory(), failingNamed("webhook")} },
			got:      []bool{false, true, false},
			wantIs:   errInjected,
			wantIdx:  []int{0, 2},
			wantText: []string{"writing to sink 0 (kafka): injected failure", "writing to sink 2 (webhook): injected failure"},
		},
		{
			name:     "single failing member",
			members:  func() []Sink { return []Sink{failing()} },
			got:      []bool{false},
			wantIs:   errInjected,
			wantIdx:  []int{0},
			wantText: []string{"writing to sink 0 (*sinks.Memory): injected failure"},
		},
		{
			name:      "ctx cancelled reaches every member",
			members:   func() []Sink { return []Sink{NewMemory(), NewMemory()} },
			got:       []bool{false, false},
			cancelled: true,
			wantIs:    context.Canceled,
			wantIdx:   []int{0, 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			if tt.cancelled {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				cancel()
			}
			members := tt.members()
			events := testEvents(t, 3)
			err := NewFanout(members...).Write(ctx, events)
			require.ErrorIs(t, err, tt.wantIs)

			var merr *multierror.Error
			require.ErrorAs(t, err, &merr)
			require.Len(t, merr.Errors, len(tt.wantIdx))
			for i, e := range merr.Errors {
				var serr *SinkError
				require.ErrorAs(t, e, &serr)
				require.Equal(t, tt.wantIdx[i], serr.Index)
				require.Equal(t, "write", serr.Op)
				require.Same(t, members[serr.Index], serr.Sink)
				if tt.wantText != nil {
					require.Equal(t, tt.wantText[i], serr.Error())
					require.Contains(t, err.Error(), tt.wantText[i])
				}
			}
			for i, want := range tt.got {
				m, ok := members[i].(*Memory)
				if !ok {
					continue
				}
				if want {
					require.Equal(t, events, m.Events(), "member %d", i)
				} else {
					require.Empty(t, m.Events(), "member %d", i)
				}
			}
		})
	}
}

type ctxKey struct{}

func TestFanoutPassesCallerCtx(t *testing.T) {
	var seen [2]atomic.Value
	member := func(i int) Sink {
		return funcSink{write: func(ctx context.Context, _ []schemas.IncidentEvent) error {
			seen[i].Store(ctx.Value(ctxKey{}))
			return nil
		}}
	}
	ctx := context.WithValue(t.Context(), ctxKey{}, "caller")
	require.NoError(t, NewFanout(member(0), member(1)).Write(ctx, testEvents(t, 1)))
	require.Equal(t, "caller", seen[0].Load())
	require.Equal(t, "caller", seen[1].Load())
}

// TestFanoutWritesConcurrently has each member wait for the other to have
// started: a Fanout writing one member after the other would never return
// (the guard ctx turns that hang into a failure).
func TestFanoutWritesConcurrently(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	started := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	member := func(i int) Sink {
		return funcSink{write: func(ctx context.Context, _ []schemas.IncidentEvent) error {
			close(started[i])
			select {
			case <-started[1-i]:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}}
	}
	require.NoError(t, NewFanout(member(0), member(1)).Write(ctx, testEvents(t, 1)))
}

func TestFanoutClose(t *testing.T) {
	a, b := NewMemory(), NewMemory()
	closeFails := funcSink{
		name:  "kafka",
		write: func(context.Context, []schemas.IncidentEvent) error { return nil },
		close: func(context.Context) error { return errInjected },
	}
	f := NewFanout(a, closeFails, b)
	require.NoError(t, f.Write(t.Context(), testEvents(t, 2)))

	err := f.Close(t.Context())
	require.ErrorIs(t, err, errInjected)
	var serr *SinkError
	require.ErrorAs(t, err, &serr)
	require.Equal(t, 1, serr.Index)
	require.Equal(t, "close", serr.Op)
	require.Contains(t, err.Error(), "closing sink 1 (kafka): injected failure")
	require.True(t, a.isClosed())
	require.True(t, b.isClosed())

	require.NoError(t, f.Close(t.Context()), "Close is idempotent")
	require.ErrorIs(t, f.Write(t.Context(), testEvents(t, 1)), ErrClosed)
	require.Len(t, a.Events(), 2)
}

func TestFanoutConcurrentMembersRace(t *testing.T) {
	// Members share nothing but the batch; under -race this checks that
	// handing the same slice to concurrent members is safe for members
	// that only read it.
	members := make([]Sink, 4)
	mems := make([]*Memory, 4)
	for i := range members {
		mems[i] = NewMemory()
		members[i] = mems[i]
	}
	f := NewFanout(members...)
	events := testEvents(t, 10)
	for i := range events {
		require.NoError(t, f.Write(t.Context(), events[i:i+1]))
	}
	var wg sync.WaitGroup
	for _, m := range mems {
		wg.Go(func() { _ = m.Events() })
	}
	wg.Wait()
	for _, m := range mems {
		require.Equal(t, events, m.Events())
	}
}

func BenchmarkFanoutWrite(b *testing.B) {
	events := testEvents(b, 100)
	var size int64
	for _, e := range events {
		line, err := json.Marshal(e)
		if err != nil {
			b.Fatal(err)
		}
		size += int64(len(line)) + 1
	}
	f := NewFanout(NewJSONL(discard{}, JSONLOptions{}), NewJSONL(discard{}, JSONLOptions{}))
	b.ReportAllocs()
	b.SetBytes(size)
	for b.Loop() {
		if err := f.Write(context.Background(), events); err != nil {
			b.Fatal(err)
		}
	}
}

// discard is io.Discard as a distinct value per sink.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
