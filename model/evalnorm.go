package model

import (
	"math"

	"gorgonia.org/gorgonia"

	"github.com/astroformer/astroformer/model/internal/asm"
)

// evalNorm is an evaluation-mode BatchNorm followed by the GELU, fused into
// the convolution that produces its input (the MBConv blocks' 1x1
// expansion and depthwise convolution): each plane, or each row of
// channels when the convolution runs channels last, gets its channel's
// affine map and the GELU as soon as it is written, while it is in cache,
// instead of in a pass of its own over the whole activation. The values
// are the same bits as the convolution followed by batchNorm's evaluation
// with GELU.
type evalNorm struct {
	stats        *bnStats
	scale, shift []float32 // per channel, from the weights of the run
}

func newEvalNorm(c int, stats *bnStats) *evalNorm {
	return &evalNorm{stats: stats, scale: make([]float32, c), shift: make([]float32, c)}
}

// evalAffine returns the scale and shift that BatchNorm applies to channel
// c in evaluation, from its weight gamma, bias beta and running statistics.
func evalAffine(gamma, beta float32, st *bnStats, c int) (scale, shift float32) {
	mean := float64(st.mean[c])
	invstd := 1 / math.Sqrt(float64(st.variance[c])+bnEps)
	return float32(float64(gamma) * invstd), float32(float64(beta) - mean*float64(gamma)*invstd)
}

// prepare sets every channel's scale and shift for the run.
func (e *evalNorm) prepare(gamma, beta []float32) {
	for c := range e.scale {
		e.scale[c], e.shift[c] = evalAffine(gamma[c], beta[c], e.stats, c)
	}
}

// planes sets planes planes of hw values of channel c in dst, plane p at
// p·dstStride, to the GELU of the affine map of those in src, at
// p·srcStride (src may be dst).
func (e *evalNorm) planes(dst, src []float32, c, hw, planes, dstStride, srcStride int) {
	if planes == 0 || hw == 0 {
		return
	}
	_, _ = dst[(planes-1)*dstStride+hw-1], src[(planes-1)*srcStride+hw-1] // every plane lies inside both
	if asm.Available {
		asm.GELUPoly(&dst[0], &src[0], hw, planes, dstStride, srcStride, e.scale[c], e.shift[c], &geluPoly)
		return
	}
	for p := range planes {
		geluAffine(dst[p*dstStride:p*dstStride+hw], nil, src[p*srcStride:p*srcStride+hw], e.scale[c], e.shift[c])
	}
}

// rows applies every channel's map and the GELU in place to rows rows of
// all channels (channels last), row r at r·len(scale): only with the
// assembly kernels, which the channels-last convolution needs anyway.
func (e *evalNorm) rows(y []float32, rows int) {
	c := len(e.scale)
	if rows == 0 {
		return
	}
	_ = y[rows*c-1]
	asm.GELUPolyRows(&y[0], &y[0], c, rows, c, &e.scale[0], &e.shift[0], &geluPoly)
}

// conv1x1Norm adds a 1x1 convolution without bias followed by an
// evaluation-mode BatchNorm (weight gamma, bias beta, running statistics
// stats) and the GELU, fused.
func (b *builder) conv1x1Norm(name string, x, w, gamma, beta *gorgonia.Node, stats *bnStats) *gorgonia.Node {
	k, shape := b.conv1x1Kernel(name, x, w, false, false)
	k.norm = newEvalNorm(k.cout, stats)
	return b.apply(name, shape, k, x, w, gamma, beta)
}

// depthwiseNorm adds a depthwise convolution followed by an
// evaluation-mode BatchNorm and the GELU, fused.
func (b *builder) depthwiseNorm(name string, x, w, gamma, beta *gorgonia.Node, stride int, stats *bnStats) *gorgonia.Node {
	k, shape := b.depthwiseKernel(name, x, w, stride)
	k.norm = newEvalNorm(k.c, stats)
	return b.apply(name, shape, k, x, w, gamma, beta)
}
