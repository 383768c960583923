package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// trainState is everything training leaves behind.
type trainState struct {
	losses []float64
	values []namedValues // parameters, gradients and batch-norm buffers
}

type namedValues struct {
	what string // "parameter stem.conv1.weight", say
	data []float32
}

// trainSteps trains golden_tiny at 32x32 (small enough to be fast, large
// enough that every kernel splits its work: the stem's maps have 256
// positions, so the 1x1 convolutions that read them do not gather the
// batch) for steps AdamW steps of batch 4 with dropout and stochastic depth,
// with GOMAXPROCS set to procs.
func trainSteps(t *testing.T, procs, steps int) trainState {
	t.Helper()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	const batch, classes = 4, 5
	s := Spec{Variant: "golden_tiny", Config: goldenTiny(), ImageH: 32, ImageW: 32, InChans: 3,
		Classes: classes, Dropout: 0.1, DropPath: 0.1}
	n := newNet(t, s, 3)
	opt := NewAdamW(n.Params(), 1e-3, 0.05)
	data := rand.New(rand.NewPCG(4, 5))
	drop := rand.New(rand.NewPCG(6, 7))
	var st trainState
	for range steps {
		x := randomImages(data, s, batch)
		labels := make([]int, batch)
		for i := range labels {
			labels[i] = data.IntN(classes)
		}
		loss, err := n.TrainStep(x, oneHot(labels, classes), batch, drop)
		if err != nil {
			t.Fatal(err)
		}
		st.losses = append(st.losses, loss)
		opt.Update(n.Params())
	}
	for _, p := range n.Params() {
		st.values = append(st.values, namedValues{"parameter " + p.Name, p.Data}, namedValues{"gradient of " + p.Name, p.Grad})
	}
	for _, b := range n.Buffers() {
		st.values = append(st.values, namedValues{"buffer " + b.Name, b.Data})
	}
	return st
}

// firstDifference describes the first value that differs in bits between
// a and b, or returns "" when they are identical.
func firstDifference(a, b trainState) string {
	for i := range a.losses {
		if math.Float64bits(a.losses[i]) != math.Float64bits(b.losses[i]) {
			return fmt.Sprintf("loss of step %d: %v and %v", i, a.losses[i], b.losses[i])
		}
	}
	for k, av := range a.values {
		for i, v := range av.data {
			if w := b.values[k].data[i]; math.Float32bits(v) != math.Float32bits(w) {
				return fmt.Sprintf("%s, element %d: %v and %v", av.what, i, v, w)
			}
		}
	}
	return ""
}

func TestTrainingIsBitReproducible(t *testing.T) {
	const steps = 3
	ref := trainSteps(t, 4, steps)
	if d := firstDifference(ref, trainSteps(t, 4, steps)); d != "" {
		t.Errorf("two runs with GOMAXPROCS 4 differ: %s", d)
	}
	if d := firstDifference(ref, trainSteps(t, 1, steps)); d != "" {
		t.Errorf("GOMAXPROCS 4 and 1 differ: %s", d)
	}
	if d := firstDifference(ref, trainSteps(t, 3, steps)); d != "" {
		t.Errorf("GOMAXPROCS 4 and 3 differ: %s", d)
	}
}

func TestPartialsSumIsIndependentOfThreads(t *testing.T) {
	const items, size = 100, 1000 // more items than maxSumChunks
	rng := rand.New(rand.NewPCG(1, 2))
	terms := make([]float32, items*size)
	for i := range terms {
		terms[i] = float32(rng.NormFloat64() * math.Exp(4*rng.NormFloat64()))
	}
	sum := func(procs int) []float32 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		var p partials
		dst := make([]float32, size)
		for i := range dst {
			dst[i] = float32(i) // sum must overwrite
		}
		p.sum(dst, items, func(_ int, part []float32, lo, hi int) {
			for n := lo; n < hi; n++ {
				for i, v := range terms[n*size : (n+1)*size] {
					part[i] += v
				}
			}
		})
		return dst
	}
	ref := sum(1)
	for i, v := range ref {
		var exact float64
		for n := range items {
			exact += float64(terms[n*size+i])
		}
		var scale float64
		for n := range items {
			scale += math.Abs(float64(terms[n*size+i]))
		}
		if math.Abs(float64(v)-exact) > 1e-5*scale {
			t.Fatalf("element %d: sum %v, want %v", i, v, exact)
		}
	}
	for _, procs := range []int{2, 3, 8} {
		got := sum(procs)
		for i, v := range got {
			if math.Float32bits(v) != math.Float32bits(ref[i]) {
				t.Fatalf("GOMAXPROCS %d: element %d is %v, with GOMAXPROCS 1 %v", procs, i, v, ref[i])
			}
		}
	}
}
