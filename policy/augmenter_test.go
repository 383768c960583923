package policy

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// everything returns a configuration with every per-sample step enabled.
func everything() Config {
	c := CPUDemoPreset()
	c.Height, c.Width = 32, 32
	c.RotateDegrees = 20
	c.Brightness, c.Contrast, c.Saturation = 0.4, 0.4, 0.4
	c.EraseProb = 0.5
	return c
}

func mustNew(t testing.TB, c Config) *Augmenter {
	t.Helper()
	a, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestApplyShapeAndInputUntouched(t *testing.T) {
	cfg := everything()
	cfg.EraseProb = 0 // keep values in [0, 1]
	for _, ra := range []int{0, 2} {
		cfg.RandAugmentN = ra
		a := mustNew(t, cfg)
		src := noise(48, 40, 3, 1)
		before := src.Clone()
		for i := range 20 {
			out := a.Apply(src, SampleRand(1, 0, i))
			if out.H != 32 || out.W != 32 || out.C != 3 {
				t.Fatalf("Apply gave %dx%dx%d, want 32x32x3", out.H, out.W, out.C)
			}
			for _, v := range out.Pix {
				if v < 0 || v > 1 {
					t.Fatalf("value %g outside [0, 1]", v)
				}
			}
		}
		equalImages(t, "Apply's input", src, before, 0)
	}
}

func TestApplyWithNothingEnabledResizes(t *testing.T) {
	c := Defaults()
	c.Height, c.Width = 8, 8
	c.RandomCrop, c.HFlip, c.VFlip, c.Rot90 = false, 0, 0, false
	c.Brightness, c.Contrast, c.Saturation = 0, 0, 0
	a := mustNew(t, c)
	src := noise(16, 16, 3, 2)
	equalImages(t, "Apply with every step off", a.Apply(src, SampleRand(0, 0, 0)), Resize(src, 8, 8), 0)
}

// TestApplyIsDeterministicAcrossWorkers checks that each sample's result
// depends only on (seed, epoch, index), not on which goroutine computes it
// or in what order.
func TestApplyIsDeterministicAcrossWorkers(t *testing.T) {
	cfg := everything()
	cfg.RandAugmentN = 2
	a := mustNew(t, cfg)
	const n, seed, epoch = 24, 7, 3
	src := make([]Image, n)
	for i := range src {
		src[i] = noise(40, 40, 3, uint64(i))
	}
	run := func(workers int) []Image {
		out := make([]Image, n)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := n - 1 - w; i >= 0; i -= workers { // reverse, interleaved
					out[i] = a.Apply(src[i], SampleRand(seed, epoch, i))
				}
			})
		}
		wg.Wait()
		return out
	}
	one, four := run(1), run(4)
	for i := range n {
		if !slices.Equal(one[i].Pix, four[i].Pix) {
			t.Fatalf("sample %d differs between 1 and 4 workers", i)
		}
	}
	other := a.Apply(src[0], SampleRand(seed, epoch+1, 0))
	if slices.Equal(other.Pix, one[0].Pix) {
		t.Error("epochs 3 and 4 gave sample 0 the same augmentation")
	}
}

func TestEval(t *testing.T) {
	c := Defaults()
	c.Height, c.Width, c.CropPct = 8, 8, 0.5
	a := mustNew(t, c)
	src := noise(20, 30, 3, 3)
	// Shorter side 20 → 16 (8/0.5), longer 30 → 24, then the centre 8×8.
	want := CenterCrop(Resize(src, 16, 24), 8, 8)
	equalImages(t, "Eval", a.Eval(src), want, 0)

	c.CropPct = 1
	a = mustNew(t, c)
	same := noise(8, 8, 3, 4)
	equalImages(t, "Eval at the model's size with crop_pct 1", a.Eval(same), same, 0)
}

func TestTTAViews(t *testing.T) {
	c := Defaults()
	c.Height, c.Width, c.CropPct = 16, 16, 1
	a := mustNew(t, c)
	src := noise(16, 16, 3, 5)
	views := a.TTAViews(src, 8)
	if len(views) != 8 {
		t.Fatalf("%d views, want 8", len(views))
	}
	for i, v := range views {
		equalImages(t, "TTA view", v, Dihedral(src, i), 0)
	}
	if got := a.TTAViews(src, 3); len(got) != 3 {
		t.Errorf("%d views, want 3", len(got))
	}
	for _, n := range []int{0, 9} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("TTAViews(n=%d) did not panic", n)
				}
			}()
			a.TTAViews(src, n)
		}()
	}
}

func TestSampleRandStreams(t *testing.T) {
	draw := func(r *rand.Rand) [4]uint64 { return [4]uint64{r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64()} }
	if draw(SampleRand(1, 2, 3)) != draw(SampleRand(1, 2, 3)) {
		t.Error("equal arguments, different streams")
	}
	seen := map[[4]uint64]string{}
	for _, s := range []struct {
		name string
		r    *rand.Rand
	}{
		{"sample 1,2,3", SampleRand(1, 2, 3)},
		{"sample 1,3,2", SampleRand(1, 3, 2)},
		{"sample 2,2,3", SampleRand(2, 2, 3)},
		{"sample 1,2,4", SampleRand(1, 2, 4)},
		{"batch 1,2,3", BatchRand(1, 2, 3)},
	} {
		d := draw(s.r)
		if prev, dup := seen[d]; dup {
			t.Errorf("%s and %s give the same stream", prev, s.name)
		}
		seen[d] = s.name
	}
}

func BenchmarkApply64(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  func() Config
	}{
		{"cpu-demo", CPUDemoPreset},
		{"galaxy10-at-64", func() Config { c := Galaxy10Preset(); c.Height, c.Width = 64, 64; return c }},
		{"everything", func() Config { c := everything(); c.Height, c.Width, c.RandAugmentN = 64, 64, 2; return c }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			a := mustNew(b, bc.cfg())
			src := noise(64, 64, 3, 1)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				a.Apply(src, SampleRand(1, 0, i))
				i++
			}
		})
	}
}

func BenchmarkMix(b *testing.B) {
	batch := testBatch(32, 3, 64, 64, 1)
	targets := make([]float32, 32*10)
	for i := range batch.Labels {
		batch.Labels[i] %= 10
	}
	m := mustNew(b, Galaxy10Preset()).Mixer()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := m.Mix(batch, 10, targets, BatchRand(1, 0, i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// TestEvalKeeps checks EvalKeeps against what Eval does.
func TestEvalKeeps(t *testing.T) {
	for _, tc := range []struct {
		cropPct float64
		h, w    int
		keeps   bool
	}{{1, 32, 32, true}, {1, 40, 32, false}, {0.875, 32, 32, false}, {1, 16, 16, false}} {
		cfg := Defaults()
		cfg.Height, cfg.Width, cfg.CropPct = 32, 32, tc.cropPct
		a, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.EvalKeeps(tc.h, tc.w); got != tc.keeps {
			t.Errorf("crop_pct %g, %dx%d: EvalKeeps %v, want %v", tc.cropPct, tc.h, tc.w, got, tc.keeps)
		}
		if tc.keeps {
			m := NewImage(tc.h, tc.w, 3)
			for i := range m.Pix {
				m.Pix[i] = float32(i)
			}
			if got := a.Eval(m); !slices.Equal(got.Pix, m.Pix) {
				t.Errorf("crop_pct %g, %dx%d: Eval changed the image", tc.cropPct, tc.h, tc.w)
			}
		}
	}
}
