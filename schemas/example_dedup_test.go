package schemas_test

import (
	"fmt"
	"strings"

	"github.com/syncwatch/syncwatch/schemas"
)

// A subscriber receives every event at least once: after a crash or a
// rebalance, syncwatch delivers some again, byte for byte, under the same
// CloudEvents id. Deduplicating on the id (kept for longer than a
// redelivery can take, e.g. a day) makes the repeats harmless; the
// incident's state is the data of its latest event.
func Example_deduplicate() {
	event := func(seq int, typ, status string) []byte {
		return []byte(fmt.Sprintf(`{"specversion":"1.0","id":"inc-5d1c0e9a7b3f-%d","source":"syncwatch/ingest",`+
			`"type":"com.syncwatch.incident.%s","subject":"t-1042/anna.berg@contoso.com",`+
			`"time":"2026-11-24T10:1%d:00.000Z","datacontenttype":"application/json","data":{`+
			`"incident_id":"inc-5d1c0e9a7b3f","kind":"sync_error","class":"exchange.auth.password",`+
			`"status":%q,"severity":"critical","tenant":"t-1042","mailbox":"anna.berg@contoso.com",`+
			`"producer":"ExchangeConnector","title":"Authentication error","remediation":"Enter the new password.",`+
			`"first_seen":"2026-11-24T10:10:00.000Z","last_seen":"2026-11-24T10:1%d:00.000Z","occurrences":%d,`+
			`"runs":[],"affected_records":0,"sample_records":[],"template":"","details":{},"evidence":[]}}`,
			seq, typ, seq, status, seq, seq))
	}
	// opened, opened again (a redelivery), resolved
	received := [][]byte{event(1, "opened", "open"), event(1, "opened", "open"), event(2, "resolved", "resolved")}

	seen := map[string]bool{}    // CloudEvents ids handled
	state := map[string]string{} // incident id -> status
	for _, msg := range received {
		e, err := schemas.DecodeEvent(msg)
		if err != nil {
			fmt.Println("rejected:", err) // a real consumer dead-letters it
			continue
		}
		if seen[e.ID] {
			fmt.Println("duplicate", e.ID)
			continue
		}
		seen[e.ID] = true
		state[e.Data.IncidentID] = e.Data.Status
		fmt.Println(strings.TrimPrefix(e.Type, "com.syncwatch.incident."), e.Data.IncidentID)
	}
	fmt.Println(state)
	// Output:
	// opened inc-5d1c0e9a7b3f
	// duplicate inc-5d1c0e9a7b3f-1
	// resolved inc-5d1c0e9a7b3f
	// map[inc-5d1c0e9a7b3f:resolved]
}
