package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/hashicorp/go-hclog"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/catalog"
	"github.com/astroformer/astroformer/internal/progress"
	"github.com/astroformer/astroformer/model"
	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/predict"
	"github.com/astroformer/astroformer/table"
)

func predictCommand() command {
	return command{
		name:    "predict",
		args:    "--model MODEL --input CUTOUTS --output CATALOG [flags]",
		summary: "run a checkpoint over a cutouts table and write the catalog",
		run:     (*cli).predict,
	}
}

const predictDescription = `
Predict runs a checkpoint over every cutout of a table, labelled or not, and
writes the catalog table: identity and truth columns, the predicted class,
its confidence, one probability column per class and the entropy; with
--tta N the probabilities are averaged over N dihedral views and their
standard deviations added; --embeddings adds each cutout's embedding.
MODEL is a train stage's output folder (the checkpoint its select
attribute names, else best.safetensors, else model.safetensors; see
--checkpoint) or a .safetensors file.

With --format arrow the catalog is streamed to standard output as an Arrow
IPC stream instead of being written to disk, e.g.

  astroformer predict --model runs/demo/model --input runs/demo/cutouts --format arrow | other-tool

Scale-out: --shard I/N predicts the I-th of N contiguous, disjoint row ranges
and writes CATALOG.shards/shard-IIII-of-NNNN; "astroformer catalog merge
CATALOG" joins them once all N are done. The shard is also read from a Slurm
job array (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_COUNT)
or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, with --shards N or
ASTROFORMER_SHARDS); --shard off ignores them.

A killed or interrupted run keeps the input chunks it finished; running the
same command again resumes. --healpix-order K also writes CATALOG_hats, a
HATS layout partitioned by HEALPix pixel at order K (sharded runs: at merge).
`

// predictFlags are the settings of one predict command.
type predictFlags struct {
	model, checkpoint, input, output, format string
	shard                                    string
	shards                                   int
	tta, batch, workers                      int
	cropPct                                  float64
	embeddings                               bool
	healpixOrder                             int
	rowsPerPart                              int64
	precision                                string
	takeoverWait                             time.Duration
	log                                      logFlags
}

func (f *predictFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.model, "model", "", "train stage output `FOLDER`, or a .safetensors file (required)")
	fs.StringVar(&f.checkpoint, "checkpoint", "", "`NAME` of the checkpoint in the model folder: best, model, best_ema (default: the one the folder names, else best, else model)")
	fs.StringVar(&f.input, "input", "", "cutouts table `FOLDER` (required)")
	fs.StringVar(&f.output, "output", "", "catalog table `FOLDER` to write (required unless --format arrow)")
	fs.StringVar(&f.format, "format", "parquet", "`FORMAT` of the catalog: parquet (a table folder) or arrow (an IPC stream on standard output)")
	fs.BoolVar(&f.embeddings, "embeddings", false, "add the embedding column: each cutout's pooled pre-logits representation, for similarity search")
	fs.IntVar(&f.tta, "tta", 1, "test-time views averaged per cutout, `N` = 1 (none) to 8")
	fs.IntVar(&f.batch, "batch", predict.DefaultBatchSize, "`N` cutouts per forward pass")
	fs.IntVar(&f.workers, "workers", 0, "`N` preprocessing goroutines (default: the number of CPUs)")
	fs.Float64Var(&f.cropPct, "crop-pct", 0, "evaluation centre crop, a `FRACTION` in (0, 1] (default: the checkpoint's, else 1)")
	fs.IntVar(&f.healpixOrder, "healpix-order", -1, "also write <output>_hats, partitioned by HEALPix pixel at `ORDER` 0-29; -1 for none")
	fs.StringVar(&f.shard, "shard", "", "predict shard `I/N` of the input only (off: ignore Slurm and Kubernetes variables)")
	fs.IntVar(&f.shards, "shards", 0, "shard `COUNT` for a Kubernetes Indexed Job (else ASTROFORMER_SHARDS)")
	fs.Int64Var(&f.rowsPerPart, "rows-per-part", 0, "`N` rows per output part file (default 16384)")
	fs.StringVar(&f.precision, "precision", "fp32", "`PRECISION` of the model's matrix products: fp32, or bf16 (faster, on CPUs with AVX512_BF16; falls back to fp32 with a warning elsewhere)")
	fs.DurationVar(&f.takeoverWait, "takeover-wait", 0, "when the output's staging folder belongs to a process on another host, wait up to `DURATION` for it to\ngo silent and take it over (a requeued Slurm task; see docs/scale-out.md); 0 fails at once")
	f.log.register(fs)
}

// check validates the flags and works out the shard.
func (f *predictFlags) check(getenv func(string) string) (catalog.Shard, error) {
	whole := catalog.Shard{Count: 1}
	switch {
	case f.model == "":
		return whole, errors.New("--model is required")
	case f.input == "":
		return whole, errors.New("--input is required")
	case f.format != "parquet" && f.format != "arrow":
		return whole, fmt.Errorf("--format %q: want parquet or arrow", f.format)
	case f.format == "parquet" && f.output == "":
		return whole, errors.New("--output is required (or stream with --format arrow)")
	case f.format == "arrow" && f.output != "":
		return whole, errors.New("--format arrow writes to standard output; drop --output")
	case f.format == "arrow" && f.healpixOrder >= 0:
		return whole, errors.New("--healpix-order needs a table on disk, not --format arrow")
	case f.tta < 1 || f.tta > predict.MaxTTA:
		return whole, fmt.Errorf("--tta %d: want 1 to %d", f.tta, predict.MaxTTA)
	case f.batch < 1:
		return whole, fmt.Errorf("--batch %d: want at least 1", f.batch)
	case f.workers < 0:
		return whole, fmt.Errorf("--workers %d: want at least 1", f.workers)
	case f.cropPct != 0 && !(f.cropPct > 0 && f.cropPct <= 1):
		return whole, fmt.Errorf("--crop-pct %g: want a fraction in (0, 1]", f.cropPct)
	case f.healpixOrder < -1 || f.healpixOrder > catalog.MaxOrder:
		return whole, fmt.Errorf("--healpix-order %d: want 0 to %d, or -1 for none", f.healpixOrder, catalog.MaxOrder)
	case f.shards < 0:
		return whole, fmt.Errorf("--shards %d: want a positive count", f.shards)
	case f.rowsPerPart < 0:
		return whole, fmt.Errorf("--rows-per-part %d: want a positive count", f.rowsPerPart)
	case f.takeoverWait < 0:
		return whole, fmt.Errorf("--takeover-wait %v: want a duration of 0 or more", f.takeoverWait)
	case f.precision != string(model.FP32) && f.precision != string(model.BF16):
		return whole, fmt.Errorf("--precision %q: want fp32 or bf16", f.precision)
	}
	if err := f.log.check(); err != nil {
		return whole, err
	}
	switch f.shard {
	case "off":
		return whole, nil
	case "":
		s, found, err := catalog.ShardFromEnv(getenv, f.shards)
		if err != nil {
			return whole, err
		}
		if !found {
			if f.shards != 0 {
				return whole, fmt.Errorf("--shards %d without a shard index: give --shard I/%d, or run as a Kubernetes Indexed Job", f.shards, f.shards)
			}
			return whole, nil
		}
		return s, nil
	}
	s, err := catalog.ParseShard(f.shard)
	if err != nil {
		return whole, err
	}
	if f.shards != 0 && f.shards != s.Count {
		return whole, fmt.Errorf("--shards %d disagrees with --shard %s", f.shards, s)
	}
	return s, nil
}

func (c *cli) predict(ctx context.Context, args []string) int {
	fs := c.flagSet(predictCommand(), predictDescription)
	var f predictFlags
	f.register(fs)
	pos, status, ok := parse(fs, args)
	if !ok {
		return status
	}
	if len(pos) != 0 {
		return usageError(fs, "takes no arguments besides flags, got %q", pos)
	}
	shard, err := f.check(os.Getenv)
	if err != nil {
		return usageError(fs, "%v", err)
	}
	bars := progress.New(c.stderr)
	defer bars.Close()
	log := f.log.logger(c.stderr, bars).Named("predict")
	report := c.stdout
	if f.format == "arrow" {
		report = c.stderr // standard output carries the stream
	}
	if err := c.runPredict(ctx, &f, shard, bars, log, report); err != nil {
		bars.Close()
		if errors.Is(err, context.Canceled) {
			if f.format == "arrow" {
				fmt.Fprintf(c.stderr, "astroformer predict: interrupted; the stream is incomplete\n")
			} else {
				fmt.Fprintf(c.stderr, "astroformer predict: interrupted; finished input chunks are kept, the same command resumes\n")
			}
			return exitInterrupted
		}
		fmt.Fprintf(c.stderr, "astroformer predict: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// runPredict does the work of the predict command.
func (c *cli) runPredict(ctx context.Context, f *predictFlags, shard catalog.Shard, bars *progress.Group, log hclog.Logger, report io.Writer) error {
	in, err := table.OpenAs(f.input, schemas.Cutouts())
	if err != nil {
		return err
	}
	path, err := predict.CheckpointFile(f.model, f.checkpoint)
	if err != nil {
		return err
	}
	m, err := predict.LoadModel(path)
	if err != nil {
		return err
	}
	pred, err := predict.NewPredictor(m, predict.Options{TTA: f.tta, BatchSize: f.batch, Workers: f.workers, CropPct: f.cropPct, Embeddings: f.embeddings,
		Precision: model.Precision(f.precision), Log: log})
	if err != nil {
		return err
	}
	lo, hi := shard.Rows(in.Rows())
	bar := bars.Bar("predict", hi-lo)
	defer bar.Done()
	log.Info("predicting", "input", f.input, "rows", hi-lo, "shard", shard.String(), "checkpoint", path,
		"variant", m.Meta.Variant, "tta", f.tta, "batch", f.batch, "workers", pred.Options().Workers,
		"precision", pred.Options().Precision)

	extra := map[string]string{
		catalog.MetaJob:     "cli",
		catalog.MetaCreated: time.Now().UTC().Format(time.RFC3339),
	}
	if f.healpixOrder >= 0 {
		extra[catalog.MetaHEALPixOrder] = strconv.Itoa(f.healpixOrder)
	}
	if f.format == "arrow" {
		schema := pred.Schema()
		md := predict.Metadata(pred, in, shard, extra)
		w := ipc.NewWriter(c.stdout, ipc.WithSchema(withMetadata(schema, md)))
		st, err := pred.Run(ctx, in, shard, w, bar.IncrBy)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("%w; the Arrow stream on standard output is incomplete", err)
		}
		if err != nil {
			return err
		}
		writeStats(report, st, pred, "standard output (Arrow IPC stream)")
		return nil
	}

	header, err := predictManifest(f, in, m)
	if err != nil {
		return err
	}
	dir := f.output
	if shard.Sharded() {
		dir = catalog.ShardDir(f.output, shard)
	}
	out := predict.Output{Dir: dir, Manifest: header, Metadata: extra, RowsPerPart: f.rowsPerPart}
	_, st, err := writeTable(ctx, pred, in, shard, out, bar.IncrBy, f.takeoverWait, log)
	if err != nil {
		return err
	}
	writeStats(report, st, pred, dir)
	if shard.Sharded() {
		fmt.Fprintf(report, "shard %s done; once all %d are, run: astroformer catalog merge %s\n", shard, shard.Count, f.output)
		return nil
	}
	if f.healpixOrder >= 0 {
		return writeHATS(ctx, report, f.output, f.healpixOrder, header.Producer)
	}
	return nil
}

// predictManifest returns the manifest header of the catalog. Its
// fingerprint depends on the input's fingerprint, the checkpoint's SHA-256
// and every flag that changes the output, but neither on the shard nor on
// how the paths are spelt, so that all the shards of a run share it.
func predictManifest(f *predictFlags, in *table.Table, m *predict.Model) (artifact.Manifest, error) {
	output := filepath.Base(filepath.Clean(f.output))
	p := predict.Params{
		Input: filepath.Base(in.Dir()), Output: output, CheckpointSHA256: m.SHA256,
		TTA: f.tta, CropPct: f.cropPct, RowsPerPart: f.rowsPerPart,
	}
	if f.precision != string(model.FP32) {
		p.Precision = f.precision
	}
	if f.healpixOrder >= 0 {
		p.HEALPixOrder = &f.healpixOrder
		p.HATS = output + "_hats"
	}
	params, err := pipeline.CanonicalJSON(p)
	if err != nil {
		return artifact.Manifest{}, err
	}
	inputs := []pipeline.Input{{Name: filepath.Base(in.Dir()), Fingerprint: in.Manifest().Fingerprint}}
	return artifact.Manifest{
		Name:        output,
		Stage:       "predict",
		Kind:        predict.Kind,
		Fingerprint: pipeline.Fingerprint(predict.Kind, "predict", params, 0, inputs, predict.Revision),
		Params:      params,
		Producer:    pipeline.Version(),
		Created:     time.Now().UTC(),
	}, nil
}

func writeStats(w io.Writer, st predict.Stats, pred *predict.Predictor, dest string) {
	opt := pred.Options()
	fmt.Fprintf(w, "predicted %d cutouts into %s: %.1f cutouts/s (%.1f images/s with %d view(s)) in %s, batch %d, %d workers\n",
		st.Rows+st.Resumed, dest, st.CutoutsPerSecond(), st.CutoutsPerSecond()*float64(opt.TTA), opt.TTA,
		st.Elapsed.Round(time.Millisecond), opt.BatchSize, opt.Workers)
	if st.Resumed > 0 {
		fmt.Fprintf(w, "  %d rows were kept from an interrupted run\n", st.Resumed)
	}
}

// writeHATS writes the HATS layout of the committed catalog output into
// <output>_hats.
func writeHATS(ctx context.Context, report io.Writer, output string, order int, producer string) error {
	cat, err := table.Open(output)
	if err != nil {
		return err
	}
	dir := filepath.Clean(output) + "_hats"
	res, err := catalog.WriteHATS(ctx, cat, dir, catalog.HATSOptions{
		Order: order,
		Name:  filepath.Base(filepath.Clean(output)),
		Manifest: artifact.Manifest{
			Name: filepath.Base(dir), Stage: "predict", Kind: predict.Kind,
			Fingerprint: cat.Manifest().Fingerprint, Producer: producer, Created: time.Now().UTC(),
		},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(report, "HATS layout %s: %d rows in %d partitions at order %d, %d without a position (in %s)\n",
		dir, res.Rows, res.Partitions, order, res.Unpositioned, catalog.HATSUnpositioned)
	return nil
}

// withMetadata returns schema with md added to its schema-level metadata,
// which the Arrow IPC stream carries in its header.
func withMetadata(schema *arrow.Schema, md map[string]string) *arrow.Schema {
	all := maps.Clone(md)
	old := schema.Metadata()
	for i, k := range old.Keys() {
		all[k] = old.Values()[i]
	}
	keys := slices.Sorted(maps.Keys(all))
	values := make([]string, len(keys))
	for i, k := range keys {
		values[i] = all[k]
	}
	meta := arrow.NewMetadata(keys, values)
	return arrow.NewSchema(schema.Fields(), &meta)
}

// writeTable is predict.WriteTable that, while the output's staging folder
// belongs to a process on another host, waits for that owner to go silent
// for artifact.Lease and takes the folder over, for up to wait in all.
func writeTable(ctx context.Context, pred *predict.Predictor, in *table.Table, shard catalog.Shard, out predict.Output,
	progress func(int), wait time.Duration, log hclog.Logger) (*table.Manifest, predict.Stats, error) {
	start := time.Now()
	for {
		m, st, err := predict.WriteTable(ctx, pred, in, shard, out, progress)
		var busy *artifact.InUseError
		if !errors.As(err, &busy) || !busy.Remote || wait == 0 {
			return m, st, err
		}
		pause := busy.TakeoverIn() + time.Second
		if waited := time.Since(start); waited+pause > wait {
			return m, st, fmt.Errorf("%w (gave up after %v: --takeover-wait is %v)", err, waited.Round(time.Second), wait)
		}
		log.Info("output staging folder belongs to a process on another host; waiting for it to go silent",
			"staging", busy.Staging, "owner", fmt.Sprintf("%d@%s", busy.PID, busy.Host), "silent_for", busy.Silence.Round(time.Second),
			"takeover_in", pause.Round(time.Second))
		select {
		case <-ctx.Done():
			return nil, predict.Stats{}, ctx.Err()
		case <-time.After(pause):
		}
	}
}
