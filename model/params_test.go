package model

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/astroformer/astroformer/internal/safetensors"
)

// vectorsDir returns the folder of the reference test vectors, or skips the
// test when it is absent.
func vectorsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("ASTROFORMER_VECTORS")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "testdata", "astroformer")
	}
	if _, err := os.Stat(filepath.Join(dir, "param_counts.json")); errors.Is(err, os.ErrNotExist) {
		t.Skipf("test vectors not found in %s; set ASTROFORMER_VECTORS", dir)
	}
	return dir
}

func mustSpec(t testing.TB, variant string, h, w, classes int) Spec {
	t.Helper()
	c, err := Lookup(variant)
	if err != nil {
		t.Fatal(err)
	}
	s := Spec{Variant: variant, Config: c, ImageH: h, ImageW: w, InChans: 3, Classes: classes}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParamSpecsMatchReferenceWeights(t *testing.T) {
	dir := vectorsDir(t)
	for _, c := range []struct {
		file string
		h, w int
	}{{"tiny_64x64", 64, 64}, {"tiny_64x96", 64, 96}} {
		t.Run(c.file, func(t *testing.T) {
			f, err := safetensors.Open(filepath.Join(dir, c.file+".weights.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			s := goldenSpec(t, c.h, c.w, 10)
			params, buffers := ParamSpecs(s)
			all := append(slices.Clone(params), buffers...)
			slices.SortFunc(all, func(a, b ParamSpec) int { return strings.Compare(a.Name, b.Name) })
			file := f.Tensors()
			if len(all) != len(file) {
				t.Errorf("%d tensors, file has %d", len(all), len(file))
			}
			for i := range min(len(all), len(file)) {
				p, ti := all[i], file[i]
				if p.Name != ti.Name || !slices.Equal(p.Shape, ti.Shape) {
					t.Fatalf("tensor %d: %s %v, file has %s %v", i, p.Name, p.Shape, ti.Name, ti.Shape)
				}
				wantType := safetensors.F32
				if p.Kind == NumBatchesTracked {
					wantType = safetensors.I64
				}
				if ti.DType != wantType {
					t.Errorf("%s: file dtype %s, want %s", p.Name, ti.DType, wantType)
				}
			}
			var n int64
			for _, p := range params {
				n += int64(p.Size())
			}
			if n != Count(s) {
				t.Errorf("Count = %d, sum of ParamSpecs sizes = %d", Count(s), n)
			}
		})
	}
}

// TestParamSpecsOrder checks the state_dict order on the parts where PyTorch's
// registration order is easy to state.
func TestParamSpecsOrder(t *testing.T) {
	params, buffers := ParamSpecs(goldenSpec(t, 64, 64, 10))
	names := func(ps []ParamSpec) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Name)
		}
		return out
	}
	pn := names(params)
	if want := []string{"stem.conv1.weight", "stem.norm1.weight", "stem.norm1.bias", "stem.conv2.weight",
		"stages.0.blocks.0.pre_norm.weight"}; !slices.Equal(pn[:len(want)], want) {
		t.Errorf("first params %v, want %v", pn[:len(want)], want)
	}
	if want := []string{"head.norm.weight", "head.norm.bias", "head.pre_logits.fc.weight", "head.pre_logits.fc.bias",
		"head.fc.weight", "head.fc.bias"}; !slices.Equal(pn[len(pn)-len(want):], want) {
		t.Errorf("last params %v, want %v", pn[len(pn)-len(want):], want)
	}
	// golden_tiny's stem is as wide as stage 0, so only stage 1 has a shortcut.
	i := slices.Index(pn, "stages.1.blocks.0.shortcut.expand.weight")
	if i < 0 || pn[i-1] != "stages.0.blocks.0.conv3_1x1.bias" || pn[i+2] != "stages.1.blocks.0.pre_norm.weight" {
		t.Errorf("stage 1 shortcut misplaced at %d", i)
	}
	i = slices.Index(pn, "stages.3.blocks.0.norm1.norm.weight")
	if want := []string{"stages.3.blocks.0.norm1.norm.weight", "stages.3.blocks.0.norm1.norm.bias",
		"stages.3.blocks.0.attn.qkv.weight", "stages.3.blocks.0.attn.qkv.bias",
		"stages.3.blocks.0.attn.rel_pos.relative_position_bias_table",
		"stages.3.blocks.0.attn.proj.weight"}; i < 0 || !slices.Equal(pn[i:i+len(want)], want) {
		t.Errorf("transformer block order wrong at %d", i)
	}
	bn := names(buffers)
	if want := []string{"stem.norm1.running_mean", "stem.norm1.running_var", "stem.norm1.num_batches_tracked",
		"stages.0.blocks.0.pre_norm.running_mean"}; !slices.Equal(bn[:len(want)], want) {
		t.Errorf("first buffers %v, want %v", bn[:len(want)], want)
	}
	for _, p := range params {
		wantDecay := len(p.Shape) > 1 && !strings.HasSuffix(p.Name, "relative_position_bias_table")
		if p.Decay != wantDecay {
			t.Errorf("%s: Decay %v", p.Name, p.Decay)
		}
		if p.Kind.IsBuffer() {
			t.Errorf("%s: parameter with buffer kind %v", p.Name, p.Kind)
		}
	}
	for _, b := range buffers {
		if !b.Kind.IsBuffer() {
			t.Errorf("%s: buffer with kind %v", b.Name, b.Kind)
		}
	}
}

func TestCountPublishedVariants(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(vectorsDir(t), "param_counts.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Image   [2]int           `json:"image"`
		Classes int              `json:"classes"`
		InChans int              `json:"in_chans"`
		Params  map[string]int64 `json:"params"`
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Params) != 6 {
		t.Fatalf("param_counts.json lists %d variants, want 6", len(ref.Params))
	}
	for name, want := range ref.Params {
		s := mustSpec(t, name, ref.Image[0], ref.Image[1], ref.Classes)
		s.InChans = ref.InChans
		if got := Count(s); got != want {
			t.Errorf("Count(%s) = %d, want %d", name, got, want)
		}
	}
}

func TestAllocate(t *testing.T) {
	s := mustSpec(t, "astroformer_nano", 64, 64, 10)
	params, buffers := Allocate(s)
	var n int64
	for _, p := range params {
		if len(p.Data) != p.Size() || len(p.Grad) != p.Size() {
			t.Fatalf("%s: %d data, %d grad, want %d", p.Name, len(p.Data), len(p.Grad), p.Size())
		}
		n += int64(len(p.Data))
	}
	if n != Count(s) {
		t.Errorf("allocated %d, Count %d", n, Count(s))
	}
	for _, b := range buffers {
		want := float32(0)
		if b.Kind == RunningVar {
			want = 1
		}
		if len(b.Data) != b.Size() || b.Data[0] != want {
			t.Errorf("%s: %d values, first %v", b.Name, len(b.Data), b.Data[0])
		}
	}
}
