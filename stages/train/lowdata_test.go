package train

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/model"
	"github.com/astroformer/astroformer/model/modeltest"
	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/stages/internal/decl/decltest"
	"github.com/astroformer/astroformer/stages/internal/modelfolder"
	"github.com/astroformer/astroformer/stages/train/internal/fixture"
	"github.com/astroformer/astroformer/stages/train/loader"
)

func TestDecodeSelectionAndFineTuning(t *testing.T) {
	base := "input = \"c\"\noutput = \"m\"\n"
	s := decltest.MustDecode(t, Decode, "train", base+"init_from = \"pre\"\nfreeze = 2\nlayer_decay = 0.75\nselect = \"best\"\nnormalize = \"checkpoint\"")
	p := s.Params().(Settings)
	if p.InitFrom != "pre" || *p.Freeze != 2 || p.LayerDecay != 0.75 || p.Select != SelectBest || p.Normalize != NormalizeCheckpoint {
		t.Errorf("decoded %+v", p)
	}
	if got := s.Inputs(); len(got) != 2 || got[1] != "pre" {
		t.Errorf("Inputs %q: want the pretrained model folder as an input", got)
	}
	if s, _ := decode(t, base); s.Params().(Settings).Select != SelectLast {
		t.Errorf("default select %q", s.Params().(Settings).Select)
	}
	decltest.CheckDiagnostics(t, Decode, "train", []decltest.Case{
		{Src: base + `select = "first"`, Summary: "Invalid select", Line: 3},
		{Src: base + `select = "best_ema"`, Summary: "Select without an EMA", Line: 3},
		{Src: base + "init_from = \"p\"\nfreeze = 5", Summary: "Invalid freeze", Line: 4},
		{Src: base + `freeze = 1`, Summary: "Freeze without pretrained weights", Line: 3},
		{Src: base + "init_from = \"p\"\nlayer_decay = 1.5", Summary: "Invalid layer_decay", Line: 4},
		{Src: base + `normalize = "checkpoint"`, Summary: "No checkpoint to normalise as", Line: 3},
		{Src: base + `init_from = "no/such.safetensors"`, Summary: "Unreadable init_from", Line: 3},
		{Src: base + `init_from = "./pretrained"`, Summary: "Unreadable init_from", Line: 3},
		{Src: base + `init_from = ""`, Summary: "Empty init_from", Line: 3},
		{Src: base + `init_from = "m"`, Summary: "Output overwrites input", Line: 2},
	})
}

// TestNoValSplit trains on a table without val rows: it trains on every
// train row, keeps the last epoch, names it in the manifest and writes no
// best checkpoint; asking for the best epoch is refused before training.
func TestNoValSplit(t *testing.T) {
	dir := t.TempDir()
	fixture.Cutouts(t, filepath.Join(dir, "cutouts"), fixture.Options{Train: 96, Seed: 3})
	s, env := newRun(t, dir, "epochs = 2")
	run(t, s, env)
	m, err := artifact.ReadManifest(filepath.Join(dir, "model"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Metadata[modelfolder.MetaSelected] != ModelFile || m.Metadata["best_epoch"] != "" {
		t.Errorf("manifest metadata %v: want the last epoch selected and no best epoch", m.Metadata)
	}
	if _, err := os.Stat(filepath.Join(dir, "model", BestFile)); !os.IsNotExist(err) {
		t.Errorf("%s written without val rows (%v)", BestFile, err)
	}
	if got, err := modelfolder.Checkpoint(filepath.Join(dir, "model"), ""); err != nil || filepath.Base(got) != ModelFile {
		t.Errorf("checkpoint for prediction %s, %v", got, err)
	}
	got := metrics(t, filepath.Join(dir, "model_metrics"))
	if _, ok := got["val/top1/1"]; ok || got["train/loss/2"] == 0 {
		t.Errorf("metrics %v: want train metrics and no val metrics", got)
	}
	if sum := strings.Join(env.Summary(), "\n"); !strings.Contains(sum, "no val rows, so the last epoch") || !strings.Contains(sum, "96 train / 0 val rows") {
		t.Errorf("summary:\n%s", sum)
	}

	for _, cfg := range []string{`select = "best"`, "patience = 2"} {
		s, env = newRun(t, dir, "epochs = 2\n"+cfg)
		os.RemoveAll(filepath.Join(dir, "model"))
		if err := s.Run(context.Background(), env); err == nil || !strings.Contains(err.Error(), "no val rows") {
			t.Errorf("%s without val rows: %v", cfg, err)
		}
	}
}

// TestSelectBest names the best checkpoint for prediction, and the
// summary gives the val top-1 with its interval.
func TestSelectBest(t *testing.T) {
	dir := workdir(t)
	s, env := newRun(t, dir, `select = "best"`)
	run(t, s, env)
	if got, err := modelfolder.Checkpoint(filepath.Join(dir, "model"), ""); err != nil || filepath.Base(got) != BestFile {
		t.Errorf("checkpoint for prediction %s, %v", got, err)
	}
	sum := strings.Join(env.Summary(), "\n")
	if !strings.Contains(sum, "(95% intervals, 24 val rows)") || !strings.Contains(sum, `prediction uses best.safetensors (select = "best")`) {
		t.Errorf("summary:\n%s", sum)
	}
}

func TestWilson(t *testing.T) {
	// 81 of 100: the Wilson interval is [72.2, 87.5]%.
	lo, hi := wilson(0.81, 100)
	if math.Abs(lo-0.7222) > 5e-4 || math.Abs(hi-0.8750) > 5e-4 {
		t.Errorf("wilson(0.81, 100) = [%.4f, %.4f]", lo, hi)
	}
	if lo, hi := wilson(1, 10); hi < 1-1e-12 || lo < 0.69 || lo > 0.73 {
		t.Errorf("wilson(1, 10) = [%.4f, %.4f]", lo, hi)
	}
}

// TestFineTune pretrains on three classes, then fine-tunes from that model
// folder on a two-class task: the classifier is new, the stem and first
// stage stay bit for bit the pretrained ones (with their batch-norm
// statistics), the rest moves, and the checkpoint's normalisation is kept.
func TestFineTune(t *testing.T) {
	dir := workdir(t)
	s, env := newRun(t, dir, "output = \"pre\"\nepochs = 1\nwarmup_epochs = 0\nnormalize = \"policy\"\npolicy {\n  mean = [0.2]\n  std = [0.4]\n}")
	run(t, s, env)
	pre, _ := tensors(t, filepath.Join(dir, "pre", ModelFile))

	fixture.Cutouts(t, filepath.Join(dir, "two"), fixture.Options{Train: 64, Val: 16, Seed: 5, Classes: 2})
	s, env = newRun(t, dir, "input = \"two\"\ninit_from = \"pre\"\nfreeze = 1\nlayer_decay = 0.5\nnormalize = \"checkpoint\"\nepochs = 1\nwarmup_epochs = 0")
	run(t, s, env)
	got, meta := tensors(t, filepath.Join(dir, "model", ModelFile))
	if meta.Classes != 2 || len(got["head.fc.bias"]) != 2 {
		t.Fatalf("fine-tuned model has %d classes", meta.Classes)
	}
	if meta.Normalize.Mean[0] != 0.2 || meta.Normalize.Std[0] != 0.4 {
		t.Errorf("normalisation %+v, want the pretrained one", meta.Normalize)
	}
	moved := false
	for name, v := range pre {
		if strings.HasPrefix(name, "head.fc.") {
			continue
		}
		_, same := sameTensors(map[string][]float32{name: v}, map[string][]float32{name: got[name]})
		switch part := model.Part(name); {
		case part <= 1 && !same:
			t.Errorf("%s (part %d) changed although frozen", name, part)
		case part > 1 && !same:
			moved = true
		}
	}
	if !moved {
		t.Error("no unfrozen tensor moved")
	}
	var rec Record
	data, _ := os.ReadFile(filepath.Join(dir, "model", PolicyFile))
	if err := json.Unmarshal(data, &rec); err != nil || rec.Settings.InitFrom != "pre" {
		t.Errorf("policy.json settings %+v, %v", rec.Settings, err)
	}
}

func TestOptimiserScales(t *testing.T) {
	net, err := model.New(model.Spec{Variant: "t", Config: *tiny(), ImageH: 32, ImageW: 32, InChans: 3, Classes: 3}, 1)
	if err != nil {
		t.Fatal(err)
	}
	freeze := 0
	tr := &trainer{p: &Settings{LayerDecay: 0.5, Freeze: &freeze}, net: net}
	if err := net.Freeze(0); err != nil {
		t.Fatal(err)
	}
	scales := tr.optimiserScales()
	for i, p := range net.Params() {
		want := math.Pow(0.5, float64(model.PartHead-model.Part(p.Name)))
		if model.Part(p.Name) == model.PartStem {
			want = 0
		}
		if scales[i] != want {
			t.Errorf("%s: scale %g, want %g", p.Name, scales[i], want)
		}
	}
	if (&trainer{p: &Settings{}, net: net}).optimiserScales() != nil {
		t.Error("scales without freeze or layer_decay")
	}
}

// TestKeepLastBatch trains with drop_last = false: 96 rows in batches of 10
// make 10 steps an epoch, the last of 6 images, as PyTorch's DataLoader
// without drop_last does.
func TestKeepLastBatch(t *testing.T) {
	dir := workdir(t)
	var sizes []int
	s, env := newRun(t, dir, "batch_size = 10\ndrop_last = false\nepochs = 2")
	s.beforeStep = func(_ int, b *loader.Batch) { sizes = append(sizes, b.N) }
	run(t, s, env)
	if len(sizes) != 20 || sizes[9] != 6 || sizes[19] != 6 || sizes[0] != 10 {
		t.Errorf("batch sizes %v: want 2 epochs of 9×10 + 6", sizes)
	}
	decltest.CheckDiagnostics(t, Decode, "train", []decltest.Case{{Src: "input = \"c\"\noutput = \"m\"\ndrop_last = false\naccumulate = 2", Summary: "Incomplete batches with accumulation", Line: 3}})
}

// TestFineTuneFromPyTorchExport starts from the reference's PyTorch export
// (timm parameter names, ten classes, no metadata of ours) with everything
// but the head frozen: after training, every tensor but the new three-class
// classifier is the file's, bit for bit.
func TestFineTuneFromPyTorchExport(t *testing.T) {
	export := modeltest.ReferenceWeights(t)
	work := t.TempDir()
	fixture.Cutouts(t, filepath.Join(work, "cutouts"), fixture.Options{Train: 48, Val: 12, Size: 64, Seed: 3})
	s, env := newRun(t, work, "image_size = 64\ninit_from = \""+export+"\"\nfreeze = 4\nnormalize = \"policy\"\nepochs = 1\nwarmup_epochs = 0")
	golden := modeltest.GoldenTiny() // the export's configuration, which is not a variant
	s.config = &golden
	run(t, s, env)
	want, _ := tensors(t, export)
	got, meta := tensors(t, filepath.Join(work, "model", ModelFile))
	if meta.Classes != 3 {
		t.Fatalf("%d classes", meta.Classes)
	}
	for name, v := range got {
		if strings.HasPrefix(name, "head.") {
			continue // the head trains
		}
		if _, same := sameTensors(map[string][]float32{name: v}, map[string][]float32{name: want[name]}); !same {
			t.Errorf("%s differs from the export although frozen", name)
		}
	}
}

// TestWarnSmallVal warns when select = "best" picks an epoch whose lead
// over the last is within the noise of so few val rows, and only then.
func TestWarnSmallVal(t *testing.T) {
	for _, tc := range []struct {
		sel        string
		best, last float64
		warn       bool
	}{
		{SelectBest, 0.80, 0.76, true},  // 4 points on 50 rows: noise (±15.7)
		{SelectBest, 0.80, 0.40, false}, // 40 points: real
		{SelectLast, 0.80, 0.76, false}, // nothing selected
		{SelectBest, 0.80, 0.80, false}, // the last is the best
	} {
		env := &pipeline.Env{Log: hclog.NewNullLogger()}
		tr := &trainer{p: &Settings{Select: tc.sel}, env: env, val: &loader.Index{Labels: make([]int, 50), Part: make([]int32, 50), Pos: make([]int32, 50)}}
		tr.st.Best = &best{Epoch: 3, Top1: tc.best}
		tr.warnSmallVal(map[string]float64{"val/top1": tc.last})
		if got := len(env.Summary()) > 0; got != tc.warn {
			t.Errorf("select %s, best %.2f, last %.2f: warned %v, want %v (%q)", tc.sel, tc.best, tc.last, got, tc.warn, env.Summary())
		}
	}
}
