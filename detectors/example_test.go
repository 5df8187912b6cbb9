package detectors_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/syncwatch/syncwatch/detectors"
	"github.com/syncwatch/syncwatch/schemas"
)

// quotaDetector is a plugin: it knows one failure the catalog does not.
type quotaDetector struct{}

func (quotaDetector) Name() string { return "quota" }

func (quotaDetector) Detect(rec *schemas.LogRecord) (detectors.Signal, bool) {
	if !strings.Contains(strings.ToLower(rec.Body), "mailbox quota exceeded") {
		return detectors.Signal{}, false
	}
	return detectors.Signal{
		Class:       "exchange.mailbox.quota",
		Scope:       detectors.ScopeTotal,
		Title:       "Mailbox quota exceeded",
		Remediation: "Ask the user to free space in the mailbox.",
		Specificity: 150,
	}, true
}

// Example_detectorPlugin shows how to add a detector: register it by name
// and put it in the chain before the catch-all "unknown" detector.
func Example_detectorPlugin() {
	detectors.Register("quota", detectors.Spec{
		Summary:     "mailbox quota errors",
		Constructor: func(detectors.Options) (detectors.Detector, error) { return quotaDetector{}, nil },
	})
	chain, err := detectors.Build([]string{"catalog", "quota", "unknown"}, detectors.Options{})
	if err != nil {
		panic(err)
	}
	eng, err := detectors.NewEngine(detectors.Config{Detectors: chain})
	if err != nil {
		panic(err)
	}
	rec := schemas.LogRecord{
		Time: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC), Producer: schemas.ProducerExchange,
		Severity: schemas.SeverityError, Tenant: "t-1", Mailbox: "anna@contoso.com", RunID: "r1",
		Body: "Mailbox quota exceeded", Origin: "exchange.log:1",
	}
	for _, ev := range eng.Process(&rec, nil) {
		fmt.Println(ev.Type, ev.Data.Kind, ev.Data.Class)
	}
	// Output: com.syncwatch.incident.opened sync_error exchange.mailbox.quota
}
