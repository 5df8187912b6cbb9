package schemas

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Schema names, for SchemaJSON and Validate. The suffix is the major version
// of the contract; a breaking change gets a new name and a new file.
const (
	// SchemaIncidentEvent is the CloudEvents incident event (IncidentEvent),
	// $id https://syncwatch.dev/schemas/incident-event/v1.json.
	SchemaIncidentEvent = "incident-event.v1"
	// SchemaDeadLetter is the dead letter (DeadLetter),
	// $id https://syncwatch.dev/schemas/dead-letter/v2.json (v1: the
	// entry unredacted, without raw_redacted, raw_length, raw_sha256).
	SchemaDeadLetter = "dead-letter.v2"
	// SchemaDeadLetterV1 is the dead letter before v2, kept for readers
	// that still validate against it.
	SchemaDeadLetterV1 = "dead-letter.v1"
	// SchemaLogRecord is the normalized log entry (LogRecord) as
	// encoding/json writes it, $id https://syncwatch.dev/schemas/log-record/v1.json.
	SchemaLogRecord = "log-record.v1"
	// SchemaAPIIncidents is the live view API's page of incidents (GET
	// /api/v1/incidents), $id https://syncwatch.dev/schemas/api-incidents/v1.json.
	SchemaAPIIncidents = "api-incidents.v1"
	// SchemaAPIIncident is one incident with its history (GET
	// /api/v1/incidents/{id}).
	SchemaAPIIncident = "api-incident.v1"
	// SchemaAPIMailbox is a mailbox's incidents (GET
	// /api/v1/mailboxes/{tenant}/{mailbox}).
	SchemaAPIMailbox = "api-mailbox.v1"
	// SchemaAPIError is the body of the API's error answers.
	SchemaAPIError = "api-error.v1"
)

// Errors of schema validation. Callers test them with errors.Is.
var (
	// ErrUnknownSchema is returned by Validate for a name that is not one of
	// the Schema* constants.
	ErrUnknownSchema = errors.New("unknown schema")
	// ErrInvalid is wrapped by the error of Validate, ValidateEvent and
	// DecodeEvent when a well-formed JSON document breaks its schema. The
	// same error also wraps the validator's *jsonschema.ValidationError
	// (github.com/santhosh-tekuri/jsonschema/v6), which errors.As extracts
	// for the instance location and the keyword that failed.
	ErrInvalid = errors.New("document does not match its schema")
)

//go:embed jsonschema/*.schema.json
var schemaFS embed.FS

// schemaNames lists every embedded schema, in a fixed order.
var schemaNames = [...]string{SchemaIncidentEvent, SchemaDeadLetter, SchemaDeadLetterV1, SchemaLogRecord,
	SchemaAPIIncidents, SchemaAPIIncident, SchemaAPIMailbox, SchemaAPIError}

// SchemaJSON returns the text of the named JSON Schema (draft 2020-12), as
// embedded in the binary, for publishing to subscribers or a schema
// registry. It returns false for an unknown name. The slice is a fresh
// copy that the caller may modify.
func SchemaJSON(name string) ([]byte, bool) {
	if !knownSchema(name) {
		return nil, false
	}
	b, err := schemaFS.ReadFile(schemaFile(name))
	if err != nil {
		return nil, false
	}
	return b, true
}

// Validate checks the JSON document doc against the named schema. It
// returns nil if doc conforms; an error wrapping ErrUnknownSchema for an
// unknown name; an error for a document that is not JSON; and an error
// wrapping both ErrInvalid and the validator's *jsonschema.ValidationError
// (whose text lists every violation with its JSON pointer) if doc breaks
// the schema. Formats (date-time) are asserted, not only annotated.
//
// The schemas are compiled once, on the first call, and shared; Validate
// is safe for concurrent use. It does not block on I/O.
func Validate(name string, doc []byte) error {
	compiled, err := compiledSchemas()
	if err != nil {
		return err
	}
	sch, ok := compiled[name]
	if !ok {
		return fmt.Errorf("validating against %q: %w", name, ErrUnknownSchema)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("parsing %s document: %w", name, err)
	}
	if err := sch.Validate(v); err != nil {
		return fmt.Errorf("validating %s document: %w: %w", name, ErrInvalid, err)
	}
	return nil
}

// ValidateEvent marshals e with encoding/json, exactly as the sinks write
// it, and validates the result against SchemaIncidentEvent. Its errors are
// those of Validate, or a marshalling error (for details holding a value
// encoding/json cannot encode). Safe for concurrent use.
//
// Beware that nil slices and maps marshal as JSON null, which the schema
// rejects: an event must carry empty Runs, SampleRecords, Details and
// Evidence, not nil ones.
func ValidateEvent(e IncidentEvent) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encoding event %s: %w", e.ID, err)
	}
	return Validate(SchemaIncidentEvent, b)
}

// DecodeEvent is for subscribers: it validates the CloudEvents JSON document
// b against SchemaIncidentEvent and then decodes it. Errors are those of
// Validate (errors.Is(err, ErrInvalid) for a schema violation) or of
// decoding; on error the returned event is the zero value. CloudEvents
// extension attributes that an intermediary may have added pass validation
// and are dropped by decoding. Safe for concurrent use.
func DecodeEvent(b []byte) (IncidentEvent, error) {
	if err := Validate(SchemaIncidentEvent, b); err != nil {
		return IncidentEvent{}, err
	}
	var e IncidentEvent
	if err := json.Unmarshal(b, &e); err != nil {
		return IncidentEvent{}, fmt.Errorf("decoding incident event: %w", err)
	}
	return e, nil
}

// compiledSchemas compiles every embedded schema on its first call and
// returns the same result on every later one.
var compiledSchemas = sync.OnceValues(compileSchemas)

// compileSchemas registers every embedded schema under its own $id (so that
// nothing is ever fetched) and compiles each with format assertion on.
func compileSchemas() (map[string]*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.AssertContent()
	ids := make(map[string]string, len(schemaNames))
	for _, name := range schemaNames {
		b, err := schemaFS.ReadFile(schemaFile(name))
		if err != nil {
			return nil, fmt.Errorf("reading schema %s: %w", name, err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("parsing schema %s: %w", name, err)
		}
		obj, _ := doc.(map[string]any)
		id, _ := obj["$id"].(string)
		if id == "" {
			return nil, fmt.Errorf("loading schema %s: no $id", name)
		}
		if err := c.AddResource(id, doc); err != nil {
			return nil, fmt.Errorf("adding schema %s: %w", name, err)
		}
		ids[name] = id
	}
	compiled := make(map[string]*jsonschema.Schema, len(schemaNames))
	for _, name := range schemaNames {
		sch, err := c.Compile(ids[name])
		if err != nil {
			return nil, fmt.Errorf("compiling schema %s: %w", name, err)
		}
		compiled[name] = sch
	}
	return compiled, nil
}

// knownSchema reports whether name is one of the Schema* constants.
func knownSchema(name string) bool {
	for _, n := range schemaNames {
		if n == name {
			return true
		}
	}
	return false
}

// schemaFile is the path of the named schema inside schemaFS.
func schemaFile(name string) string { return "jsonschema/" + name + ".schema.json" }
