package model

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// ccttSpec is a C-C-T-T network, a layout none of the variants has: two
// MBConv stages, then transformer stages over 4x4 and 2x2 grids of a 64x64
// image. The stem is narrower than stage 0, so every stage has a widening
// shortcut.
func ccttSpec() Spec {
	return Spec{
		Variant: "test_cctt",
		Config: Config{Name: "test_cctt", Dims: [4]int{16, 32, 64, 96}, Depths: [4]int{1, 1, 2, 1},
			StemWidth: 8, HeadHidden: 32, Layout: "CCTT"},
		ImageH: 64, ImageW: 64, InChans: 3, Classes: 4,
	}
}

// TestPlan checks the plan of the C-C-T-T network block by block.
func TestPlan(t *testing.T) {
	s := ccttSpec()
	s.DropPath = 0.3
	want := []BlockPlan{
		{Name: "stages.0.blocks.0", Stage: 0, Index: 0, Type: MBConv, In: 8, Out: 16, Stride: 2, InGrid: [2]int{32, 32}, Grid: [2]int{16, 16}},
		{Name: "stages.1.blocks.0", Stage: 1, Index: 0, Type: MBConv, In: 16, Out: 32, Stride: 2, InGrid: [2]int{16, 16}, Grid: [2]int{8, 8}, DropPath: 0.075},
		{Name: "stages.2.blocks.0", Stage: 2, Index: 0, Type: Transformer, In: 32, Out: 64, Stride: 2, InGrid: [2]int{8, 8}, Grid: [2]int{4, 4}, Heads: 2, DropPath: 0.15},
		{Name: "stages.2.blocks.1", Stage: 2, Index: 1, Type: Transformer, In: 64, Out: 64, Stride: 1, InGrid: [2]int{4, 4}, Grid: [2]int{4, 4}, Heads: 2, DropPath: 0.225},
		{Name: "stages.3.blocks.0", Stage: 3, Index: 0, Type: Transformer, In: 64, Out: 96, Stride: 2, InGrid: [2]int{4, 4}, Grid: [2]int{2, 2}, Heads: 3, DropPath: 0.3},
	}
	got := s.Plan()
	if len(got) != len(want) {
		t.Fatalf("%d blocks, want %d", len(got), len(want))
	}
	for i := range want {
		g := got[i]
		if math.Abs(g.DropPath-want[i].DropPath) > 1e-12 {
			t.Errorf("block %d: drop path %v, want %v", i, g.DropPath, want[i].DropPath)
		}
		g.DropPath = want[i].DropPath
		if g != want[i] {
			t.Errorf("block %d = %+v\nwant %+v", i, g, want[i])
		}
	}
	if b := (Config{}).Blocks(); b != [4]BlockType{MBConv, MBConv, MBConv, Transformer} {
		t.Errorf("an empty layout is %v, want C-C-C-T", b)
	}
}

// TestLayoutCCTT checks that a network of another layout than the
// variants' is complete: parameters under timm names, FLOPs, a training
// step with a finite loss and a gradient for every parameter, and a save
// and load that infers the same layout back.
func TestLayoutCCTT(t *testing.T) {
	s := ccttSpec()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	params, _ := ParamSpecs(s)
	var names []string
	var size int64
	for _, p := range params {
		names = append(names, p.Name)
		size += int64(p.Size())
	}
	for _, name := range []string{"stages.1.blocks.0.conv3_1x1.weight", "stages.2.blocks.0.attn.proj.weight",
		"stages.2.blocks.1.attn.rel_pos.relative_position_bias_table", "stages.3.blocks.0.norm1.norm.weight"} {
		if !slices.Contains(names, name) {
			t.Errorf("no parameter %s", name)
		}
	}
	if slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, "stages.2.") && strings.Contains(n, "conv") }) {
		t.Error("stage 2 has MBConv parameters")
	}
	if size == 0 || size != Count(s) {
		t.Errorf("ParamSpecs hold %d values, Count says %d", size, Count(s))
	}

	// FLOPs: stage 2 by hand (4x4 = 16 positions, input 8x8 = 64), the
	// rest as in the same network with an MBConv stage 2.
	ccct := s
	ccct.Layout = ""
	tr2 := 16*32*64 + trFLOPs(32, 64, 16) + trFLOPs(64, 64, 16)
	mb2 := mbFLOPs(32, 64, 256, 16, 64, 16) + mbFLOPs(64, 64, 256, 16, 16, 16)
	if got, want := FLOPs(s), FLOPs(ccct)-mb2+tr2; got != want {
		t.Errorf("FLOPs = %d, want %d", got, want)
	}

	sd, _ := openCheckpoint(t, trainSaveLoad(t, s))
	bare, err := InferSpec(sd, Meta{}) // shapes alone: the image size from stage 2's table
	if err != nil {
		t.Fatal(err)
	}
	if bare.Layout != s.Layout || !sameShape(bare.Config, s.Config) || bare.ImageH != s.ImageH || bare.ImageW != s.ImageW {
		t.Errorf("InferSpec from shapes alone = %+v", bare)
	}
}

// trainOneStep builds the network of s and trains it one step, checking
// that the loss is finite and every parameter has a finite gradient, not
// all zero.
func trainOneStep(t *testing.T, s Spec) *Net {
	t.Helper()
	n := newNet(t, s, 5)
	rng := rand.New(rand.NewPCG(1, 2))
	const batch = 3
	loss, err := n.TrainStep(randomImages(rng, s, batch), oneHot([]int{0, 3, 1}, s.Classes), batch, nil)
	if err != nil {
		t.Fatal(err)
	}
	if math.IsNaN(loss) || math.IsInf(loss, 0) || loss <= 0 {
		t.Fatalf("loss %v", loss)
	}
	for _, p := range n.Params() {
		if count, _ := NonFinite(p.Grad); count > 0 {
			t.Errorf("%s: %d non-finite gradient values", p.Name, count)
		}
		// A pre-norm's bias feeds a convolution without bias and a batch
		// norm, which removes it: its gradient is zero but for rounding.
		if !strings.HasSuffix(p.Name, ".pre_norm.bias") && !slices.ContainsFunc(p.Grad, func(v float32) bool { return v != 0 }) {
			t.Errorf("%s: zero gradient", p.Name)
		}
	}
	NewAdamW(n.Params(), 1e-3, 0.05).Update(n.Params())
	return n
}

// trainSaveLoad trains the network of s one step (see trainOneStep), saves
// it, checks that it loads back (see checkLoadsBack) and returns the
// checkpoint's path.
func trainSaveLoad(t *testing.T, s Spec) string {
	t.Helper()
	n := trainOneStep(t, s)
	path := filepath.Join(t.TempDir(), s.Variant+".safetensors")
	if err := Save(path, n, Meta{}); err != nil {
		t.Fatal(err)
	}
	checkLoadsBack(t, path, s, n)
	return path
}

// checkLoadsBack loads the checkpoint at path, which n of spec s wrote, and
// checks the spec, the layout in the metadata and the logits.
func checkLoadsBack(t *testing.T, path string, s Spec, n *Net) {
	t.Helper()
	got, meta, err := Load(path, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Spec() != s || meta.Variant != s.Variant {
		t.Errorf("loaded spec %+v, want %+v", got.Spec(), s)
	}
	var cfg referenceConfig
	sd, _ := openCheckpoint(t, path)
	if err := json.Unmarshal([]byte(sd.file.Metadata()[MetaConfig]), &cfg); err != nil || cfg.BlockType != s.Layout {
		t.Errorf("config metadata %+v, %v: want block_type %q", cfg, err, s.Layout)
	}
	x := randomImages(rand.New(rand.NewPCG(3, 4)), s, 2)
	want, err := n.Forward(x, 2)
	if err != nil {
		t.Fatal(err)
	}
	logits, err := got.Forward(x, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(logits, want) {
		t.Errorf("loaded network gives logits %v, want %v", logits, want)
	}
}

// TestLayoutWithoutTransformer checks a network of MBConv stages only: it
// has no relative position table, so loading takes the image size from the
// metadata and fails without it.
func TestLayoutWithoutTransformer(t *testing.T) {
	s := ccttSpec()
	s.Variant, s.Name, s.Layout = "test_cccc", "test_cccc", "CCCC"
	s.Dims[3] = 40 // no longer a multiple of the head width
	sd, _ := openCheckpoint(t, trainSaveLoad(t, s))
	if _, err := InferSpec(sd, Meta{}); err == nil || !strings.Contains(err.Error(), "give the image size") {
		t.Errorf("no transformer stage and no image size: error %v", err)
	}
}
