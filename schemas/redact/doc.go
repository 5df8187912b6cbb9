// Package redact removes secrets (passwords, tokens, Authorization
// headers, credentials in URLs) from log text before it leaves syncwatch:
// incident evidence, unknown-error templates, extracted details, parse
// error reasons and logs. It is its own package because every layer that
// writes log text out needs it, the parsers and the pipeline's health
// monitor as much as the detectors.
package redact
