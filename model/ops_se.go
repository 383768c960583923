package model

import (
	"math"

	"gorgonia.org/gorgonia"

	"github.com/astroformer/astroformer/model/internal/asm"
)

// squeezeExcite is the squeeze-and-excitation gate of the MBConv blocks,
// fused into one kernel with inputs (x, fc1.weight, fc1.bias, fc2.weight,
// fc2.bias): s = mean over space of x, g = σ(fc2(SiLU(fc1(s)))), y = x·g.
type squeezeExcite struct {
	batch, c, rd, hw int
	s, h, g          []float32   // squeezed input, fc1 output and gate, per sample
	as               [][]float32 // per worker: SiLU of fc1's output for one sample
	w1t, w2t         []float32   // fc1's and fc2's weights transposed, for the gate's products

	dw1, db1, dw2, db2 []float32 // set by squeezeExciteBack
}

func (b *builder) squeezeExcite(name string, x, w1, b1, w2, b2 *gorgonia.Node) *gorgonia.Node {
	return b.apply(name, x.Shape(), b.squeezeExciteKernel(name, x, w1, b1, w2, b2), x, w1, b1, w2, b2)
}

// squeezeExciteKernel returns the kernel of a squeeze-excitation gate of x.
func (b *builder) squeezeExciteKernel(name string, x, w1, b1, w2, b2 *gorgonia.Node) *squeezeExcite {
	batch, c, h, w := b.dims4(x)
	rd := w1.Shape()[0]
	if w1.Shape().TotalSize() != rd*c || w2.Shape().TotalSize() != rd*c || b1.Shape().TotalSize() != rd || b2.Shape().TotalSize() != c {
		b.failf("%s: parameters %v %v %v %v do not fit %d channels", name, w1.Shape(), b1.Shape(), w2.Shape(), b2.Shape(), c)
	}
	return &squeezeExcite{batch: batch, c: c, rd: rd, hw: h * w,
		s: make([]float32, batch*c), h: make([]float32, batch*rd), g: make([]float32, batch*c)}
}

// gatedConv1x1 is, in evaluation, the squeeze-excitation gate fused into
// the 1x1 convolution after it, with inputs (x, fc1.weight, fc1.bias,
// fc2.weight, fc2.bias, weight, bias): the gated activation is formed
// only as the convolution's gathered input (or one sample at a time),
// never whole. The same bits as the two ops. It has no gradient: a
// training graph fuses it only into frozen parts, which need none.
type gatedConv1x1 struct {
	se   *squeezeExcite
	conv *conv1x1
}

// gatedConv1x1 adds a squeeze-excitation gate and a 1x1 convolution with
// bias, fused, for evaluation.
func (b *builder) gatedConv1x1(seName, convName string, x, w1, b1, w2, b2, w, bias *gorgonia.Node) *gorgonia.Node {
	se := b.squeezeExciteKernel(seName, x, w1, b1, w2, b2)
	conv, shape := b.conv1x1Kernel(convName, x, w, true, false)
	return b.apply(convName, shape, &gatedConv1x1{se: se, conv: conv}, x, w1, b1, w2, b2, w, bias)
}

func (k *gatedConv1x1) forward(y []float32, in [][]float32) {
	k.se.gates(in[0], in[1], in[2], in[3], in[4])
	k.conv.product(y, in[0], in[5], in[6], k.se.g)
}

func sigmoid(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }

func (k *squeezeExcite) forward(y []float32, in [][]float32) {
	x := in[0]
	k.gates(x, in[1], in[2], in[3], in[4])
	parallelFor(k.batch*k.c, func(_, lo, hi int) {
		for p := lo; p < hi; p++ {
			scaleInto(y[p*k.hw:(p+1)*k.hw], x[p*k.hw:(p+1)*k.hw], k.g[p])
		}
	})
}

// scaleInto sets dst[i] = src[i]·g: a plane gated, by squeezeExcite or as
// gatedConv1x1 gathers it.
func scaleInto(dst, src []float32, g float32) {
	dst = dst[:len(src)]
	if asm.Available && len(src) > 0 {
		asm.Scale(&dst[0], &src[0], len(src), g)
		return
	}
	for i, v := range src {
		dst[i] = v * g
	}
}

// gates computes every sample's squeezed input, fc1 output and gate.
func (k *squeezeExcite) gates(x, w1, b1, w2, b2 []float32) {
	parallelFor(k.batch*k.c, func(_, lo, hi int) {
		for p := lo; p < hi; p++ {
			s, _ := shiftedSums(x[p*k.hw:(p+1)*k.hw], 0)
			k.s[p] = float32(s / float64(k.hw))
		}
	})
	k.as = scratch(k.as, workers(k.batch), k.rd)
	k.w1t, k.w2t = grow(k.w1t, k.rd*k.c), grow(k.w2t, k.c*k.rd)
	transpose(k.w1t, w1, k.rd, k.c)
	transpose(k.w2t, w2, k.c, k.rd)
	parallelFor(k.batch, func(wk, lo, hi int) {
		for n := lo; n < hi; n++ {
			k.gate(n, k.as[wk], b1, b2)
		}
	})
}

// gate computes sample n's fc1 output (into k.h), with a as scratch for
// its SiLU, and its gate (into k.g) from its squeezed input, with the
// transposed weights: each output's products are summed in the order of
// the weight row, a whole column of outputs at a time.
func (k *squeezeExcite) gate(n int, a, b1, b2 []float32) {
	s := k.s[n*k.c : (n+1)*k.c]
	h := k.h[n*k.rd : (n+1)*k.rd]
	copy(h, b1)
	for c, v := range s {
		addScaled(h, k.w1t[c*k.rd:(c+1)*k.rd], v)
	}
	for r, v := range h {
		a[r] = v * sigmoid(v)
	}
	g := k.g[n*k.c : (n+1)*k.c]
	copy(g, b2)
	for r, v := range a {
		addScaled(g, k.w2t[r*k.c:(r+1)*k.c], v)
	}
	for c, v := range g {
		g[c] = sigmoid(v)
	}
}

// addScaled sets dst[i] += a·src[i] over len(dst) values, rounding each
// product before the sum (asm.AddScaled where it runs, the same bits).
func addScaled(dst, src []float32, a float32) {
	if len(dst) == 0 {
		return
	}
	src = src[:len(dst)]
	if asm.Available {
		asm.AddScaled(&dst[0], &src[0], len(dst), a)
		return
	}
	for i, v := range src {
		dst[i] += float32(a * v)
	}
}

func (k *squeezeExcite) wrt() []bool { return []bool{true, true, true, true, true} }

func (k *squeezeExcite) grads(b *builder, in gorgonia.Nodes, _, dy *gorgonia.Node) gorgonia.Nodes {
	k.dw1, k.db1 = make([]float32, k.rd*k.c), make([]float32, k.rd)
	k.dw2, k.db2 = make([]float32, k.c*k.rd), make([]float32, k.c)
	dx := b.apply("se.dx", in[0].Shape(), &squeezeExciteBack{squeezeExcite: k}, dy, in[0], in[1], in[3])
	return gorgonia.Nodes{dx,
		b.pick("se.fc1.dweight", in[1].Shape(), k.dw1, dx), b.pick("se.fc1.dbias", []int{k.rd}, k.db1, dx),
		b.pick("se.fc2.dweight", in[3].Shape(), k.dw2, dx), b.pick("se.fc2.dbias", []int{k.c}, k.db2, dx)}
}

// squeezeExciteBack computes dx from (dy, x, fc1.weight, fc2.weight) and the
// parameter gradients into squeezeExcite's dw1, db1, dw2 and db2.
type squeezeExciteBack struct {
	*squeezeExcite
	dz, ds []float32 // per plane: the gradients of the gate's logit and of the squeezed input
	a, d   []float32 // per sample: SiLU of fc1's output, and the gradient of fc1's output
}

// forward computes the gradients in two parallel passes over the planes
// and, between them, the small products of the two fully connected layers
// in parallel: per sample for the gradients they pass back, per output row
// for their weight gradients, each summing over the samples in order as
// one loop over them would.
func (k *squeezeExciteBack) forward(dx []float32, in [][]float32) {
	dy, x, w1, w2 := in[0], in[1], in[2], in[3]
	planes := k.batch * k.c
	if k.dz == nil {
		k.dz, k.ds = make([]float32, planes), make([]float32, planes)
		k.a, k.d = make([]float32, k.batch*k.rd), make([]float32, k.batch*k.rd)
	}
	// dz = (Σ dy·x)·σ'(z), the gradient at the gate's logit.
	parallelFor(planes, func(_, lo, hi int) {
		for p := lo; p < hi; p++ {
			s := dot64(dy[p*k.hw:(p+1)*k.hw], x[p*k.hw:(p+1)*k.hw])
			g := k.g[p]
			k.dz[p] = float32(s) * g * (1 - g)
		}
	})
	// Per sample: fc2's input gradient, through the SiLU, and fc1's.
	parallelFor(k.batch, func(_, lo, hi int) {
		for n := lo; n < hi; n++ {
			h, a, dh := k.h[n*k.rd:(n+1)*k.rd], k.a[n*k.rd:(n+1)*k.rd], k.d[n*k.rd:(n+1)*k.rd]
			for r, v := range h {
				a[r] = v * sigmoid(v)
			}
			clear(dh)
			for c, d := range k.dz[n*k.c : (n+1)*k.c] {
				addScaled(dh, w2[c*k.rd:(c+1)*k.rd], d)
			}
			for r, v := range h {
				sg := sigmoid(v)
				dh[r] = dh[r] * sg * (1 + v*(1-sg))
			}
			ds := k.ds[n*k.c : (n+1)*k.c]
			clear(ds)
			for r, d := range dh {
				addScaled(ds, w1[r*k.c:(r+1)*k.c], d)
			}
		}
	})
	// The weight gradients, a row each, summed over the samples in order.
	parallelFor(k.c+k.rd, func(_, lo, hi int) {
		for row := lo; row < hi; row++ {
			if c := row; c < k.c {
				linearGradRow(k.dw2[c*k.rd:(c+1)*k.rd], &k.db2[c], k.dz[c:], k.c, k.a, k.batch)
				continue
			}
			r := row - k.c
			linearGradRow(k.dw1[r*k.c:(r+1)*k.c], &k.db1[r], k.d[r:], k.rd, k.s, k.batch)
		}
	})
	inv := 1 / float32(k.hw)
	parallelFor(planes, func(_, lo, hi int) {
		for p := lo; p < hi; p++ {
			g, d := k.g[p], k.ds[p]*inv
			gr, dst := dy[p*k.hw:(p+1)*k.hw], dx[p*k.hw:(p+1)*k.hw]
			if asm.Available {
				for i := range dst {
					dst[i] = d
				}
				asm.AddScaled(&dst[0], &gr[0], len(dst), g) // d + g·gr, as the loop below
				continue
			}
			for i, v := range gr {
				dst[i] = v*g + d
			}
		}
	})
}

// linearGradRow sets dw, a row of a fully connected layer's weight
// gradient, to Σₙ d[n·stride]·in[n·len(dw):(n+1)·len(dw)] and *db to
// Σₙ d[n·stride], over batch samples in order.
func linearGradRow(dw []float32, db *float32, d []float32, stride int, in []float32, batch int) {
	clear(dw)
	*db = 0
	for n := range batch {
		g := d[n*stride]
		*db += g
		addScaled(dw, in[n*len(dw):(n+1)*len(dw)], g)
	}
}

// dot64 returns the sum of float64(a[i]·b[i]), each product rounded to
// float32: in four lanes (DzSums4) on CPUs with the assembly kernels, the
// lanes then combined pairwise and the rest added in order.
func dot64(a, b []float32) float64 {
	b = b[:len(a)]
	var s float64
	i := 0
	if m := len(a) &^ 3; asm.Available && m > 0 {
		var acc [8]float64
		asm.DzSums4(&a[0], &b[0], m, 0, 1, &acc)
		s, i = (acc[4]+acc[5])+(acc[6]+acc[7]), m
	}
	for ; i < len(a); i++ {
		s += float64(a[i] * b[i])
	}
	return s
}
