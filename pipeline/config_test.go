package pipeline

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/detectors"
	"github.com/syncwatch/syncwatch/pipeline/health"
	"github.com/syncwatch/syncwatch/sinks"
)

// validateCase is one configuration and the problems Validate must report
// (substrings of its error; none: valid).
type validateCase struct {
	name string
	err  error
	want []string
}

func checkValidate(t *testing.T, tests []validateCase) {
	t.Helper()
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			if len(test.want) == 0 {
				require.NoError(t, test.err)
				return
			}
			require.Error(t, test.err)
			for _, w := range test.want {
				require.Contains(t, test.err.Error(), w)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	mem := sinks.NewMemory()
	validate := func(c Config) error { return c.Validate() }
	checkValidate(t, []validateCase{
		{name: "events only", err: validate(Config{Events: mem})},
		{name: "no events", err: validate(Config{}), want: []string{"Events: required"}},
		{name: "every nested problem, each named", err: validate(Config{
			Events:    mem,
			Normalize: NormalizeConfig{MaxEntry: -1, JoinWait: -1},
			Detection: detectors.Config{Lateness: -time.Second},
			Reorder:   ReorderConfig{Window: -time.Second, MaxBuffered: -2},
			Health:    health.Config{DriftShare: 2},
		}), want: []string{"Normalize.MaxEntry -1: must not be negative", "Normalize.JoinWait -1ns", "Detection.Lateness -1s: must not be negative", "Reorder.Window -1s", "Reorder.MaxBuffered -2", "Health.DriftShare 2"}},
	})
	_, err := New(Config{Events: mem, Reorder: ReorderConfig{IdleTimeout: -1}})
	require.ErrorContains(t, err, "Reorder.IdleTimeout -1ns: must not be negative")
}

func TestReorderConfigValidate(t *testing.T) {
	validate := func(c ReorderConfig) error { return c.Validate() }
	checkValidate(t, []validateCase{
		{name: "zero value", err: validate(ReorderConfig{})},
		{name: "all set", err: validate(ReorderConfig{Window: time.Second, IdleTimeout: time.Minute, MaxBuffered: 10})},
		{name: "negative", err: validate(ReorderConfig{Window: -1, IdleTimeout: -1, MaxBuffered: -1}),
			want: []string{"Window -1ns", "IdleTimeout -1ns", "MaxBuffered -1"}},
	})
}

func TestReplayOptionsValidate(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	validate := func(o ReplayOptions) error { return o.Validate() }
	checkValidate(t, []validateCase{
		{name: "zero value", err: validate(ReplayOptions{})},
		{name: "window", err: validate(ReplayOptions{From: t0, To: t0.Add(time.Hour), BatchSize: 10})},
		{name: "open window", err: validate(ReplayOptions{From: t0})},
		{name: "negative batch", err: validate(ReplayOptions{BatchSize: -1}), want: []string{"BatchSize -1: must not be negative"}},
		{name: "empty window", err: validate(ReplayOptions{From: t0, To: t0}), want: []string{"To 2026-11-24T00:00:00Z: must be after From"}},
	})
}

func TestConsumerConfigValidate(t *testing.T) {
	newPipe := func() (*Pipeline, error) { return nil, nil }
	validate := func(c ConsumerConfig) error { return c.Validate() }
	checkValidate(t, []validateCase{
		{name: "pipeline only", err: validate(ConsumerConfig{NewPipeline: newPipe})},
		{name: "no pipeline", err: validate(ConsumerConfig{}), want: []string{"NewPipeline: required"}},
		{name: "negative", err: validate(ConsumerConfig{NewPipeline: newPipe, BatchSize: -1, BatchWait: -1, StopAfter: -1, DrainTimeout: -1}),
			want: []string{"BatchSize -1", "BatchWait -1ns", "StopAfter -1", "DrainTimeout -1ns"}},
	})
}
