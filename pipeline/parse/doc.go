// Package parse turns raw log entries into schemas.LogRecord: how a Kafka
// message or a line of a file becomes a record. It holds the framing of
// files into entries (Scanner: lines, and an ExchangeConnector entry's
// continuation lines joined to it), the recognition of an entry's format
// from its shape (DetectFormat), and one hand-written byte scanner per
// producer format: log4net text (ExchangeConnector, exchange.go), logfmt
// (sync engine, logfmt.go) and JSON lines (C4CC Connector, c4cc.go).
//
// Entry parses any entry; Log4net, Logfmt and C4CCJSON parse one format.
// None of them blocks, all are safe for concurrent use, and an entry that
// cannot be parsed gives an *Error whose Reason goes into its dead letter.
// No regular expressions: a 2 MB line costs microseconds, and every parser
// is fuzzed (fuzz_test.go, with seed corpora in testdata/fuzz).
package parse
