package model

import (
	"runtime"

	"github.com/astroformer/astroformer/model/internal/asm"
)

// The depthwise convolution channels last: on CPUs with the assembly
// kernels (asm.Available), for the shapes where it is faster (see
// forwardChannelsLastMax), each sample is transposed to pixel-major order,
// so that a tap multiplies and adds the whole row of channels of a pixel
// at once (asm.MulAdd, sixteen channels at a time), and the result is
// transposed back. Every output sums the same products in the same order
// as the loops over planes, and the weight gradient sums each sample's
// apart before adding them in sample order, as the loop over planes does,
// so the values are the same bit for bit.

// forwardChannelsLastMax is the largest output plane (Ho·Wo) of a stride-1
// convolution whose forward pass runs channels last; strided ones always
// do. From BenchmarkDepthwise (2 threads, Zen 4, idle, two runs each;
// BENCHMARKS.md): forward, channels last is 2.0x faster on 16×16 planes,
// 1.3x slower on 32×32 and 1.8x on 64×64, 1.5-2.7x faster with stride 2.
const forwardChannelsLastMax = 256

// channelsLast holds the work buffers of a channels-last depthwise
// convolution: the taps [9][C], and one sample's input [H·W][C] and
// output [Ho·Wo][C] (and in the backward pass their gradients).
type channelsLast struct {
	taps, x, y []float32
	dy, dx, s  []float32   // the backward pass's: output and input gradients, and the taps' row sums
	dws        [][]float64 // per sample: its weight gradient, [9][C]
	xs, ys     [][]float32 // per worker: a sample's input and output (or output gradient), when samples run in parallel
	dxs, ss    [][]float32 // per worker: a sample's input gradient and the row sums, when samples run in parallel
}

// forwardInChannelsLast reports whether the forward pass runs channels
// last.
func (k *depthwise) forwardInChannelsLast() bool {
	return asm.Available && (k.stride > 1 || k.ho*k.wo <= forwardChannelsLastMax)
}

// backChannelsLastMax is the largest input sample (H·W·C values) of a
// stride-2 convolution whose backward pass runs channels last; stride-1
// ones always do. From BenchmarkDepthwise (2 threads, Zen 4): channels
// last is 1.3-2.6x faster on the stride-2 shapes of astroformer_0 at
// 64x64 (32×32×384 to 8×8×1536), 1.6-2.1x slower on those at 256x256
// (32×32×1536 and up), whose samples outgrow the caches.
const backChannelsLastMax = 1 << 19

// backInChannelsLast reports whether the backward pass runs channels
// last.
func (k *depthwise) backInChannelsLast() bool {
	return asm.Available && (k.stride == 1 || k.h*k.w*k.c <= backChannelsLastMax)
}

// forwardChannelsLast is depthwise.forward channels last.
func (k *depthwise) forwardChannelsLast(y, x, w []float32) {
	c, ip, op := k.c, k.h*k.w, k.ho*k.wo
	cl := k.cl
	cl.taps, cl.x, cl.y = grow(cl.taps, 9*c), grow(cl.x, ip*c), grow(cl.y, op*c)
	for ch := range c {
		for t := range 9 {
			cl.taps[t*c+ch] = w[ch*9+t]
		}
	}
	if k.batch >= 2*runtime.GOMAXPROCS(0) {
		// Enough samples to share out whole: no barrier per sample.
		cl.xs, cl.ys = scratch(cl.xs, workers(k.batch), ip*c), scratch(cl.ys, workers(k.batch), op*c)
		parallelFor(k.batch, func(wk, lo, hi int) {
			xs, ys := cl.xs[wk], cl.ys[wk]
			for n := lo; n < hi; n++ {
				transposeBands(xs, x[n*c*ip:(n+1)*c*ip], c, ip, 0, (c+15)/16)
				for oh := range k.ho {
					k.outputRow(xs, ys, oh)
				}
				transposeBands(y[n*c*op:(n+1)*c*op], ys, op, c, 0, (op+15)/16)
			}
		})
		return
	}
	for n := range k.batch {
		transpose(cl.x, x[n*c*ip:(n+1)*c*ip], c, ip)
		parallelFor(k.ho, func(_, lo, hi int) {
			for oh := lo; oh < hi; oh++ {
				k.outputRow(cl.x, cl.y, oh)
			}
		})
		transpose(y[n*c*op:(n+1)*c*op], cl.y, op, c)
	}
}

// backChannelsLast is depthwiseBack.forward channels last: for each
// sample, output row, tap and output pixel in the loop's order, the input
// gradient of the tap's pixel gains weight·dy and the tap's row sum dy·x,
// all channels at once; each row sum is added to the sample's weight
// gradient in float64, and the samples' gradients are added in sample
// order. So every sum runs in the same order whatever the number of
// goroutines.
func (k *depthwiseBack) backChannelsLast(dx, dy, x, w []float32) {
	c, ip, op := k.c, k.h*k.w, k.ho*k.wo
	cl := k.cl
	cl.taps = grow(cl.taps, 9*c)
	for ch := range c {
		for t := range 9 {
			cl.taps[t*c+ch] = w[ch*9+t]
		}
	}
	cl.dws = scratch(cl.dws, k.batch, 9*c)
	if k.batch >= 2*runtime.GOMAXPROCS(0) {
		// Enough samples to share out whole: no barrier per sample.
		nw := workers(k.batch)
		cl.xs, cl.ys = scratch(cl.xs, nw, ip*c), scratch(cl.ys, nw, op*c)
		cl.dxs, cl.ss = scratch(cl.dxs, nw, ip*c), scratch(cl.ss, nw, c)
		parallelFor(k.batch, func(wk, lo, hi int) {
			xs, dys, dxs, s := cl.xs[wk][:ip*c], cl.ys[wk][:op*c], cl.dxs[wk][:ip*c], cl.ss[wk][:c]
			for n := lo; n < hi; n++ {
				transposeBands(xs, x[n*c*ip:(n+1)*c*ip], c, ip, 0, (c+15)/16)
				transposeBands(dys, dy[n*c*op:(n+1)*c*op], c, op, 0, (c+15)/16)
				clear(dxs)
				dw := cl.dws[n][:9*c]
				clear(dw)
				k.backChannels(dxs, dys, xs, s, dw, 0, c)
				transposeBands(dx[n*c*ip:(n+1)*c*ip], dxs, ip, c, 0, (ip+15)/16)
			}
		})
	} else {
		cl.x, cl.dy = grow(cl.x, ip*c), grow(cl.dy, op*c)
		cl.dx, cl.s = grow(cl.dx, ip*c), grow(cl.s, c)
		for n := range k.batch {
			transpose(cl.x, x[n*c*ip:(n+1)*c*ip], c, ip)
			transpose(cl.dy, dy[n*c*op:(n+1)*c*op], c, op)
			clear(cl.dx)
			dw := cl.dws[n][:9*c]
			clear(dw)
			// A few blocks of channels, multiples of 16, so that each
			// MulAdd runs over many.
			block := max(16, (c/(2*workers(c))+15)&^15)
			parallelFor((c+block-1)/block, func(_, lo, hi int) {
				c0, c1 := lo*block, min(hi*block, c)
				k.backChannels(cl.dx, cl.dy, cl.x, cl.s[c0:c1], dw, c0, c1)
			})
			transpose(dx[n*c*ip:(n+1)*c*ip], cl.dx, ip, c)
		}
	}
	parallelFor(c, func(_, lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			for t := range 9 {
				var sum float64
				for _, dw := range cl.dws[:k.batch] {
					sum += dw[t*c+ch]
				}
				k.dw[ch*9+t] = float32(sum)
			}
		}
	})
}

// backChannels runs backChannelsLast's loop for channels [c0, c1) of one
// sample: dx, dy and x its gradients and input channels last, s scratch
// for the row sums of channels [c0, c1), dw the sample's weight gradient
// [9][C].
func (k *depthwiseBack) backChannels(dx, dy, x, s []float32, dw []float64, c0, c1 int) {
	c, taps, n := k.c, k.cl.taps, c1-c0
	for oh := range k.ho {
		for kh := range 3 {
			ih := oh*k.stride + kh - 1
			if ih < 0 || ih >= k.h {
				continue
			}
			for kw := range 3 {
				t := kh*3 + kw
				clear(s)
				for ow := range k.wo {
					iw := ow*k.stride + kw - 1
					if iw < 0 || iw >= k.w {
						continue
					}
					g := &dy[(oh*k.wo+ow)*c+c0]
					asm.MulAdd(&dx[(ih*k.w+iw)*c+c0], &taps[t*c+c0], g, n)
					asm.MulAdd(&s[0], g, &x[(ih*k.w+iw)*c+c0], n)
				}
				for i, v := range s {
					dw[t*c+c0+i] += float64(v)
				}
			}
		}
	}
}

// outputRow computes output row oh into y of the sample x, both channels
// last, with the taps in k.cl.
func (k *depthwise) outputRow(x, y []float32, oh int) {
	c, cl := k.c, k.cl
	for ow := range k.wo {
		o := y[(oh*k.wo+ow)*c : (oh*k.wo+ow+1)*c]
		clear(o)
		for kh := range 3 {
			ih := oh*k.stride + kh - 1
			if ih < 0 || ih >= k.h {
				continue
			}
			for kw := range 3 {
				iw := ow*k.stride + kw - 1
				if iw < 0 || iw >= k.w {
					continue
				}
				asm.MulAdd(&o[0], &cl.taps[(kh*3+kw)*c], &x[(ih*k.w+iw)*c], c)
			}
		}
	}
	if k.norm != nil {
		k.norm.rows(y[oh*k.wo*c:(oh+1)*k.wo*c], k.wo)
	}
}

// transpose sets dst, a cols×rows matrix, to the transpose of src, a
// rows×cols matrix (both row-major), in 16×16 tiles (asm.Transpose16 on
// CPUs with the assembly kernels), bands of 16 rows in parallel.
func transpose(dst, src []float32, rows, cols int) {
	_, _ = dst[rows*cols-1], src[rows*cols-1] // the tiles stay inside both
	parallelFor((rows+15)/16, func(_, lo, hi int) { transposeBands(dst, src, rows, cols, lo, hi) })
}

// transposeBands is transpose for the bands of 16 rows [lo, hi).
func transposeBands(dst, src []float32, rows, cols, lo, hi int) {
	for r0 := lo * 16; r0 < min(hi*16, rows); r0 += 16 {
		r1 := min(r0+16, rows)
		for c0 := 0; c0 < cols; c0 += 16 {
			c1 := min(c0+16, cols)
			if asm.Available && r1-r0 == 16 && c1-c0 == 16 {
				asm.Transpose16(&dst[c0*rows+r0], rows, &src[r0*cols+c0], cols)
				continue
			}
			for r := r0; r < r1; r++ {
				for j := c0; j < c1; j++ {
					dst[j*rows+r] = src[r*cols+j]
				}
			}
		}
	}
}
