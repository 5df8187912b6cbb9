// Package cliusage parses the binaries' flags the way users expect: help
// in full when asked for, and for a mistake the mistake and one line
// pointing at --help, not a screenful of flags that scrolls it away.
package cliusage

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Parse parses args with fs (which must be flag.ContinueOnError). With -h
// or --help it calls help, with fs's output set to stderr, and returns
// flag.ErrHelp. A bad flag or value is printed as "name: error" and a line
// naming "name --help", and returned.
func Parse(fs *flag.FlagSet, args []string, name string, stderr io.Writer, help func()) error {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.SetOutput(stderr)
	fs.Usage = help
	switch {
	case errors.Is(err, flag.ErrHelp):
		help()
	case err != nil:
		fmt.Fprintf(stderr, "%s: %v\n%s --help lists every flag\n", name, err, name)
	}
	return err
}

// PrintDefaults writes fs's flags to its output as flag.PrintDefaults
// does, but spelled as the README and the docs spell them: --name.
func PrintDefaults(fs *flag.FlagSet) {
	w := fs.Output()
	fs.VisitAll(func(fl *flag.Flag) {
		name, usage := flag.UnquoteUsage(fl)
		line := "  --" + fl.Name
		if name != "" {
			line += " " + name
		}
		line += "\n    \t" + strings.ReplaceAll(usage, "\n", "\n    \t")
		switch fl.DefValue {
		case "", "0", "false", "0s", "[]":
		default:
			if _, isString := fl.Value.(interface{ String() string }); isString && name == "string" {
				line += fmt.Sprintf(" (default %q)", fl.DefValue)
			} else {
				line += fmt.Sprintf(" (default %v)", fl.DefValue)
			}
		}
		fmt.Fprintln(w, line)
	})
}
