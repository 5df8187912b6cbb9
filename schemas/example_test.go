package schemas_test

import (
	"errors"
	"fmt"

	"github.com/syncwatch/syncwatch/schemas"
)

// A subscriber validates and decodes each incident event it receives (a
// Kafka message value, a webhook body, a line of a JSONL file).
func Example_decodeEvent() {
	msg := []byte(`{"specversion":"1.0","id":"inc-5d1c0e9a7b3f-2","source":"syncwatch/ingest",` +
		`"type":"com.syncwatch.incident.opened","subject":"t-1042/anna.berg@contoso.com",` +
		`"time":"2026-11-24T10:15:32.123Z","datacontenttype":"application/json","data":{` +
		`"incident_id":"inc-5d1c0e9a7b3f","kind":"sync_error","class":"exchange.auth.password",` +
		`"status":"open","severity":"critical","tenant":"t-1042","mailbox":"anna.berg@contoso.com",` +
		`"producer":"ExchangeConnector","title":"Authentication error","remediation":"Enter the new password.",` +
		`"first_seen":"2026-11-24T10:15:32.123Z","last_seen":"2026-11-24T10:15:32.123Z","occurrences":1,` +
		`"runs":["7f3a9c"],"affected_records":0,"sample_records":[],"template":"","details":{},` +
		`"evidence":[{"producer":"ExchangeConnector","time":"2026-11-24T10:15:32.123Z",` +
		`"message":"Authentication error","origin":"sync.exchange-connector/0/1841"}]}}`)

	e, err := schemas.DecodeEvent(msg)
	if err != nil {
		fmt.Println("rejected:", err)
		return
	}
	fmt.Println(e.Type, e.ID)
	fmt.Println(e.Data.Kind, e.Data.Class, e.Data.Mailbox, e.Data.FirstSeen.Format("15:04:05.000"))

	// A document that breaks the contract is rejected with ErrInvalid.
	_, err = schemas.DecodeEvent([]byte(`{"specversion":"1.0","id":"inc-1"}`))
	fmt.Println(errors.Is(err, schemas.ErrInvalid))
	// Output:
	// com.syncwatch.incident.opened inc-5d1c0e9a7b3f-2
	// sync_error exchange.auth.password anna.berg@contoso.com 10:15:32.123
	// true
}
