// Command astroformer turns survey releases of galaxy cutouts into morphology
// catalogs. Run "astroformer help" for the commands.
//
// Exit status: 0 on success; 1 when the work failed (a stage error, an
// unreadable table, a table without the columns a command needs); 2 for
// usage and configuration errors (bad flags or arguments, job-file
// diagnostics, an unknown --force stage); 130 when interrupted by Ctrl-C or
// SIGTERM, in which case nothing half-written was committed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/stages"
)

// Exit statuses.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitInterrupted = 130
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program: it wires Ctrl-C and SIGTERM to cancellation and
// returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // restore the default handlers: a second Ctrl-C kills at once
	}()
	c := &cli{stdout: stdout, stderr: stderr, registry: stages.Registry()}
	return c.main(ctx, args)
}

// cli holds what every command needs.
type cli struct {
	stdout, stderr io.Writer
	registry       pipeline.Registry
}

// command is one subcommand. To add one, write its handler in cmd_<name>.go
// and list it in commands.
type command struct {
	name    string
	args    string // synopsis of the arguments, after the name
	summary string // one line for the command list
	run     func(c *cli, ctx context.Context, args []string) int
}

// commands lists the subcommands in the order help shows them.
func commands() []command {
	return []command{
		{name: "run", args: "JOB.hcl [flags]", summary: "run the stages of a job file that are not up to date", run: (*cli).run},
		{name: "inspect", args: "TABLE [flags]", summary: "describe a table and draw sample cutouts per class", run: (*cli).inspect},
		predictCommand(),
		{name: "catalog", args: "merge CATALOG [flags]", summary: "merge the shards of a sharded prediction into one catalog", run: (*cli).catalog},
		{name: "export", args: "TABLE [--format fits|votable|csv] [--output FILE] [flags]", summary: "write a table as a FITS binary table, a VOTable or CSV", run: (*cli).export},
		{name: "fetch", args: "[flags] galaxy10", summary: "download a published data set and verify its checksum", run: (*cli).fetch},
		{name: "version", summary: "print the astroformer version", run: (*cli).version},
	}
}

func (c *cli) main(ctx context.Context, args []string) int {
	if len(args) == 0 {
		c.usage(c.stderr)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) == 0 {
			c.usage(c.stdout)
			return exitOK
		}
		if cmd, ok := lookup(rest[0]); ok {
			return cmd.run(c, ctx, []string{"-h"})
		}
		name = rest[0]
	default:
		if cmd, ok := lookup(name); ok {
			return cmd.run(c, ctx, rest)
		}
	}
	fmt.Fprintf(c.stderr, "astroformer: unknown command %q\n", name)
	fmt.Fprintf(c.stderr, "Run 'astroformer help' for the commands.\n")
	return exitUsage
}

func lookup(name string) (command, bool) {
	for _, cmd := range commands() {
		if cmd.name == name {
			return cmd, true
		}
	}
	return command{}, false
}

// commandNamed returns the command listed under name, for its handler.
func commandNamed(name string) command {
	cmd, ok := lookup(name)
	if !ok {
		panic("astroformer: no command " + name)
	}
	return cmd
}

func (c *cli) usage(w io.Writer) {
	fmt.Fprintf(w, "astroformer turns galaxy image cutouts into morphology catalogs.\n\n")
	fmt.Fprintf(w, "Usage:\n\n  astroformer <command> [arguments]\n\nCommands:\n\n")
	for _, cmd := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintf(w, "\nRun 'astroformer help <command>' for a command's flags.\n")
}

// flagSet returns a FlagSet for cmd whose usage text shows the synopsis,
// the description and the flags.
func (c *cli) flagSet(cmd command, description string) *flag.FlagSet {
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: astroformer %s %s\n\n%s\n", cmd.name, cmd.args, strings.TrimSpace(description))
		var any bool
		fs.VisitAll(func(*flag.Flag) { any = true })
		if any {
			fmt.Fprintf(w, "\nFlags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parse parses flags and positional arguments in any order ("run job.hcl
// --force x" as well as "run --force x job.hcl"); everything after "--" is
// positional. It returns the status to exit with if parsing did not succeed.
func parse(fs *flag.FlagSet, args []string) (positional []string, status int, ok bool) {
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			return nil, exitOK, false
		}
		if err != nil {
			return nil, exitUsage, false // the flag package has printed the problem and usage
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, 0, true
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(positional, rest...), 0, true
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// usageError prints a usage problem followed by the command's usage.
// parseOne parses args like parse, and checks that they hold one
// positional argument, described as what in the usage error otherwise.
func parseOne(fs *flag.FlagSet, args []string, what string) (arg string, status int, ok bool) {
	pos, status, ok := parse(fs, args)
	if !ok {
		return "", status, false
	}
	if len(pos) != 1 {
		return "", usageError(fs, "want one %s, got %d arguments", what, len(pos)), false
	}
	return pos[0], 0, true
}

// failed prints err after the prefix what and returns the exit status for
// it: exitInterrupted, printing cancelled instead, if the work was
// cancelled; exitFailure otherwise.
func (c *cli) failed(what string, err error, cancelled string) int {
	if errors.Is(err, context.Canceled) {
		fmt.Fprintf(c.stderr, "%s: %s\n", what, cancelled)
		return exitInterrupted
	}
	fmt.Fprintf(c.stderr, "%s: %v\n", what, err)
	return exitFailure
}

func usageError(fs *flag.FlagSet, format string, args ...any) int {
	fmt.Fprintf(fs.Output(), "astroformer %s: %s\n\n", fs.Name(), fmt.Sprintf(format, args...))
	fs.Usage()
	return exitUsage
}

// stringsFlag is a flag that may be repeated.
type stringsFlag []string

func (s *stringsFlag) String() string     { return strings.Join(*s, ",") }
func (s *stringsFlag) Set(v string) error { *s = append(*s, v); return nil }
