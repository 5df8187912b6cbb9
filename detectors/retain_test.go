package detectors

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/syncwatch/syncwatch/schemas"
)

// within reports whether s's bytes lie in whole's.
func within(s, whole string) bool {
	if len(s) == 0 || len(whole) == 0 {
		return false
	}
	p, w := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(whole)))
	return p >= w && p < w+uintptr(len(whole))
}

// TestIncidentKeepsNoLogEntry: what an open incident keeps of a record
// (its sample record ids, the details cut out of its message) is its own
// copy, not a substring of the record's log entry, which it would keep
// alive for as long as the incident stays open.
func TestIncidentKeepsNoLogEntry(t *testing.T) {
	const entry = "A-1|A-2|A limit on the number of snapshot records is exceeded (10000/10040/0) for https://ews.contoso.com/EWS/Exchange.asmx"
	s := &script{at: t0}
	s.start("r1").synced("r1", "M-1")
	s.recFailed("r1", entry[0:3], "The item exceeds the maximum allowed size")
	s.recFailed("r1", entry[4:7], "The item exceeds the maximum allowed size")
	s.finished("r1", 1, 2)
	for _, r := range []string{"r2", "r3"} {
		s.start(r).add(schemas.ProducerEngine, schemas.EventRunFailed, schemas.SeverityError, r, "", entry[8:])
	}
	e, err := NewEngine(Config{})
	require.NoError(t, err)
	var out []schemas.IncidentEvent
	for i := range s.recs {
		out = e.Process(&s.recs[i], out)
	}
	out = e.Flush(out)
	require.NotEmpty(t, out)
	n := 0
	e.mailboxes.each(func(mb *mailbox) {
		for _, inc := range mb.openIncidents() {
			n++
			for _, id := range inc.samples {
				require.False(t, within(id, entry), "sample %q shares the log entry", id)
			}
			for k, v := range inc.details {
				if v, ok := v.(string); ok {
					require.False(t, within(v, entry), "detail %s=%q shares the log entry", k, v)
				}
			}
		}
	})
	require.Equal(t, 2, n, "a sync issue and a sync error open")
}
