// Package ship simulates the log shippers between the connector hosts'
// log files and Kafka: what a shipper puts on Kafka, or in its archive
// file, for the entries loggen generates.
//
// Real deployments do not put raw log lines on Kafka: a shipper tails
// exchange.log, engine.log and c4cc.jsonl on each connector host and
// wraps every line (or, with a multiline rule, every entry) in its own
// envelope, usually onto one topic for all three files. A Shipper turns
// loggen.Entry values, in the order they were written to their files,
// into the Kafka messages (key and value) a shipper of one Kind sends
// with its DEFAULT Kafka output settings; Generate does it for a whole
// generated corpus. `replay generate --shipper KIND` writes the same
// values as an archive file (Kind.ArchiveFile).
//
// # Kinds
//
// Every kind reads the file at Config.Path(producer) (default
// /var/log/c4c/exchange.log, engine.log, c4cc.jsonl) on Config.Host
// (default conn01), at a read time of the entry's event time plus
// Config.Delay plus a seeded jitter. Examples for one line of
// exchange.log (read time 2026-11-24T10:16:02.123456789Z; "…" is the
// line, JSON-escaped where the value is JSON):
//
//	kind            value (one Kafka message; no trailing newline)
//	filebeat        {"@timestamp":"2026-11-24T10:16:02.123Z","@metadata":{"beat":"filebeat","type":"_doc","version":"8.15.0"},
//	                 "log":{"offset":0,"file":{"path":"/var/log/c4c/exchange.log","device_id":"64769","inode":"…"}},
//	                 "message":"…","input":{"type":"filestream"},"ecs":{"version":"8.0.0"},"host":{"name":"conn01"},
//	                 "agent":{"ephemeral_id":"<uuid>","id":"<uuid>","name":"conn01","type":"filebeat","version":"8.15.0"}}
//	logstash-plain  2026-11-24T10:16:02.123456Z {name=conn01} …
//	logstash-json   {"@timestamp":"2026-11-24T10:16:02.123456Z","@version":"1","message":"…","event":{"original":"…"},
//	                 "host":{"name":"conn01"},"log":{"file":{"path":"/var/log/c4c/exchange.log"}}}
//	fluent-bit      {"@timestamp":1795515362.123457,"log":"…"}
//	fluent-bit-gelf {"version":"1.1", "short_message":"…", "timestamp":1795515362.123456}
//	fluentd         {"message":"…"}
//	vector          {"file":"/var/log/c4c/exchange.log","host":"conn01","message":"…","source_type":"file",
//	                 "timestamp":"2026-11-24T10:16:02.123456789Z"}
//	otlp-json       {"resourceLogs":[{"resource":{},"scopeLogs":[{"scope":{},"logRecords":[
//	                 {"observedTimeUnixNano":"1795515362123456789","body":{"stringValue":"…"},
//	                  "attributes":[{"key":"log.file.name","value":{"stringValue":"exchange.log"}}]}, …]}]}]}
//	otlp-proto      the same plog.Logs as protobuf (ExportLogsServiceRequest; first byte 0x0A)
//
// (The filebeat and otlp-json values are one line; they are wrapped here.)
// The otlp kinds put many records in one message: a batch is sent when
// it holds Config.BatchSize records or Config.BatchTimeout after its
// first record (read time). They are built with
// go.opentelemetry.io/collector/pdata (plog.ProtoMarshaler,
// plog.JSONMarshaler), the library the collector itself marshals with.
//
// Archives: Filebeat's output.file writes the same JSON as output.kafka,
// one event per line ("filebeat.ndjson"); for the Kafka-only kinds the
// archive is what `kcat -C -e -o beginning -t TOPIC` prints: each value
// followed by "\n" ("<kind>.kcat"). otlp-proto has none (binary values).
//
// # Keys
//
// No shipper sets a Kafka key by default (KeyNone). KeyHost keys by the
// host, KeyMailbox by the entry's "tenant/mailbox", as syncwatch asks
// producers to (docs/rebalancing.md); see Keying.
//
// # Lines
//
// Without a multiline rule (the default of every shipper; Config.Multiline
// false) each physical line of an entry is an event of its own: an
// ExchangeConnector stack trace becomes one message per line, the
// continuation lines carrying no date. With Config.Multiline, one event
// per entry, its lines joined with "\n" (escaped as \n inside JSON,
// raw in logstash-plain), as a start pattern such as
// `^\d{4}-\d\d-\d\d ` would group exchange.log; Filebeat adds
// "log":{…,"flags":["multiline"]} and Logstash "tags":["multiline"] to
// events made of several lines. The grouping follows loggen's entries: a
// real rule would also glue a garbage line that does not start with a
// date to the entry before it.
//
// The line endings of a CRLF file (loggen's dirty exchange.log) are
// handled as each reader does: Filebeat (line_terminator auto), Fluent
// Bit (tail) and Fluentd (in_tail line.chomp!) strip the "\r" of every
// line; Logstash's file input (delimiter "\n") and Vector's file source
// (line endings hard-coded to "\n", vectordotdev/vector#4857) keep it in
// the message; Fluentd's multiline parser keeps the "\r" of all but the
// last line. The OpenTelemetry filelog receiver trims leading and
// trailing white space of every token (preserve_leading_whitespaces and
// preserve_trailing_whitespaces default false, filelogreceiver README on
// pkg.go.dev, v0.151.0): a stack-trace line "   at X()" is sent as
// "at X()", and with a multiline rule only the ends of the entry are
// trimmed. Empty lines: Filebeat's filestream skips empty messages (its
// offset still advances) and the filelog receiver emits none
// (open-telemetry/opentelemetry-collector-contrib#10127 shows 3 records
// for a file of one empty and three text lines) [INF]; the others send
// an empty message [INF].
//
// # Sources
//
// Everything above follows the project's research notes on shipper
// formats (shipper-formats.md); the facts and where they were verified:
//
//   - Filebeat 8.x, codec.json: event = {"@timestamp", "@metadata"
//     {beat, type "_doc", version}, fields inline} —
//     elastic/beats libbeat/outputs/codec/json/event.go @ 0409ebd037b0;
//     @metadata.beat "filebeat" as in a maintainer's debug log
//     (elastic/beats#35734). @timestamp UTC with exactly 3 fractional
//     digits — libbeat/outputs/codec/common.go @ 141242f6fd60.
//     EscapeHTML true, compact, no trailing newline —
//     libbeat/outputs/codec/json/json.go @ 004c0ce51063. ecs.version,
//     host.name (an object), agent.{ephemeral_id,id,name,type,version} —
//     libbeat/publisher/processing/default.go @ 0409ebd0. log.offset,
//     log.file.path, and (non-Windows, ~8.10 on [INF]) log.file.device_id
//     and log.file.inode as strings — libbeat/reader/readfile/metafields.go
//     @ 115ce4d0751d, fs_metafields_other.go @ 140f455d199a. No key
//     unless output.kafka.key; no @metadata.topic in 8.x [VS-partial].
//     output.file writes serialized + "\n" — libbeat/outputs/fileout/file.go.
//     input.type "filestream", @timestamp = read time, field order after
//     @metadata (Go map order, not deterministic: this package uses the
//     order of the notes' example) [INF]. log.flags ["multiline"] on an
//     event of several lines: the multiline reader's finalize
//     (libbeat/reader/multiline, seen in a stored copy of the source
//     whose commit is not known).
//   - Logstash 8.x kafka output (logstash-plugins/logstash-integration-kafka
//     lib/logstash/outputs/kafka.rb @ v12.1.4): default codec plain; no
//     key. plain encode = Event#toString = "@timestamp host message" —
//     logstash-codec-plain lib/logstash/codecs/plain.rb @ a9134e183b7b,
//     elastic/logstash logstash-core/.../Event.java @ 5e5356567fd5
//     lines 410-419; the ECS host object printed as {name=conn01} [INF]
//     (elastic/logstash#14549). json encode = Event#toJson without
//     @metadata, "@version":"1" — logstash-codec-json @ faf69cd1c43b,
//     Event.java. @timestamp ISO_INSTANT, ".000" when whole —
//     Timestamp.java @ 5e535656 lines 115-119; microseconds on JDK 17
//     [INF]. ECS v8 by default (config/logstash.yml); file input sets
//     host.name and log.file.path, the plain codec event.original —
//     logstash-input-file lib/logstash/inputs/file.rb @ ace4ce55a65a.
//     Field order not deterministic (IdentityHashMap) [INF]; Jackson
//     escaping [INF].
//   - Fluent Bit out_kafka (v4.0.0 712b48d7c387): format json,
//     timestamp_key "@timestamp" first, timestamp_format double written
//     "%.16g" ("%.1f" when integral) — plugins/out_kafka/kafka_config.c,
//     kafka.c produce_message, src/flb_pack.c lines 620-633; escaping
//     (non-ASCII as \uXXXX) — src/flb_utils.c flb_utils_write_str; no key
//     (message_key NULL). tail: record key "log", no path/offset keys,
//     CR of CRLF removed — plugins/in_tail/tail.c, tail_file.c lines
//     505-530.
//   - Fluentd out_kafka2 (fluent-plugin-kafka v0.19.7 b6eadb1e2621):
//     <format> @type json → Oj.dump(record), the record only, no key —
//     lib/fluent/plugin/out_kafka2.rb; in_tail with parse none gives
//     {"message" => line}, line.chomp! — fluent/fluentd
//     lib/fluent/plugin/parser_none.rb, in_tail.rb @ ff8682d79743.
//   - Vector kafka sink, json codec, file source (v0.57.0 8832452f57af):
//     fields file, host, message, source_type "file", timestamp (read
//     time) — src/sources/file.rs create_event; serde_json, no framing —
//     lib/codecs/src/encoding/format/json.rs, src/sinks/kafka/sink.rs;
//     keys sorted (BTreeMap) — vrl src/value/value.rs; timestamp
//     to_rfc3339_opts(AutoSi, true); no key unless key_field.
//   - OpenTelemetry collector contrib kafka exporter: logs encoding
//     otlp_proto by default, otlp_json available, topic otlp_logs —
//     exporter/kafkaexporter/README.md @ 000d4c7c4b77; one message per
//     plog.Logs, no key — internal/marshaler/pdata_marshaler.go @
//     501259ccbcb8. filelog receiver: body = the line, attribute
//     log.file.name, no host attributes — receiver/filelogreceiver/README.md
//     @ 001f1de0d268; no timeUnixNano without a parser, observed time
//     always — pkg/stanza/adapter/converter.go @ 00e6dd7ca2b3. One
//     ResourceLogs with one ScopeLogs per batch, and the batch limits
//     (100 records, as the stanza adapter's batches, and the batch
//     processor's 200ms) are this package's choice [INF].
//
// Output is deterministic: equal configs (Seed included) over equal
// entries give identical messages.
package ship
