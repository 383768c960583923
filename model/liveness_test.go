package model

import (
	"cmp"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// sharingSpec is the spec the sharing tests run: golden_tiny on 32x32
// images, or variant on 64x64, with 5 classes.
func sharingSpec(t *testing.T, variant string) Spec {
	t.Helper()
	if variant == "golden_tiny" {
		return goldenSpec(t, 32, 32, 5)
	}
	return mustSpec(t, variant, 64, 64, 5)
}

// sharingNets returns two networks of spec s with the same weights: the
// first shares value buffers by liveness, the second gives every value
// its own.
func sharingNets(t *testing.T, s Spec) (shared, own *Net) {
	t.Helper()
	shared, own = newNet(t, s, 3), newNet(t, s, 3)
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
				x := randomImages(rng, s, batch)
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
				x := randomImages(data, s, batch)
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
	n := newNet(t, mustSpec(t, DefaultVariant, 64, 64, 10), 1)
	g, err := n.graph(8, false)
	if err != nil {
		t.Fatal(err)
	}
	type extent struct{ lo, hi uintptr }
	var extents []extent
	total := 0
	for _, node := range g.logits.Graph().AllNodes() {
		if o, ok := node.Op().(*op); ok && len(o.data) > 0 {
			total += len(o.data)
			lo := uintptr(unsafe.Pointer(&o.data[0]))
			extents = append(extents, extent{lo, lo + uintptr(len(o.data))*4})
		}
	}
	// The memory the values cover: the union of their extents.
	slices.SortFunc(extents, func(a, b extent) int { return cmp.Compare(a.lo, b.lo) })
	var covered, reach uintptr
	for _, e := range extents {
		if e.lo > reach {
			reach = e.lo
		}
		if e.hi > reach {
			covered += e.hi - reach
			reach = e.hi
		}
	}
	shared := int(covered / 4)
	if shared*2 > total {
		t.Errorf("shared buffers cover %d values of the %d the graph's ops write; want under half", shared, total)
	}
	t.Logf("%d values in %d for %d op values", len(extents), shared, total)
}

// TestPlanSeparatesLiveValues checks the arena plan on random lifetimes:
// no two values alive at the same time overlap, and a small value kept to
// the end does not hold the place of a large one that died before it.
func TestPlanSeparatesLiveValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	var values []*span
	for range 300 {
		start := rng.IntN(200)
		values = append(values, &span{start: start, end: start + rng.IntN(40), size: 1 + rng.IntN(5000)})
	}
	total := plan(values)
	for i, a := range values {
		if a.off%arenaAlign != 0 || a.off+a.size > total {
			t.Fatalf("value %d at %d+%d: not aligned or past the arena's %d", i, a.off, a.size, total)
		}
		for _, b := range values[i+1:] {
			if a.start <= b.end && b.start <= a.end && a.off < b.off+b.size && b.off < a.off+a.size {
				t.Fatalf("values alive together overlap: [%d,%d] at %d+%d and [%d,%d] at %d+%d",
					a.start, a.end, a.off, a.size, b.start, b.end, b.off, b.size)
			}
		}
	}

	// An activation dies, a small gradient is kept, and a second
	// activation of the same size takes the first one's place.
	first := &span{start: 0, end: 1, size: 1 << 20}
	kept := &span{start: 2, end: 10, size: 100}
	second := &span{start: 3, end: 4, size: 1 << 20}
	if got, want := plan([]*span{first, kept, second}), 1<<20+roundUp(100, arenaAlign); got != want {
		t.Errorf("arena of %d elements, want %d", got, want)
	}
}

// TestFusedNormsChangeNothing runs evaluation graphs whose BatchNorm and
// GELU run inside the convolutions before them and graphs where they are
// ops of their own, on maps small enough for the channels-last depthwise
// convolution and the gathered 1x1 products and large enough for the
// per-plane and per-sample ones, and on batches too small and large enough
// for the channels-last pass to share out whole samples: the logits agree
// bit for bit.
func TestFusedNormsChangeNothing(t *testing.T) {
	for _, size := range [][2]int{{32, 32}, {128, 96}} {
		s := mustSpec(t, DefaultVariant, size[0], size[1], 5)
		fused, separate := newNet(t, s, 3), newNet(t, s, 3)
		separate.separateNorms = true
		rng := rand.New(rand.NewPCG(9, 9))
		for i, b := range fused.Buffers() { // running statistics away from 0 and 1
			for j := range b.Data {
				if !strings.HasSuffix(b.Name, "num_batches_tracked") {
					b.Data[j] = float32(rng.Float64() + 0.1)
				}
			}
			copy(separate.Buffers()[i].Data, b.Data)
		}
		for _, batch := range []int{3, 4 * runtime.GOMAXPROCS(0)} {
			x := randomImages(rng, s, batch)
			a, err := fused.Forward(x, batch)
			if err != nil {
				t.Fatal(err)
			}
			b, err := separate.Forward(x, batch)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a, b) {
				t.Errorf("%dx%d, batch %d: logits differ with fused norms", size[0], size[1], batch)
			}
		}
	}
}
