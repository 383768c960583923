package model

import (
	"math"

	"gorgonia.org/gorgonia"
)

// squeezeExcite is the squeeze-and-excitation gate of the MBConv blocks,
// fused into one kernel with inputs (x, fc1.weight, fc1.bias, fc2.weight,
// fc2.bias): s = mean over space of x, g = σ(fc2(SiLU(fc1(s)))), y = x·g.
type squeezeExcite struct {
	batch, c, rd, hw int
	s, h, g          []float32   // squeezed input, fc1 output and gate, per sample
	a                []float32   // scratch of the backward pass: SiLU of fc1's output for one sample
	as               [][]float32 // the same for the forward pass, one per worker

	dw1, db1, dw2, db2 []float32 // set by squeezeExciteBack
}

func (b *builder) squeezeExcite(name string, x, w1, b1, w2, b2 *gorgonia.Node) *gorgonia.Node {
	batch, c, h, w := b.dims4(x)
	rd := w1.Shape()[0]
	if w1.Shape().TotalSize() != rd*c || w2.Shape().TotalSize() != rd*c || b1.Shape().TotalSize() != rd || b2.Shape().TotalSize() != c {
		b.failf("%s: parameters %v %v %v %v do not fit %d channels", name, w1.Shape(), b1.Shape(), w2.Shape(), b2.Shape(), c)
	}
	k := &squeezeExcite{batch: batch, c: c, rd: rd, hw: h * w,
		s: make([]float32, batch*c), h: make([]float32, batch*rd), g: make([]float32, batch*c), a: make([]float32, rd)}
	return b.apply(name, x.Shape(), k, x, w1, b1, w2, b2)
}

func sigmoid(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }

func (k *squeezeExcite) forward(y []float32, in [][]float32) {
	x, w1, b1, w2, b2 := in[0], in[1], in[2], in[3], in[4]
	planes := k.batch * k.c
	parallelFor(planes, func(_, lo, hi int) {
		for p := lo; p < hi; p++ {
			var s float64
			for _, v := range x[p*k.hw : (p+1)*k.hw] {
				s += float64(v)
			}
			k.s[p] = float32(s / float64(k.hw))
		}
	})
	k.as = scratch(k.as, workers(k.batch), k.rd)
	parallelFor(k.batch, func(wk, lo, hi int) {
		for n := lo; n < hi; n++ {
			k.gate(n, k.as[wk], w1, b1, w2, b2)
		}
	})
	parallelFor(planes, func(_, lo, hi int) {
		for p := lo; p < hi; p++ {
			g := k.g[p]
			src, dst := x[p*k.hw:(p+1)*k.hw], y[p*k.hw:(p+1)*k.hw]
			for i, v := range src {
				dst[i] = v * g
			}
		}
	})
}

// gate computes sample n's fc1 output (into k.h), with a as scratch for
// its SiLU, and its gate (into k.g) from its squeezed input.
func (k *squeezeExcite) gate(n int, a, w1, b1, w2, b2 []float32) {
	s := k.s[n*k.c : (n+1)*k.c]
	h := k.h[n*k.rd : (n+1)*k.rd]
	for r := range k.rd {
		acc := b1[r]
		for c, v := range w1[r*k.c : (r+1)*k.c] {
			acc += float32(v * s[c])
		}
		h[r] = acc
		a[r] = acc * sigmoid(acc)
	}
	g := k.g[n*k.c : (n+1)*k.c]
	for c := range k.c {
		acc := b2[c]
		for r, v := range w2[c*k.rd : (c+1)*k.rd] {
			acc += float32(v * a[r])
		}
		g[c] = sigmoid(acc)
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
	dz, ds, dh []float32
}

func (k *squeezeExciteBack) forward(dx []float32, in [][]float32) {
	dy, x, w1, w2 := in[0], in[1], in[2], in[3]
	planes := k.batch * k.c
	if k.dz == nil {
		k.dz, k.ds, k.dh = make([]float32, planes), make([]float32, planes), make([]float32, k.rd)
	}
	// dz = (Σ dy·x)·σ'(z), the gradient at the gate's logit.
	parallelFor(planes, func(_, lo, hi int) {
		for p := lo; p < hi; p++ {
			var s float64
			gr := dy[p*k.hw : (p+1)*k.hw]
			for i, v := range x[p*k.hw : (p+1)*k.hw] {
				s += float64(gr[i] * v)
			}
			g := k.g[p]
			k.dz[p] = float32(s) * g * (1 - g)
		}
	})
	clear(k.dw1)
	clear(k.db1)
	clear(k.dw2)
	clear(k.db2)
	a, dh := k.a, k.dh
	for n := range k.batch {
		h := k.h[n*k.rd : (n+1)*k.rd]
		for r, v := range h {
			a[r] = v * sigmoid(v)
		}
		dz := k.dz[n*k.c : (n+1)*k.c]
		clear(dh)
		for c, d := range dz {
			k.db2[c] += d
			row := w2[c*k.rd : (c+1)*k.rd]
			drow := k.dw2[c*k.rd : (c+1)*k.rd]
			for r := range row {
				drow[r] += d * a[r]
				dh[r] += d * row[r]
			}
		}
		s := k.s[n*k.c : (n+1)*k.c]
		ds := k.ds[n*k.c : (n+1)*k.c]
		clear(ds)
		for r, v := range h {
			sg := sigmoid(v)
			d := dh[r] * sg * (1 + v*(1-sg))
			k.db1[r] += d
			row := w1[r*k.c : (r+1)*k.c]
			drow := k.dw1[r*k.c : (r+1)*k.c]
			for c := range row {
				drow[c] += d * s[c]
				ds[c] += d * row[c]
			}
		}
	}
	inv := 1 / float32(k.hw)
	parallelFor(planes, func(_, lo, hi int) {
		for p := lo; p < hi; p++ {
			g, d := k.g[p], k.ds[p]*inv
			gr, dst := dy[p*k.hw:(p+1)*k.hw], dx[p*k.hw:(p+1)*k.hw]
			for i, v := range gr {
				dst[i] = v*g + d
			}
		}
	})
}
