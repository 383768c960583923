package model

import (
	"math"
	"math/rand/v2"

	"gorgonia.org/gorgonia"
)

// add is the residual sum of two tensors of one shape.
type add struct{}

func (b *builder) add(name string, x, y *gorgonia.Node) *gorgonia.Node {
	if !x.Shape().Eq(y.Shape()) {
		b.failf("%s: shapes %v and %v differ", name, x.Shape(), y.Shape())
	}
	return b.apply(name, x.Shape(), add{}, x, y)
}

func (add) forward(out []float32, in [][]float32) {
	x, y := in[0], in[1]
	chunked(len(out), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			out[i] = x[i] + y[i]
		}
	})
}

func (add) wrt() []bool { return []bool{true, true} }

func (add) grads(_ *builder, _ gorgonia.Nodes, _, dy *gorgonia.Node) gorgonia.Nodes {
	return gorgonia.Nodes{dy, dy}
}

// chunked calls fn on chunks of [0, n) in parallel, for elementwise work.
func chunked(n int, fn func(lo, hi int)) {
	const chunk = 8192
	parallelFor((n+chunk-1)/chunk, func(_, lo, hi int) {
		fn(lo*chunk, min(hi*chunk, n))
	})
}

// geluOp is the exact GELU as a node of its own. When its gradient is
// wanted, the forward pass keeps the derivative at each input for it.
type geluOp struct {
	grad []float32 // gelu' at the inputs of the last run, or nil
}

func (k *geluOp) forward(y []float32, in [][]float32) {
	x := in[0]
	chunked(len(y), func(lo, hi int) {
		var grad []float32
		if k.grad != nil {
			grad = k.grad[lo:hi]
		}
		geluAffine(y[lo:hi], grad, x[lo:hi], 1, 0)
	})
}

func (k *geluOp) wrt() []bool { return []bool{true} }

func (k *geluOp) grads(b *builder, in gorgonia.Nodes, _, dy *gorgonia.Node) gorgonia.Nodes {
	k.grad = make([]float32, in[0].Shape().TotalSize())
	return gorgonia.Nodes{b.apply("gelu.dx", in[0].Shape(), &geluBack{k}, dy, in[0])}
}

// geluBack computes dx = dy·gelu'(x) from (dy, x) with the derivatives kept
// by the forward pass (x only orders it after the forward pass).
type geluBack struct{ *geluOp }

func (k *geluBack) forward(dx []float32, in [][]float32) {
	dy := in[0]
	chunked(len(dx), func(lo, hi int) {
		d, g := dx[lo:hi], dy[lo:hi]
		g = g[:len(d)]
		for i, v := range k.grad[lo:hi][:len(d)] {
			d[i] = g[i] * v
		}
	})
}

// tanhOp is the hyperbolic tangent.
type tanhOp struct{}

func (tanhOp) forward(y []float32, in [][]float32) {
	for i, v := range in[0] {
		y[i] = float32(math.Tanh(float64(v)))
	}
}

func (tanhOp) wrt() []bool { return []bool{true} }

func (tanhOp) grads(b *builder, in gorgonia.Nodes, y, dy *gorgonia.Node) gorgonia.Nodes {
	return gorgonia.Nodes{b.apply("tanh.dx", in[0].Shape(), tanhBack{}, dy, y)}
}

// tanhBack computes dx = dy·(1 − y²) from (dy, y).
type tanhBack struct{}

func (tanhBack) forward(dx []float32, in [][]float32) {
	dy, y := in[0], in[1]
	for i, v := range y {
		dx[i] = dy[i] * (1 - v*v)
	}
}

// avgPool2 is a 2x2 average pool with stride 2 over NCHW input of even size.
type avgPool2 struct{ planes, h, w int }

func (b *builder) avgPool2(name string, x *gorgonia.Node) *gorgonia.Node {
	batch, c, h, w := b.dims4(x)
	if h%2 != 0 || w%2 != 0 {
		b.failf("%s: 2x2 pooling of an odd-sized map %v", name, x.Shape())
	}
	return b.apply(name, []int{batch, c, h / 2, w / 2}, &avgPool2{planes: batch * c, h: h, w: w}, x)
}

func (k *avgPool2) forward(y []float32, in [][]float32) {
	x := in[0]
	ho, wo := k.h/2, k.w/2
	parallelFor(k.planes, func(_, lo, hi int) {
		for p := lo; p < hi; p++ {
			src, dst := x[p*k.h*k.w:(p+1)*k.h*k.w], y[p*ho*wo:(p+1)*ho*wo]
			for oh := range ho {
				r0, r1 := src[2*oh*k.w:(2*oh+1)*k.w], src[(2*oh+1)*k.w:(2*oh+2)*k.w]
				out := dst[oh*wo : (oh+1)*wo]
				for ow := range out {
					out[ow] = (r0[2*ow] + r0[2*ow+1] + r1[2*ow] + r1[2*ow+1]) * 0.25
				}
			}
		}
	})
}

func (k *avgPool2) wrt() []bool { return []bool{true} }

func (k *avgPool2) grads(b *builder, in gorgonia.Nodes, _, dy *gorgonia.Node) gorgonia.Nodes {
	return gorgonia.Nodes{b.apply("avgpool.dx", in[0].Shape(), &avgPool2Back{k}, dy)}
}

// avgPool2Back spreads each output gradient over its 2x2 window.
type avgPool2Back struct{ *avgPool2 }

func (k *avgPool2Back) forward(dx []float32, in [][]float32) {
	dy := in[0]
	ho, wo := k.h/2, k.w/2
	parallelFor(k.planes, func(_, lo, hi int) {
		for p := lo; p < hi; p++ {
			src, dst := dy[p*ho*wo:(p+1)*ho*wo], dx[p*k.h*k.w:(p+1)*k.h*k.w]
			for oh := range ho {
				r0, r1 := dst[2*oh*k.w:(2*oh+1)*k.w], dst[(2*oh+1)*k.w:(2*oh+2)*k.w]
				for ow, g := range src[oh*wo : (oh+1)*wo] {
					g *= 0.25
					r0[2*ow], r0[2*ow+1], r1[2*ow], r1[2*ow+1] = g, g, g, g
				}
			}
		}
	})
}

// meanPool averages NCHW input over space: [B,C,H,W] → [B,C].
type meanPool struct{ planes, hw int }

func (b *builder) meanPool(name string, x *gorgonia.Node) *gorgonia.Node {
	batch, c, h, w := b.dims4(x)
	return b.apply(name, []int{batch, c}, &meanPool{planes: batch * c, hw: h * w}, x)
}

func (k *meanPool) forward(y []float32, in [][]float32) {
	x := in[0]
	for p := range y {
		var s float32
		for _, v := range x[p*k.hw : (p+1)*k.hw] {
			s += v
		}
		y[p] = s / float32(k.hw)
	}
}

func (k *meanPool) wrt() []bool { return []bool{true} }

func (k *meanPool) grads(b *builder, in gorgonia.Nodes, _, dy *gorgonia.Node) gorgonia.Nodes {
	return gorgonia.Nodes{b.apply("meanpool.dx", in[0].Shape(), &meanPoolBack{k}, dy)}
}

type meanPoolBack struct{ *meanPool }

func (k *meanPoolBack) forward(dx []float32, in [][]float32) {
	for p, g := range in[0] {
		g /= float32(k.hw)
		row := dx[p*k.hw : (p+1)*k.hw]
		for i := range row {
			row[i] = g
		}
	}
}

// linear is a fully connected layer on [B,In] with weight [Out,In] and bias
// [Out]: y = x·Wᵀ + b.
type linear struct {
	gemm             gemm
	batch, din, dout int
}

func (b *builder) linear(name string, x, w, bias *gorgonia.Node) *gorgonia.Node {
	xs, ws := x.Shape(), w.Shape()
	if len(xs) != 2 || len(ws) != 2 || ws[1] != xs[1] || bias.Shape().TotalSize() != ws[0] {
		b.failf("%s: weight %v and bias %v do not fit input %v", name, ws, bias.Shape(), xs)
	}
	k := &linear{gemm: b.gemm, batch: xs[0], din: xs[1], dout: ws[0]}
	return b.apply(name, []int{xs[0], ws[0]}, k, x, w, bias)
}

func (k *linear) forward(y []float32, in [][]float32) {
	x, w, bias := in[0], in[1], in[2]
	for n := range k.batch {
		copy(y[n*k.dout:(n+1)*k.dout], bias)
	}
	k.gemm.Sgemm(noTrans, trans, k.batch, k.dout, k.din, 1, x, k.din, w, k.din, 1, y, k.dout)
}

func (k *linear) wrt() []bool { return []bool{true, true, true} }

func (k *linear) grads(b *builder, in gorgonia.Nodes, _, dy *gorgonia.Node) gorgonia.Nodes {
	return gorgonia.Nodes{
		b.apply("linear.dx", in[0].Shape(), &linearDX{k}, dy, in[1]),
		b.apply("linear.dw", in[1].Shape(), &linearDW{k}, dy, in[0]),
		b.apply("linear.db", []int{k.dout}, &channelSum{batch: k.batch, c: k.dout, hw: 1}, dy),
	}
}

// linearDX computes dx = dy·W from (dy, w).
type linearDX struct{ *linear }

func (k *linearDX) forward(dx []float32, in [][]float32) {
	k.gemm.Sgemm(noTrans, noTrans, k.batch, k.din, k.dout, 1, in[0], k.dout, in[1], k.din, 0, dx, k.din)
}

// linearDW computes dW = dyᵀ·x from (dy, x).
type linearDW struct{ *linear }

func (k *linearDW) forward(dw []float32, in [][]float32) {
	k.gemm.Sgemm(trans, noTrans, k.dout, k.din, k.batch, 1, in[0], k.dout, in[1], k.din, 0, dw, k.din)
}

// runState is what a graph's random kernels read at run time.
type runState struct {
	rng *rand.Rand
}

// dropMask multiplies its input by a random mask scaled by 1/keep: per
// element (dropout) or per sample (stochastic depth, "drop path"). A new
// mask is drawn from the graph's RNG on every run.
type dropMask struct {
	state     *runState
	rate      float64
	perSample bool
	batch     int
	mask      []float32
}

func (b *builder) drop(name string, x *gorgonia.Node, state *runState, rate float64, perSample bool) *gorgonia.Node {
	if !b.train || rate <= 0 {
		return x
	}
	s := x.Shape()
	k := &dropMask{state: state, rate: rate, perSample: perSample, batch: s[0]}
	if perSample {
		k.mask = make([]float32, s[0])
	} else {
		k.mask = make([]float32, s.TotalSize())
	}
	return b.apply(name, s, k, x)
}

func (k *dropMask) forward(y []float32, in [][]float32) {
	scale := float32(1 / (1 - k.rate))
	for i := range k.mask {
		if k.state.rng.Float64() < k.rate {
			k.mask[i] = 0
		} else {
			k.mask[i] = scale
		}
	}
	k.apply(y, in[0])
}

// apply sets y = x·mask.
func (k *dropMask) apply(y, x []float32) {
	if !k.perSample {
		for i, v := range x {
			y[i] = v * k.mask[i]
		}
		return
	}
	per := len(x) / k.batch
	for n, m := range k.mask {
		src, dst := x[n*per:(n+1)*per], y[n*per:(n+1)*per]
		for i, v := range src {
			dst[i] = v * m
		}
	}
}

func (k *dropMask) wrt() []bool { return []bool{true} }

func (k *dropMask) grads(b *builder, in gorgonia.Nodes, _, dy *gorgonia.Node) gorgonia.Nodes {
	return gorgonia.Nodes{b.apply("drop.dx", in[0].Shape(), &dropMaskBack{k}, dy)}
}

// dropMaskBack computes dx = dy·mask with the forward pass's mask.
type dropMaskBack struct{ *dropMask }

func (k *dropMaskBack) forward(dx []float32, in [][]float32) { k.apply(dx, in[0]) }
