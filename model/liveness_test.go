package model

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// sharingSpec is the spec the sharing tests run: golden_tiny on 32x32
// images, or variant on 64x64, with 5 classes.
func sharingSpec(t *testing.T, variant string) Spec {
	t.Helper()
	if variant == "golden_tiny" {
		return goldenSpec(t, 32, 32, 5)
	}
	c, err := Lookup(variant)
	if err != nil {
		t.Fatal(err)
	}
	return Spec{Variant: variant, Config: c, ImageH: 64, ImageW: 64, InChans: 3, Classes: 5}
}

// sharingNets returns two networks of spec s with the same weights: the
// first shares value buffers by liveness, the second gives every value
// its own.
func sharingNets(t *testing.T, s Spec) (shared, own *Net) {
	t.Helper()
	var err error
	if shared, err = New(s, 3); err != nil {
		t.Fatal(err)
	}
	if own, err = New(s, 3); err != nil {
		t.Fatal(err)
	}
	own.ownBuffers = true
	return shared, own
}

// TestSharedBuffersChangeNothing runs evaluation graphs whose values share
// buffers by liveness and graphs whose values own theirs, on two batches
// in turn (so that buffers hold the previous run's values): logits,
// embeddings and every stage's activations agree bit for bit.
func TestSharedBuffersChangeNothing(t *testing.T) {
	for _, variant := range []string{"golden_tiny", DefaultVariant} {
		t.Run(variant, func(t *testing.T) {
			s := sharingSpec(t, variant)
			shared, own := sharingNets(t, s)
			rng := rand.New(rand.NewPCG(5, 5))
			const batch = 3
			for run := range 2 {
				x := make([]float32, batch*s.InChans*s.ImageH*s.ImageW)
				for i := range x {
					x[i] = float32(rng.NormFloat64())
				}
				a, err := shared.Activations(x, batch)
				if err != nil {
					t.Fatal(err)
				}
				b, err := own.Activations(x, batch)
				if err != nil {
					t.Fatal(err)
				}
				for name, want := range b {
					if !slices.Equal(a[name], want) {
						t.Errorf("run %d: %s differs with shared buffers", run, name)
					}
				}
				la, ea, err := shared.ForwardEmbed(x, batch)
				if err != nil {
					t.Fatal(err)
				}
				lb, eb, err := own.ForwardEmbed(x, batch)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(la, lb) || !slices.Equal(ea, eb) {
					t.Errorf("run %d: logits or embeddings differ with shared buffers", run)
				}
			}
		})
	}
}

// TestSharedBuffersTrainAlike takes two training steps, with dropout and
// stochastic depth, in a graph whose values share buffers and in one
// whose values own theirs: losses and every gradient agree bit for bit.
func TestSharedBuffersTrainAlike(t *testing.T) {
	for _, variant := range []string{"golden_tiny", DefaultVariant} {
		t.Run(variant, func(t *testing.T) {
			s := sharingSpec(t, variant)
			s.Dropout, s.DropPath = 0.1, 0.2
			shared, own := sharingNets(t, s)
			nets := []*Net{shared, own}
			data := rand.New(rand.NewPCG(5, 5))
			const batch = 4
			for step := range 2 {
				x := make([]float32, batch*s.InChans*s.ImageH*s.ImageW)
				for i := range x {
					x[i] = float32(data.NormFloat64())
				}
				targets := make([]float32, batch*s.Classes)
				for i := range batch {
					targets[i*s.Classes+data.IntN(s.Classes)] = 1
				}
				var loss [2]float64
				for i, n := range nets {
					var err error
					if loss[i], err = n.TrainStep(x, targets, batch, rand.New(rand.NewPCG(uint64(step), 9))); err != nil {
						t.Fatal(err)
					}
				}
				if loss[0] != loss[1] {
					t.Errorf("step %d: loss %v with shared buffers, %v without", step, loss[0], loss[1])
				}
				for k, p := range nets[0].Params() {
					if !slices.Equal(p.Grad, nets[1].Params()[k].Grad) {
						t.Errorf("step %d: gradient of %s differs with shared buffers", step, p.Name)
					}
				}
			}
		})
	}
}

// TestSharedBuffersSaveMemory checks that sharing allocates under half of
// the values an evaluation graph of the default variant writes (40% today:
// the live set peaks in the first MBConv block, whose input, depthwise
// output and squeeze-excite output are alive at once).
func TestSharedBuffersSaveMemory(t *testing.T) {
	c, err := Lookup(DefaultVariant)
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(Spec{Variant: c.Name, Config: c, ImageH: 64, ImageW: 64, InChans: 3, Classes: 10}, 1)
	if err != nil {
		t.Fatal(err)
	}
	g, err := n.graph(8, false)
	if err != nil {
		t.Fatal(err)
	}
	distinct := map[*float32]int{}
	total := 0
	for _, node := range g.logits.Graph().AllNodes() {
		if o, ok := node.Op().(*op); ok && len(o.data) > 0 {
			total += len(o.data)
			distinct[&o.data[:cap(o.data)][0]] = max(distinct[&o.data[:cap(o.data)][0]], cap(o.data))
		}
	}
	shared := 0
	for _, size := range distinct {
		shared += size
	}
	if shared*2 > total {
		t.Errorf("shared buffers hold %d values of the %d the graph's ops write; want under half", shared, total)
	}
	t.Logf("%d buffers of %d values for %d op values", len(distinct), shared, total)
}
