// Package pipeline runs jobs: small DAGs of stages that read and write named
// artifacts (folders) under a working directory.
//
// A stage's fingerprint summarises everything that determines its outputs:
// its kind, name and parameters, the job seed, the fingerprints recorded in its
// inputs' manifests, and the revision of its kind's behaviour (see Fingerprint
// and Revisioned; not the astroformer version). The Runner skips a stage whose
// outputs all carry a manifest with that fingerprint, so rerunning a job only
// does the work whose inputs changed.
package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/internal/progress"
)

// Stage is one step of a job.
type Stage interface {
	// Name is the instance name from the job file; unique within a job.
	Name() string
	// Kind is the stage kind, e.g. "synthetic"; the key in a Registry.
	Kind() string
	// Inputs are the artifact names (folders under the workdir) the stage reads.
	Inputs() []string
	// Outputs are the artifact names the stage writes.
	Outputs() []string
	// Params returns the stage's parameters, JSON-encodable. They are part of
	// the fingerprint and are recorded in every output manifest.
	Params() any
	// Run does the work. It must commit nothing if ctx is cancelled: return
	// ctx.Err() (possibly wrapped) and leave the previous outputs in place.
	Run(ctx context.Context, env *Env) error
}

// Revisioned is implemented by the stages of a kind whose outputs, for the
// same params, seed and inputs, changed between astroformer releases (a fix
// to what it computes, not a faster way to compute it). Revision names the
// current behaviour, e.g. "2"; it enters the fingerprint, so that outputs of
// an earlier revision are rebuilt. A stage without it is revision
// DefaultRevision.
type Revisioned interface {
	Revision() string
}

// DefaultRevision is the revision of a stage that is not Revisioned.
const DefaultRevision = "1"

// RevisionOf returns the revision of s.
func RevisionOf(s Stage) string {
	if r, ok := s.(Revisioned); ok {
		return r.Revision()
	}
	return DefaultRevision
}

// Factory decodes the body of a `stage "<kind>" "<name>"` block into a Stage.
// Diagnostics must carry source ranges (gohcl.DecodeBody does).
type Factory func(name string, body hcl.Body, ctx *hcl.EvalContext) (Stage, hcl.Diagnostics)

// Registry maps stage kinds to their factories.
type Registry map[string]Factory

// Env is what a running stage receives: where to read and write, how to log
// and report progress, and what to stamp into its output manifests.
//
// Stage tests may build an Env directly; Log must then be set (for example to
// hclog.NewNullLogger()), every other field may be left zero.
type Env struct {
	Log         hclog.Logger
	Workdir     string
	Job         string
	Seed        int64
	Fingerprint string          // stamp into every output's manifest
	Progress    *progress.Group // nil or silent off a terminal; Bar works regardless

	// Identity of the running stage, copied into manifests by Manifest.
	Stage    string
	Kind     string
	Params   json.RawMessage // canonical JSON of Stage.Params
	Producer string          // astroformer version

	mu      sync.Mutex
	summary []string
}

// Path returns the folder of the named artifact: filepath.Join(Workdir, artifact).
func (e *Env) Path(artifact string) string {
	return filepath.Join(e.Workdir, artifact)
}

// Manifest returns the common manifest header for an output artifact of the
// running stage, with Name, Stage, Kind, Fingerprint, Params, Producer and
// Created filled in. Format is left for the writer (table, model) to set.
func (e *Env) Manifest(name string) artifact.Manifest {
	return artifact.Manifest{
		Name:        name,
		Stage:       e.Stage,
		Kind:        e.Kind,
		Fingerprint: e.Fingerprint,
		Params:      e.Params,
		Producer:    e.Producer,
		Created:     time.Now().UTC(),
	}
}

// Summarize records a line for the summary printed after the run, such as
// "wrote 3000 cutouts (10 classes) to cutouts". Safe for concurrent use.
func (e *Env) Summarize(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	e.mu.Lock()
	e.summary = append(e.summary, line)
	e.mu.Unlock()
}

// Summary returns the lines recorded by Summarize, in order.
func (e *Env) Summary() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.summary...)
}

// Sourced is implemented by source stages: Sources are the files and folders
// outside the workdir's artifacts that the stage reads (an HDF5 file, a
// folder of images, a manifest), as given in the job. The job loader refuses
// a source that lies inside an output, which committing would replace.
type Sourced interface {
	Sources() []string
}
