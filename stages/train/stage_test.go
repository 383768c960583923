package train

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/model"
	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/internal/decl/decltest"
	"github.com/astroformer/astroformer/stages/train/internal/fixture"
	"github.com/astroformer/astroformer/stages/train/loader"
	"github.com/astroformer/astroformer/table"
)

func decode(t *testing.T, src string) (pipeline.Stage, hcl.Diagnostics) {
	return decltest.Decode(t, Decode, "train", src)
}

func TestDecode(t *testing.T) {
	s := decltest.MustDecode(t, Decode, "train", "input = \"cutouts_split\"\noutput = \"model\"")
	p := s.Params().(Settings)
	want, _ := Preset(DefaultPreset)
	if p.Variant != want.Variant || p.Epochs != want.Epochs || p.LR != want.LR || p.Metrics != "model_metrics" ||
		p.Policy.Height != 64 || p.Policy.MixupAlpha != 0 || p.Policy.LabelSmoothing != 0.1 || p.Normalize != NormalizeDataset {
		t.Errorf("defaults: %+v", p)
	}
	if got := s.Outputs(); !slices.Equal(got, []string{"model", "model_metrics"}) || !slices.Equal(s.Inputs(), []string{"cutouts_split"}) {
		t.Errorf("Inputs %q, Outputs %q", s.Inputs(), got)
	}

	s = decltest.MustDecode(t, Decode, "train", `
input = "c"
output = "m"
metrics = "curves"
preset = "galaxy10"
image_size = 128
batch_size = 64
accumulate = 2
betas = [0.9, 0.99]
ema = true
balance = "sqrt_inverse"
workers = 3
checkpoint_steps = 50
policy {
  mixup_alpha = 0
  rotate_degrees = 30
}`)
	p = s.Params().(Settings)
	if p.Variant != "astroformer_0" || p.ImageSize != 128 || p.Policy.Height != 128 || p.Policy.Width != 128 ||
		p.Policy.MixupAlpha != 0 || p.Policy.RotateDegrees != 30 || p.Policy.LabelSmoothing != 0.1 ||
		p.Betas != [2]float64{0.9, 0.99} || !p.EMA || p.Balance != "sqrt_inverse" || p.Metrics != "curves" {
		t.Errorf("decoded %+v", p)
	}
	if st := s.(*stage); st.exec.workers != 3 || st.exec.checkpointSteps != 50 {
		t.Errorf("execution knobs %+v", st.exec)
	}
	// lr 2e-5 at batch 256, sqrt-scaled to 128.
	if got := p.PeakLR(); math.Abs(got-2e-5*math.Sqrt(0.5)) > 1e-12 {
		t.Errorf("peak lr %g", got)
	}

	base := "input = \"c\"\noutput = \"m\"\n"
	decltest.CheckDiagnostics(t, Decode, "train", []decltest.Case{
		{Src: `output = "m"`, Summary: "Missing required argument", Line: 1},
		{Src: base + `preset = "gpu"`, Summary: "Unknown preset", Line: 3},
		{Src: base + `variant = "astroformer_9"`, Summary: "Unknown variant", Line: 3},
		{Src: base + `image_size = 48`, Summary: "Invalid image_size", Line: 3},
		{Src: base + `epochs = 0`, Summary: "Invalid epochs", Line: 3},
		{Src: base + `warmup_epochs = 8`, Summary: "Invalid warmup_epochs", Line: 3},
		{Src: base + `lr = -1`, Summary: "Invalid lr", Line: 3},
		{Src: base + `betas = [0.9]`, Summary: "Invalid betas", Line: 3},
		{Src: base + `dropout = 1`, Summary: "Invalid dropout", Line: 3},
		{Src: base + `balance = "oversample"`, Summary: "Invalid balance", Line: 3},
		{Src: base + `normalize = "imagenet"`, Summary: "Invalid normalize", Line: 3},
		{Src: base + `workers = 0`, Summary: "Invalid workers", Line: 3},
		{Src: base + `metrics = "c"`, Summary: "Output overwrites input", Line: 2},
		{Src: base + "policy {\n  height = 32\n}", Summary: "Image size set in the policy", Line: 4},
		{Src: base + "policy {\n  hflip = 2\n}", Summary: "Invalid policy", Line: 3},
		{Src: base + "policy {\n  colour = 1\n}", Summary: "Unsupported argument", Line: 4},
	})
}

// tiny is a network small enough to train in the tests.
func tiny() *model.Config {
	return &model.Config{Name: "test_tiny", Dims: [4]int{8, 16, 16, 32}, Depths: [4]int{1, 1, 1, 1}, StemWidth: 8, HeadHidden: 16}
}

// baseConfig trains the tiny network on 32x32 fixture images: 12 steps per
// epoch of 96 train rows, 3 epochs.
const baseConfig = `
input         = "cutouts"
output        = "model"
image_size    = 32
epochs        = 3
batch_size    = 8
lr            = 5e-3
warmup_epochs = 1
dropout       = 0.1
drop_path     = 0.1
workers       = 2
eval_batch_size = 8
`

// merge returns base with the attribute lines of override replacing those
// of the same name, and the other lines of override appended.
func merge(base, override string) string {
	name := func(line string) string {
		n, _, ok := strings.Cut(line, "=")
		if !ok || strings.ContainsAny(n, "{}") {
			return ""
		}
		return strings.TrimSpace(n)
	}
	set := map[string]bool{}
	for _, line := range strings.Split(override, "\n") {
		if n := name(line); n != "" {
			set[n] = true
		}
	}
	var out []string
	for _, line := range strings.Split(base, "\n") {
		if !set[name(line)] {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n") + "\n" + override
}

// workdir writes the fixture cutouts table into a new workdir.
func workdir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	fixture.Cutouts(t, filepath.Join(dir, "cutouts"), fixture.Options{Train: 96, Val: 24, Test: 3, RowsPerPart: 50, Seed: 3})
	return dir
}

// newRun decodes config (appended to baseConfig) into a stage on the tiny
// network with an Env for dir.
func newRun(t *testing.T, dir, config string) (*stage, *pipeline.Env) {
	t.Helper()
	ps := decltest.MustDecode(t, Decode, "train", merge(baseConfig, config))
	s := ps.(*stage)
	s.config = tiny()
	p, err := pipeline.CanonicalJSON(s.Params())
	if err != nil {
		t.Fatal(err)
	}
	m, err := artifact.ReadManifest(filepath.Join(dir, "cutouts"))
	if err != nil {
		t.Fatal(err)
	}
	inputs := []pipeline.Input{{Name: "cutouts", Fingerprint: m.Fingerprint}}
	return s, &pipeline.Env{
		Log: hclog.NewNullLogger(), Workdir: dir, Job: "test", Seed: 11,
		Fingerprint: pipeline.Fingerprint(Kind, s.Name(), p, 11, inputs, "test"),
		Stage:       s.Name(), Kind: Kind, Params: p, Producer: "test",
	}
}

// tensors reads every tensor of a checkpoint.
func tensors(t *testing.T, path string) (map[string][]float32, model.Meta) {
	t.Helper()
	sd, meta, err := model.ReadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	defer sd.Close()
	out := map[string][]float32{}
	for _, name := range sd.Names() {
		if out[name], err = sd.Float32(name); err != nil {
			t.Fatal(err)
		}
	}
	return out, meta
}

// sameTensors reports the first tensor that differs bit for bit.
func sameTensors(a, b map[string][]float32) (string, bool) {
	if len(a) != len(b) {
		return "tensor count", false
	}
	for name, x := range a {
		y, ok := b[name]
		if !ok || len(x) != len(y) {
			return name, false
		}
		for i := range x {
			if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
				return name, false
			}
		}
	}
	return "", true
}

// metrics reads the metrics table: "scope/name/epoch" → value.
func metrics(t *testing.T, dir string) map[string]float64 {
	t.Helper()
	tab, err := table.OpenAs(dir, schemas.Metrics())
	if err != nil {
		t.Fatal(err)
	}
	sc := tab.Scan(context.Background(), table.ScanOptions{Columns: []string{"scope", "epoch", "step", "name", "value"}})
	defer sc.Close()
	out := map[string]float64{}
	for sc.Next() {
		rec := sc.Record()
		scope, epoch := rec.Column(0).(*array.String), rec.Column(1).(*array.Int32)
		step, name, value := rec.Column(2).(*array.Int64), rec.Column(3).(*array.String), rec.Column(4).(*array.Float64)
		for i := range int(rec.NumRows()) {
			if epoch.IsNull(i) || step.IsNull(i) {
				t.Errorf("row %d has no epoch or step", i)
			}
			out[scope.Value(i)+"/"+name.Value(i)+"/"+string(rune('0'+epoch.Value(i)))] = value.Value(i)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// reproducible drops the timing metrics, which differ between runs.
func reproducible(m map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		if !strings.Contains(k, "images_per_sec") && !strings.Contains(k, "data_wait_fraction") {
			out[k] = v
		}
	}
	return out
}

func run(t *testing.T, s *stage, env *pipeline.Env) {
	t.Helper()
	if err := s.Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
}

// TestRun trains for 3 epochs and checks the outputs: the model folder,
// the metrics table, the normalisation recorded in the checkpoint, and that
// the state folder is gone.
func TestRun(t *testing.T) {
	dir := workdir(t)
	s, env := newRun(t, dir, `
ema       = true
ema_decay = 0.9
policy {
  mean = [0.1, 0.2, 0.3]
  std  = [0.5, 0.6, 0.7]
}
normalize = "policy"
`)
	run(t, s, env)

	model := filepath.Join(dir, "model")
	m, err := artifact.ReadManifest(model)
	if err != nil || m.Format != artifact.ModelFormat || m.Fingerprint != env.Fingerprint {
		t.Fatalf("model manifest %+v, %v", m, err)
	}
	for _, f := range []string{ModelFile, BestFile, ModelEMAFile, BestEMAFile, CurvesFile, PolicyFile} {
		if info, err := os.Stat(filepath.Join(model, f)); err != nil || info.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	final, meta := tensors(t, filepath.Join(model, ModelFile))
	if !slices.Equal(meta.Normalize.Mean, []float32{0.1, 0.2, 0.3}) || !slices.Equal(meta.Normalize.Std, []float32{0.5, 0.6, 0.7}) {
		t.Errorf("checkpoint normalisation %+v, want the policy's", meta.Normalize)
	}
	if !slices.Equal(meta.ClassNames, fixture.ClassNames()) || meta.ImageH != 32 || meta.InChans != 3 || meta.Classes != 3 ||
		meta.Provenance["epoch"] != "3" || meta.Provenance["step"] != "36" || meta.Provenance["crop_pct"] == "" {
		t.Errorf("checkpoint meta %+v", meta)
	}
	ema, _ := tensors(t, filepath.Join(model, ModelEMAFile))
	if _, same := sameTensors(final, ema); same {
		t.Error("the EMA weights equal the final weights")
	}
	if _, _, err := loadable(filepath.Join(model, BestFile)); err != nil {
		t.Error(err)
	}

	got := metrics(t, filepath.Join(dir, "model_metrics"))
	for _, key := range []string{"train/loss", "train/lr", "train/grad_norm", "train/images_per_sec", "train/data_wait_fraction",
		"val/loss", "val/top1", "val_ema/loss", "val_ema/top1"} {
		for e := 1; e <= 3; e++ {
			k := key + "/" + string(rune('0'+e))
			if v, ok := got[k]; !ok || math.IsNaN(v) {
				t.Errorf("metric %s = %v, %v", k, v, ok)
			}
		}
	}
	if f := got["train/data_wait_fraction/3"]; f < 0 || f > 1 {
		t.Errorf("data wait fraction %g", f)
	}
	if got["val/top1/3"] < 0.5 {
		t.Errorf("val top-1 after 3 epochs %.3f; chance is 0.33 and the fixture is easy", got["val/top1/3"])
	}

	var rec Record
	data, err := os.ReadFile(filepath.Join(model, PolicyFile))
	if err == nil {
		err = json.Unmarshal(data, &rec)
	}
	if err != nil || rec.Steps != 36 || rec.Best == nil || !slices.Equal(rec.Policy.Mean, []float64{0.1, 0.2, 0.3}) {
		t.Errorf("policy.json %+v, %v", rec, err)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, StateDir)); len(entries) != 0 {
		t.Errorf("state left behind: %v", entries)
	}
}

// loadable loads a checkpoint as a network and runs it.
func loadable(path string) (*model.Net, model.Meta, error) {
	net, meta, err := model.Load(path, model.LoadOptions{})
	if err != nil {
		return nil, meta, err
	}
	_, err = net.Forward(make([]float32, 3*32*32), 1)
	return net, meta, err
}

// TestResumeIsExact interrupts a run after half its steps, resumes it with
// another worker count and GOMAXPROCS, and compares with an uninterrupted
// run bit for bit. The uninterrupted run is the determinism check too: its
// metrics must equal those of the resumed run.
func TestResumeIsExact(t *testing.T) {
	// Every piece of state and every random stream: dataset
	// normalisation, class weights, gradient accumulation, EMA weights,
	// dropout and stochastic depth (baseConfig), Mixup, a mid-epoch
	// checkpoint.
	const config = `
policy {
  mixup_alpha = 0.4
}
checkpoint_steps = 4
normalize        = "dataset"
balance          = "inverse"
batch_size       = 4
accumulate       = 2
ema              = true
`
	dirA := workdir(t)
	a, envA := newRun(t, dirA, config)
	run(t, a, envA)

	dirB := workdir(t)
	b, envB := newRun(t, dirB, config+"workers = 1\n")
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	ctx, cancel := context.WithCancel(context.Background())
	b.afterStep = func(step int) {
		if step == 15 { // mid-epoch, not on a checkpoint_steps boundary
			cancel()
		}
	}
	err := b.Run(ctx, envB)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "step 15") {
		t.Fatalf("interrupted run: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dirB, "model")); err == nil {
		t.Fatal("an interrupted run committed its output")
	}
	var st state
	data, err := os.ReadFile(filepath.Join(dirB, StateDir, "train-"+envB.Fingerprint[:12], checkpointFolder, stateFile))
	if err == nil {
		err = json.Unmarshal(data, &st)
	}
	if err != nil || st.Step != 15 || st.Epoch != 1 || st.Batch != 6 {
		t.Fatalf("checkpoint state %+v, %v; want step 15, epoch 1, batch 6", st, err)
	}
	var resumedAt []int
	b.afterStep = func(step int) { resumedAt = append(resumedAt, step) }
	run(t, b, envB)
	if len(resumedAt) != 21 || resumedAt[0] != 16 {
		t.Errorf("resumed run took steps %v, want 16 to 36", resumedAt)
	}

	for _, f := range []string{ModelFile, BestFile, ModelEMAFile, BestEMAFile} {
		wa, meta := tensors(t, filepath.Join(dirA, "model", f))
		wb, _ := tensors(t, filepath.Join(dirB, "model", f))
		if name, same := sameTensors(wa, wb); !same {
			t.Errorf("%s: %s differs between the uninterrupted and the resumed run", f, name)
		}
		if m := meta.Normalize.Mean; len(m) != 3 || !(m[0] > 0.05 && m[0] < 0.3) || !slices.Equal(m, st.mean32()) {
			t.Errorf("%s: normalisation %v, want the training images' %v", f, meta.Normalize, st.Mean)
		}
	}
	ma, mb := reproducible(metrics(t, filepath.Join(dirA, "model_metrics"))), reproducible(metrics(t, filepath.Join(dirB, "model_metrics")))
	if len(ma) == 0 || len(ma) != len(mb) {
		t.Fatalf("%d and %d metrics", len(ma), len(mb))
	}
	for k, v := range ma {
		if mb[k] != v {
			t.Errorf("metric %s: %v uninterrupted, %v resumed", k, v, mb[k])
		}
	}
}

// TestNaNStops injects a NaN pixel at step 5: the run stops with an error
// naming the step, the checkpoint of step 4 stays, nothing is committed.
func TestNaNStops(t *testing.T) {
	dir := workdir(t)
	s, env := newRun(t, dir, "checkpoint_steps = 2\nnormalize = \"policy\"\n")
	s.beforeStep = func(step int, b *loader.Batch) {
		if step == 5 {
			b.X[0] = float32(math.NaN())
		}
	}
	err := s.Run(context.Background(), env)
	var se *stepError
	if !errors.As(err, &se) || se.step != 5 || !strings.Contains(err.Error(), "step 5 (epoch 1, batch 5)") ||
		!strings.Contains(err.Error(), "last good checkpoint (step 4)") {
		t.Fatalf("error %v, want a stepError naming step 5 and the checkpoint of step 4", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "model")); err == nil {
		t.Error("a failed run committed its output")
	}
	ckpt := filepath.Join(dir, StateDir, "train-"+env.Fingerprint[:12], checkpointFolder)
	w, meta := tensors(t, filepath.Join(ckpt, weightsFile))
	if meta.Provenance["step"] != "4" {
		t.Errorf("kept checkpoint is of step %s, want 4", meta.Provenance["step"])
	}
	for name, v := range w {
		for _, x := range v {
			if math.IsNaN(float64(x)) {
				t.Fatalf("checkpoint tensor %s holds NaN", name)
			}
		}
	}
}

// TestHugeLRStops diverges on purpose; whatever blows up first, the error
// names the step.
func TestHugeLRStops(t *testing.T) {
	dir := workdir(t)
	s, env := newRun(t, dir, "lr = 1e6\nwarmup_epochs = 0\nclip_grad = 0\nnormalize = \"policy\"\nepochs = 1\nabort_grad_norm = 1e3\n")
	err := s.Run(context.Background(), env)
	if err == nil || !strings.Contains(err.Error(), "train: ") || !strings.Contains(err.Error(), "step ") {
		t.Fatalf("error %v, want one naming the step", err)
	}
	t.Log(err)
}

func (st *state) mean32() []float32 {
	m := make([]float32, len(st.Mean))
	for i, v := range st.Mean {
		m[i] = float32(v)
	}
	return m
}
