package sinks

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/schemas"
)

func TestMemoryHappy(t *testing.T) {
	m := NewMemory()
	events := testEvents(t, 3)
	require.NoError(t, m.Write(t.Context(), events[:2]))
	require.NoError(t, m.Write(t.Context(), events[2:]))
	require.NoError(t, m.WriteDeadLetters(t.Context(), []schemas.DeadLetter{fixedDeadLetter()}))

	got := m.Events()
	require.Equal(t, events, got)
	for _, e := range got {
		require.NoError(t, schemas.ValidateEvent(e))
	}
	require.Equal(t, []schemas.DeadLetter{fixedDeadLetter()}, m.DeadLetters())

	// Events returns a copy.
	got[0].ID = "changed"
	require.Equal(t, events[0].ID, m.Events()[0].ID)

	require.False(t, m.isClosed())
	require.NoError(t, m.Close(t.Context()))
	require.True(t, m.isClosed())
	require.Equal(t, events, m.Events(), "readable after Close")
}

func TestMemorySad(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		prepare func(t *testing.T, m *Memory)
		wantIs  error
	}{
		{name: "hook fails", prepare: func(t *testing.T, m *Memory) {
			m.onWrite = func([]schemas.IncidentEvent) error { return errInjected }
			m.onWriteDeadLetters = func([]schemas.DeadLetter) error { return errInjected }
		}, wantIs: errInjected},
		{name: "ctx cancelled", ctx: cancelled, wantIs: context.Canceled},
		{name: "closed", prepare: func(t *testing.T, m *Memory) { require.NoError(t, m.Close(t.Context())) }, wantIs: ErrClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := tt.ctx
			if ctx == nil {
				ctx = t.Context()
			}
			m := NewMemory()
			if tt.prepare != nil {
				tt.prepare(t, m)
			}
			require.ErrorIs(t, m.Write(ctx, testEvents(t, 2)), tt.wantIs)
			require.ErrorIs(t, m.WriteDeadLetters(ctx, []schemas.DeadLetter{fixedDeadLetter()}), tt.wantIs)
			require.Empty(t, m.Events())
			require.Empty(t, m.DeadLetters())
		})
	}
}

func TestMemoryHookMayReadSink(t *testing.T) {
	m := NewMemory()
	var seen []int
	m.onWrite = func([]schemas.IncidentEvent) error {
		seen = append(seen, len(m.Events()))
		return nil
	}
	events := testEvents(t, 2)
	require.NoError(t, m.Write(t.Context(), events[:1]))
	require.NoError(t, m.Write(t.Context(), events[1:]))
	require.Equal(t, []int{0, 1}, seen)
}

func TestMemoryConcurrent(t *testing.T) {
	const writers, perWriter = 4, 20
	events := testEvents(t, perWriter)
	m := NewMemory()
	errs := make([]error, writers*perWriter*2)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				errs[(w*perWriter+i)*2] = m.Write(t.Context(), events[i:i+1])
				errs[(w*perWriter+i)*2+1] = m.WriteDeadLetters(t.Context(), []schemas.DeadLetter{fixedDeadLetter()})
				_ = m.Events()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, m.Events(), writers*perWriter)
	require.Len(t, m.DeadLetters(), writers*perWriter)
}
