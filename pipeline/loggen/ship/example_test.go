package ship_test

import (
	"fmt"
	"log"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/syncwatch/syncwatch/pipeline/loggen"
	"github.com/syncwatch/syncwatch/pipeline/loggen/ship"
	"github.com/syncwatch/syncwatch/schemas"
)

// stackEntry is an ExchangeConnector entry with a stack trace, from a
// CRLF file (loggen's dirty exchange.log): every line ends in "\r".
var stackEntry = loggen.Entry{
	Producer: schemas.ProducerExchange,
	Time:     time.Date(2026, 11, 24, 10, 16, 1, 900e6, time.UTC),
	Raw: []byte("2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found.\r\n" +
		"System.Net.WebException: The remote server returned an error: (404) Not Found.\r\n" +
		"   at System.Net.HttpWebRequest.GetResponse()\r"),
	Key: "t-2001/ops@fabrikam.com",
}

// shipOne prints the messages cfg's shipper sends for one entry.
func shipOne(cfg ship.Config, e loggen.Entry) {
	s, err := ship.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	print := func(m ship.Message) error {
		if cfg.Kind.Binary() {
			// decode to show it; the value is protobuf
			ld, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(m.Value)
			if err != nil {
				return err
			}
			fmt.Printf("key=%q %d bytes, first 0x%02x, %d records:\n", m.Key, len(m.Value), m.Value[0], ld.LogRecordCount())
			rs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
			for i := range rs.Len() {
				fmt.Printf("  %q\n", rs.At(i).Body().Str())
			}
			return nil
		}
		if cfg.Kind == ship.LogstashPlain {
			fmt.Printf("key=%q %q\n", m.Key, m.Value) // text: show its "\r" and "\n"
			return nil
		}
		fmt.Printf("key=%q %s\n", m.Key, m.Value)
		return nil
	}
	if err := s.Ship(e, print); err != nil {
		log.Fatal(err)
	}
	if err := s.Flush(print); err != nil {
		log.Fatal(err)
	}
}

// Filebeat without a multiline rule sends each physical line of a stack
// trace as an event of its own, with its byte offset, "\r" stripped;
// with one, one event flagged "multiline".
func Example_filebeat() {
	shipOne(ship.Config{Kind: ship.Filebeat, Seed: 1}, stackEntry)
	shipOne(ship.Config{Kind: ship.Filebeat, Seed: 1, Multiline: true}, stackEntry)
	// Output:
	// key="" {"@timestamp":"2026-11-24T10:16:02.116Z","@metadata":{"beat":"filebeat","type":"_doc","version":"8.15.0"},"log":{"offset":0,"file":{"path":"/var/log/c4c/exchange.log","device_id":"64769","inode":"3053875"}},"message":"2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found.","input":{"type":"filestream"},"ecs":{"version":"8.0.0"},"host":{"name":"conn01"},"agent":{"ephemeral_id":"87b77cd6-2c3d-48b6-9389-c5e120a0f312","id":"324b7b3d-de84-4ffc-b307-e317ed279c27","name":"conn01","type":"filebeat","version":"8.15.0"}}
	// key="" {"@timestamp":"2026-11-24T10:16:02.116Z","@metadata":{"beat":"filebeat","type":"_doc","version":"8.15.0"},"log":{"offset":203,"file":{"path":"/var/log/c4c/exchange.log","device_id":"64769","inode":"3053875"}},"message":"System.Net.WebException: The remote server returned an error: (404) Not Found.","input":{"type":"filestream"},"ecs":{"version":"8.0.0"},"host":{"name":"conn01"},"agent":{"ephemeral_id":"87b77cd6-2c3d-48b6-9389-c5e120a0f312","id":"324b7b3d-de84-4ffc-b307-e317ed279c27","name":"conn01","type":"filebeat","version":"8.15.0"}}
	// key="" {"@timestamp":"2026-11-24T10:16:02.116Z","@metadata":{"beat":"filebeat","type":"_doc","version":"8.15.0"},"log":{"offset":283,"file":{"path":"/var/log/c4c/exchange.log","device_id":"64769","inode":"3053875"}},"message":"   at System.Net.HttpWebRequest.GetResponse()","input":{"type":"filestream"},"ecs":{"version":"8.0.0"},"host":{"name":"conn01"},"agent":{"ephemeral_id":"87b77cd6-2c3d-48b6-9389-c5e120a0f312","id":"324b7b3d-de84-4ffc-b307-e317ed279c27","name":"conn01","type":"filebeat","version":"8.15.0"}}
	// key="" {"@timestamp":"2026-11-24T10:16:02.116Z","@metadata":{"beat":"filebeat","type":"_doc","version":"8.15.0"},"log":{"offset":0,"file":{"path":"/var/log/c4c/exchange.log","device_id":"64769","inode":"3053875"},"flags":["multiline"]},"message":"2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found.\nSystem.Net.WebException: The remote server returned an error: (404) Not Found.\n   at System.Net.HttpWebRequest.GetResponse()","input":{"type":"filestream"},"ecs":{"version":"8.0.0"},"host":{"name":"conn01"},"agent":{"ephemeral_id":"87b77cd6-2c3d-48b6-9389-c5e120a0f312","id":"324b7b3d-de84-4ffc-b307-e317ed279c27","name":"conn01","type":"filebeat","version":"8.15.0"}}
}

// Logstash's default kafka codec, plain: "@timestamp {name=host} line";
// its file input keeps the "\r" of CRLF, and a multiline event keeps its
// raw newlines.
func Example_logstashPlain() {
	shipOne(ship.Config{Kind: ship.LogstashPlain, Seed: 1}, stackEntry)
	shipOne(ship.Config{Kind: ship.LogstashPlain, Seed: 1, Multiline: true}, stackEntry)
	// Output:
	// key="" "2026-11-24T10:16:02.116266Z {name=conn01} 2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found.\r"
	// key="" "2026-11-24T10:16:02.116267Z {name=conn01} System.Net.WebException: The remote server returned an error: (404) Not Found.\r"
	// key="" "2026-11-24T10:16:02.116268Z {name=conn01}    at System.Net.HttpWebRequest.GetResponse()\r"
	// key="" "2026-11-24T10:16:02.116266Z {name=conn01} 2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found.\r\nSystem.Net.WebException: The remote server returned an error: (404) Not Found.\r\n   at System.Net.HttpWebRequest.GetResponse()\r"
}

// Logstash with codec => json (ECS v8).
func Example_logstashJSON() {
	shipOne(ship.Config{Kind: ship.LogstashJSON, Seed: 1}, stackEntry)
	shipOne(ship.Config{Kind: ship.LogstashJSON, Seed: 1, Multiline: true}, stackEntry)
	// Output:
	// key="" {"@timestamp":"2026-11-24T10:16:02.116266Z","@version":"1","message":"2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found.\r","event":{"original":"2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found.\r"},"host":{"name":"conn01"},"log":{"file":{"path":"/var/log/c4c/exchange.log"}}}
	// key="" {"@timestamp":"2026-11-24T10:16:02.116267Z","@version":"1","message":"System.Net.WebException: The remote server returned an error: (404) Not Found.\r","event":{"original":"System.Net.WebException: The remote server returned an error: (404) Not Found.\r"},"host":{"name":"conn01"},"log":{"file":{"path":"/var/log/c4c/exchange.log"}}}
	// key="" {"@timestamp":"2026-11-24T10:16:02.116268Z","@version":"1","message":"   at System.Net.HttpWebRequest.GetResponse()\r","event":{"original":"   at System.Net.HttpWebRequest.GetResponse()\r"},"host":{"name":"conn01"},"log":{"file":{"path":"/var/log/c4c/exchange.log"}}}
	// key="" {"@timestamp":"2026-11-24T10:16:02.116266Z","@version":"1","message":"2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found.\r\nSystem.Net.WebException: The remote server returned an error: (404) Not Found.\r\n   at System.Net.HttpWebRequest.GetResponse()\r","event":{"original":"2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found.\r\nSystem.Net.WebException: The remote server returned an error: (404) Not Found.\r\n   at System.Net.HttpWebRequest.GetResponse()\r"},"host":{"name":"conn01"},"log":{"file":{"path":"/var/log/c4c/exchange.log"}},"tags":["multiline"]}
}

// Fluent Bit: the timestamp key first, a double.
func Example_fluentBit() {
	shipOne(ship.Config{Kind: ship.FluentBit, Seed: 1}, stackEntry)
	shipOne(ship.Config{Kind: ship.FluentBit, Seed: 1, Multiline: true}, stackEntry)
	// Output:
	// key="" {"@timestamp":1795515362.116266,"log":"2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found."}
	// key="" {"@timestamp":1795515362.116267,"log":"System.Net.WebException: The remote server returned an error: (404) Not Found."}
	// key="" {"@timestamp":1795515362.116268,"log":"   at System.Net.HttpWebRequest.GetResponse()"}
	// key="" {"@timestamp":1795515362.116266,"log":"2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found.\nSystem.Net.WebException: The remote server returned an error: (404) Not Found.\n   at System.Net.HttpWebRequest.GetResponse()"}
}

// Fluentd out_kafka2: the record only. Keyed by mailbox here.
func Example_fluentd() {
	shipOne(ship.Config{Kind: ship.Fluentd, Seed: 1, Keying: ship.KeyMailbox}, stackEntry)
	shipOne(ship.Config{Kind: ship.Fluentd, Seed: 1, Keying: ship.KeyMailbox, Multiline: true}, stackEntry)
	// Output:
	// key="t-2001/ops@fabrikam.com" {"message":"2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found."}
	// key="t-2001/ops@fabrikam.com" {"message":"System.Net.WebException: The remote server returned an error: (404) Not Found."}
	// key="t-2001/ops@fabrikam.com" {"message":"   at System.Net.HttpWebRequest.GetResponse()"}
	// key="t-2001/ops@fabrikam.com" {"message":"2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found.\r\nSystem.Net.WebException: The remote server returned an error: (404) Not Found.\r\n   at System.Net.HttpWebRequest.GetResponse()"}
}

// Vector: keys in alphabetical order. Keyed by host here.
func Example_vector() {
	shipOne(ship.Config{Kind: ship.Vector, Seed: 1, Keying: ship.KeyHost}, stackEntry)
	shipOne(ship.Config{Kind: ship.Vector, Seed: 1, Keying: ship.KeyHost, Multiline: true}, stackEntry)
	// Output:
	// key="conn01" {"file":"/var/log/c4c/exchange.log","host":"conn01","message":"2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found.\r","source_type":"file","timestamp":"2026-11-24T10:16:02.116266174Z"}
	// key="conn01" {"file":"/var/log/c4c/exchange.log","host":"conn01","message":"System.Net.WebException: The remote server returned an error: (404) Not Found.\r","source_type":"file","timestamp":"2026-11-24T10:16:02.116267174Z"}
	// key="conn01" {"file":"/var/log/c4c/exchange.log","host":"conn01","message":"   at System.Net.HttpWebRequest.GetResponse()\r","source_type":"file","timestamp":"2026-11-24T10:16:02.116268174Z"}
	// key="conn01" {"file":"/var/log/c4c/exchange.log","host":"conn01","message":"2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found.\r\nSystem.Net.WebException: The remote server returned an error: (404) Not Found.\r\n   at System.Net.HttpWebRequest.GetResponse()\r","source_type":"file","timestamp":"2026-11-24T10:16:02.116266174Z"}
}

// The OpenTelemetry collector's kafka exporter with otlp_json: one
// message per batch; the filelog receiver trims the lines' white space.
func Example_otlpJSON() {
	shipOne(ship.Config{Kind: ship.OTLPJSON, Seed: 1}, stackEntry)
	shipOne(ship.Config{Kind: ship.OTLPJSON, Seed: 1, Multiline: true}, stackEntry)
	// Output:
	// key="" {"resourceLogs":[{"resource":{},"scopeLogs":[{"scope":{},"logRecords":[{"observedTimeUnixNano":"1795515362116266174","body":{"stringValue":"2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found."},"attributes":[{"key":"log.file.name","value":{"stringValue":"exchange.log"}}]},{"observedTimeUnixNano":"1795515362116267174","body":{"stringValue":"System.Net.WebException: The remote server returned an error: (404) Not Found."},"attributes":[{"key":"log.file.name","value":{"stringValue":"exchange.log"}}]},{"observedTimeUnixNano":"1795515362116268174","body":{"stringValue":"at System.Net.HttpWebRequest.GetResponse()"},"attributes":[{"key":"log.file.name","value":{"stringValue":"exchange.log"}}]}]}]}]}
	// key="" {"resourceLogs":[{"resource":{},"scopeLogs":[{"scope":{},"logRecords":[{"observedTimeUnixNano":"1795515362116266174","body":{"stringValue":"2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found.\r\nSystem.Net.WebException: The remote server returned an error: (404) Not Found.\r\n   at System.Net.HttpWebRequest.GetResponse()"},"attributes":[{"key":"log.file.name","value":{"stringValue":"exchange.log"}}]}]}]}]}
}

// otlp_proto, the exporter's default: the same batch as protobuf.
func Example_otlpProto() {
	shipOne(ship.Config{Kind: ship.OTLPProto, Seed: 1}, stackEntry)
	shipOne(ship.Config{Kind: ship.OTLPProto, Seed: 1, Multiline: true}, stackEntry)
	// Output:
	// key="" 491 bytes, first 0x0a, 3 records:
	//   "2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found."
	//   "System.Net.WebException: The remote server returned an error: (404) Not Found."
	//   "at System.Net.HttpWebRequest.GetResponse()"
	// key="" 393 bytes, first 0x0a, 1 records:
	//   "2026-11-24 10:16:01,900 [7] ERROR ExchangeConnector.EwsClient - [t-2001/ops@fabrikam.com/run:a11c02] Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found.\r\nSystem.Net.WebException: The remote server returned an error: (404) Not Found.\r\n   at System.Net.HttpWebRequest.GetResponse()"
}

// Generate ships a whole generated corpus; an otlp batch holds up to
// BatchSize records.
func ExampleGenerate() {
	msgs, records := 0, 0
	truth, st, err := ship.Generate(
		loggen.Config{Seed: 7, Mailboxes: 5, Duration: 6 * time.Hour},
		ship.Config{Kind: ship.OTLPJSON, BatchSize: 50, BatchTimeout: time.Minute},
		func(m ship.Message) error {
			msgs++
			records += m.Records
			return nil
		})
	if err != nil {
		log.Fatal(err)
	}
	lines := 0
	for _, n := range st.Lines {
		lines += n
	}
	fmt.Println(len(truth) == st.Episodes, records >= lines, msgs < records/10)
	// Output:
	// true true true
}
