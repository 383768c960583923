package model

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// tinySpec is a small network for fast tests: 32x64 images, grayscale.
func tinySpec(classes int) Spec {
	return Spec{
		Variant: "test",
		Config:  Config{Name: "test", Dims: [4]int{8, 16, 24, 32}, Depths: [4]int{1, 1, 1, 2}, StemWidth: 8, HeadHidden: 16},
		ImageH:  32, ImageW: 64, InChans: 1, Classes: classes,
	}
}

// newNet returns a network of spec s initialised from seed, failing the
// test if New refuses the spec.
func newNet(t testing.TB, s Spec, seed int64) *Net {
	t.Helper()
	n, err := New(s, seed)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func randomImages(rng *rand.Rand, s Spec, batch int) []float32 {
	x := make([]float32, batch*s.InChans*s.ImageH*s.ImageW)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

func oneHot(labels []int, classes int) []float32 {
	t := make([]float32, len(labels)*classes)
	for n, l := range labels {
		t[n*classes+l] = 1
	}
	return t
}

func TestNewRejectsInvalidSpec(t *testing.T) {
	s := tinySpec(3)
	s.ImageW = 40
	if _, err := New(s, 1); err == nil || !strings.Contains(err.Error(), "multiples of 32") {
		t.Errorf("New with 40-pixel width: error %v, want one about multiples of 32", err)
	}
}

func TestNewInitialisation(t *testing.T) {
	n := newNet(t, mustSpec(t, "astroformer_nano", 64, 64, 10), 7)
	for _, p := range n.Params() {
		mean, std, maxAbs := moments(p.Data)
		switch p.Kind {
		case ConvWeight:
			fanOut := p.Shape[0] * p.Shape[2] * p.Shape[3]
			if strings.HasSuffix(p.Name, "conv2_kxk.weight") {
				fanOut = 9
			}
			want := math.Sqrt(2 / float64(fanOut))
			if len(p.Data) >= 1000 && (math.Abs(std/want-1) > 0.1 || math.Abs(mean) > 0.1*want) {
				t.Errorf("%s: mean %.3g std %.3g, want N(0, %.3g²)", p.Name, mean, std, want)
			}
		case LinearWeight, RelPosTable:
			if maxAbs > 0.04 || (len(p.Data) >= 1000 && math.Abs(std/0.0177-1) > 0.1) {
				t.Errorf("%s: std %.3g max |w| %.3g, want a normal(0, 0.02) truncated at ±0.04", p.Name, std, maxAbs)
			}
		case NormWeight:
			if mean != 1 || std != 0 {
				t.Errorf("%s: not all ones", p.Name)
			}
		default:
			if maxAbs != 0 {
				t.Errorf("%s: not all zeros", p.Name)
			}
		}
	}
	again, _ := New(n.Spec(), 7)
	other, _ := New(n.Spec(), 8)
	w := n.Params()[0].Data
	if w[0] != again.Params()[0].Data[0] || w[0] == other.Params()[0].Data[0] {
		t.Errorf("initialisation is not a function of the seed")
	}
}

func moments(d []float32) (mean, std, maxAbs float64) {
	for _, v := range d {
		mean += float64(v)
		maxAbs = max(maxAbs, math.Abs(float64(v)))
	}
	mean /= float64(len(d))
	for _, v := range d {
		std += (float64(v) - mean) * (float64(v) - mean)
	}
	return mean, math.Sqrt(std / float64(len(d))), maxAbs
}

func TestForwardChecksInput(t *testing.T) {
	n := newNet(t, tinySpec(3), 1)
	if _, err := n.Forward(make([]float32, 10), 1); err == nil || !strings.Contains(err.Error(), "want 2048") {
		t.Errorf("Forward of 10 values: error %v, want one naming the 2048 values expected", err)
	}
	if _, err := n.Forward(nil, 0); err == nil {
		t.Error("Forward of batch 0: no error")
	}
	x := make([]float32, 2*32*64)
	if _, err := n.TrainStep(x, make([]float32, 5), 2, nil); err == nil || !strings.Contains(err.Error(), "want 6") {
		t.Errorf("TrainStep with 5 target values: error %v, want one naming the 6 expected", err)
	}
	s := tinySpec(3)
	s.DropPath = 0.1
	n, _ = New(s, 1)
	if _, err := n.TrainStep(x, make([]float32, 6), 2, nil); err == nil || !strings.Contains(err.Error(), "rng") {
		t.Errorf("TrainStep with drop path and no rng: error %v, want one about rng", err)
	}
}

// TestForwardIsPerSample checks that evaluation treats the samples of a
// batch independently: any batch size gives each image the same logits.
func TestForwardIsPerSample(t *testing.T) {
	s := tinySpec(4)
	n := newNet(t, s, 1)
	rng := rand.New(rand.NewPCG(1, 2))
	x := randomImages(rng, s, 3)
	all, err := n.Forward(x, 3)
	if err != nil {
		t.Fatal(err)
	}
	per := len(x) / 3
	for i := range 3 {
		one, err := n.Forward(x[i*per:(i+1)*per], 1)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range one {
			if d := math.Abs(float64(v - all[i*4+k])); d > 1e-5 {
				t.Fatalf("image %d logit %d: %g alone, %g in the batch", i, k, v, all[i*4+k])
			}
		}
	}
	acts, err := n.Activations(x, 3)
	if err != nil {
		t.Fatal(err)
	}
	g := s.Grids()
	want := map[string]int{"stem": 3 * s.StemWidth * g[0][0] * g[0][1], "logits": 12}
	for i := range 4 {
		want["stages."+string(rune('0'+i))] = 3 * s.Dims[i] * g[i+1][0] * g[i+1][1]
	}
	for name, size := range want {
		if len(acts[name]) != size {
			t.Errorf("activation %s: %d values, want %d", name, len(acts[name]), size)
		}
	}
}

// TestGraphCache checks that graphs are reused per (batch, mode) and that
// at most maxGraphs are kept.
func TestGraphCache(t *testing.T) {
	s := tinySpec(2)
	n := newNet(t, s, 1)
	rng := rand.New(rand.NewPCG(1, 2))
	for batch := 1; batch <= maxGraphs+1; batch++ {
		if _, err := n.Forward(randomImages(rng, s, batch), batch); err != nil {
			t.Fatal(err)
		}
	}
	if len(n.graphs) != maxGraphs {
		t.Fatalf("%d graphs cached, want %d", len(n.graphs), maxGraphs)
	}
	first := n.graphs[len(n.graphs)-1]
	if _, err := n.Forward(randomImages(rng, s, 2), 2); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Forward(randomImages(rng, s, maxGraphs+1), maxGraphs+1); err != nil {
		t.Fatal(err)
	}
	if n.graphs[len(n.graphs)-1] != first {
		t.Error("the graph for a batch size seen before was rebuilt")
	}
}

// TestTrainingLearns trains the tiny network, with dropout and stochastic
// depth, to tell two kinds of synthetic images apart, and checks the
// bookkeeping of a training step.
func TestTrainingLearns(t *testing.T) {
	s := tinySpec(2)
	s.Dropout, s.DropPath = 0.1, 0.1
	n := newNet(t, s, 3)
	rng := rand.New(rand.NewPCG(5, 6))
	const batch = 8
	// Class 1 images are brighter on their left half.
	sample := func() ([]float32, []float32) {
		x := randomImages(rng, s, batch)
		labels := make([]int, batch)
		for i := range labels {
			labels[i] = i % 2
			if labels[i] == 1 {
				img := x[i*s.ImageH*s.ImageW : (i+1)*s.ImageH*s.ImageW]
				for p := range img {
					if p%s.ImageW < s.ImageW/2 {
						img[p] += 1.5
					}
				}
			}
		}
		return x, oneHot(labels, 2)
	}
	opt := NewAdamW(n.Params(), 3e-3, 0.05)
	for _, p := range n.Params() {
		for i := range p.Grad {
			p.Grad[i] = float32(math.NaN())
		}
	}
	var first, last float64
	for step := range 40 {
		x, y := sample()
		loss, err := n.TrainStep(x, y, batch, rng)
		if err != nil {
			t.Fatal(err)
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			t.Fatalf("step %d: loss %g", step, loss)
		}
		if step == 0 {
			first = loss
			for _, p := range n.Params() {
				for _, g := range p.Grad {
					if math.IsNaN(float64(g)) {
						t.Fatalf("step 0: gradient of %s not overwritten", p.Name)
					}
				}
			}
		}
		if step >= 35 {
			last += loss / 5
		}
		opt.Update(n.Params())
	}
	if last > 0.5*first {
		t.Errorf("loss went from %.3f to %.3f over 40 steps; want it at least halved", first, last)
	}
	for _, b := range n.Buffers() {
		if b.Kind == NumBatchesTracked && b.Data[0] != 40 {
			t.Errorf("%s = %g after 40 steps", b.Name, b.Data[0])
		}
	}

	x, y := sample()
	logits, err := n.Forward(x, batch)
	if err != nil {
		t.Fatal(err)
	}
	correct := 0
	for i := range batch {
		if (logits[2*i+1] > logits[2*i]) == (y[2*i+1] == 1) {
			correct++
		}
	}
	if correct < batch-1 {
		t.Errorf("%d of %d held-out images classified correctly", correct, batch)
	}
}

// TestReplacedParameterData checks that a network whose parameter slices
// were replaced, rather than written into, computes with the new ones.
func TestReplacedParameterData(t *testing.T) {
	s := tinySpec(2)
	n := newNet(t, s, 1)
	x := randomImages(rand.New(rand.NewPCG(1, 2)), s, 1)
	if _, err := n.Forward(x, 1); err != nil {
		t.Fatal(err)
	}
	p := n.Params()[len(n.Params())-1] // head.fc.bias
	p.Data = []float32{5, -5}
	logits, err := n.Forward(x, 1)
	if err != nil {
		t.Fatal(err)
	}
	if logits[0]-logits[1] < 5 {
		t.Errorf("logits %v do not reflect the new %s %v", logits, p.Name, p.Data)
	}
}
