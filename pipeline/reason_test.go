package pipeline

import "testing"

// TestReasonKind: the variable tail of a dead letter's reason (offsets,
// sizes, quoted text) goes; digits inside a word ("log4net") stay.
func TestReasonKind(t *testing.T) {
	for reason, want := range map[string]string{
		"logfmt: unclosed quote at byte 88":                     "logfmt: unclosed quote",
		"log4net: missing [tenant/mailbox/run:ID] context":      "log4net: missing [tenant/mailbox/run:ID] context",
		"log4net: bad level at byte 24":                         "log4net: bad level",
		`invalid timestamp "2026-13-45"`:                        "invalid timestamp",
		"entry exceeds 1048576 bytes":                           "entry exceeds",
		"binary data":                                           "binary data",
		"filebeat envelope: c4c json: missing field @timestamp": "filebeat envelope: c4c json: missing field @timestamp",
		"record cut (3 of 9 bytes)":                             "record cut",
		"tenant not accepted (--accept-tenants)":                "tenant not accepted (--accept-tenants)",
	} {
		if got := reasonKind(reason); got != want {
			t.Errorf("reasonKind(%q) = %q, want %q", reason, got, want)
		}
	}
}
