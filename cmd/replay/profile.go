package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"time"
)

// startProfiles starts a CPU profile into cpuFile (if set) and returns the
// function that stops it and writes a heap profile into memFile (if set)
// and the heap profile taken at the largest live heap into peakFile (if
// set), for `go tool pprof`.
func startProfiles(cpuFile, memFile, peakFile string) (func() error, error) {
	for _, f := range []struct{ flag, path string }{{"--memprofile", memFile}, {"--peakprofile", peakFile}} {
		if f.path != "" {
			// written at the end: found unwritable now, not after the replay
			if err := checkWritable(f.path); err != nil {
				return nil, fmt.Errorf("%s: %w", f.flag, err)
			}
		}
	}
	var peak *peakProfile
	if peakFile != "" {
		peak = watchPeak()
	}
	var cpu *os.File
	if cpuFile != "" {
		f, err := os.Create(cpuFile)
		if err != nil {
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		cpu = f
	}
	return func() error {
		if cpu != nil {
			pprof.StopCPUProfile()
			if err := cpu.Close(); err != nil {
				return fmt.Errorf("--cpuprofile: %w", err)
			}
		}
		if peak != nil {
			if err := os.WriteFile(peakFile, peak.stop(), 0o644); err != nil {
				return fmt.Errorf("--peakprofile: %w", err)
			}
		}
		if memFile == "" {
			return nil
		}
		f, err := os.Create(memFile)
		if err != nil {
			return fmt.Errorf("--memprofile: %w", err)
		}
		runtime.GC() // up-to-date statistics
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			f.Close()
			return fmt.Errorf("--memprofile: %w", err)
		}
		return f.Close()
	}, nil
}

// peakProfile keeps the heap profile taken at the largest live heap: a
// profile at the end shows nothing in use (the pipeline is gone), and
// what holds the memory of a replay (its mailboxes, the reorder window)
// is in use at its peak. The live heap is read every peakEvery (it
// changes at the end of each collection); a profile is taken each time
// it grew by a fiftieth since the last one.
type peakProfile struct {
	done chan struct{}
	out  chan []byte
}

const peakEvery = 100 * time.Millisecond

func watchPeak() *peakProfile {
	p := &peakProfile{done: make(chan struct{}), out: make(chan []byte, 1)}
	go func() {
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		var best uint64
		var prof bytes.Buffer
		tick := time.NewTicker(peakEvery)
		defer tick.Stop()
		for {
			select {
			case <-p.done:
				if prof.Len() == 0 { // no collection yet: what is in use now
					_ = pprof.Lookup("heap").WriteTo(&prof, 0)
				}
				p.out <- prof.Bytes()
				return
			case <-tick.C:
			}
			metrics.Read(sample)
			if sample[0].Value.Kind() != metrics.KindUint64 {
				continue
			}
			if live := sample[0].Value.Uint64(); live > best+best/50 {
				best = live
				prof.Reset()
				_ = pprof.Lookup("heap").WriteTo(&prof, 0)
			}
		}
	}()
	return p
}

// stop ends the watch and returns the profile.
func (p *peakProfile) stop() []byte {
	close(p.done)
	return <-p.out
}
