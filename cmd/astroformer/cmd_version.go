package main

import (
	"context"
	"fmt"
	"runtime"

	"github.com/astroformer/astroformer/pipeline"
)

func (c *cli) version(_ context.Context, args []string) int {
	fs := c.flagSet(commandNamed("version"), "Version prints the version recorded in the manifests this build writes.")
	pos, status, ok := parse(fs, args)
	if !ok {
		return status
	}
	if len(pos) != 0 {
		return usageError(fs, "takes no arguments")
	}
	fmt.Fprintf(c.stdout, "astroformer %s (%s, %s/%s)\n", pipeline.Version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return exitOK
}
