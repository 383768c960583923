package model

import (
	"math"

	"gorgonia.org/gorgonia"

	"github.com/astroformer/astroformer/model/internal/asm"
)

// BatchNorm constants, as PyTorch's defaults.
const (
	bnEps      = 1e-5
	bnMomentum = 0.1
	lnEps      = 1e-6
)

// batchNorm is BatchNorm2d over NCHW input with inputs (x, weight, bias),
// optionally followed by the exact GELU. In training it normalises with the
// batch statistics (biased variance) and updates the running statistics as
// PyTorch does (unbiased variance, momentum 0.1, num_batches_tracked + 1);
// in evaluation it uses the running statistics.
type batchNorm struct {
	batch, c, hw int
	train, gelu  bool
	stats        *bnStats
	mean, invstd []float32 // batch statistics of the last training run
	// dgelu holds the GELU's derivative at each output of the last
	// training run, for the backward pass; nil without GELU or gradient.
	dgelu []float32

	dgamma, dbeta []float32   // set by batchNormBack
	accs          [][]float64 // per worker: the four-lane sums of each plane of a channel
}

// planeSums reports whether the four-lane sums of a channel's planes come
// from one assembly call for all of them (planeSums4): with the kernels,
// on planes of a multiple of four values.
func (k *batchNorm) planeSums() bool { return asm.Available && k.hw > 0 && k.hw%4 == 0 }

// planeTotals returns the two sums over planes planes whose four-lane
// sums lie in acc, eight values a plane: each plane's lanes combined as
// shiftedSums and dzSums combine theirs, then added in plane order.
func planeTotals(acc []float64, planes int) (s, q float64) {
	for p := range planes {
		a := acc[8*p : 8*p+8]
		s += (a[0] + a[1]) + (a[2] + a[3])
		q += (a[4] + a[5]) + (a[6] + a[7])
	}
	return s, q
}

// bnStats is the running state of one BatchNorm layer: views of its buffers.
type bnStats struct {
	mean, variance, tracked []float32
}

func (b *builder) batchNorm(name string, x, gamma, beta *gorgonia.Node, stats *bnStats, act bool) *gorgonia.Node {
	batch, c, h, w := b.dims4(x)
	if gamma.Shape().TotalSize() != c || beta.Shape().TotalSize() != c || len(stats.mean) != c || len(stats.variance) != c {
		b.failf("%s: parameters do not fit %d channels", name, c)
	}
	k := &batchNorm{batch: batch, c: c, hw: h * w, train: b.train, gelu: act, stats: stats,
		mean: make([]float32, c), invstd: make([]float32, c)}
	return b.apply(name, x.Shape(), k, x, gamma, beta)
}

func (k *batchNorm) forward(y []float32, in [][]float32) {
	x, gamma, beta := in[0], in[1], in[2]
	count := k.batch * k.hw
	if k.train {
		k.stats.tracked[0]++
	}
	if k.train && k.planeSums() {
		k.accs = scratch(k.accs, workers(k.c), 8*k.batch)
	}
	parallelFor(k.c, func(wk, lo, hi int) {
		for c := lo; c < hi; c++ {
			var scale, shift float32
			if k.train {
				// One pass, shifted by the first value: float64 sums of
				// float32 data lose nothing to cancellation.
				origin := float64(x[c*k.hw])
				var s, ss float64
				if k.planeSums() {
					acc := k.accs[wk]
					asm.ShiftedSums4Planes(&x[c*k.hw], k.hw, k.batch, k.c*k.hw, origin, &acc[0])
					s, ss = planeTotals(acc, k.batch)
				} else {
					for n := range k.batch {
						ps, pss := shiftedSums(x[(n*k.c+c)*k.hw:(n*k.c+c+1)*k.hw], origin)
						s += ps
						ss += pss
					}
				}
				m := s / float64(count)
				mean := origin + m
				variance := max(0, ss/float64(count)-m*m)
				ss = variance * float64(count)
				invstd := 1 / math.Sqrt(variance+bnEps)
				k.mean[c], k.invstd[c] = float32(mean), float32(invstd)
				unbiased := variance
				if count > 1 {
					unbiased = ss / float64(count-1)
				}
				k.stats.mean[c] = float32((1-bnMomentum)*float64(k.stats.mean[c]) + bnMomentum*mean)
				k.stats.variance[c] = float32((1-bnMomentum)*float64(k.stats.variance[c]) + bnMomentum*unbiased)
				scale = float32(float64(gamma[c]) * invstd)
				shift = float32(float64(beta[c]) - mean*float64(gamma[c])*invstd)
			} else {
				scale, shift = evalAffine(gamma[c], beta[c], k.stats, c)
			}
			if k.gelu {
				var grad []float32
				if k.dgelu != nil {
					grad = k.dgelu[c*k.hw:]
				}
				geluPlanes(y[c*k.hw:], grad, x[c*k.hw:], k.hw, k.batch, k.c*k.hw, scale, shift)
				continue
			}
			for n := range k.batch {
				src := x[(n*k.c+c)*k.hw : (n*k.c+c+1)*k.hw]
				dst := y[(n*k.c+c)*k.hw : (n*k.c+c+1)*k.hw]
				for i, v := range src {
					dst[i] = v*scale + shift
				}
			}
		}
	})
}

func (k *batchNorm) wrt() []bool { return []bool{true, true, true} }

func (k *batchNorm) grads(b *builder, in gorgonia.Nodes, y, dy *gorgonia.Node) gorgonia.Nodes {
	if !k.train {
		b.failf("batch norm in evaluation mode has no gradient")
	}
	k.dgamma, k.dbeta = make([]float32, k.c), make([]float32, k.c)
	if k.gelu {
		k.dgelu = make([]float32, k.batch*k.c*k.hw)
	}
	dx := b.apply("batchnorm.dx", in[0].Shape(), &batchNormBack{k}, dy, in[0], in[1], in[2])
	return gorgonia.Nodes{dx, b.pick("batchnorm.dweight", []int{k.c}, k.dgamma, dx), b.pick("batchnorm.dbias", []int{k.c}, k.dbeta, dx)}
}

// batchNormBack computes dx from (dy, x, weight, bias) with the batch
// statistics and GELU derivatives of the forward pass (the bias only orders
// it after the forward pass), and the parameter gradients into
// batchNorm.dgamma and dbeta.
type batchNormBack struct{ *batchNorm }

func (k *batchNormBack) forward(dx []float32, in [][]float32) {
	dy, x, gamma := in[0], in[1], in[2]
	count := float64(k.batch * k.hw)
	many := k.gelu && k.planeSums()
	if many {
		k.accs = scratch(k.accs, workers(k.c), 8*k.batch)
	}
	parallelFor(k.c, func(wk, lo, hi int) {
		for c := lo; c < hi; c++ {
			mean, invstd := k.mean[c], k.invstd[c]
			g := gamma[c]
			var sdz, sdzx float64
			// Pass 1: dz (the gradient before the affine map's output
			// activation) into dx, and its sums.
			if many {
				acc := k.accs[wk]
				asm.DzSumsMul4Planes(&dx[c*k.hw], &dy[c*k.hw], &k.dgelu[c*k.hw], &x[c*k.hw], k.hw, k.batch, k.c*k.hw, mean, invstd, &acc[0])
				sdz, sdzx = planeTotals(acc, k.batch)
			} else {
				for n := range k.batch {
					off := (n*k.c + c) * k.hw
					src, gr, dst := x[off:off+k.hw], dy[off:off+k.hw], dx[off:off+k.hw]
					var dg []float32
					if k.gelu {
						dg = k.dgelu[off : off+k.hw]
					}
					s, sx := dzSums(dst, gr, dg, src, mean, invstd)
					sdz += s
					sdzx += sx
				}
			}
			k.dgamma[c], k.dbeta[c] = float32(sdzx), float32(sdz)
			// Pass 2: dx = γ·invstd·(dz − mean(dz) − x̂·mean(dz·x̂)).
			a := g * invstd
			m1, m2 := float32(sdz/count), float32(sdzx/count)
			if asm.Available {
				asm.NormBackDx(&dx[c*k.hw], &x[c*k.hw], k.hw, k.batch, k.c*k.hw, mean, invstd, a, m1, m2)
				continue
			}
			for n := range k.batch {
				off := (n*k.c + c) * k.hw
				src, dst := x[off:off+k.hw], dx[off:off+k.hw]
				dst = dst[:len(src)]
				for i, v := range src {
					xhat := (v - mean) * invstd
					dst[i] = a * (dst[i] - m1 - xhat*m2)
				}
			}
		}
	})
}

// layerNorm normalises over the channels of each position of NCHW input (or
// over the features of [B,C] input) with inputs (x, weight, bias), eps 1e-6,
// as timm's LayerNorm2d and the head's LayerNorm.
type layerNorm struct {
	batch, c, hw int
	mean, rstd   []float32   // per sample and position, from the last run
	acc          [][]float64 // per worker

	dparams       []float32 // dgamma then dbeta
	dgamma, dbeta []float32 // set by layerNormBack
}

func (b *builder) layerNorm(name string, x, gamma, beta *gorgonia.Node) *gorgonia.Node {
	s := x.Shape()
	if len(s) != 2 && len(s) != 4 {
		b.failf("%s: input shape %v, want [B,C] or [B,C,H,W]", name, s)
	}
	k := &layerNorm{batch: s[0], c: s[1], hw: 1}
	if len(s) == 4 {
		k.hw = s[2] * s[3]
	}
	if gamma.Shape().TotalSize() != k.c || beta.Shape().TotalSize() != k.c {
		b.failf("%s: parameters do not fit %d channels", name, k.c)
	}
	k.mean, k.rstd = make([]float32, k.batch*k.hw), make([]float32, k.batch*k.hw)
	return b.apply(name, s, k, x, gamma, beta)
}

func (k *layerNorm) forward(y []float32, in [][]float32) {
	x, gamma, beta := in[0], in[1], in[2]
	k.acc = scratch(k.acc, workers(k.batch), k.hw)
	parallelFor(k.batch, func(wk, lo, hi int) {
		acc := k.acc[wk][:k.hw]
		for n := lo; n < hi; n++ {
			xs := x[n*k.c*k.hw : (n+1)*k.c*k.hw]
			ys := y[n*k.c*k.hw : (n+1)*k.c*k.hw]
			mean, rstd := k.mean[n*k.hw:(n+1)*k.hw], k.rstd[n*k.hw:(n+1)*k.hw]
			clear(acc)
			for c := range k.c {
				for i, v := range xs[c*k.hw : (c+1)*k.hw] {
					acc[i] += float64(v)
				}
			}
			for i := range acc {
				mean[i] = float32(acc[i] / float64(k.c))
			}
			clear(acc)
			for c := range k.c {
				for i, v := range xs[c*k.hw : (c+1)*k.hw] {
					d := float64(v - mean[i])
					acc[i] += d * d
				}
			}
			for i := range acc {
				rstd[i] = float32(1 / math.Sqrt(acc[i]/float64(k.c)+lnEps))
			}
			for c := range k.c {
				g, bb := gamma[c], beta[c]
				src, dst := xs[c*k.hw:(c+1)*k.hw], ys[c*k.hw:(c+1)*k.hw]
				for i, v := range src {
					dst[i] = (v-mean[i])*rstd[i]*g + bb
				}
			}
		}
	})
}

func (k *layerNorm) wrt() []bool { return []bool{true, true, true} }

func (k *layerNorm) grads(b *builder, in gorgonia.Nodes, y, dy *gorgonia.Node) gorgonia.Nodes {
	k.dparams = make([]float32, 2*k.c)
	k.dgamma, k.dbeta = k.dparams[:k.c], k.dparams[k.c:]
	dx := b.apply("layernorm.dx", in[0].Shape(), &layerNormBack{layerNorm: k, sums: &b.sums}, dy, in[0], in[1])
	return gorgonia.Nodes{dx, b.pick("layernorm.dweight", []int{k.c}, k.dgamma, dx), b.pick("layernorm.dbias", []int{k.c}, k.dbeta, dx)}
}

// layerNormBack computes dx from (dy, x, weight), and the parameter
// gradients into layerNorm.dgamma and dbeta.
type layerNormBack struct {
	*layerNorm
	sums  *partials
	means [][]float32 // per worker: two means over the channels per position
}

func (k *layerNormBack) forward(dx []float32, in [][]float32) {
	dy, x, gamma := in[0], in[1], in[2]
	k.means = scratch(k.means, workers(k.batch), 2*k.hw)
	k.sums.sum(k.dparams, k.batch, func(wk int, part []float32, lo, hi int) {
		dg, db := part[:k.c], part[k.c:]
		m1, m2 := k.means[wk][:k.hw], k.means[wk][k.hw:2*k.hw]
		for n := lo; n < hi; n++ {
			off := n * k.c * k.hw
			mean, rstd := k.mean[n*k.hw:(n+1)*k.hw], k.rstd[n*k.hw:(n+1)*k.hw]
			clear(m1)
			clear(m2)
			for c := range k.c {
				g := gamma[c]
				src, gr := x[off+c*k.hw:off+(c+1)*k.hw], dy[off+c*k.hw:off+(c+1)*k.hw]
				var sg, sgx float32
				for i, v := range src {
					xhat := (v - mean[i]) * rstd[i]
					sg += gr[i]
					sgx += gr[i] * xhat
					m1[i] += gr[i] * g
					m2[i] += gr[i] * g * xhat
				}
				dg[c] += sgx
				db[c] += sg
			}
			inv := 1 / float32(k.c)
			for i := range m1 {
				m1[i] *= inv
				m2[i] *= inv
			}
			for c := range k.c {
				g := gamma[c]
				src, gr := x[off+c*k.hw:off+(c+1)*k.hw], dy[off+c*k.hw:off+(c+1)*k.hw]
				dst := dx[off+c*k.hw : off+(c+1)*k.hw]
				for i, v := range src {
					xhat := (v - mean[i]) * rstd[i]
					dst[i] = rstd[i] * (gr[i]*g - m1[i] - xhat*m2[i])
				}
			}
		}
	})
}

// shiftedSums returns the sums of d and d² for d = v − shift over the
// values v of src, in float64, with four accumulators each to keep the
// additions' latency out of the way: the order of summation depends on
// len(src) alone.
func shiftedSums(src []float32, shift float64) (s, ss float64) {
	var s0, s1, s2, s3, q0, q1, q2, q3 float64
	n := len(src) &^ 3
	i := 0
	if asm.Available && n > 0 {
		var acc [8]float64
		asm.ShiftedSums4(&src[0], n, shift, &acc)
		s0, s1, s2, s3, q0, q1, q2, q3 = acc[0], acc[1], acc[2], acc[3], acc[4], acc[5], acc[6], acc[7]
		i = n
	}
	for ; i < n; i += 4 {
		v := src[i : i+4 : i+4]
		d0, d1, d2, d3 := float64(v[0])-shift, float64(v[1])-shift, float64(v[2])-shift, float64(v[3])-shift
		s0, s1, s2, s3 = s0+d0, s1+d1, s2+d2, s3+d3
		q0, q1, q2, q3 = q0+float64(d0*d0), q1+float64(d1*d1), q2+float64(d2*d2), q3+float64(d3*d3)
	}
	for _, v := range src[n:] {
		d := float64(v) - shift
		s0 += d
		q0 += float64(d * d)
	}
	return (s0 + s1) + (s2 + s3), (q0 + q1) + (q2 + q3)
}

// dzSums sets dst to dz = gr·dg (or gr where dg is nil) and returns the
// float64 sums of dz and dz·x̂ for x̂ = (src − mean)·invstd, with four
// accumulators each as shiftedSums.
func dzSums(dst, gr, dg, src []float32, mean, invstd float32) (sdz, sdzx float64) {
	n := len(src)
	dst, gr = dst[:n], gr[:n]
	var s0, s1, s2, s3, q0, q1, q2, q3 float64
	m := n &^ 3
	i := 0
	if asm.Available && m > 0 && dg != nil {
		// The products and their sums in one pass.
		dg = dg[:n]
		var acc [8]float64
		asm.DzSumsMul4(&dst[0], &gr[0], &dg[0], &src[0], m, mean, invstd, &acc)
		s0, s1, s2, s3, q0, q1, q2, q3 = acc[0], acc[1], acc[2], acc[3], acc[4], acc[5], acc[6], acc[7]
		for j := m; j < n; j++ {
			dst[j] = gr[j] * dg[j]
		}
		i = m
	} else {
		if dg != nil {
			dg = dg[:n]
			for j := range dst {
				dst[j] = gr[j] * dg[j]
			}
		} else {
			copy(dst, gr)
		}
		if asm.Available && m > 0 {
			var acc [8]float64
			asm.DzSums4(&dst[0], &src[0], m, mean, invstd, &acc)
			s0, s1, s2, s3, q0, q1, q2, q3 = acc[0], acc[1], acc[2], acc[3], acc[4], acc[5], acc[6], acc[7]
			i = m
		}
	}
	for ; i < m; i += 4 {
		d, v := dst[i:i+4:i+4], src[i:i+4:i+4]
		x0, x1, x2, x3 := (v[0]-mean)*invstd, (v[1]-mean)*invstd, (v[2]-mean)*invstd, (v[3]-mean)*invstd
		s0, s1, s2, s3 = s0+float64(d[0]), s1+float64(d[1]), s2+float64(d[2]), s3+float64(d[3])
		q0, q1, q2, q3 = q0+float64(d[0]*x0), q1+float64(d[1]*x1), q2+float64(d[2]*x2), q3+float64(d[3]*x3)
	}
	for i := m; i < n; i++ {
		s0 += float64(dst[i])
		q0 += float64(dst[i] * ((src[i] - mean) * invstd))
	}
	return (s0 + s1) + (s2 + s3), (q0 + q1) + (q2 + q3)
}
