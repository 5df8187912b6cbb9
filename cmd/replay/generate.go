package main

import (
	"fmt"
	"io"
)

func runGenerate(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "replay generate: not built yet")
	return exitUsage
}
