// Package train is the stage that trains an Astroformer on the train split
// of a cutouts table and selects it on the val split.
//
// It writes two artifacts: a model folder (model.safetensors with the final
// weights, best.safetensors with those of the epoch of best val top-1,
// model_ema.safetensors and best_ema.safetensors when an exponential moving
// average of the weights is kept, curves.png and policy.json) and a metrics
// table in schemas.Metrics' long format, one row per epoch and metric.
//
// # Reproducibility and resuming
//
// Every random draw derives from the seed and counters: the sample order of
// epoch e from (seed, e) (see package loader), the augmentation of the k-th
// sample of epoch e from policy.SampleRand(seed, e, k), the mixing of batch
// b from policy.BatchRand(seed, e, b), dropout and stochastic depth of
// micro-batch m from (seed, m), and the initial weights from the seed. So a
// checkpoint needs only counters (step, epoch, batch within the epoch)
// besides the tensors (weights, batch-norm statistics, AdamW moments, EMA
// weights), and resuming from it gives bit for bit the weights an
// uninterrupted run would have. Two runs with the same seed and data give
// the same weights and the same metrics, whatever the number of loader
// workers and GOMAXPROCS (the model's reductions do not depend on it);
// only the timing metrics (images_per_sec, data_wait_fraction) differ.
//
// Checkpoints are written atomically under
// <workdir>/.state/<stage>-<fingerprint prefix>/checkpoint at the end of
// every epoch, every checkpoint_steps steps and when the run is
// interrupted. Rerunning the job resumes from there; a killed run loses at
// most the work since its last checkpoint. The folder is removed once the
// outputs are committed.
package train

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/astroformer/astroformer/model"
	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/train/loader"
	"github.com/astroformer/astroformer/table"
)

// Kind is the stage kind.
const Kind = "train"

// StateDir is the folder under the workdir that holds resumable training
// state, one subfolder per stage and fingerprint.
const StateDir = ".state"

type stage struct {
	name string
	p    Settings
	exec execution

	// Test hooks.
	config     *model.Config                   // replaces the variant's configuration
	beforeStep func(step int, b *loader.Batch) // sees every micro-batch before the model
	afterStep  func(step int)                  // runs after every optimiser step
}

// Decode decodes a train stage block. Every attribute but input and output
// is optional; the preset gives the defaults (see Preset and
// docs/training.md):
//
//	stage "train" "train" {
//	  input      = "cutouts_split"   # a cutouts table with train and val rows
//	  output     = "model"           # the model folder
//	  metrics    = "train_metrics"   # default "<output>_metrics"
//	  preset     = "cpu-demo"        # or "galaxy10"
//	  variant    = "astroformer_nano"
//	  image_size = 64
//	  epochs     = 8
//	  batch_size = 32
//	  lr         = 2e-3
//	  workers    = 2
//	  precision  = "fp32"            # or "bf16": bfloat16 matrix products on CPUs with AVX512_BF16
//	  policy {                       # policy.Config attributes
//	    mixup_alpha = 0.2
//	  }
//	}
func Decode(name string, body hcl.Body, ctx *hcl.EvalContext) (pipeline.Stage, hcl.Diagnostics) {
	p, exec, diags := decodeConfig(body, ctx)
	if diags.HasErrors() {
		return nil, diags
	}
	return &stage{name: name, p: p, exec: exec}, diags
}

func (s *stage) Name() string { return s.name }
func (s *stage) Kind() string { return Kind }
func (s *stage) Inputs() []string {
	if s.p.InitFrom != "" && !InitFromPath(s.p.InitFrom) {
		return []string{s.p.Input, s.p.InitFrom}
	}
	return []string{s.p.Input}
}
func (s *stage) Outputs() []string { return []string{s.p.Output, s.p.Metrics} }
func (s *stage) Params() any       { return s.p }

// Run trains, resuming from the stage's checkpoint when there is one, and
// commits the model folder and the metrics table.
func (s *stage) Run(ctx context.Context, env *pipeline.Env) error {
	start := time.Now()

	in, err := table.OpenAs(env.Path(s.p.Input), schemas.Cutouts())
	if err != nil {
		return err
	}
	index := loader.ReadIndex
	if s.p.Task == TaskVotes {
		index = loader.ReadVoteIndex
	}
	ds, err := index(ctx, in, schemas.SplitTrain, schemas.SplitVal)
	if err != nil {
		return err
	}
	t, err := newTrainer(s, env, in, ds)
	if err != nil {
		return err
	}
	if err := t.restore(ctx); err != nil {
		return err
	}
	if err := t.run(ctx); err != nil {
		return err
	}
	if err := t.commit(ctx); err != nil {
		return err
	}
	if err := os.RemoveAll(t.dir); err != nil {
		env.Log.Warn("could not remove the training state", "dir", t.dir, "error", err)
	}
	os.Remove(filepath.Dir(t.dir)) // the state root, when no other stage has state
	t.summarize(time.Since(start))
	return nil
}

// stateDir returns the folder of the stage's resumable state and removes
// the folders of the same stage left by runs with other fingerprints.
func stateDir(env *pipeline.Env, stage string) (string, error) {
	root := filepath.Join(env.Workdir, StateDir)
	fp := env.Fingerprint
	if len(fp) > 12 {
		fp = fp[:12]
	}
	if fp == "" {
		fp = "unfingerprinted"
	}
	dir := filepath.Join(root, stage+"-"+fp)
	entries, err := os.ReadDir(root)
	if err != nil && !os.IsNotExist(err) {
		return "", fmt.Errorf("train: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		rest, ok := strings.CutPrefix(name, stage+"-")
		if !ok || name == filepath.Base(dir) || !isHex(rest) || len(rest) != len(fp) {
			continue
		}
		env.Log.Info("removing the training state of an earlier configuration", "dir", filepath.Join(root, name))
		if err := os.RemoveAll(filepath.Join(root, name)); err != nil {
			return "", fmt.Errorf("train: removing stale state: %w", err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("train: %w", err)
	}
	return dir, nil
}

func isHex(s string) bool {
	return s != "" && strings.Trim(s, "0123456789abcdef") == ""
}
