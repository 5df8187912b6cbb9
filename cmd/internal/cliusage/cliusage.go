// Package cliusage parses the binaries' flags the way users expect: help
// in full when asked for, and for a mistake the mistake and one line
// pointing at --help, not a screenful of flags that scrolls it away.
package cliusage

import (
	"errors"
	"flag"
	"fmt"
	"io"
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
