package policy

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func testBatch(n, c, h, w int, seed uint64) Batch {
	rng := rand.New(rand.NewPCG(seed, 0))
	b := Batch{X: make([]float32, n*c*h*w), Labels: make([]int, n), C: c, H: h, W: w}
	for i := range b.X {
		b.X[i] = rng.Float32()
	}
	for i := range b.Labels {
		b.Labels[i] = rng.IntN(4)
	}
	return b
}

func checkRowsSumToOne(t *testing.T, targets []float32, classes int) {
	t.Helper()
	for r := 0; r < len(targets)/classes; r++ {
		var s float64
		for _, v := range targets[r*classes : (r+1)*classes] {
			if v < 0 {
				t.Fatalf("row %d has a negative target %g", r, v)
			}
			s += float64(v)
		}
		if math.Abs(s-1) > 1e-6 {
			t.Fatalf("row %d sums to %g, want 1", r, s)
		}
	}
}

func TestSmoothTargets(t *testing.T) {
	targets := make([]float32, 2*4)
	if err := SmoothTargets([]int{2, 0}, 4, 0.1, targets); err != nil {
		t.Fatal(err)
	}
	// off = 0.1/4 = 0.025, on = 1 - 0.1 + 0.025 = 0.925
	want := []float32{0.025, 0.025, 0.925, 0.025, 0.925, 0.025, 0.025, 0.025}
	for i := range want {
		if math.Abs(float64(targets[i]-want[i])) > 1e-7 {
			t.Fatalf("targets = %v, want %v", targets, want)
		}
	}
	if err := SmoothTargets([]int{4}, 4, 0.1, make([]float32, 4)); err == nil || !strings.Contains(err.Error(), "label 4") {
		t.Errorf("label out of range: %v", err)
	}
}

func TestMixupIsConvexCombination(t *testing.T) {
	const n, classes = 5, 4
	b := testBatch(n, 2, 3, 3, 1)
	orig := slices.Clone(b.X)
	targets := make([]float32, n*classes)
	mixer := Mixer{MixupAlpha: 0.8, Prob: 1, SwitchProb: 0.5, Smoothing: 0.1}
	mix, err := mixer.Mix(b, classes, targets, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if mix.CutMix || !(mix.Lambda > 0 && mix.Lambda < 1) {
		t.Fatalf("Mix = %+v, want Mixup with 0 < lambda < 1", mix)
	}
	chw := 2 * 3 * 3
	for i := range n {
		j := n - 1 - i
		for k := range chw {
			want := mix.Lambda*float64(orig[i*chw+k]) + (1-mix.Lambda)*float64(orig[j*chw+k])
			if got := b.X[i*chw+k]; math.Abs(float64(got)-want) > 1e-6 {
				t.Fatalf("sample %d value %d = %g, want %g", i, k, got, want)
			}
		}
	}
	checkRowsSumToOne(t, targets, classes)
	off := 0.1 / classes
	for i := range n {
		want := make([]float64, classes)
		for k := range want {
			want[k] = off
		}
		want[b.Labels[i]] += mix.Lambda * (1 - 0.1)
		want[b.Labels[n-1-i]] += (1 - mix.Lambda) * (1 - 0.1)
		for k := range classes {
			if got := targets[i*classes+k]; math.Abs(float64(got)-want[k]) > 1e-6 {
				t.Fatalf("row %d = %v, want %v", i, targets[i*classes:(i+1)*classes], want)
			}
		}
	}
}

func TestCutMixBoxMatchesLambda(t *testing.T) {
	const n, classes, h, w = 4, 4, 16, 20
	mixer := Mixer{CutMixAlpha: 1, Prob: 1, Smoothing: 0}
	for seed := range uint64(50) {
		b := testBatch(n, 3, h, w, seed)
		orig := slices.Clone(b.X)
		targets := make([]float32, n*classes)
		mix, err := mixer.Mix(b, classes, targets, rand.New(rand.NewPCG(seed, 1)))
		if err != nil {
			t.Fatal(err)
		}
		if !mix.CutMix {
			t.Fatalf("seed %d: CutMix only, yet Mix = %+v", seed, mix)
		}
		if want := 1 - float64(mix.Box.Area())/(h*w); math.Abs(mix.Lambda-want) > 1e-12 {
			t.Fatalf("seed %d: lambda %g, box %+v covers %g", seed, mix.Lambda, mix.Box, 1-want)
		}
		// Sample 0 holds sample 3's pixels inside the box and its own outside.
		chw := 3 * h * w
		for c := range 3 {
			for y := range h {
				for x := range w {
					k := (c*h+y)*w + x
					inside := y >= mix.Box.Top && y < mix.Box.Top+mix.Box.H && x >= mix.Box.Left && x < mix.Box.Left+mix.Box.W
					want := orig[k]
					if inside {
						want = orig[3*chw+k]
					}
					if b.X[k] != want {
						t.Fatalf("seed %d: sample 0 at (c=%d, y=%d, x=%d) = %g, want %g (inside=%v)", seed, c, y, x, b.X[k], want, inside)
					}
				}
			}
		}
		checkRowsSumToOne(t, targets, classes)
		if l0, l3 := b.Labels[0], b.Labels[3]; l0 != l3 {
			if got := targets[l0]; math.Abs(float64(got)-mix.Lambda) > 1e-6 {
				t.Fatalf("seed %d: row 0 gives its own class %g, want lambda %g", seed, got, mix.Lambda)
			}
		}
	}
}

func TestMixerSwitchAndProb(t *testing.T) {
	b := testBatch(3, 1, 4, 4, 7)
	orig := slices.Clone(b.X)
	targets := make([]float32, 3*4)
	mix, err := Mixer{MixupAlpha: 0.8, CutMixAlpha: 1, Prob: 0, Smoothing: 0.2}.Mix(b, 4, targets, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if mix.Lambda != 1 || !slices.Equal(b.X, orig) {
		t.Errorf("probability 0 mixed the batch: %+v", mix)
	}
	smoothed := make([]float32, 3*4)
	_ = SmoothTargets(b.Labels, 4, 0.2, smoothed)
	if !slices.Equal(targets, smoothed) {
		t.Errorf("unmixed targets %v, want smoothed one-hot %v", targets, smoothed)
	}

	rng := rand.New(rand.NewPCG(2, 2))
	m := Mixer{MixupAlpha: 0.8, CutMixAlpha: 1, Prob: 1, SwitchProb: 0.5}
	cut := 0
	for range 1000 {
		if m.draw(16, 16, rng).CutMix {
			cut++
		}
	}
	if cut < 430 || cut > 570 {
		t.Errorf("CutMix chosen %d times of 1000 with switch probability 0.5", cut)
	}
}

func TestMixErrors(t *testing.T) {
	b := testBatch(2, 1, 2, 2, 1)
	m := Mixer{MixupAlpha: 1, Prob: 1}
	if _, err := m.Mix(b, 4, make([]float32, 7), rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("short targets: no error")
	}
	b.X = b.X[:7]
	if _, err := m.Mix(b, 4, make([]float32, 8), rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("short batch: no error")
	}
}

func TestBetaSample(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, a := range []float64{0.2, 0.8, 1, 3} {
		const n = 20000
		var s, s2 float64
		for range n {
			x := betaSample(rng, a, a)
			if x < 0 || x > 1 {
				t.Fatalf("Beta(%g, %g) sample %g outside [0, 1]", a, a, x)
			}
			s, s2 = s+x, s2+x*x
		}
		mean, variance := s/n, s2/n-(s/n)*(s/n)
		wantVar := 1 / (4 * (2*a + 1))
		if math.Abs(mean-0.5) > 0.01 || math.Abs(variance-wantVar) > 0.1*wantVar {
			t.Errorf("Beta(%g, %g): mean %.4f variance %.4f, want 0.5 and %.4f", a, a, mean, variance, wantVar)
		}
	}
}

// TestMixPermute mixes each sample with a random other one: the image is
// lam·x_i + (1-lam)·x_p(i) of the originals, the targets follow the same
// partner, and p is a permutation.
func TestMixPermute(t *testing.T) {
	const n, c, h, w, classes = 6, 1, 2, 2, 3
	x := make([]float32, n*c*h*w)
	for i := range x {
		x[i] = float32(i)
	}
	orig := append([]float32(nil), x...)
	labels := []int{0, 1, 2, 0, 1, 2}
	targets := make([]float32, n*classes)
	m := Mixer{MixupAlpha: 0.8, Prob: 1, Smoothing: 0.1, Partner: PartnerPermute}
	mix, err := m.Mix(Batch{X: x, Labels: labels, C: c, H: h, W: w}, classes, targets, BatchRand(1, 0, 3))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for i := range n {
		j := mix.PartnerOf(i, n)
		seen[j] = true
		for k := range 4 {
			want := float32(mix.Lambda)*orig[i*4+k] + float32(1-mix.Lambda)*orig[j*4+k]
			if d := x[i*4+k] - want; d > 1e-5 || d < -1e-5 {
				t.Fatalf("sample %d value %d: %g, want %g (partner %d, lambda %g)", i, k, x[i*4+k], want, j, mix.Lambda)
			}
		}
		var sum float32
		for k := range classes {
			sum += targets[i*classes+k]
		}
		own := targets[i*classes+labels[i]]
		if d := sum - 1; d > 1e-5 || d < -1e-5 || labels[j] != labels[i] && own < float32(mix.Lambda)*0.9 {
			t.Errorf("sample %d: targets %v (partner %d, lambda %g)", i, targets[i*classes:(i+1)*classes], j, mix.Lambda)
		}
	}
	if len(seen) != n {
		t.Errorf("partners %v are not a permutation", mix.Partner)
	}
	if (Mix{}).PartnerOf(1, n) != n-2 {
		t.Error("reverse partner")
	}
}
