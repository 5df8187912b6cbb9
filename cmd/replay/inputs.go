package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/syncwatch/syncwatch/pipeline"
	"github.com/syncwatch/syncwatch/pipeline/filesource"
	"github.com/syncwatch/syncwatch/pipeline/kafkasource"
)

// openInputs opens what a replay reads: the Kafka time range when
// --brokers is set, else the paths. total is the size in bytes of the
// input when it is known (files only: 0 for stdin and Kafka), for the
// progress bar's ETA. note, called after the replay, says what a Kafka
// range read ("" for files).
func openInputs(ctx context.Context, o options, paths []string, stdin io.Reader) (inputs []pipeline.EntryReader, total int64, note func() string, err error) {
	note = func() string { return "" }
	if len(o.brokers) == 0 {
		files, err := filesource.Open(paths, stdin, o.maxEntry)
		if err != nil {
			return nil, 0, note, err
		}
		known := true
		streams := map[string][]string{}
		var split []string
		for _, f := range files {
			inputs = append(inputs, f)
			total += f.Size
			known = known && f.Name != "-"
			if f.Stream != "" {
				if streams[f.Name] == nil {
					split = append(split, f.Name)
				}
				streams[f.Name] = append(streams[f.Name], f.Stream)
			}
		}
		if !known {
			total = 0
		}
		note = func() string {
			var notes []string
			for _, name := range split {
				notes = append(notes, fmt.Sprintf("%s holds %d streams one after another (%s): read as %d inputs merged by event time",
					name, len(streams[name]), strings.Join(streams[name], "; "), len(streams[name])))
			}
			return strings.Join(notes, "\n")
		}
		return inputs, total, note, nil
	}
	margin := o.margin
	if margin == 0 {
		// Message timestamps are in milliseconds: 1ms is no margin (and
		// 0 would mean KafkaRangeConfig's default).
		margin = time.Millisecond
	}
	dialer, err := o.security.Dialer()
	if err != nil {
		return nil, 0, note, err
	}
	srcs, err := kafkasource.OpenRange(ctx, kafkasource.RangeConfig{
		Brokers: o.brokers, Topics: o.topics, From: o.from, To: o.to, Margin: margin, Envelope: o.envelope, Dialer: dialer,
	})
	if err != nil {
		return nil, 0, note, err
	}
	for _, s := range srcs {
		inputs = append(inputs, s)
	}
	note = func() string {
		var msgs int64
		for _, s := range srcs {
			msgs += s.Messages()
		}
		n := kafkaNote(o, len(srcs), msgs)
		if msgs == 0 && o.margin >= 0 && (!o.from.IsZero() || !o.to.IsZero()) {
			if hint := emptyRangeHint(ctx, o, dialer); hint != "" {
				n += "\n" + hint
			}
		}
		return n
	}
	return inputs, 0, note, nil
}

// emptyRangeHint explains a time range that read nothing from topics
// that hold messages: it says which times the messages carry (the first
// and last message of each partition), since Kafka timestamps are the
// producers' clock, not the logs' event time. "" when the topics are
// empty or cannot be looked at.
func emptyRangeHint(ctx context.Context, o options, dialer *kafka.Dialer) string {
	whole, err := kafkasource.OpenRange(ctx, kafkasource.RangeConfig{
		Brokers: o.brokers, Topics: o.topics, Margin: -1, Dialer: dialer, NotLogs: true,
	})
	if err != nil {
		return ""
	}
	defer func() {
		for _, s := range whole {
			s.Close()
		}
	}()
	var first, last time.Time
	var held int64
	var en pipeline.Entry
	tails := map[string]int64{} // each partition's last message
	for _, s := range whole {
		held += s.End - s.Start
		if s.ReadEntry(ctx, &en) == nil {
			if t := s.LastTime(); first.IsZero() || t.Before(first) {
				first = t
			}
		}
		tails[s.SourceName()] = s.End - 1
	}
	tail, err := kafkasource.OpenRange(ctx, kafkasource.RangeConfig{
		Brokers: o.brokers, Topics: o.topics, Margin: -1, Dialer: dialer, NotLogs: true, Offsets: tails,
	})
	if err == nil {
		for _, s := range tail {
			if s.ReadEntry(ctx, &en) == nil && s.LastTime().After(last) {
				last = s.LastTime()
			}
			s.Close()
		}
	}
	if held == 0 || first.IsZero() {
		return ""
	}
	return fmt.Sprintf("kafka: none of the %d messages the topics hold is stamped in the range: their Kafka timestamps run from %s to %s. "+
		"Those are the producers' (or the broker's) clock, not the logs' event time: to cut by event time alone, read whole partitions "+
		"with --time-margin -1 (--from/--to still cut the entries), or widen --time-margin",
		held, first.UTC().Format(time.RFC3339), last.UTC().Format(time.RFC3339))
}

// kafkaNote says, for the summary, what a Kafka range read.
func kafkaNote(o options, partitions int, msgs int64) string {
	topics := o.topics
	if len(topics) == 0 {
		topics = kafkasource.DefaultTopics
	}
	window := "whole partitions"
	if o.margin >= 0 && (!o.from.IsZero() || !o.to.IsZero()) {
		window = fmt.Sprintf("message time [%s, %s] widened by %s", fmtBound(o.from, "start"), fmtBound(o.to, "end"), o.margin)
	}
	return fmt.Sprintf("kafka: read %d messages from %d partitions of %s (%s); no consumer group, nothing committed",
		msgs, partitions, strings.Join(topics, ", "), window)
}

func fmtBound(t time.Time, none string) string {
	if t.IsZero() {
		return none
	}
	return t.Format(time.RFC3339)
}
