package model

import (
	"math"

	"gorgonia.org/gorgonia"
)

// relativePositionIndex returns, for every pair (i, j) of positions of an
// h×w grid in row-major order, the row of the relative position bias table
// that holds their bias: Swin's and timm's index,
// (yᵢ−yⱼ+h−1)·(2w−1) + (xᵢ−xⱼ+w−1).
func relativePositionIndex(h, w int) []int32 {
	n := h * w
	idx := make([]int32, n*n)
	for i := range n {
		for j := range n {
			dy := i/w - j/w + h - 1
			dx := i%w - j%w + w - 1
			idx[i*n+j] = int32(dy*(2*w-1) + dx)
		}
	}
	return idx
}

// attention is the core of the transformer blocks' global self-attention,
// with inputs (qkv, relative_position_bias_table). qkv holds, per head, the
// DimHead channels of q, then of k, then of v; the value holds each head's
// DimHead output channels: softmax(qᵀk/√d + bias)·vᵀ laid out as NCHW.
type attention struct {
	gemm         gemm
	batch, heads int
	n            int     // positions
	index        []int32 // relative position index, n×n
	p            []float32
	dtable       []float32 // set by attentionBack
}

func (b *builder) attention(name string, qkv, table *gorgonia.Node, h, w int) *gorgonia.Node {
	batch, c, qh, qw := b.dims4(qkv)
	heads := c / (3 * DimHead)
	ts := table.Shape()
	if c%(3*DimHead) != 0 || qh != h || qw != w || len(ts) != 2 || ts[0] != (2*h-1)*(2*w-1) || ts[1] != heads {
		b.failf("%s: qkv %v and table %v do not fit a %dx%d grid", name, qkv.Shape(), ts, h, w)
	}
	n := h * w
	k := &attention{gemm: b.gemm, batch: batch, heads: heads, n: n, index: relativePositionIndex(h, w),
		p: make([]float32, batch*heads*n*n)}
	return b.apply(name, []int{batch, heads * DimHead, h, w}, k, qkv, table)
}

// qkv returns the q, k and v matrices [DimHead, n] of one sample and head.
func (k *attention) qkv(qkv []float32, task int) (q, kk, v []float32) {
	m := DimHead * k.n
	base := task * 3 * m
	return qkv[base : base+m], qkv[base+m : base+2*m], qkv[base+2*m : base+3*m]
}

func (k *attention) forward(y []float32, in [][]float32) {
	qkv, table := in[0], in[1]
	n, m := k.n, DimHead*k.n
	scale := float32(1 / math.Sqrt(DimHead))
	parallelFor(k.batch*k.heads, func(_, lo, hi int) {
		for task := lo; task < hi; task++ {
			head := task % k.heads
			q, kk, v := k.qkv(qkv, task)
			p := k.p[task*n*n : (task+1)*n*n]
			k.gemm.Sgemm(trans, noTrans, n, n, DimHead, scale, q, n, kk, n, 0, p, n)
			for i := range n {
				row := p[i*n : (i+1)*n]
				idx := k.index[i*n : (i+1)*n]
				mx := float32(math.Inf(-1))
				for j := range row {
					row[j] += table[int(idx[j])*k.heads+head]
					mx = max(mx, row[j])
				}
				var sum float64
				for j, l := range row {
					e := math.Exp(float64(l - mx))
					row[j] = float32(e)
					sum += e
				}
				inv := float32(1 / sum)
				for j := range row {
					row[j] *= inv
				}
			}
			k.gemm.Sgemm(noTrans, trans, DimHead, n, n, 1, v, n, p, n, 0, y[task*m:(task+1)*m], n)
		}
	})
}

func (k *attention) wrt() []bool { return []bool{true, true} }

func (k *attention) grads(b *builder, in gorgonia.Nodes, _, dy *gorgonia.Node) gorgonia.Nodes {
	k.dtable = make([]float32, in[1].Shape().TotalSize())
	dqkv := b.apply("attention.dqkv", in[0].Shape(), &attentionBack{attention: k, sums: &b.sums}, dy, in[0])
	return gorgonia.Nodes{dqkv, b.pick("attention.dtable", in[1].Shape(), k.dtable, dqkv)}
}

// attentionBack computes dqkv from (dy, qkv) with the attention weights of
// the forward pass, and the table's gradient into attention.dtable.
type attentionBack struct {
	*attention
	sums *partials
	dp   [][]float32 // per worker: the logits' gradient
}

func (k *attentionBack) forward(dqkv []float32, in [][]float32) {
	dy, qkv := in[0], in[1]
	n, m := k.n, DimHead*k.n
	scale := float32(1 / math.Sqrt(DimHead))
	tasks := k.batch * k.heads
	k.dp = scratch(k.dp, workers(tasks), n*n)
	k.sums.sum(k.dtable, tasks, func(wk int, part []float32, lo, hi int) {
		dp := k.dp[wk][:n*n]
		for task := lo; task < hi; task++ {
			head := task % k.heads
			q, kk, v := k.qkv(qkv, task)
			dq, dk, dv := k.qkv(dqkv, task)
			p := k.p[task*n*n : (task+1)*n*n]
			do := dy[task*m : (task+1)*m]
			k.gemm.Sgemm(noTrans, noTrans, DimHead, n, n, 1, do, n, p, n, 0, dv, n)
			k.gemm.Sgemm(trans, noTrans, n, n, DimHead, 1, do, n, v, n, 0, dp, n)
			for i := range n {
				prow, drow := p[i*n:(i+1)*n], dp[i*n:(i+1)*n]
				var dot float32
				for j, pv := range prow {
					dot += pv * drow[j]
				}
				idx := k.index[i*n : (i+1)*n]
				for j, pv := range prow {
					d := pv * (drow[j] - dot)
					drow[j] = d
					part[int(idx[j])*k.heads+head] += d
				}
			}
			k.gemm.Sgemm(noTrans, trans, DimHead, n, n, scale, kk, n, dp, n, 0, dq, n)
			k.gemm.Sgemm(noTrans, noTrans, DimHead, n, n, scale, q, n, dp, n, 0, dk, n)
		}
	})
}
