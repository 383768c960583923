package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/jobs"
	"github.com/astroformer/astroformer/pipeline"
)

// note is a stage kind that writes a folder holding one text file.
type note struct {
	name string
	cfg  struct {
		Output string `hcl:"output" json:"output"`
		Text   string `hcl:"text" json:"text"`
	}
}

func (n *note) Name() string      { return n.name }
func (n *note) Kind() string      { return "note" }
func (n *note) Inputs() []string  { return nil }
func (n *note) Outputs() []string { return []string{n.cfg.Output} }
func (n *note) Params() any       { return n.cfg }

// Run writes into a staging folder that replaces the output in one rename,
// so a killed run leaves nothing half-written.
func (n *note) Run(ctx context.Context, env *pipeline.Env) error {
	staging, err := artifact.Stage(env.Path(n.cfg.Output))
	if err != nil {
		return err
	}
	defer artifact.Discard(staging)
	if err := os.WriteFile(filepath.Join(staging, "note.txt"), []byte(n.cfg.Text), 0o644); err != nil {
		return err
	}
	m := env.Manifest(n.cfg.Output)
	m.Format = "astroformer.note/1" // any "astroformer." format; kinds name their own
	if err := artifact.WriteManifest(staging, &m); err != nil {
		return err
	}
	return artifact.Commit(staging, env.Path(n.cfg.Output))
}

// A second run of an unchanged job skips every stage whose outputs carry
// the fingerprint of its kind, parameters, seed and inputs.
func Example() {
	work, err := os.MkdirTemp("", "pipeline-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(work)
	reg := pipeline.Registry{"note": func(name string, body hcl.Body, ctx *hcl.EvalContext) (pipeline.Stage, hcl.Diagnostics) {
		n := &note{name: name}
		return n, gohcl.DecodeBody(body, ctx, &n.cfg)
	}}
	l := &jobs.Loader{Registry: reg, Workdir: work}
	job, diags := l.Parse([]byte(`job "hello" {
  stage "note" "greet" {
    output = "greeting"
    text   = "hello, sky"
  }
}`), "hello.hcl")
	if diags.HasErrors() {
		log.Fatal(diags)
	}
	for range 2 {
		rep, err := (&pipeline.Runner{}).Run(context.Background(), job)
		if err != nil {
			log.Fatal(err)
		}
		for _, r := range rep.Results {
			fmt.Println(r.Stage, r.Status)
		}
	}
	text, _ := os.ReadFile(filepath.Join(work, "greeting", "note.txt"))
	fmt.Println(string(text))
	// Output:
	// greet ran
	// greet skipped
	// hello, sky
}

// A failed stage's error names it once, without repeating its kind.
func ExampleStageError() {
	err := &pipeline.StageError{Stage: "train", Kind: "train", Err: fmt.Errorf("train: %w", os.ErrNotExist)}
	fmt.Println(err)
	fmt.Println(errors.Is(err, os.ErrNotExist))
	// Output:
	// stage "train" (train): file does not exist
	// true
}
