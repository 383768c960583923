// Package predict is the stage that runs a trained Astroformer checkpoint
// over a cutouts table and writes the catalog: for every cutout its
// identity and truth (when labelled), the predicted class and its
// confidence, the probability of every class, the entropy, and with
// test-time augmentation the spread of each probability over the views.
//
// The Predictor does the work for the stage and for the predict command:
// one goroutine reads the input in batches, Workers goroutines decode and
// preprocess them (policy's evaluation transform and the checkpoint's
// normalisation, then the dihedral views), the model runs them in input
// order, and one goroutine builds the output records. WriteTable writes
// them as a resumable table; with catalog.Shard a run predicts one of n
// disjoint row ranges, to be merged by catalog.Merge.
package predict

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/astroformer/astroformer/catalog"
	"github.com/astroformer/astroformer/export"
	"github.com/astroformer/astroformer/model"
	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/internal/decl"
	"github.com/astroformer/astroformer/table"
)

// Kind is the stage kind.
const Kind = "predict"

// config is the body of a `stage "predict" "<name>"` block: the Params
// with hcl tags, decoded over the defaults, the attributes whose defaults
// depend on others (decodeModel, decodeHATS, decodeExport read them), and
// the knobs that only change the speed.
type config struct {
	Params
	Model          *string  `hcl:"model,optional"`
	Checkpoint     *string  `hcl:"checkpoint,optional"`
	CheckpointFile *string  `hcl:"checkpoint_file,optional"`
	HATS           *string  `hcl:"hats,optional"`
	Formats        []string `hcl:"format,optional"`
	Export         *string  `hcl:"export,optional"`
	BatchSize      int      `hcl:"batch_size,optional"`
	Workers        int      `hcl:"workers,optional"`
	Precision      *string  `hcl:"precision,optional"`
}

// Params are what determine a prediction's output: they enter the stage
// fingerprint and every manifest. BatchSize and Workers only change the
// speed, so they are not among them.
type Params struct {
	Input  string `hcl:"input" json:"input"`
	Output string `hcl:"output" json:"output"`
	// Model is the model artifact (a train stage output), or "" when
	// CheckpointFile names a file outside the workdir.
	Model            string   `json:"model,omitempty"`
	Checkpoint       string   `json:"checkpoint,omitempty"` // file in Model; "" picks the one the model folder names
	CheckpointFile   string   `json:"checkpoint_file,omitempty"`
	CheckpointSHA256 string   `json:"checkpoint_sha256,omitempty"` // of CheckpointFile, so that a changed file reruns
	TTA              int      `hcl:"tta,optional" json:"tta"`
	CropPct          float64  `hcl:"crop_pct,optional" json:"crop_pct,omitempty"` // 0: the checkpoint's
	ClassNames       []string `hcl:"class_names,optional" json:"class_names,omitempty"`
	HEALPixOrder     *int     `hcl:"healpix_order,optional" json:"healpix_order,omitempty"`
	HATS             string   `json:"hats,omitempty"`
	RowsPerPart      int64    `hcl:"rows_per_part,optional" json:"rows_per_part,omitempty"`
	// Embeddings adds the embedding column (the pooled pre-logits
	// representation) to the catalog.
	Embeddings bool `hcl:"embeddings,optional" json:"embeddings,omitempty"`
	// Formats are the export formats (export.Format) of the copy of the
	// catalog written into the folder Export.
	Formats []string `json:"format,omitempty"`
	Export  string   `json:"export,omitempty"`
	// Precision is the precision of the model's matrix products when it
	// is not the default fp32: "bf16" (see Options.Precision). Empty for
	// fp32, so that the fingerprints of fp32 predictions do not change.
	Precision string `json:"precision,omitempty"`
}

type stage struct {
	name      string
	p         Params
	batchSize int
	workers   int
}

// Decode decodes a predict stage block:
//
//	stage "predict" "predict" {
//	  input      = "cutouts_split"   # a cutouts table, labelled or not
//	  output     = "catalog"         # the catalog table written
//	  model      = "model"           # a train stage's output folder ...
//	  checkpoint = "best"            # ... and which checkpoint in it (default: the one its select names, else best, else model)
//	  # checkpoint_file = "/data/astroformer_0.safetensors"  # instead of model: a checkpoint file
//	  tta        = 8                 # test-time views averaged, 1..8 (default 1: none)
//	  batch_size = 32                # cutouts per forward pass (default 32)
//	  workers    = 2                 # preprocessing goroutines (default: the number of CPUs)
//	  crop_pct   = 1                 # evaluation centre crop (default: the checkpoint's, else 1)
//	  class_names = ["a", "b"]       # override the checkpoint's class names
//	  healpix_order = 5              # also write a HATS layout partitioned at this order ...
//	  hats       = "catalog_hats"    # ... into this folder (default <output>_hats)
//	  rows_per_part = 16384          # rows per output part file
//	  embeddings = true              # add the embedding column (default false)
//	  format     = ["fits", "votable"] # also write copies in these formats (fits, votable, csv) ...
//	  export     = "catalog_export"  # ... into this folder (default <output>_export)
//	  precision  = "bf16"            # matrix products in bfloat16 where the CPU has AVX512_BF16 (default "fp32")
//	}
func Decode(name string, body hcl.Body, ctx *hcl.EvalContext) (pipeline.Stage, hcl.Diagnostics) {
	cfg := config{Params: Params{TTA: 1}, BatchSize: DefaultBatchSize, Workers: runtime.NumCPU()}
	diags := decl.Decode(body, ctx, &cfg)
	if diags.HasErrors() {
		return nil, diags
	}
	d := decl.New(body, &diags)
	bad := d.Bad
	s := &stage{name: name, p: cfg.Params, batchSize: cfg.BatchSize, workers: cfg.Workers}
	p := &s.p
	d.CheckEmpty("input", p.Input, "a table folder in the workdir")
	d.CheckEmpty("output", p.Output, "a table folder in the workdir")
	d.CheckOverwrite(p.Input, p.Output, ".")
	decodeModel(cfg, p, bad)
	if p.TTA < 1 || p.TTA > MaxTTA {
		bad("tta", "Invalid tta", fmt.Sprintf("tta is %d; it counts the dihedral views averaged, 1 (none) to %d.", p.TTA, MaxTTA))
	}
	if s.batchSize < 1 {
		bad("batch_size", "Invalid batch_size", fmt.Sprintf("batch_size is %d; want at least 1.", s.batchSize))
	}
	if s.workers < 1 {
		bad("workers", "Invalid workers", fmt.Sprintf("workers is %d; want at least 1.", s.workers))
	}
	if d.Given("crop_pct") && !(p.CropPct > 0 && p.CropPct <= 1) {
		bad("crop_pct", "Invalid crop_pct", fmt.Sprintf("crop_pct is %g; the centre crop keeps a fraction in (0, 1].", p.CropPct))
	}
	if d.Given("class_names") {
		if _, err := schemas.ProbColumns(p.ClassNames); err != nil {
			bad("class_names", "Invalid class_names", err.Error())
		}
	}
	decodeHATS(cfg, p, bad)
	if d.Given("rows_per_part") && p.RowsPerPart < 1 {
		bad("rows_per_part", "Invalid rows_per_part", fmt.Sprintf("rows_per_part is %d; want at least 1.", p.RowsPerPart))
	}
	decodeExport(cfg, p, bad)
	decodePrecision(cfg, p, bad)
	if diags.HasErrors() {
		return nil, diags
	}
	return s, diags
}

// decodeModel reads model (with checkpoint) or checkpoint_file: exactly
// one of them, and a readable file for its SHA-256.
func decodeModel(cfg config, p *Params, bad func(attr, summary, detail string)) {
	switch {
	case cfg.Model != nil && cfg.CheckpointFile != nil:
		bad("checkpoint_file", "Two models", "Set model (a train stage's output folder) or checkpoint_file (a .safetensors file), not both.")
	case cfg.Model == nil && cfg.CheckpointFile == nil:
		bad("model", "No model", `Set model = "<train output>" or checkpoint_file = "<path>.safetensors".`)
	case cfg.Model != nil:
		p.Model = *cfg.Model
		if cfg.Checkpoint != nil {
			p.Checkpoint = strings.TrimSuffix(*cfg.Checkpoint, ".safetensors")
			if p.Checkpoint == "" || strings.ContainsAny(p.Checkpoint, `/\`) {
				bad("checkpoint", "Invalid checkpoint", fmt.Sprintf("checkpoint %q names a file in the model folder, such as \"best\" or \"model\".", *cfg.Checkpoint))
			}
		}
	default:
		if cfg.Checkpoint != nil {
			bad("checkpoint", "Checkpoint without a model folder", "checkpoint picks a file in a model folder; with checkpoint_file the file is given whole.")
		}
		p.CheckpointFile = *cfg.CheckpointFile
		sum, err := fileSHA256(p.CheckpointFile)
		if err != nil {
			bad("checkpoint_file", "Unreadable checkpoint", err.Error())
		}
		p.CheckpointSHA256 = sum
	}
}

// decodeHATS reads healpix_order and hats, the HEALPix-partitioned copy.
func decodeHATS(cfg config, p *Params, bad func(attr, summary, detail string)) {
	if cfg.HEALPixOrder != nil {
		p.HEALPixOrder = cfg.HEALPixOrder
		if k := *p.HEALPixOrder; k < 0 || k > catalog.MaxOrder {
			bad("healpix_order", "Invalid healpix_order", fmt.Sprintf("healpix_order is %d; HEALPix orders run from 0 to %d.", k, catalog.MaxOrder))
		}
		p.HATS = p.Output + "_hats"
		if cfg.HATS != nil {
			p.HATS = *cfg.HATS
		}
		if p.HATS == "" || p.HATS == p.Output || p.HATS == p.Input || p.HATS == p.Model {
			bad("hats", "Invalid hats", fmt.Sprintf("hats is %q; it names a new folder for the HATS layout.", p.HATS))
		}
	} else if cfg.HATS != nil {
		bad("hats", "hats without healpix_order", "hats names the folder of the HEALPix-partitioned copy; set healpix_order too.")
	}
}

// decodePrecision reads precision: "fp32" (the default, kept out of the
// params) or "bf16".
func decodePrecision(cfg config, p *Params, bad func(attr, summary, detail string)) {
	if cfg.Precision == nil {
		return
	}
	prec, err := model.ParsePrecision(*cfg.Precision)
	if err != nil || *cfg.Precision == "" {
		bad("precision", "Invalid precision", fmt.Sprintf(`precision is %q; want "fp32" (the default) or "bf16" (bfloat16 matrix products, on CPUs with AVX512_BF16).`, *cfg.Precision))
		return
	}
	if prec != model.FP32 {
		p.Precision = string(prec)
	}
}

// decodeExport checks the format and export attributes.
func decodeExport(cfg config, p *Params, bad func(attr, summary, detail string)) {
	if cfg.Formats == nil {
		if cfg.Export != nil {
			bad("export", "export without format", "export names the folder of the copies in other formats; set format too.")
		}
		return
	}
	seen := map[export.Format]bool{}
	for _, name := range cfg.Formats {
		f, err := export.ParseFormat(name)
		if err != nil {
			bad("format", "Invalid format", err.Error())
			continue
		}
		if seen[f] {
			bad("format", "Duplicate format", fmt.Sprintf("format lists %q twice.", name))
		}
		seen[f] = true
		p.Formats = append(p.Formats, string(f))
	}
	if len(cfg.Formats) == 0 {
		bad("format", "Empty format", `format lists the formats of the copies, e.g. ["fits", "votable", "csv"].`)
	}
	p.Export = p.Output + "_export"
	if cfg.Export != nil {
		p.Export = *cfg.Export
	}
	if p.Export == "" || p.Export == p.Output || p.Export == p.Input || p.Export == p.Model || p.Export == p.HATS {
		bad("export", "Invalid export", fmt.Sprintf("export is %q; it names a new folder for the copies.", p.Export))
	}
}

func (s *stage) Name() string { return s.name }
func (s *stage) Kind() string { return Kind }

// Revision is the revision of the predict stage's results (see
// pipeline.Revisioned); the predict command's catalogs share it.
const Revision = pipeline.DefaultRevision

func (s *stage) Revision() string { return Revision }
func (s *stage) Params() any      { return s.p }

func (s *stage) Inputs() []string {
	if s.p.Model != "" {
		return []string{s.p.Input, s.p.Model}
	}
	return []string{s.p.Input}
}

func (s *stage) Outputs() []string {
	out := []string{s.p.Output}
	if s.p.HEALPixOrder != nil {
		out = append(out, s.p.HATS)
	}
	if s.p.Formats != nil {
		out = append(out, s.p.Export)
	}
	return out
}

// Run predicts every row of the input, commits the catalog and, with
// healpix_order, its HATS layout, and with format, its copies.
func (s *stage) Run(ctx context.Context, env *pipeline.Env) error {
	in, err := table.OpenAs(env.Path(s.p.Input), schemas.Cutouts())
	if err != nil {
		return err
	}
	path := s.p.CheckpointFile
	if s.p.Model != "" {
		if path, err = CheckpointFile(env.Path(s.p.Model), s.p.Checkpoint); err != nil {
			return err
		}
	}
	m, err := LoadModel(path)
	if err != nil {
		return err
	}
	if s.p.CheckpointSHA256 != "" && m.SHA256 != s.p.CheckpointSHA256 {
		return fmt.Errorf("checkpoint %s changed since the job was loaded (SHA-256 %s, was %s)", path, m.SHA256, s.p.CheckpointSHA256)
	}
	pred, err := NewPredictor(m, Options{TTA: s.p.TTA, BatchSize: s.batchSize, Workers: s.workers, ClassNames: s.p.ClassNames, CropPct: s.p.CropPct, Embeddings: s.p.Embeddings,
		Precision: model.Precision(s.p.Precision), Log: env.Log})
	if err != nil {
		return err
	}
	extra := map[string]string{
		catalog.MetaJob:     env.Job,
		catalog.MetaCreated: time.Now().UTC().Format(time.RFC3339),
	}
	if s.p.HEALPixOrder != nil {
		extra[catalog.MetaHEALPixOrder] = strconv.Itoa(*s.p.HEALPixOrder)
	}
	bar := env.Progress.Bar(s.name, in.Rows())
	defer bar.Done()
	env.Log.Info("predicting", "input", s.p.Input, "rows", in.Rows(), "checkpoint", path, "variant", m.Meta.Variant,
		"tta", pred.Options().TTA, "batch_size", pred.Options().BatchSize, "workers", pred.Options().Workers,
		"precision", pred.Options().Precision)
	out := Output{Dir: env.Path(s.p.Output), Manifest: env.Manifest(s.p.Output), Metadata: extra, RowsPerPart: s.p.RowsPerPart}
	_, stats, err := WriteTable(ctx, pred, in, catalog.Shard{Count: 1}, out, bar.IncrBy)
	if err != nil {
		return err
	}
	summarize(env, s.name, s.p.Output, m, pred, stats)
	cat, err := table.Open(env.Path(s.p.Output))
	if err != nil {
		return err
	}
	if err := s.writeExports(ctx, env, cat); err != nil {
		return err
	}
	if s.p.HEALPixOrder == nil {
		return nil
	}
	res, err := catalog.WriteHATS(ctx, cat, env.Path(s.p.HATS), catalog.HATSOptions{
		Order: *s.p.HEALPixOrder, Name: s.p.Output, Manifest: env.Manifest(s.p.HATS),
	})
	if err != nil {
		return err
	}
	env.Summarize("  HATS layout %s: %d rows in %d partitions at order %d, %d without a position",
		s.p.HATS, res.Rows, res.Partitions, *s.p.HEALPixOrder, res.Unpositioned)
	return nil
}

// writeExports writes the copies of the catalog in the formats asked for.
func (s *stage) writeExports(ctx context.Context, env *pipeline.Env, cat *table.Table) error {
	if s.p.Formats == nil {
		return nil
	}
	formats := make([]export.Format, len(s.p.Formats))
	for i, f := range s.p.Formats {
		formats[i] = export.Format(f)
	}
	base := filepath.Base(filepath.Clean(s.p.Output))
	if err := export.WriteFolder(ctx, cat, env.Path(s.p.Export), base, formats, env.Manifest(s.p.Export)); err != nil {
		return err
	}
	files := make([]string, len(formats))
	for i, f := range formats {
		files[i] = base + f.Ext()
	}
	env.Summarize("  copies in %s: %s", s.p.Export, strings.Join(files, ", "))
	return nil
}

// summarize reports what was predicted, how and how fast.
func summarize(env *pipeline.Env, name, output string, m *Model, pred *Predictor, st Stats) {
	opt := pred.Options()
	sum := m.SHA256
	if len(sum) > 12 {
		sum = sum[:12]
	}
	env.Summarize("%s: %d cutouts → %s with %s %dx%d (%s, sha256 %s…), %d test-time view(s)",
		name, st.Rows+st.Resumed, output, m.Meta.Variant, m.Meta.ImageH, m.Meta.ImageW, filepath.Base(m.Path), sum, opt.TTA)
	line := fmt.Sprintf("  %.1f cutouts/s (%.1f images/s) over %s, batch %d, %d workers",
		st.CutoutsPerSecond(), st.CutoutsPerSecond()*float64(opt.TTA), st.Elapsed.Round(time.Millisecond), opt.BatchSize, opt.Workers)
	if opt.Precision != model.FP32 {
		line += ", precision " + string(opt.Precision)
	}
	if st.Resumed > 0 {
		line += fmt.Sprintf("; %d rows kept from an interrupted run", st.Resumed)
	}
	env.Summarize("%s", line)
}
