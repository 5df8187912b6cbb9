package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-multierror"
	"gopkg.in/yaml.v3"

	"github.com/syncwatch/syncwatch/schemas/didyoumean"
)

// stringList is a YAML list of strings that may also be written as the flag
// writes it: one string, comma-separated ("brokers: a:9092,b:9092").
type stringList []string

// UnmarshalYAML implements yaml.Unmarshaler.
func (l *stringList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*l = nil
		for _, x := range strings.Split(n.Value, ",") {
			if x = strings.TrimSpace(x); x != "" {
				*l = append(*l, x)
			}
		}
		return nil
	}
	var s []string
	if err := n.Decode(&s); err != nil {
		return err
	}
	*l = nil
	if len(s) > 0 {
		*l = s
	}
	return nil
}

// loadFile decodes the YAML config file at path over cfg. Every problem
// is reported at once, as "path:line: ...": keys that do not exist (with
// the key meant: a typo, or a flag's name written as a key), values of
// the wrong type.
func loadFile(path string, cfg *Config) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading config: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("decoding config %s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil // empty file
	}
	var errs *multierror.Error
	checkKeys(doc.Content[0], reflect.TypeOf(Config{}), "", func(line int, format string, args ...any) {
		errs = multierror.Append(errs, fmt.Errorf("%s:%d: %s", path, line, fmt.Sprintf(format, args...)))
	})
	if err := doc.Decode(cfg); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return fmt.Errorf("decoding config %s: %w", path, err)
		}
		for _, e := range te.Errors {
			errs = multierror.Append(errs, errors.New(strings.Replace(e, "line ", path+":", 1)))
		}
	}
	if err := errs.ErrorOrNil(); err != nil {
		return fmt.Errorf("decoding config %s: %w", path, err)
	}
	return nil
}

// yamlKeys lists the keys of struct type t with their field types,
// inlined structs' keys included.
func yamlKeys(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(opts, "inline") {
			for k, v := range yamlKeys(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// checkKeys reports the keys of the mapping n that struct type t does not
// have, and recurses into the known ones.
func checkKeys(n *yaml.Node, t reflect.Type, path string, add func(line int, format string, args ...any)) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for _, c := range n.Content {
			checkKeys(c, t.Elem(), path, add)
		}
		return
	case t.Kind() != reflect.Struct || n.Kind != yaml.MappingNode:
		return
	}
	keys := yamlKeys(t)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if ft, ok := keys[k.Value]; ok {
			checkKeys(v, ft, path+k.Value+".", add)
			continue
		}
		add(k.Line, "unknown key %s%s%s", path, k.Value, meant(k.Value, keys))
	}
}

// meant says which key an unknown key was probably meant to be.
func meant(key string, keys map[string]reflect.Type) string {
	under := strings.ReplaceAll(key, "-", "_")
	if _, ok := keys[under]; ok {
		return fmt.Sprintf(" (keys use _: %s)", under)
	}
	// a flag's name for a nested key: sasl_mechanism -> sasl: {mechanism}
	if head, rest, ok := strings.Cut(under, "_"); ok {
		if ft, ok := keys[head]; ok && ft.Kind() == reflect.Struct {
			if _, ok := yamlKeys(ft)[rest]; ok {
				return fmt.Sprintf(" (nested: %s: {%s: ...})", head, rest)
			}
		}
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	slices.Sort(names)
	if best := didyoumean.Nearest(under, names); best != "" {
		return fmt.Sprintf(" (did you mean %s?)", best)
	}
	return " (ingest config example lists every key)"
}

// flagOfKey is the flag that sets the key at path ("sasl.mechanism" ->
// "sasl-mechanism"), where its name is not the path with - for . and _.
var flagOfKey = map[string]string{"tls.enabled": "tls"}

// writeExample writes every key of the config file, with the flag and
// environment variable that set it, what it means and its default, as a
// file ingest --config accepts as it is.
func writeExample(w io.Writer, fs *flag.FlagSet) error {
	var b strings.Builder
	b.WriteString("# ingest config file (ingest --config FILE, or SYNCWATCH_CONFIG): every key, with its\n" +
		"# default. Flags win over environment variables, which win over this file.\n" +
		"# Secrets (sasl.password, webhook.secret, pagerduty.routing_key, api.token) are better\n" +
		"# given in their *_file key or environment variable than written here.\n" +
		"# brokers is the one key without a default: set it.\n")
	writeKeys(&b, reflect.ValueOf(defaultConfig()), "", 0, fs)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeKeys(b *strings.Builder, v reflect.Value, path string, depth int, fs *flag.FlagSet) {
	t := v.Type()
	indent := strings.Repeat("  ", depth)
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if strings.Contains(opts, "inline") {
			writeKeys(b, v.Field(i), path, depth, fs)
			continue
		}
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		key := path + name
		fv := v.Field(i)
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Duration(0)) {
			if f.Name == "Routing" {
				fmt.Fprintf(b, "\n%s# routes, mutes, inhibitions and rate limits of the notification sinks: docs/subscribing.md\n%s%s: {}\n", indent, indent, name)
				continue
			}
			fmt.Fprintf(b, "\n%s%s:\n", indent, name)
			writeKeys(b, fv, key+".", depth+1, fs)
			continue
		}
		flagName := flagOfKey[key]
		if flagName == "" {
			flagName = strings.ReplaceAll(strings.ReplaceAll(key, ".", "-"), "_", "-")
		}
		if fl := fs.Lookup(flagName); fl != nil {
			_, usage := flag.UnquoteUsage(fl)
			env := "SYNCWATCH_" + strings.ToUpper(strings.ReplaceAll(fl.Name, "-", "_"))
			fmt.Fprintf(b, "%s# %s\n%s# --%s, %s\n", indent, usage, indent, fl.Name, env)
		} else {
			fmt.Fprintf(b, "%s# (this file only)\n", indent)
		}
		val, err := yaml.Marshal(exampleValue(fv))
		if err != nil {
			val = []byte("\n")
		}
		fmt.Fprintf(b, "%s%s: %s", indent, name, strings.TrimSuffix(string(val), "\n")+"\n")
	}
}

// exampleValue is how the example shows a value: durations as Go writes
// them ("30s"), lists in flow style.
func exampleValue(v reflect.Value) any {
	if d, ok := v.Interface().(time.Duration); ok {
		return d.String()
	}
	if v.Kind() == reflect.Slice {
		n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for i := range v.Len() {
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: fmt.Sprint(v.Index(i).Interface())})
		}
		return n
	}
	return v.Interface()
}
