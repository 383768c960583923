package train

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/internal/plots"
	"github.com/astroformer/astroformer/model"
	"github.com/astroformer/astroformer/policy"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/internal/modelfolder"
	"github.com/astroformer/astroformer/table"
)

// Files of the model folder.
const (
	ModelFile    = "model.safetensors"     // final weights
	BestFile     = "best.safetensors"      // weights of the epoch with the best val top-1
	ModelEMAFile = "model_ema.safetensors" // final EMA weights, when ema is on
	BestEMAFile  = "best_ema.safetensors"  // EMA weights of the epoch with the best val_ema top-1
	CurvesFile   = "curves.png"            // training curves
	PolicyFile   = "policy.json"           // Record: settings, normalisation, classes, outcome
)

// Record is the content of policy.json: everything needed to understand or
// repeat the run and to prepare images for the model.
type Record struct {
	Settings   Settings      `json:"settings"`
	Seed       int64         `json:"seed"`
	Policy     policy.Config `json:"policy"` // as applied, with the normalisation in use
	Normalize  string        `json:"normalize"`
	ClassNames []string      `json:"class_names"`
	Spec       model.Spec    `json:"spec"`
	Train      int           `json:"train_rows"`
	Val        int           `json:"val_rows"`
	Steps      int           `json:"steps"`
	Epochs     int           `json:"epochs"`
	PeakLR     float64       `json:"peak_lr"`
	Best       *best         `json:"best,omitempty"`
	BestEMA    *best         `json:"best_ema,omitempty"`
	StopReason string        `json:"stop_reason"`
}

// commit writes the metrics table and the model folder.
func (t *trainer) commit(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := t.writeMetrics(); err != nil {
		return err
	}
	return t.writeModel()
}

// writeMetrics writes the history as a schemas.Metrics table.
func (t *trainer) writeMetrics() error {
	schema := schemas.Metrics()
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	mw, err := schemas.NewMetricsWriter(b)
	if err != nil {
		return err
	}
	for _, r := range t.st.History {
		mw.Append(schemas.MetricsRow{
			Scope: r.Scope, Epoch: schemas.Some(int32(r.Epoch)), Step: schemas.Some(int64(r.Step)),
			Name: r.Name, Value: r.Value,
		})
	}
	rec := b.NewRecord()
	defer rec.Release()
	w, err := table.Create(t.env.Path(t.p.Metrics), schema, table.Options{
		Manifest: t.env.Manifest(t.p.Metrics),
		Metadata: map[string]string{"train.model": t.p.Output, "train.variant": t.spec.Variant},
	})
	if err != nil {
		return err
	}
	if err := w.Write(rec); err != nil {
		w.Abort()
		return err
	}
	if _, err := w.Commit(); err != nil {
		w.Abort()
		return err
	}
	return nil
}

// writeModel assembles the model folder in a staging folder and commits it.
func (t *trainer) writeModel() error {
	dir := t.env.Path(t.p.Output)
	staging, err := artifact.Stage(dir)
	if err != nil {
		return err
	}
	if err := t.fillModel(staging); err != nil {
		artifact.Discard(staging)
		return fmt.Errorf("train: writing %s: %w", dir, err)
	}
	if err := artifact.Commit(staging, dir); err != nil {
		artifact.Discard(staging)
		return err
	}
	return nil
}

func (t *trainer) fillModel(staging string) error {
	meta := t.meta()
	if err := model.SaveWeights(filepath.Join(staging, ModelFile), t.net.Params(), t.net.Buffers(), meta); err != nil {
		return err
	}
	ckpt := t.checkpointDir()
	if t.st.Best != nil {
		if err := artifact.LinkOrCopy(filepath.Join(ckpt, bestFile), filepath.Join(staging, BestFile)); err != nil {
			return fmt.Errorf("best weights: %w", err)
		}
	}
	if t.ema != nil {
		meta.Provenance["weights"] = "ema"
		if err := model.SaveWeights(filepath.Join(staging, ModelEMAFile), t.emaParams, t.emaBuffers, meta); err != nil {
			return err
		}
		if t.st.BestEMA != nil {
			if err := artifact.LinkOrCopy(filepath.Join(ckpt, bestEMAFile), filepath.Join(staging, BestEMAFile)); err != nil {
				return fmt.Errorf("best EMA weights: %w", err)
			}
		}
	}
	var png bytes.Buffer
	if err := plots.Curves(&png, curvePanels(t.st.History)); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(staging, CurvesFile), png.Bytes(), 0o644); err != nil {
		return err
	}
	applied := t.aug.Config()
	rec := Record{
		Settings: *t.p, Seed: t.seed, Policy: applied, Normalize: t.p.Normalize,
		ClassNames: t.ds.ClassNames, Spec: t.spec, Train: t.train.Len(), Val: t.val.Len(),
		Steps: t.st.Step, Epochs: t.st.Epoch, PeakLR: t.p.PeakLR(),
		Best: t.st.Best, BestEMA: t.st.BestEMA, StopReason: t.st.StopReason,
	}
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(staging, PolicyFile), append(data, '\n'), 0o644); err != nil {
		return err
	}
	m := t.env.Manifest(t.p.Output)
	m.Format = artifact.ModelFormat
	m.Metadata = map[string]string{
		"variant":                t.spec.Variant,
		"image_size":             strconv.Itoa(t.p.ImageSize),
		"classes":                strconv.Itoa(t.classes),
		"epochs":                 strconv.Itoa(t.st.Epoch),
		"steps":                  strconv.Itoa(t.st.Step),
		"metrics":                t.p.Metrics,
		"stop_reason":            t.st.StopReason,
		modelfolder.MetaSelected: selectedFile(t.p.Select),
		"select":                 t.p.Select,
	}
	if t.st.Best != nil {
		m.Metadata["best_epoch"] = strconv.Itoa(t.st.Best.Epoch)
		if t.tree != nil {
			m.Metadata["best_loss"] = strconv.FormatFloat(t.st.Best.Loss, 'f', 6, 64)
		} else {
			m.Metadata["best_top1"] = strconv.FormatFloat(t.st.Best.Top1, 'f', 6, 64)
		}
	}
	names, _ := json.Marshal(t.ds.ClassNames)
	m.Metadata[schemas.MetaClassNames] = string(names)
	return artifact.WriteManifest(staging, &m)
}

// curvePanels draws loss, accuracy, learning rate and throughput per epoch.
func curvePanels(history []metricRow) []plots.Panel {
	series := map[[2]string]*plots.Line{}
	line := func(scope, name string) *plots.Line {
		key := [2]string{scope, name}
		if series[key] == nil {
			series[key] = &plots.Line{Label: scope}
		}
		return series[key]
	}
	for _, r := range history {
		l := line(r.Scope, r.Name)
		l.X = append(l.X, float64(r.Epoch))
		l.Y = append(l.Y, r.Value)
	}
	panel := func(title, ylabel string, logY bool, name string, scopes ...string) plots.Panel {
		p := plots.Panel{Title: title, XLabel: "epoch", YLabel: ylabel, LogY: logY}
		for _, s := range scopes {
			if l := series[[2]string{s, name}]; l != nil {
				p.Lines = append(p.Lines, *l)
			}
		}
		return p
	}
	panels := []plots.Panel{
		panel("Loss", "cross-entropy", false, "loss", "train", "val", "val_ema"),
		panel("Top-1 accuracy", "fraction", false, "top1", "val", "val_ema"),
	}
	if series[[2]string{"val", "top5"}] != nil {
		panels = append(panels, panel("Top-5 accuracy", "fraction", false, "top5", "val", "val_ema"))
	}
	return append(panels,
		panel("Learning rate", "lr (last step)", true, "lr", "train"),
		panel("Throughput", "images / s", false, "images_per_sec", "train"),
		panel("Data wait", "fraction of step time", false, "data_wait_fraction", "train"),
	)
}

// selectedFile returns the model folder's file that select names.
func selectedFile(sel string) string {
	switch sel {
	case SelectBest:
		return BestFile
	case SelectLastEMA:
		return ModelEMAFile
	case SelectBestEMA:
		return BestEMAFile
	}
	return ModelFile
}

// summarize records the outcome for the run summary.
func (t *trainer) summarize(took time.Duration) {
	env, st := t.env, &t.st
	line := fmt.Sprintf("%s: %s → %s, %s: %s %dx%d, %d classes, %d train / %d val rows, %d epochs (%d steps of %d×%d)",
		t.s.name, t.p.Input, t.p.Output, t.p.Preset, t.spec.Variant, t.spec.ImageH, t.spec.ImageW, t.classes,
		t.train.Len(), t.val.Len(), st.Epoch, st.Step, t.p.BatchSize, t.p.Accumulate)
	env.Summarize("%s", line)
	last := map[string]float64{}
	for _, r := range st.History {
		last[r.Scope+"/"+r.Name] = r.Value
	}
	if st.Best != nil && t.tree != nil {
		env.Summarize("  val vote loss %.4f at the last epoch, best %.4f at epoch %d; expected fractions off by %.3f (vote-weighted mean absolute error, %d val rows)",
			last["val/loss"], st.Best.Loss, st.Best.Epoch, last["val/fraction_mae"], t.val.Len())
	} else if st.Best != nil {
		n := t.val.Len()
		env.Summarize("  val top-1 %s at the last epoch, best %s at epoch %d; val loss %.4f (95%% intervals, %d val rows)",
			withInterval(last["val/top1"], n), withInterval(st.Best.Top1, n), st.Best.Epoch, last["val/loss"], n)
		if st.BestEMA != nil {
			env.Summarize("  EMA val top-1 %s at the last epoch, best %s at epoch %d",
				withInterval(last["val_ema/top1"], n), withInterval(st.BestEMA.Top1, n), st.BestEMA.Epoch)
		}
		t.warnSmallVal(last)
	}
	env.Summarize("  prediction uses %s (select = %q)%s", selectedFile(t.p.Select), t.p.Select, t.selectionNote())
	env.Summarize("  %.1f images/s in the last epoch, %.1f%% of step time waiting for data; %s; took %s",
		last["train/images_per_sec"], 100*last["train/data_wait_fraction"], st.StopReason, took.Round(time.Second))
}

// selectionNote says why there is no choice to make, when there is none.
func (t *trainer) selectionNote() string {
	if t.val.Len() == 0 {
		return ": no val rows, so the last epoch"
	}
	return ""
}

// withInterval writes a top-1 fraction measured on n rows as a percentage
// with its 95% Wilson score interval: "71.2% [66.1, 75.8]".
func withInterval(p float64, n int) string {
	lo, hi := wilson(p, n)
	return fmt.Sprintf("%.1f%% [%.1f, %.1f]", 100*p, 100*lo, 100*hi)
}

// wilson returns the 95% Wilson score interval of a proportion p observed
// on n trials.
func wilson(p float64, n int) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	const z = 1.959964
	nf := float64(n)
	centre := (p + z*z/(2*nf)) / (1 + z*z/nf)
	half := z / (1 + z*z/nf) * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf))
	return max(0, centre-half), min(1, centre+half)
}

// warnSmallVal warns, when select picks the best epoch, that the val split
// is too small to tell the epochs apart: when the best epoch's lead over the
// last one is less than the noise of a difference between two accuracies on
// these rows (1.96·√(2p(1−p)/n)), choosing it picks noise.
func (t *trainer) warnSmallVal(last map[string]float64) {
	best, lastTop1 := t.st.Best, last["val/top1"]
	switch t.p.Select {
	case SelectBest:
	case SelectBestEMA:
		best, lastTop1 = t.st.BestEMA, last["val_ema/top1"]
	default:
		return
	}
	n := t.val.Len()
	p := best.Top1
	noise := 1.96 * math.Sqrt(2*p*(1-p)/float64(n))
	if gain := p - lastTop1; gain > 0 && gain < noise {
		t.env.Log.Warn("the val split is too small to select an epoch on: the best epoch's lead over the last is within the noise of a difference of two accuracies",
			"val_rows", n, "lead_points", round4(100*gain), "noise_points_95", round4(100*noise), "select", t.p.Select)
		t.env.Summarize("  warning: %d val rows cannot tell the best epoch (%.1f%%) from the last (%.1f%%): differences under %.1f points are noise; prefer select = %q or a larger val split",
			n, 100*p, 100*lastTop1, 100*noise, SelectLast)
	}
}
