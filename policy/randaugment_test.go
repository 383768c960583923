package policy

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestRandAugmentOpsAtLevelZero(t *testing.T) {
	m := noise(10, 10, 3, 11)
	rng := rand.New(rand.NewPCG(1, 1))
	if len(RandAugmentOps()) != raOpCount {
		t.Fatalf("%d op names for %d ops", len(RandAugmentOps()), raOpCount)
	}
	for op, name := range RandAugmentOps() {
		got := raOp(m.Clone(), op, 0, rng, FillReflect)
		want := m
		switch name {
		case "flip_h":
			want = FlipH(m)
		case "flip_v":
			want = FlipV(m)
		}
		equalImages(t, name+" at level 0", got, want, 1e-6)
	}
}

func TestRandAugmentOpsAtFullLevel(t *testing.T) {
	m := noise(20, 20, 3, 12)
	rng := rand.New(rand.NewPCG(1, 1))
	want := map[string]Image{
		"rotate":      Rotate(m, -30, FillZero),
		"brightness":  AdjustBrightness(m, 1-0.9),
		"contrast":    AdjustContrast(m, 1-0.9),
		"sharpness":   AdjustSharpness(m, 1-0.9),
		"translate_x": Translate(m, -2, 0, FillZero),
		"translate_y": Translate(m, 0, -2, FillZero),
	}
	for op, name := range RandAugmentOps() {
		w, ok := want[name]
		if !ok {
			continue
		}
		equalImages(t, name+" at level -1", raOp(m.Clone(), op, -1, rng, FillZero), w, 1e-6)
	}
}

func TestRandAugmentApply(t *testing.T) {
	m := noise(16, 16, 3, 13)
	rng := rand.New(rand.NewPCG(2, 2))
	equalImages(t, "RandAugment with N=0", RandAugment{M: 9}.Apply(m, rng), m, 0)
	ra := RandAugment{N: 3, M: 9, MStd: 0.5}
	changed := 0
	for i := range 50 {
		out := ra.Apply(m, rand.New(rand.NewPCG(uint64(i), 3)))
		if out.H != 16 || out.W != 16 || out.C != 3 {
			t.Fatalf("output %dx%dx%d, want 16x16x3", out.H, out.W, out.C)
		}
		diff := 0.0
		for k, v := range out.Pix {
			if v < 0 || v > 1 {
				t.Fatalf("value %g outside [0, 1]", v)
			}
			diff = math.Max(diff, math.Abs(float64(v-m.Pix[k])))
		}
		if diff > 0 {
			changed++
		}
	}
	// Each image keeps all 3 operations with probability 1/8 only.
	if changed < 30 {
		t.Errorf("only %d of 50 images changed", changed)
	}
}
