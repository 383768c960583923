package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/internal/safetensors"
	"github.com/astroformer/astroformer/model"
)

// Files of a checkpoint folder.
const (
	checkpointFolder = "checkpoint"
	stateFile        = "state.json"
	weightsFile      = "weights.safetensors"   // the network: parameters and batch-norm statistics
	optimizerFile    = "optimizer.safetensors" // AdamW moments exp_avg.<name>, exp_avg_sq.<name>
	emaFile          = "ema.safetensors"       // EMA weights, as a network
	bestFile         = "best.safetensors"      // weights of the best epoch by val top-1
	bestEMAFile      = "best_ema.safetensors"  // EMA weights of the best epoch by val_ema top-1

	checkpointFormat = "astroformer.checkpoint/1"
	stateVersion     = 1
)

// state is where training stands, besides the tensors. Every random draw
// derives from the seed and these counters, so they are all a resumed run
// needs to continue exactly.
type state struct {
	Version     int         `json:"version"`
	Fingerprint string      `json:"fingerprint"`
	Step        int         `json:"step"`  // optimiser steps done
	Epoch       int         `json:"epoch"` // epochs done (the current one, 0-based)
	Batch       int         `json:"batch"` // micro-batches of the current epoch done
	Done        bool        `json:"done"`
	StopReason  string      `json:"stop_reason,omitempty"`
	Mean        []float64   `json:"mean"` // the normalisation in use
	Std         []float64   `json:"std"`
	EMAUpdates  int         `json:"ema_updates,omitempty"`
	Best        *best       `json:"best,omitempty"`
	BestEMA     *best       `json:"best_ema,omitempty"`
	BadEpochs   int         `json:"bad_epochs"` // epochs since Best improved
	Acc         epochAcc    `json:"acc"`        // the current epoch so far
	History     []metricRow `json:"history"`    // metrics of the epochs done
}

// best records the epoch whose weights are kept as the best ones.
type best struct {
	Epoch int     `json:"epoch"`
	Step  int     `json:"step"`
	Top1  float64 `json:"top1"`           // classification: what the best epoch maximises
	Loss  float64 `json:"loss,omitempty"` // its val loss; what a vote head's best epoch minimises
}

// epochAcc accumulates the training metrics of an epoch.
type epochAcc struct {
	Loss        float64 `json:"loss"` // sum of step losses
	GradNorm    float64 `json:"grad_norm"`
	Steps       int     `json:"steps"`
	Images      int     `json:"images"`
	LR          float64 `json:"lr"` // of the last step
	Seconds     float64 `json:"seconds"`
	WaitSeconds float64 `json:"wait_seconds"`
}

// metricRow is one row of the metrics table.
type metricRow struct {
	Scope string  `json:"scope"`
	Epoch int     `json:"epoch"`
	Step  int     `json:"step"`
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// MarshalJSON writes non-finite values as strings, which encoding/json
// cannot otherwise represent.
func (r metricRow) MarshalJSON() ([]byte, error) {
	type plain metricRow
	if !math.IsNaN(r.Value) && !math.IsInf(r.Value, 0) {
		return json.Marshal(plain(r))
	}
	return json.Marshal(struct {
		plain
		Value string `json:"value"`
	}{plain(r), strconv.FormatFloat(r.Value, 'g', -1, 64)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *metricRow) UnmarshalJSON(data []byte) error {
	type plain metricRow
	var v struct {
		plain
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*r = metricRow(v.plain)
	var s string
	if err := json.Unmarshal(v.Value, &s); err == nil {
		f, err := strconv.ParseFloat(s, 64)
		r.Value = f
		return err
	}
	return json.Unmarshal(v.Value, &r.Value)
}

func (t *trainer) checkpointDir() string { return filepath.Join(t.dir, checkpointFolder) }

// meta returns the checkpoint metadata of the network's weights now.
func (t *trainer) meta() model.Meta {
	mean := make([]float32, len(t.st.Mean))
	std := make([]float32, len(t.st.Std))
	for i := range mean {
		mean[i], std[i] = float32(t.st.Mean[i]), float32(t.st.Std[i])
	}
	prov := map[string]string{
		"job":        t.env.Job,
		"stage":      t.s.name,
		"epoch":      strconv.Itoa(t.st.Epoch),
		"step":       strconv.Itoa(t.st.Step),
		"dataset":    t.p.Input,
		"seed":       strconv.FormatInt(t.seed, 10),
		"producer":   t.env.Producer,
		"created":    time.Now().UTC().Format(time.RFC3339),
		"crop_pct":   strconv.FormatFloat(t.p.Policy.CropPct, 'g', -1, 64),
		"preset":     t.p.Preset,
		"image_size": strconv.Itoa(t.p.ImageSize),
	}
	if m := t.in.Manifest(); m.Fingerprint != "" {
		prov["dataset_fingerprint"] = m.Fingerprint
	}
	if p := t.net.Precision(); p != model.FP32 {
		prov["train_precision"] = string(p)
	}
	if t.tree != nil {
		prov["task"], prov["vote_tree"] = TaskVotes, t.tree.Name
		if t.p.Tree != "" {
			prov["vote_tree_hcl"] = string(t.tree.Source)
		}
	}
	return model.Meta{
		Variant: t.spec.Variant, ImageH: t.spec.ImageH, ImageW: t.spec.ImageW,
		InChans: t.spec.InChans, Classes: t.spec.Classes, ClassNames: t.ds.ClassNames,
		Normalize: model.Normalize{Mean: mean, Std: std}, Provenance: prov,
	}
}

// save writes a checkpoint atomically: a staging folder next to the
// checkpoint folder replaces it in one rename. improved and improvedEMA say
// that the current weights are the new best ones; otherwise the best files
// of the previous checkpoint are carried over (hard-linked).
func (t *trainer) save(improved, improvedEMA bool) error {
	if name, ok := nonFinite(t.net.Params()); !ok {
		return fmt.Errorf("train: after step %d (epoch %d) the weights of %s are not finite, so they were not checkpointed; %s. Lower lr (peak %g) or set clip_grad",
			t.st.Step, t.st.Epoch+1, name, kept(t.savedStep, t.dir), t.p.PeakLR())
	}
	dir := t.checkpointDir()
	staging, err := artifact.Stage(dir)
	if err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	if err := t.write(staging, improved, improvedEMA); err != nil {
		artifact.Discard(staging)
		return fmt.Errorf("train: checkpoint at step %d: %w", t.st.Step, err)
	}
	if err := artifact.Commit(staging, dir); err != nil {
		artifact.Discard(staging)
		return fmt.Errorf("train: checkpoint at step %d: %w", t.st.Step, err)
	}
	t.savedStep = t.st.Step
	return nil
}

func (t *trainer) write(staging string, improved, improvedEMA bool) error {
	meta := t.meta()
	if err := model.SaveWeights(filepath.Join(staging, weightsFile), t.net.Params(), t.net.Buffers(), meta); err != nil {
		return err
	}
	if err := t.writeOptimizer(filepath.Join(staging, optimizerFile)); err != nil {
		return err
	}
	if err := t.keep(staging, bestFile, weightsFile, improved); err != nil {
		return err
	}
	if t.ema != nil {
		t.st.EMAUpdates = t.ema.Updates
		meta.Provenance["weights"] = "ema"
		meta.Provenance["ema_decay"] = strconv.FormatFloat(t.p.EMADecay, 'g', -1, 64)
		if err := model.SaveWeights(filepath.Join(staging, emaFile), t.emaParams, t.emaBuffers, meta); err != nil {
			return err
		}
		if err := t.keep(staging, bestEMAFile, emaFile, improvedEMA); err != nil {
			return err
		}
	}
	data, err := json.MarshalIndent(&t.st, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(staging, stateFile), data, 0o644); err != nil {
		return err
	}
	m := t.env.Manifest(checkpointFolder)
	m.Format = checkpointFormat
	m.Metadata = map[string]string{"step": strconv.Itoa(t.st.Step), "epoch": strconv.Itoa(t.st.Epoch)}
	return artifact.WriteManifest(staging, &m)
}

// keep puts name into staging: a link to staging's current file when
// improved, else the previous checkpoint's file if there is one.
func (t *trainer) keep(staging, name, current string, improved bool) error {
	src := filepath.Join(t.checkpointDir(), name)
	if improved {
		src = filepath.Join(staging, current)
	}
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return artifact.LinkOrCopy(src, filepath.Join(staging, name))
}

// nonFinite returns the first parameter holding a NaN or an infinity.
func nonFinite(params []*model.Param) (string, bool) {
	for _, p := range params {
		for _, v := range p.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return p.Name, false
			}
		}
	}
	return "", true
}

func (t *trainer) writeOptimizer(path string) error {
	params := t.net.Params()
	tensors := make([]safetensors.Tensor, 0, 2*len(params))
	for i, p := range params {
		tensors = append(tensors,
			safetensors.F32Tensor("exp_avg."+p.Name, p.Shape, t.opt.M[i]),
			safetensors.F32Tensor("exp_avg_sq."+p.Name, p.Shape, t.opt.V[i]))
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := safetensors.Write(f, tensors, map[string]string{"step": strconv.FormatInt(t.opt.Step, 10)}); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (t *trainer) readOptimizer(path string) error {
	f, err := safetensors.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	for i, p := range t.net.Params() {
		if err := f.ReadFloat32("exp_avg."+p.Name, t.opt.M[i]); err != nil {
			return err
		}
		if err := f.ReadFloat32("exp_avg_sq."+p.Name, t.opt.V[i]); err != nil {
			return err
		}
	}
	step, err := strconv.ParseInt(f.Metadata()["step"], 10, 64)
	if err != nil {
		return fmt.Errorf("%s: metadata step: %w", path, err)
	}
	t.opt.Step = step
	return nil
}

// load restores the checkpoint, if any. It reports whether there was one.
func (t *trainer) load() (bool, error) {
	dir := t.checkpointDir()
	if _, err := artifact.ReadManifest(dir); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("train: checkpoint: %w (remove %s to start afresh)", err, t.dir)
	}
	if err := t.loadFrom(dir); err != nil {
		return false, fmt.Errorf("train: resuming from %s: %w (remove %s to start afresh)", dir, err, t.dir)
	}
	t.savedStep = t.st.Step
	return true, nil
}

func (t *trainer) loadFrom(dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return err
	}
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("%s: %w", stateFile, err)
	}
	switch {
	case st.Version != stateVersion:
		return fmt.Errorf("%s: version %d, this build reads %d", stateFile, st.Version, stateVersion)
	case st.Fingerprint != t.env.Fingerprint:
		return fmt.Errorf("%s: written for fingerprint %.12s, the stage's is %.12s", stateFile, st.Fingerprint, t.env.Fingerprint)
	}
	if err := applyWeights(filepath.Join(dir, weightsFile), t.net.Params(), t.net.Buffers()); err != nil {
		return err
	}
	if err := t.readOptimizer(filepath.Join(dir, optimizerFile)); err != nil {
		return err
	}
	if t.ema != nil {
		if err := applyWeights(filepath.Join(dir, emaFile), t.emaParams, t.emaBuffers); err != nil {
			return err
		}
		t.ema.Updates = st.EMAUpdates
	}
	t.st = st
	return nil
}

func applyWeights(path string, params []*model.Param, buffers []*model.Buffer) error {
	sd, _, err := model.ReadCheckpoint(path)
	if err != nil {
		return err
	}
	defer sd.Close()
	_, err = sd.Apply(params, buffers, model.LoadOptions{})
	return err
}
