package detectors

import (
	"strconv"
	"strings"

	"github.com/syncwatch/syncwatch/schemas"
	"github.com/syncwatch/syncwatch/schemas/redact"
)

// Classes for messages that no catalog entry knows.
const (
	// classUnknown is an unknown failure of a whole run.
	classUnknown = "unknown"
	// classRecordUnknown is an unknown failure of one record.
	classRecordUnknown = "record.unknown"
)

// mask is what templateOf puts in place of variable parts.
const mask = "<*>"

// maxTemplateLen bounds a template; longer messages are cut (a 2 MB message
// must not make a 2 MB incident key).
const maxTemplateLen = 200

// templateOf masks the variable parts of a message so that one failure mode
// gives one template: quoted strings, URLs, e-mail addresses, GUIDs and
// every word that contains a digit (ids, numbers, versions, dates) become
// <*>; the text is lower-cased, spacing folded, trailing punctuation and a
// trailing "(request id ...)"-style parenthesis of masked words dropped.
func templateOf(msg string) string {
	msg = stripTagPrefix(msg)
	var b strings.Builder
	b.Grow(min(len(msg), maxTemplateLen) + 8)
	words := 0
	lastMasked := false
	emit := func(w string, masked bool) {
		if masked && lastMasked {
			return // "<*> <*>" says no more than "<*>"
		}
		if words > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
		words++
		lastMasked = masked
	}
	i := 0
	for i < len(msg) && b.Len() < maxTemplateLen {
		c := msg[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '"' || c == '\'':
			j := strings.IndexByte(msg[i+1:], c)
			if j < 0 || j > 512 {
				emit(string(c), false)
				i++
				continue
			}
			emit(mask, true)
			i += j + 2
		default:
			j := i
			for j < len(msg) && msg[j] != ' ' && msg[j] != '\t' && msg[j] != '\r' && msg[j] != '\n' {
				j++
			}
			w := msg[i:j]
			i = j
			if len(w) > 64 {
				w = w[:64] // a giant "word" (garbage, base64) says nothing more past here
			}
			core, pre, post := trimPunct(w)
			if core == "" {
				emit(w, false)
				continue
			}
			if isVariable(core) {
				emit(pre+mask+post, true)
				continue
			}
			emit(strings.ToLower(w), false)
		}
	}
	t := b.String()
	if len(t) > maxTemplateLen {
		t = t[:maxTemplateLen]
	}
	t = dropMaskedParen(t)
	t = strings.TrimRight(t, " .!;:,")
	return t
}

// stripTagPrefix drops short component tags before a message, such as
// "EWS: " or "[C4C] ": wording noise that must not split one failure mode
// into two templates.
func stripTagPrefix(msg string) string {
	for range 3 {
		m := strings.TrimLeft(msg, " \t")
		end := strings.IndexAny(m, " \t")
		if end <= 0 || end > 8 {
			return m
		}
		w := m[:end]
		tag := (strings.HasSuffix(w, ":") && len(w) >= 3) || (strings.HasPrefix(w, "[") && strings.HasSuffix(w, "]"))
		if !tag || strings.TrimSpace(m[end:]) == "" {
			return m
		}
		msg = m[end:]
	}
	return strings.TrimLeft(msg, " \t")
}

// trimPunct splits leading and trailing punctuation off a word.
func trimPunct(w string) (core, pre, post string) {
	i, j := 0, len(w)
	for i < j && strings.IndexByte("([{<\"'", w[i]) >= 0 {
		i++
	}
	for j > i && strings.IndexByte(")]}>\"'.,;:!?", w[j-1]) >= 0 {
		j--
	}
	return w[i:j], w[:i], w[j:]
}

// isVariable reports whether a word is an id, number, address or URL.
func isVariable(w string) bool {
	if strings.Contains(w, "://") || strings.Contains(w, "@") {
		return true
	}
	for k := 0; k < len(w); k++ {
		if isDigit(w[k]) {
			return true
		}
	}
	return false
}

// dropMaskedParen removes a trailing parenthesis whose words are all
// masked or short keywords, e.g. "(request id <*>)", "(<*>)".
func dropMaskedParen(t string) string {
	t = strings.TrimRight(t, " .")
	if !strings.HasSuffix(t, ")") {
		return t
	}
	open := strings.LastIndexByte(t, '(')
	if open < 0 {
		return t
	}
	inner := strings.Fields(t[open+1 : len(t)-1])
	if len(inner) == 0 || len(inner) > 4 || !strings.Contains(t[open:], mask) {
		return t
	}
	return strings.TrimRight(t[:open], " ")
}

// unknownDetector is the "unknown" detector: every failure no earlier
// detector knew, grouped by template.
type unknownDetector struct{}

func (unknownDetector) Name() string { return "unknown" }

func (unknownDetector) Detect(rec *schemas.LogRecord) (Signal, bool) {
	msg := rec.Body
	if strings.TrimSpace(msg) == "" {
		if rec.HTTPStatus == 0 {
			return Signal{}, false
		}
		msg = "HTTP status " + strconv.Itoa(rec.HTTPStatus)
	}
	sig := Signal{
		Class:    classUnknown,
		Scope:    ScopeRun,
		Title:    "Unknown synchronization error",
		Template: templateOf(redact.String(msg)),
		Remediation: "No knowledge-base entry matches this error: investigate, and add it to the catalog " +
			"(--catalog) once its cause and fix are known.",
		Specificity: 20,
	}
	if rec.Event == schemas.EventRecordFailed {
		sig.Class = classRecordUnknown
		sig.Title = "Unknown record synchronization failure"
	}
	if rec.Event == schemas.EventRunFailed {
		// A run_failed that no catalog entry explains is the effect of a
		// failure, not its cause: it is the cause only when nothing else is.
		sig.Specificity = 10
	}
	return sig, true
}

func init() {
	Register("unknown", Spec{
		Summary:     "groups failures no catalog entry knows by a masked template",
		Constructor: func(Options) (Detector, error) { return unknownDetector{}, nil },
	})
}
