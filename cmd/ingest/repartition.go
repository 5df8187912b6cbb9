package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/syncwatch/syncwatch/pipeline"
	"github.com/syncwatch/syncwatch/pipeline/kafkasource"
	"github.com/syncwatch/syncwatch/pipeline/parse"
	"github.com/syncwatch/syncwatch/pipeline/repartition"
	"github.com/syncwatch/syncwatch/schemas"
)

// The --repartition modes.
const (
	repartitionAuto   = "auto"
	repartitionAlways = "always"
	repartitionNever  = "never"
)

// repartitionPlan is what ingest decided at its start about the first
// hop (docs/rebalancing.md, "Any producer: repartition through Kafka").
type repartitionPlan struct {
	on     bool
	reason string
	// topic is the repartition topic and partitions its partition count
	// (that of the raw topics, the largest if they differ).
	topic      string
	partitions int
	// sources are the raw topics' partitions, "topic/partition": the
	// second hop's reorder sources.
	sources []string
}

// repartitionTopic is the repartition topic's name: configured, or the
// group's ("syncwatch.repartition"): two groups on the same raw topics
// must not share one.
func (c *Config) repartitionTopic() string {
	if c.RepartitionTopic != "" {
		return c.RepartitionTopic
	}
	return c.Group + ".repartition"
}

// planRepartition decides whether to repartition and, if so, creates the
// repartition topic when missing. With auto it repartitions when the
// repartition topic exists (the group did before: its members must agree)
// or when most of the raw partitions' last messages are not keyed by the
// tenant/mailbox of the entry they carry (an unkeyed shipper, or one
// keyed by host); with nothing to judge by (empty topics), it does not,
// and the consumer warns when a mailbox turns up on two partitions.
func planRepartition(ctx context.Context, cfg *Config, dialer *kafka.Dialer, transport kafka.RoundTripper, envelope parse.Envelope, log *slog.Logger) (repartitionPlan, error) {
	plan := repartitionPlan{topic: cfg.repartitionTopic()}
	if cfg.Repartition == repartitionNever {
		plan.reason = "--repartition never"
		return plan, nil
	}
	client := &kafka.Client{Addr: kafka.TCP(cfg.Brokers...), Transport: transport, Timeout: 10 * time.Second}
	// every topic's metadata: naming a missing topic would have a broker
	// with auto.create.topics.enable create it
	md, err := metadata(ctx, client, dialer, log)
	if err != nil {
		return plan, fmt.Errorf("reading the brokers' metadata to plan --repartition: %w", err)
	}
	var internal *kafka.Topic
	for i := range md.Topics {
		t := &md.Topics[i]
		if t.Name == plan.topic {
			internal = t
		}
		if slices.Contains(cfg.Topics, t.Name) {
			plan.partitions = max(plan.partitions, len(t.Partitions))
			for _, p := range t.Partitions {
				plan.sources = append(plan.sources, t.Name+"/"+strconv.Itoa(p.ID))
			}
		}
	}
	slices.Sort(plan.sources)
	switch {
	case cfg.Repartition == repartitionAlways:
		plan.on, plan.reason = true, "--repartition always"
	case internal != nil:
		plan.on, plan.reason = true, "the repartition topic exists: the group repartitioned before"
	default:
		plan.reason, plan.on, err = sampleKeys(ctx, client, md.Topics, cfg.Topics, envelope)
		if err != nil {
			return plan, err
		}
	}
	if !plan.on {
		return plan, nil
	}
	if plan.partitions == 0 {
		return plan, fmt.Errorf("--repartition: none of the topics %v exists yet; the repartition topic takes their partition count", []string(cfg.Topics))
	}
	if internal != nil {
		if n := len(internal.Partitions); n != plan.partitions {
			log.Warn("the repartition topic's partition count differs from the raw topics'; using it as it is", "topic", plan.topic, "partitions", n, "raw_partitions", plan.partitions)
			plan.partitions = n
		}
		return plan, nil
	}
	res, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
		Topic: plan.topic, NumPartitions: plan.partitions, ReplicationFactor: -1,
	}}})
	if err == nil {
		err = res.Errors[plan.topic]
	}
	if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
		return plan, fmt.Errorf("creating the repartition topic %s: %w", plan.topic, err)
	}
	log.Info("created the repartition topic", "topic", plan.topic, "partitions", plan.partitions)
	return plan, nil
}

// metadata reads every topic's metadata, trying again while the brokers
// cannot be reached (ingest may start before them), with a warning at
// the first failure and every minute after; it gives up only when ctx
// ends.
func metadata(ctx context.Context, client *kafka.Client, dialer *kafka.Dialer, log *slog.Logger) (*kafka.MetadataResponse, error) {
	var warned time.Time
	wait := 500 * time.Millisecond
	for {
		md, err := client.Metadata(ctx, &kafka.MetadataRequest{})
		if err == nil {
			return md, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		if time.Since(warned) >= time.Minute {
			warned = time.Now()
			// the client says "unexpected EOF" when the broker refuses the
			// credentials; a connection of the dialer says why
			if conn, derr := dialer.DialContext(ctx, "tcp", strings.Split(client.Addr.String(), ",")[0]); derr != nil {
				err = derr
			} else {
				conn.Close()
			}
			log.Warn("the brokers cannot be reached: waiting for them to plan --repartition", "brokers", client.Addr.String(), "err", err)
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(wait):
		}
		wait = min(2*wait, 10*time.Second)
	}
}

// sampleKeys reads the last messages of every raw partition and reports
// whether most are not keyed by the tenant/mailbox of their entries.
func sampleKeys(ctx context.Context, client *kafka.Client, all []kafka.Topic, topics []string, envelope parse.Envelope) (reason string, misKeyed bool, err error) {
	var req kafka.ListOffsetsRequest
	req.Topics = map[string][]kafka.OffsetRequest{}
	for _, t := range all {
		if slices.Contains(topics, t.Name) {
			for _, p := range t.Partitions {
				req.Topics[t.Name] = append(req.Topics[t.Name], kafka.LastOffsetOf(p.ID))
			}
		}
	}
	lo, err := client.ListOffsets(ctx, &req)
	if err != nil {
		return "", false, fmt.Errorf("listing the raw topics' offsets to plan --repartition: %w", err)
	}
	u := parse.Unwrapper{Envelope: envelope}
	var rec schemas.LogRecord
	sampled, wrong, example := 0, 0, ""
	for topic, parts := range lo.Topics {
		for _, p := range parts {
			if p.Error != nil || p.LastOffset <= p.FirstOffset || p.LastOffset <= 0 {
				continue
			}
			from := max(p.FirstOffset, p.LastOffset-keySample)
			res, err := client.Fetch(ctx, &kafka.FetchRequest{Topic: topic, Partition: p.Partition, Offset: from, MaxBytes: 1 << 20})
			if err != nil || res.Error != nil {
				continue // judged by the others
			}
			for {
				r, err := res.Records.ReadRecord()
				if err != nil {
					break
				}
				var key, value []byte
				if r.Key != nil {
					key, _ = io.ReadAll(r.Key)
				}
				if r.Value != nil {
					value, _ = io.ReadAll(r.Value)
				}
				ws, err := u.Unwrap(value)
				if err != nil {
					continue
				}
				for _, w := range ws {
					if parse.Entry(w.Entry, &rec) != nil || rec.Mailbox == "" {
						continue
					}
					sampled++
					if want := rec.Tenant + "/" + rec.Mailbox; string(key) != want {
						wrong++
						if example == "" {
							example = fmt.Sprintf("%s/%d offset %d is keyed %q, not by its entry's tenant/mailbox %q", topic, p.Partition, r.Offset, key, want)
						}
					}
				}
			}
		}
	}
	switch {
	case sampled == 0:
		return "no message yet to judge the producers' keys by", false, nil
	case 2*wrong > sampled:
		return fmt.Sprintf("%d of the last %d messages are not keyed by tenant/mailbox (%s)", wrong, sampled, example), true, nil
	}
	return fmt.Sprintf("the producers key messages by tenant/mailbox (%d of the last %d messages)", sampled-wrong, sampled), false, nil
}

// keySample is how many of each raw partition's last messages auto
// judges the producers' keys by: a majority decides, so that the odd
// message produced by hand does not.
const keySample = 16

// firstHop runs the repartition's first hop beside the consumer: a
// member of the group "<group>.repartition" on the raw topics, writing
// to the repartition topic.
type firstHop struct {
	src    *kafkasource.Source
	fwd    *repartition.Forwarder
	writer *kafka.Writer
	// ctx ends when the forwarder stopped, cancel stops it
	ctx    context.Context
	cancel context.CancelFunc
	runErr error
}

// startFirstHop starts the first hop on the raw topics of srcCfg.
func startFirstHop(ctx context.Context, srcCfg kafkasource.Config, plan repartitionPlan, normalize pipeline.NormalizeConfig, transport kafka.RoundTripper, log *slog.Logger) (*firstHop, error) {
	hlog := log.With("hop", "repartition")
	srcCfg.GroupID += ".repartition"
	srcCfg.RestoreWindow = -1 // it keeps no state but the lines waiting to be joined
	srcCfg.Logger = hlog
	src, err := kafkasource.New(srcCfg)
	if err != nil {
		return nil, fmt.Errorf("creating the repartition's kafka source: %w", err)
	}
	w := &kafka.Writer{
		Addr: kafka.TCP(srcCfg.Brokers...), Topic: plan.topic, Balancer: &repartition.Balancer{},
		RequiredAcks: kafka.RequireAll, BatchSize: 1000, BatchTimeout: time.Millisecond,
		MaxAttempts: 3, WriteBackoffMin: 50 * time.Millisecond, WriteBackoffMax: 500 * time.Millisecond,
		Transport: transport,
	}
	fwd, err := repartition.New(src, w, repartition.Config{Partitions: plan.partitions, Normalize: normalize, Logger: hlog})
	if err != nil {
		src.Close(context.Background())
		return nil, err
	}
	h := &firstHop{src: src, fwd: fwd, writer: w}
	runCtx, cancel := context.WithCancel(ctx)
	done, finish := context.WithCancel(context.Background())
	h.ctx, h.cancel = done, cancel
	go func() {
		defer finish()
		h.runErr = fwd.Run(runCtx)
		if h.runErr != nil {
			hlog.Error("the repartition's first hop failed", "err", h.runErr)
		}
	}()
	return h, nil
}

// failed reports whether the forwarder stopped with an error; err is
// that error. Both only once ctx is done.
func (h *firstHop) failed() bool { return h.runErr != nil }
func (h *firstHop) err() error {
	select {
	case <-h.ctx.Done():
		if h.runErr != nil {
			return fmt.Errorf("repartition: %w", h.runErr)
		}
	default:
	}
	return nil
}

// stop stops the forwarder, commits what it acknowledged and leaves the
// group, within timeout.
func (h *firstHop) stop(timeout time.Duration) error {
	h.cancel()
	<-h.ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var errs error
	if err := h.src.Close(sctx); err != nil {
		errs = errors.Join(errs, fmt.Errorf("closing the repartition's source: %w", err))
	}
	if err := h.writer.Close(); err != nil {
		errs = errors.Join(errs, fmt.Errorf("closing the repartition writer: %w", err))
	}
	return errs
}
