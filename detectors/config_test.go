package detectors

import (
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/go-multierror"
	"github.com/stretchr/testify/require"
)

func TestConfigValidate(t *testing.T) {
	valid := Config{
		Source: "https://syncwatch.example/ingest", Lateness: time.Second, RunTimeout: time.Minute,
		ConsecutiveRuns: 3, MaxEvidence: 1, MaxSampleRecords: 2, IdleEvict: time.Hour, MaxTemplates: 8,
		Detectors: []Detector{unknownDetector{}},
	}
	tests := []struct {
		name   string
		modify func(c *Config)
		want   []string // one problem each, in this order; none: valid
	}{
		{name: "zero value", modify: func(c *Config) { *c = Config{} }},
		{name: "every field set", modify: func(*Config) {}},
		{name: "relative source", modify: func(c *Config) { c.Source = "syncwatch/replay" }},
		{name: "urn source", modify: func(c *Config) { c.Source = "urn:syncwatch:ingest" }},
		{name: "source with a space", modify: func(c *Config) { c.Source = "syncwatch ingest" },
			want: []string{`Source "syncwatch ingest": not a URI reference`}},
		{name: "source with a control character", modify: func(c *Config) { c.Source = "syncwatch/\ningest" },
			want: []string{`Source "syncwatch/\ningest": not a URI reference`}},
		{name: "source with a bad escape", modify: func(c *Config) { c.Source = "syncwatch/%zz" },
			want: []string{`Source "syncwatch/%zz": not a URI reference`}},
		{name: "negative lateness", modify: func(c *Config) { c.Lateness = -time.Second },
			want: []string{"Lateness -1s: must not be negative"}},
		{name: "negative run timeout", modify: func(c *Config) { c.RunTimeout = -time.Minute },
			want: []string{"RunTimeout -1m0s: must not be negative"}},
		{name: "negative consecutive runs", modify: func(c *Config) { c.ConsecutiveRuns = -1 },
			want: []string{"ConsecutiveRuns -1: must not be negative"}},
		{name: "negative max evidence", modify: func(c *Config) { c.MaxEvidence = -2 },
			want: []string{"MaxEvidence -2: must not be negative"}},
		{name: "negative max sample records", modify: func(c *Config) { c.MaxSampleRecords = -3 },
			want: []string{"MaxSampleRecords -3: must not be negative"}},
		{name: "negative idle evict", modify: func(c *Config) { c.IdleEvict = -time.Hour },
			want: []string{"IdleEvict -1h0m0s: must not be negative"}},
		{name: "negative max templates", modify: func(c *Config) { c.MaxTemplates = -4 },
			want: []string{"MaxTemplates -4: must not be negative"}},
		{name: "nil detector", modify: func(c *Config) { c.Detectors = []Detector{unknownDetector{}, nil} },
			want: []string{"Detectors[1]: nil Detector"}},
		{
			name: "every field wrong: every problem at once",
			modify: func(c *Config) {
				*c = Config{
					Source: "a b", Lateness: -1, RunTimeout: -1, ConsecutiveRuns: -1, MaxEvidence: -1,
					MaxSampleRecords: -1, IdleEvict: -1, MaxTemplates: -1, Detectors: []Detector{nil, nil},
				}
			},
			want: []string{
				`Source "a b": not a URI reference`,
				"Lateness -1ns: must not be negative",
				"RunTimeout -1ns: must not be negative",
				"ConsecutiveRuns -1: must not be negative",
				"MaxEvidence -1: must not be negative",
				"MaxSampleRecords -1: must not be negative",
				"IdleEvict -1ns: must not be negative",
				"MaxTemplates -1: must not be negative",
				"Detectors[0]: nil Detector",
				"Detectors[1]: nil Detector",
			},
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			c := valid
			test.modify(&c)
			before := c
			err := c.Validate()
			require.Equal(t, before, c, "Validate changed the config")
			if len(test.want) == 0 {
				require.NoError(t, err)
				return
			}
			var merr *multierror.Error
			require.True(t, errors.As(err, &merr), "%T: not a multierror", err)
			var got []string
			for _, e := range merr.Errors {
				got = append(got, e.Error())
			}
			require.Equal(t, test.want, got)
		})
	}
}

func TestNewEngineRejectsInvalidConfig(t *testing.T) {
	_, err := NewEngine(Config{Lateness: -time.Second, Detectors: []Detector{nil}})
	require.ErrorContains(t, err, "validating detection config")
	require.ErrorContains(t, err, "Lateness -1s: must not be negative")
	require.ErrorContains(t, err, "Detectors[0]: nil Detector")
}

func TestConfigDefaults(t *testing.T) {
	var zero Config
	require.Equal(t, DefaultSource, zero.source())
	require.Equal(t, DefaultLateness, zero.lateness())
	require.Equal(t, DefaultRunTimeout, zero.runTimeout())
	require.Equal(t, DefaultConsecutiveRuns, zero.consecutiveRuns())
	require.Equal(t, DefaultMaxEvidence, zero.maxEvidence())
	require.Equal(t, DefaultMaxSampleRecords, zero.maxSampleRecords())
	require.Equal(t, DefaultIdleEvict, zero.idleEvict())
	require.Equal(t, DefaultMaxTemplates, zero.maxTemplates())
	dets, err := zero.detectors()
	require.NoError(t, err)
	var names []string
	for _, d := range dets {
		names = append(names, d.Name())
	}
	require.Equal(t, DefaultDetectors, names)

	set := Config{
		Source: "s", Lateness: 1, RunTimeout: 2, ConsecutiveRuns: 3, MaxEvidence: 4, MaxSampleRecords: 5,
		IdleEvict: 6, MaxTemplates: 7, Detectors: []Detector{unknownDetector{}},
	}
	require.Equal(t, "s", set.source())
	require.Equal(t, time.Duration(1), set.lateness())
	require.Equal(t, time.Duration(2), set.runTimeout())
	require.Equal(t, 3, set.consecutiveRuns())
	require.Equal(t, 4, set.maxEvidence())
	require.Equal(t, 5, set.maxSampleRecords())
	require.Equal(t, time.Duration(6), set.idleEvict())
	require.Equal(t, 7, set.maxTemplates())
	dets, err = set.detectors()
	require.NoError(t, err)
	require.Equal(t, []Detector{unknownDetector{}}, dets)
}
