package incidenthtml

import (
	_ "embed"
	"html/template"
)

// partsText holds the shared {{define}} blocks: "css" (the style sheet's
// text, for a <style> element), "cards" ([]Card), "legend"
// ([]LegendItem), "timeline" (Timeline), "incident-table" ([]Row) and
// "incident-row" (Row).
//
//go:embed parts.html.tmpl
var partsText string

// parts is never executed: Page clones it.
var parts = template.Must(template.New("incidenthtml").Parse(partsText))

// Page parses text, a page that calls the shared parts with {{template}},
// as the template name in a set of its own with the parts.
func Page(name, text string) (*template.Template, error) {
	t, err := parts.Clone()
	if err != nil {
		return nil, err
	}
	return t.New(name).Parse(text)
}
