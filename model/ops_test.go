package model

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
)

// probe is the scalar Σ y·r with fixed random weights r: a loss whose
// gradient with respect to y is r, to check another kernel's gradients.
type probe struct{ r []float32 }

func (k *probe) forward(out []float32, in [][]float32) {
	var s float64
	for i, v := range in[0] {
		s += float64(v) * float64(k.r[i])
	}
	out[0] = float32(s)
}

func (k *probe) wrt() []bool { return []bool{true} }

func (k *probe) grads(b *builder, in gorgonia.Nodes, _, dy *gorgonia.Node) gorgonia.Nodes {
	return gorgonia.Nodes{b.apply("probe.dy", in[0].Shape(), &probeBack{k}, dy)}
}

type probeBack struct{ *probe }

func (k *probeBack) forward(out []float32, in [][]float32) {
	for i, v := range k.r {
		out[i] = v * in[0][0]
	}
}

// gradInput is one input of a gradient check.
type gradInput struct {
	shape    []int
	noGrad   bool      // not differentiated (or not differentiable)
	positive bool      // values in (0.5, 1.5) instead of N(0, 1)
	data     []float32 // fixed values, instead of random ones
}

// checkGrads builds f on inputs of the given shapes filled with random
// values, and compares the gradient that the graph computes for every input
// with central finite differences of the loss Σ f(inputs)·r. Each run
// reseeds the graph's RNG, so that random masks repeat.
func checkGrads(t *testing.T, inputs []gradInput, f func(b *builder, state *runState, in []*gorgonia.Node) *gorgonia.Node) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	b := &builder{g: gorgonia.NewGraph(), gemm: newGEMM(), train: true}
	state := &runState{}
	var nodes, wrt gorgonia.Nodes
	var data [][]float32
	var wrtIndex []int
	for i, in := range inputs {
		size := 1
		for _, d := range in.shape {
			size *= d
		}
		d := in.data
		if d == nil {
			d = make([]float32, size)
			for j := range d {
				if in.positive {
					d[j] = float32(0.5 + rng.Float64())
				} else {
					d[j] = float32(rng.NormFloat64())
				}
			}
		}
		n := b.input(string(rune('a'+i)), d, in.shape...)
		nodes = append(nodes, n)
		data = append(data, d)
		if !in.noGrad {
			wrt = append(wrt, n)
			wrtIndex = append(wrtIndex, i)
		}
	}
	var loss *gorgonia.Node
	var err error
	func() {
		defer b.recover(&err)
		y := f(b, state, nodes)
		r := make([]float32, max(1, y.Shape().TotalSize()))
		for i := range r {
			r[i] = float32(rng.NormFloat64())
		}
		loss = b.apply("probe", nil, &probe{r: r}, y)
	}()
	if err != nil {
		t.Fatal(err)
	}
	grads, err := gorgonia.Grad(loss, wrt...)
	if err != nil {
		t.Fatal(err)
	}
	vm := gorgonia.NewTapeMachine(b.g)
	defer vm.Close()
	run := func() float64 {
		state.rng = rand.New(rand.NewPCG(3, 4))
		vm.Reset()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		return float64(opOf(loss).data[0])
	}
	run()
	analytic := make([][]float32, len(grads))
	for i, g := range grads {
		d, err := float32s(g.Value())
		if err != nil {
			t.Fatal(err)
		}
		analytic[i] = append([]float32(nil), d...)
	}

	const eps = 1e-2
	for gi, in := range wrtIndex {
		x := data[in]
		// At most 40 elements per input, spread over the tensor.
		step := max(1, len(x)/40)
		var diff2, norm2 float64
		for j := 0; j < len(x); j += step {
			orig := x[j]
			x[j] = orig + eps
			lp := run()
			x[j] = orig - eps
			lm := run()
			x[j] = orig
			numeric := (lp - lm) / (2 * eps)
			a := float64(analytic[gi][j])
			diff2 += (numeric - a) * (numeric - a)
			norm2 += numeric * numeric
		}
		rel := math.Sqrt(diff2) / math.Max(math.Sqrt(norm2), 1e-3)
		if rel > 2e-2 || math.IsNaN(rel) {
			t.Errorf("input %d %v: gradient differs from finite differences by %.3g (relative norm)", in, inputs[in].shape, rel)
		}
	}
}

func TestConv1x1Grad(t *testing.T) {
	// Both paths: one product per sample (a map of gatherBelow positions or
	// more) and one product over the gathered batch.
	for _, x := range [][]int{{3, 4, 3, 5}, {2, 3, 16, gatherBelow / 16}} {
		for _, bias := range []bool{false, true} {
			in := []gradInput{{shape: x}, {shape: []int{6, x[1], 1, 1}}}
			if bias {
				in = append(in, gradInput{shape: []int{6}})
			}
			checkGrads(t, in, func(b *builder, _ *runState, in []*gorgonia.Node) *gorgonia.Node {
				var bn *gorgonia.Node
				if bias {
					bn = in[2]
				}
				return b.conv1x1("conv", in[0], in[1], bn, true)
			})
		}
	}
}

func TestConv3x3Grad(t *testing.T) {
	for _, stride := range []int{1, 2} {
		checkGrads(t, []gradInput{{shape: []int{2, 3, 6, 5}}, {shape: []int{4, 3, 3, 3}}},
			func(b *builder, _ *runState, in []*gorgonia.Node) *gorgonia.Node {
				return b.conv3x3("conv", in[0], in[1], stride, true)
			})
	}
}

func TestDepthwiseGrad(t *testing.T) {
	for _, stride := range []int{1, 2} {
		checkGrads(t, []gradInput{{shape: []int{2, 3, 6, 5}}, {shape: []int{3, 1, 3, 3}}},
			func(b *builder, _ *runState, in []*gorgonia.Node) *gorgonia.Node {
				return b.depthwise("dw", in[0], in[1], stride)
			})
	}
}

func TestBatchNormGrad(t *testing.T) {
	for _, act := range []bool{false, true} {
		checkGrads(t, []gradInput{{shape: []int{3, 4, 2, 3}}, {shape: []int{4}}, {shape: []int{4}}},
			func(b *builder, _ *runState, in []*gorgonia.Node) *gorgonia.Node {
				st := &bnStats{mean: make([]float32, 4), variance: make([]float32, 4), tracked: make([]float32, 1)}
				return b.batchNorm("bn", in[0], in[1], in[2], st, act)
			})
	}
}

func TestLayerNormGrad(t *testing.T) {
	for _, shape := range [][]int{{2, 5, 2, 3}, {3, 6}} {
		checkGrads(t, []gradInput{{shape: shape}, {shape: []int{shape[1]}}, {shape: []int{shape[1]}}},
			func(b *builder, _ *runState, in []*gorgonia.Node) *gorgonia.Node {
				return b.layerNorm("ln", in[0], in[1], in[2])
			})
	}
}

func TestPoolGrads(t *testing.T) {
	checkGrads(t, []gradInput{{shape: []int{2, 3, 4, 6}}}, func(b *builder, _ *runState, in []*gorgonia.Node) *gorgonia.Node {
		return b.avgPool2("pool", in[0])
	})
	checkGrads(t, []gradInput{{shape: []int{2, 3, 4, 6}}}, func(b *builder, _ *runState, in []*gorgonia.Node) *gorgonia.Node {
		return b.meanPool("pool", in[0])
	})
}

func TestSqueezeExciteGrad(t *testing.T) {
	checkGrads(t, []gradInput{{shape: []int{2, 8, 3, 3}}, {shape: []int{2, 8, 1, 1}}, {shape: []int{2}},
		{shape: []int{8, 2, 1, 1}}, {shape: []int{8}}},
		func(b *builder, _ *runState, in []*gorgonia.Node) *gorgonia.Node {
			return b.squeezeExcite("se", in[0], in[1], in[2], in[3], in[4])
		})
}

func TestAttentionGrad(t *testing.T) {
	const h, w, heads = 2, 3, 2
	checkGrads(t, []gradInput{{shape: []int{2, heads * 3 * DimHead, h, w}}, {shape: []int{(2*h - 1) * (2*w - 1), heads}}},
		func(b *builder, _ *runState, in []*gorgonia.Node) *gorgonia.Node {
			return b.attention("attn", in[0], in[1], h, w)
		})
}

func TestElementwiseGrads(t *testing.T) {
	shape := []int{2, 3, 2, 2}
	checkGrads(t, []gradInput{{shape: shape}, {shape: shape}}, func(b *builder, _ *runState, in []*gorgonia.Node) *gorgonia.Node {
		return b.add("add", in[0], in[1])
	})
	checkGrads(t, []gradInput{{shape: shape}}, func(b *builder, _ *runState, in []*gorgonia.Node) *gorgonia.Node {
		return b.apply("gelu", shape, &geluOp{}, in[0])
	})
	checkGrads(t, []gradInput{{shape: []int{3, 4}}}, func(b *builder, _ *runState, in []*gorgonia.Node) *gorgonia.Node {
		return b.apply("tanh", []int{3, 4}, tanhOp{}, in[0])
	})
	for _, perSample := range []bool{false, true} {
		checkGrads(t, []gradInput{{shape: shape}}, func(b *builder, st *runState, in []*gorgonia.Node) *gorgonia.Node {
			return b.drop("drop", in[0], st, 0.5, perSample)
		})
	}
}

func TestLinearGrad(t *testing.T) {
	checkGrads(t, []gradInput{{shape: []int{3, 5}}, {shape: []int{4, 5}}, {shape: []int{4}}},
		func(b *builder, _ *runState, in []*gorgonia.Node) *gorgonia.Node {
			return b.linear("fc", in[0], in[1], in[2])
		})
}

func TestSoftCrossEntropyGrad(t *testing.T) {
	targets := []float32{0.7, 0.1, 0.1, 0.1, 0, 0.5, 0.5, 0, 0.25, 0.25, 0.25, 0.25}
	checkGrads(t, []gradInput{{shape: []int{3, 4}}, {shape: []int{3, 4}, noGrad: true, data: targets}},
		func(b *builder, _ *runState, in []*gorgonia.Node) *gorgonia.Node {
			return b.softCrossEntropy("loss", in[0], in[1])
		})
}

// TestBuildErrors checks that a shape that does not fit is reported as an
// error naming the layer, not a panic.
func TestBuildErrors(t *testing.T) {
	b := &builder{g: gorgonia.NewGraph(), gemm: newGEMM()}
	x := b.input("x", make([]float32, 2*3*4*4), 2, 3, 4, 4)
	w := b.input("w", make([]float32, 5*4), 5, 4, 1, 1)
	var err error
	func() {
		defer b.recover(&err)
		b.conv1x1("stages.0.conv", x, w, nil, true)
	}()
	if err == nil || !strings.Contains(err.Error(), "stages.0.conv") || !strings.Contains(err.Error(), "(5, 4, 1, 1)") {
		t.Errorf("conv1x1 with a weight of 4 input channels on 3: error %v", err)
	}
}
