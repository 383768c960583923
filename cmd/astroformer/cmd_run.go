package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/astroformer/astroformer/internal/progress"
	"github.com/astroformer/astroformer/jobs"
	"github.com/astroformer/astroformer/pipeline"
)

const runDescription = `
Run decodes the job file, checks it completely, and runs its stages in
dependency order. A stage is skipped when its outputs were made by the same
stage kind, name, parameters, seed and inputs, by a build whose stage kind
behaves the same (its revision: an upgrade reruns only the stages whose
results it changes). The workdir in the job file is relative to the current
directory.

Ctrl-C stops the running stage without committing its outputs; completed
stages keep theirs, so running the job again resumes where it stopped.
`

func (c *cli) run(ctx context.Context, args []string) int {
	cmd := commandNamed("run")
	fs := c.flagSet(cmd, runDescription)
	workdir := fs.String("workdir", "", "`DIR` for the job's artifacts, instead of the job file's workdir (relative to the current directory)")
	var force stringsFlag
	fs.Var(&force, "force", "rerun `STAGE` and the stages downstream of it even if up to date (repeatable)")
	var lf logFlags
	lf.register(fs)
	path, status, ok := parseOne(fs, args, "job file")
	if !ok {
		return status
	}
	if err := lf.check(); err != nil {
		return usageError(fs, "%v", err)
	}

	loader := &jobs.Loader{Registry: c.registry, Workdir: *workdir}
	job, diags := loader.Load(path)
	if len(diags) > 0 {
		loader.WriteDiagnostics(c.stderr, diags, isTerminal(c.stderr) && !lf.json)
	}
	if diags.HasErrors() {
		return exitUsage
	}
	if err := checkForce(job, force); err != nil {
		fmt.Fprintf(c.stderr, "astroformer run: %v\n", err)
		return exitUsage
	}

	bars := progress.New(c.stderr)
	log := lf.logger(c.stderr, bars)
	runner := &pipeline.Runner{Log: log, Progress: bars, Force: force}
	report, err := runner.Run(ctx, job)
	bars.Close()
	if report != nil {
		report.WriteTo(c.stdout)
	}
	if err != nil {
		return c.failed("astroformer", err, err.Error()+"; nothing was committed for it, earlier stages are kept")
	}
	return exitOK
}

// checkForce reports --force names that are not stages of job.
func checkForce(job *pipeline.Job, force []string) error {
	var names []string
	for _, s := range job.Stages {
		names = append(names, s.Name())
	}
	slices.Sort(names)
	for _, f := range force {
		if !slices.Contains(names, f) {
			return fmt.Errorf("--force %s: job %q has no such stage (stages: %s)", f, job.Name, strings.Join(names, ", "))
		}
	}
	return nil
}
