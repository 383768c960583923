package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/internal/progress"
)

// Runner runs jobs.
//
// A stage runs when it is forced, or when any of its outputs lacks a manifest
// whose Fingerprint equals the stage's fingerprint; otherwise it is skipped.
// A stage without outputs always runs.
//
// Forcing a stage reruns it and every stage downstream of it in the same run:
// a forced stage's fingerprint does not change, so without this its
// dependents would keep results derived from the output it just replaced.
//
// Cancelling ctx interrupts the running stage, which must commit nothing;
// Run then returns an error wrapping ctx.Err() (errors.Is(err,
// context.Canceled) holds for Ctrl-C) and runs no further stage.
type Runner struct {
	Log      hclog.Logger    // nil: discard
	Progress *progress.Group // nil: no bars
	Force    []string        // names of stages to rerun even if up to date
	Producer string          // producer version; "": Version()
}

// Status is what happened to a stage in a run.
type Status string

// Stage statuses.
const (
	Ran         Status = "ran"
	Skipped     Status = "skipped"
	Failed      Status = "failed"
	Interrupted Status = "interrupted"
)

// Result describes one stage of a run.
type Result struct {
	Stage       string
	Kind        string
	Status      Status
	Reason      string // why it ran or was skipped
	Fingerprint string
	Duration    time.Duration
	Summary     []string // lines from Env.Summarize
}

// Report describes a run, in execution order. Stages that were never reached
// (after a failure) are absent.
type Report struct {
	Job      string
	Workdir  string
	Results  []Result
	Duration time.Duration
}

// Run runs the stages of job in dependency order and reports what happened,
// also when it returns an error. Configuration errors (a cycle, an unknown
// stage in Force, a duplicate output) are returned before any stage starts.
func (r *Runner) Run(ctx context.Context, job *Job) (*Report, error) {
	start := time.Now()
	log := r.Log
	if log == nil {
		log = hclog.NewNullLogger()
	}
	producer := r.Producer
	if producer == "" {
		producer = Version()
	}
	if err := job.CheckNames(); err != nil {
		return nil, err
	}
	order, err := job.Order()
	if err != nil {
		return nil, err
	}
	forced, err := r.forced(job)
	if err != nil {
		return nil, err
	}
	consumers := consumersOf(job)
	if err := os.MkdirAll(job.Workdir, 0o755); err != nil {
		return nil, fmt.Errorf("job %q: creating workdir: %w", job.Name, err)
	}
	unlock, err := lockWorkdir(job.Workdir)
	if err != nil {
		return nil, fmt.Errorf("job %q: %w", job.Name, err)
	}
	defer unlock()
	if err := checkOutputs(job); err != nil {
		return nil, err
	}

	rep := &Report{Job: job.Name, Workdir: job.Workdir}
	defer func() { rep.Duration = time.Since(start) }()
	log.Info("running job", "job", job.Name, "workdir", job.Workdir, "stages", len(order), "producer", producer)
	for _, s := range order {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("interrupted before stage %q: %w", s.Name(), err)
		}
		slog := log.Named(s.Name()).With("kind", s.Kind())
		env, err := r.prepare(job, s, producer, slog)
		if err != nil {
			rep.Results = append(rep.Results, Result{Stage: s.Name(), Kind: s.Kind(), Status: Failed, Reason: err.Error()})
			return rep, err
		}
		res := Result{Stage: s.Name(), Kind: s.Kind(), Fingerprint: env.Fingerprint}
		stale := staleReason(env, s.Outputs())
		switch {
		case forced[s.Name()] != "":
			res.Reason = forced[s.Name()]
		case stale != "":
			res.Reason = stale
		default:
			res.Status, res.Reason = Skipped, "up to date"
			slog.Info("skipped: up to date", "fingerprint", short(env.Fingerprint))
			rep.Results = append(rep.Results, res)
			continue
		}
		if forced[s.Name()] != "" {
			for _, out := range s.Outputs() {
				for _, c := range consumers[cleanKey(out)] {
					if forced[c] == "" {
						forced[c] = fmt.Sprintf("upstream stage %q was forced", s.Name())
					}
				}
			}
		}

		res, err = runStage(ctx, s, env, res, slog)
		rep.Results = append(rep.Results, res)
		if err != nil {
			return rep, err
		}
	}
	log.Info("job done", "job", job.Name, "took", roundDuration(time.Since(start)).String())
	return rep, nil
}

// prepare computes the stage's fingerprint from its params and its inputs'
// manifests and builds its Env.
func (r *Runner) prepare(job *Job, s Stage, producer string, log hclog.Logger) (*Env, error) {
	params, err := CanonicalJSON(s.Params())
	if err != nil {
		return nil, fmt.Errorf("stage %q (%s): encoding params: %w", s.Name(), s.Kind(), err)
	}
	env := &Env{
		Log:      log,
		Workdir:  job.Workdir,
		Job:      job.Name,
		Seed:     job.Seed,
		Progress: r.Progress,
		Stage:    s.Name(),
		Kind:     s.Kind(),
		Params:   params,
		Producer: producer,
	}
	inputs := make([]Input, 0, len(s.Inputs()))
	for _, in := range s.Inputs() {
		m, err := artifact.Check(env.Path(in))
		if err != nil {
			return nil, fmt.Errorf("stage %q (%s): input %q: %w", s.Name(), s.Kind(), in, err)
		}
		inputs = append(inputs, Input{Name: in, Fingerprint: m.Fingerprint})
	}
	env.Fingerprint = Fingerprint(s.Kind(), s.Name(), params, job.Seed, inputs, RevisionOf(s))
	return env, nil
}

// staleReason says why the outputs do not match env.Fingerprint, or returns
// "" if they all do.
func staleReason(env *Env, outputs []string) string {
	if len(outputs) == 0 {
		return "stage has no outputs"
	}
	for _, out := range outputs {
		dir := env.Path(out)
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			return fmt.Sprintf("output %q does not exist yet", out)
		}
		m, err := artifact.Check(dir)
		var damaged *artifact.DamagedError
		switch {
		case errors.As(err, &damaged):
			return fmt.Sprintf("output %q is damaged (%s: %s)", out, damaged.File, damaged.Reason)
		case err != nil:
			return fmt.Sprintf("output %q is incomplete (%v)", out, err)
		case m.Fingerprint != env.Fingerprint:
			return fmt.Sprintf("output %q is out of date", out)
		}
	}
	return ""
}

func short(fp string) string { return fp[:min(len(fp), 12)] }

func stageNames(job *Job) string {
	names := make([]string, len(job.Stages))
	for i, s := range job.Stages {
		names[i] = s.Name()
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// checkOutputs refuses, before any stage runs, outputs whose folder holds
// something astroformer did not write (artifact.Replaceable) or that resolve
// outside the workdir through a symbolic link.
func checkOutputs(job *Job) error {
	for _, s := range job.Stages {
		for _, out := range s.Outputs() {
			dir := filepath.Join(job.Workdir, out)
			if err := insideWorkdir(job.Workdir, out); err != nil {
				return fmt.Errorf("stage %q: output %q: %w", s.Name(), out, err)
			}
			if err := artifact.Replaceable(dir); err != nil {
				return fmt.Errorf("stage %q: output %q: %w", s.Name(), out, err)
			}
		}
	}
	return nil
}

// insideWorkdir reports an error when a folder on the way to artifact name
// (the artifact's own folder included) is a symbolic link: an artifact is
// replaced by renames, and must not resolve to a folder outside the workdir.
func insideWorkdir(workdir, name string) error {
	path := workdir
	for _, part := range strings.Split(cleanKey(name), "/") {
		path = filepath.Join(path, part)
		info, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s is a symbolic link; outputs must be folders inside the workdir", path)
		}
	}
	return nil
}

// forced returns the stages to rerun by hand (Runner.Force), each with why.
func (r *Runner) forced(job *Job) (map[string]string, error) {
	forced := make(map[string]string, len(r.Force))
	for _, name := range r.Force {
		if !slices.ContainsFunc(job.Stages, func(s Stage) bool { return s.Name() == name }) {
			return nil, fmt.Errorf("job %q has no stage %q to force (stages: %s)", job.Name, name, stageNames(job))
		}
		forced[name] = "forced"
	}
	return forced, nil
}

// consumersOf maps each artifact to the stages that read it.
func consumersOf(job *Job) map[string][]string {
	consumers := map[string][]string{}
	for _, s := range job.Stages {
		for _, in := range s.Inputs() {
			consumers[cleanKey(in)] = append(consumers[cleanKey(in)], s.Name())
		}
	}
	return consumers
}

// runStage runs one stage that is not up to date and completes its result:
// ran, interrupted (nothing committed), or failed, also when the stage
// returned without committing its outputs.
func runStage(ctx context.Context, s Stage, env *Env, res Result, slog hclog.Logger) (Result, error) {
	slog.Info("running", "reason", res.Reason, "fingerprint", short(env.Fingerprint))
	t0 := time.Now()
	err := s.Run(ctx, env)
	res.Duration = time.Since(t0)
	res.Summary = env.Summary()
	switch {
	case err != nil && ctx.Err() != nil:
		res.Status = Interrupted
		slog.Warn("interrupted: nothing committed", "after", roundDuration(res.Duration).String())
		return res, fmt.Errorf("interrupted during stage %q after %s: %w", s.Name(), roundDuration(res.Duration), ctx.Err())
	case err != nil:
		res.Status = Failed
		slog.Error("failed", "after", roundDuration(res.Duration).String(), "error", err)
		return res, &StageError{Stage: s.Name(), Kind: s.Kind(), Err: err}
	}
	if reason := staleReason(env, s.Outputs()); reason != "" {
		res.Status = Failed
		return res, fmt.Errorf("stage %q (%s) finished but did not commit its outputs: %s", s.Name(), s.Kind(), reason)
	}
	res.Status = Ran
	slog.Info("done", "took", roundDuration(res.Duration).String())
	return res, nil
}

// StageError is the error of a stage that failed: its name and kind, and
// the stage's own error.
type StageError struct {
	Stage, Kind string
	Err         error
}

// Error names the stage once: a stage's errors often begin with its kind
// ("train: ..."), which is not repeated after the stage's name and kind.
func (e *StageError) Error() string {
	return fmt.Sprintf("stage %q (%s): %s", e.Stage, e.Kind, strings.TrimPrefix(e.Err.Error(), e.Kind+": "))
}

func (e *StageError) Unwrap() error { return e.Err }
