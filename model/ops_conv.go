package model

import (
	"gorgonia.org/gorgonia"

	"github.com/astroformer/astroformer/model/internal/asm"
)

// conv1x1 is a 1x1 convolution (stride 1) of NCHW input x [B,Cin,H,W] with
// weight [Cout,Cin,1,1] and an optional bias [Cout], computed without
// im2col: one matrix product per sample on large maps, and on small maps
// (fewer than gatherBelow positions) one product over the whole batch after
// gathering the channels of all samples side by side.
type conv1x1 struct {
	gemm                 gemm
	batch, cin, cout, hw int
	bias, inputGrad      bool
	work                 *workspace // the gathered matrices, small maps only
	norm                 *evalNorm  // a BatchNorm and GELU fused after it (evaluation), or nil
}

// gatherBelow is the map size under which conv1x1 gathers the batch into
// one matrix product: per-sample products that narrow waste most of a GEMM.
const gatherBelow = 256

// conv1x1 adds a 1x1 convolution; bias may be nil. inputGrad says whether
// the gradient with respect to x is needed.
func (b *builder) conv1x1(name string, x, w, bias *gorgonia.Node, inputGrad bool) *gorgonia.Node {
	k, shape := b.conv1x1Kernel(name, x, w, bias != nil, inputGrad)
	if bias != nil {
		return b.apply(name, shape, k, x, w, bias)
	}
	return b.apply(name, shape, k, x, w)
}

// conv1x1Kernel returns the kernel of a 1x1 convolution of x by w and the
// shape of its output.
func (b *builder) conv1x1Kernel(name string, x, w *gorgonia.Node, bias, inputGrad bool) (*conv1x1, []int) {
	batch, cin, h, wd := b.dims4(x)
	ws := w.Shape()
	if len(ws) != 4 || ws[1] != cin || ws[2] != 1 || ws[3] != 1 {
		b.failf("%s: weight shape %v does not fit input %v", name, ws, x.Shape())
	}
	k := &conv1x1{gemm: b.gemm, batch: batch, cin: cin, cout: ws[0], hw: h * wd, bias: bias, inputGrad: inputGrad, work: b.workspace()}
	return k, []int{batch, ws[0], h, wd}
}

func (k *conv1x1) gathered() bool { return k.hw < gatherBelow }

// gather copies NCHW x [B,C,HW] into g [C, B·HW], each plane multiplied
// by its gate (gate[n·C + c]) where gate is not nil, as squeezeExcite
// scales its output; channels in parallel.
func gather(g, x, gate []float32, batch, c, hw int) {
	parallelFor(c, func(_, lo, hi int) { gatherChannels(g, x, gate, batch, c, hw, lo, hi) })
}

// gatherChannels is gather for channels [lo, hi).
func gatherChannels(g, x, gate []float32, batch, c, hw, lo, hi int) {
	for ch := lo; ch < hi; ch++ {
		for n := range batch {
			dst, src := g[(ch*batch+n)*hw:(ch*batch+n+1)*hw], x[(n*c+ch)*hw:(n*c+ch+1)*hw]
			if gate == nil {
				copy(dst, src)
				continue
			}
			scaleInto(dst, src, gate[n*c+ch])
		}
	}
}

// scatter copies g [C, B·HW] into NCHW x [B,C,HW], channels in parallel.
func scatter(x, g []float32, batch, c, hw int) {
	parallelFor(c, func(_, lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			for n := range batch {
				copy(x[(n*c+ch)*hw:(n*c+ch+1)*hw], g[(ch*batch+n)*hw:(ch*batch+n+1)*hw])
			}
		}
	})
}

func (k *conv1x1) forward(y []float32, in [][]float32) {
	var bias []float32
	switch {
	case k.norm != nil:
		k.norm.prepare(in[2], in[3])
	case k.bias:
		bias = in[2]
	}
	k.product(y, in[0], in[1], bias, nil)
}

// product sets y to w·x (+ bias where not nil, then k.norm's map and GELU
// where set), with each plane of x scaled by its gate (gate[n·cin + c])
// first where gate is not nil.
func (k *conv1x1) product(y, x, w, bias, gate []float32) {
	var beta float32
	if bias != nil {
		beta = 1
	}
	if k.gathered() {
		cols := k.batch * k.hw
		xs, ys := k.work.pair(k.cin*cols, k.cout*cols)
		gather(xs, x, gate, k.batch, k.cin, k.hw)
		if bias != nil {
			fillRows(ys, bias, cols)
		}
		blockedSgemm(k.gemm, noTrans, noTrans, k.cout, cols, k.cin, 1, w, k.cin, xs, cols, beta, ys, cols)
		if k.norm != nil {
			parallelFor(k.cout, func(_, lo, hi int) {
				for ch := lo; ch < hi; ch++ {
					k.norm.planes(y[ch*k.hw:], ys[ch*cols:], ch, k.hw, k.batch, k.cout*k.hw, k.hw)
				}
			})
			return
		}
		scatter(y, ys, k.batch, k.cout, k.hw)
		return
	}
	xs, ys := k.cin*k.hw, k.cout*k.hw
	var gated [][]float32
	if gate != nil {
		gated = k.work.columns(workers(k.batch), xs)
	}
	parallelFor(k.batch, func(wk, lo, hi int) {
		for n := lo; n < hi; n++ {
			xn, yn := x[n*xs:(n+1)*xs], y[n*ys:(n+1)*ys]
			if gate != nil {
				gatherChannels(gated[wk], xn, gate[n*k.cin:(n+1)*k.cin], 1, k.cin, k.hw, 0, k.cin)
				xn = gated[wk][:xs]
			}
			if bias != nil {
				fillRows(yn, bias, k.hw)
			}
			k.gemm.Sgemm(noTrans, noTrans, k.cout, k.hw, k.cin, 1, w, k.cin, xn, k.hw, beta, yn, k.hw)
			if k.norm != nil {
				for ch := range k.cout {
					k.norm.planes(yn[ch*k.hw:], yn[ch*k.hw:], ch, k.hw, 1, 0, 0)
				}
			}
		}
	})
}

// fillRows sets row r of the matrix y (rows of width cols) to v[r].
func fillRows(y, v []float32, cols int) {
	for r, val := range v {
		row := y[r*cols : (r+1)*cols]
		for i := range row {
			row[i] = val
		}
	}
}

func (k *conv1x1) wrt() []bool {
	if k.norm != nil {
		return make([]bool, 4) // evaluation only: a frozen part of a training graph has no gradient
	}
	if k.bias {
		return []bool{k.inputGrad, true, true}
	}
	return []bool{k.inputGrad, true}
}

func (k *conv1x1) grads(b *builder, in gorgonia.Nodes, y, dy *gorgonia.Node) gorgonia.Nodes {
	g := make(gorgonia.Nodes, len(in))
	if k.inputGrad {
		g[0] = b.apply("conv1x1.dx", in[0].Shape(), &conv1x1DX{conv1x1: k}, dy, in[1])
	}
	g[1] = b.apply("conv1x1.dw", in[1].Shape(), &conv1x1DW{conv1x1: k, sums: &b.sums}, dy, in[0])
	if k.bias {
		g[2] = b.apply("conv1x1.db", []int{k.cout}, &channelSum{batch: k.batch, c: k.cout, hw: k.hw}, dy)
	}
	return g
}

// conv1x1DX computes dx = Wᵀ·dy from (dy, w).
type conv1x1DX struct{ *conv1x1 }

func (k *conv1x1DX) forward(dx []float32, in [][]float32) {
	dy, w := in[0], in[1]
	if k.gathered() {
		cols := k.batch * k.hw
		dys, dxs := k.work.pair(k.cout*cols, k.cin*cols)
		gather(dys, dy, nil, k.batch, k.cout, k.hw)
		blockedSgemm(k.gemm, trans, noTrans, k.cin, cols, k.cout, 1, w, k.cin, dys, cols, 0, dxs, cols)
		scatter(dx, dxs, k.batch, k.cin, k.hw)
		return
	}
	xs, ys := k.cin*k.hw, k.cout*k.hw
	parallelFor(k.batch, func(_, lo, hi int) {
		for n := lo; n < hi; n++ {
			k.gemm.Sgemm(trans, noTrans, k.cin, k.hw, k.cout, 1, w, k.cin, dy[n*ys:(n+1)*ys], k.hw, 0, dx[n*xs:(n+1)*xs], k.hw)
		}
	})
}

// conv1x1DW computes dW = Σₙ dyₙ·xₙᵀ from (dy, x).
type conv1x1DW struct {
	*conv1x1
	sums *partials
}

func (k *conv1x1DW) forward(dw []float32, in [][]float32) {
	dy, x := in[0], in[1]
	if k.gathered() {
		cols := k.batch * k.hw
		dys, xgs := k.work.pair(k.cout*cols, k.cin*cols)
		gather(dys, dy, nil, k.batch, k.cout, k.hw)
		gather(xgs, x, nil, k.batch, k.cin, k.hw)
		blockedSgemm(k.gemm, noTrans, trans, k.cout, k.cin, cols, 1, dys, cols, xgs, cols, 0, dw, k.cin)
		return
	}
	xs, ys := k.cin*k.hw, k.cout*k.hw
	k.sums.sum(dw, k.batch, func(_ int, part []float32, lo, hi int) {
		for n := lo; n < hi; n++ {
			k.gemm.Sgemm(noTrans, trans, k.cout, k.cin, k.hw, 1, dy[n*ys:(n+1)*ys], k.hw, x[n*xs:(n+1)*xs], k.hw, 1, part, k.cin)
		}
	})
}

// channelSum sums an NCHW tensor over batch and space: the gradient of a
// per-channel bias; each plane in four lanes (shiftedSums), the planes in
// sample order.
type channelSum struct{ batch, c, hw int }

func (k *channelSum) forward(out []float32, in [][]float32) {
	x := in[0]
	parallelFor(len(out), func(_, lo, hi int) {
		for c := lo; c < hi; c++ {
			var s float64
			for n := range k.batch {
				ps, _ := shiftedSums(x[(n*k.c+c)*k.hw:(n*k.c+c+1)*k.hw], 0)
				s += ps
			}
			out[c] = float32(s)
		}
	})
}

// conv3x3 is a dense 3x3 convolution with padding 1 and stride 1 or 2,
// without bias, computed as im2col and one matrix product per sample.
type conv3x3 struct {
	gemm                     gemm
	batch, cin, cout, stride int
	h, w, ho, wo             int
	inputGrad                bool
	work                     *workspace // the im2col matrices, shared by the graph's 3x3 convolutions
}

func (b *builder) conv3x3(name string, x, w *gorgonia.Node, stride int, inputGrad bool) *gorgonia.Node {
	batch, cin, h, wd := b.dims4(x)
	ws := w.Shape()
	if len(ws) != 4 || ws[1] != cin || ws[2] != 3 || ws[3] != 3 {
		b.failf("%s: weight shape %v does not fit input %v", name, ws, x.Shape())
	}
	k := &conv3x3{gemm: b.gemm, batch: batch, cin: cin, cout: ws[0], stride: stride, h: h, w: wd,
		ho: (h-1)/stride + 1, wo: (wd-1)/stride + 1, inputGrad: inputGrad, work: b.workspace()}
	return b.apply(name, []int{batch, k.cout, k.ho, k.wo}, k, x, w)
}

// im2col writes the 3x3 patches of one sample x [Cin,H,W] as the columns of
// col [Cin·9, Ho·Wo], zero where the patch leaves the image.
func (k *conv3x3) im2col(col, x []float32) {
	hw := k.ho * k.wo
	if k.stride == 1 {
		k.im2colShifted(col, x)
		return
	}
	for c := range k.cin {
		plane := x[c*k.h*k.w : (c+1)*k.h*k.w]
		for kh := range 3 {
			for kw := range 3 {
				row := col[(c*9+kh*3+kw)*hw : (c*9+kh*3+kw+1)*hw]
				a, b := k.span(kw)
				for oh := range k.ho {
					ih := oh*k.stride + kh - 1
					dst := row[oh*k.wo : (oh+1)*k.wo]
					if ih < 0 || ih >= k.h || a >= b {
						clear(dst)
						continue
					}
					src := plane[ih*k.w : (ih+1)*k.w]
					clear(dst[:a])
					clear(dst[b:])
					if k.stride == 1 {
						copy(dst[a:b], src[a+kw-1:b+kw-1])
						continue
					}
					for ow := a; ow < b; ow++ {
						dst[ow] = src[ow*k.stride+kw-1]
					}
				}
			}
		}
	}
}

// im2colShifted is im2col for stride 1, where the output has the input's
// size: the row of tap (kh, kw) is the input plane shifted by kh−1 rows
// and kw−1 columns, so it is copied whole and then the rows that fall
// outside and the column that wraps around are zeroed.
func (k *conv3x3) im2colShifted(col, x []float32) {
	h, w := k.h, k.w
	hw := h * w
	for c := range k.cin {
		plane := x[c*hw : (c+1)*hw]
		for kh := range 3 {
			dy := kh - 1
			lo, hi := max(0, -dy), min(h, h-dy) // the output rows that read inside the image
			for kw := range 3 {
				dx := kw - 1
				row := col[(c*9+kh*3+kw)*hw : (c*9+kh*3+kw+1)*hw]
				clear(row[:lo*w])
				clear(row[hi*w:])
				if lo >= hi {
					continue
				}
				dst, src := lo*w, (lo+dy)*w+dx
				n := (hi - lo) * w
				if src < 0 { // the first value is the wrapped column
					dst, src, n = dst+1, 0, n-1
				}
				n = min(n, hw-src)
				copy(row[dst:dst+n], plane[src:src+n])
				switch dx {
				case -1:
					for oh := lo; oh < hi; oh++ {
						row[oh*w] = 0
					}
				case 1:
					for oh := lo; oh < hi; oh++ {
						row[oh*w+w-1] = 0
					}
				}
			}
		}
	}
}

// span returns the output columns [lo, hi) whose input column ow·stride +
// kw − 1 lies inside the image.
func (k *conv3x3) span(kw int) (lo, hi int) {
	if kw == 0 {
		lo = 1
	}
	if k.w < kw { // (k.w−kw)/stride would round up
		return lo, 0
	}
	return lo, min(k.wo, (k.w-kw)/k.stride+1)
}

// col2im adds the columns of col [Cin·9, Ho·Wo] back onto dx [Cin,H,W].
func (k *conv3x3) col2im(dx, col []float32) {
	hw := k.ho * k.wo
	for c := range k.cin {
		plane := dx[c*k.h*k.w : (c+1)*k.h*k.w]
		for kh := range 3 {
			for kw := range 3 {
				row := col[(c*9+kh*3+kw)*hw : (c*9+kh*3+kw+1)*hw]
				for oh := range k.ho {
					ih := oh*k.stride + kh - 1
					if ih < 0 || ih >= k.h {
						continue
					}
					dst := plane[ih*k.w : (ih+1)*k.w]
					src := row[oh*k.wo : (oh+1)*k.wo]
					a, b := k.span(kw)
					if k.stride == 1 && a < b {
						d := dst[a+kw-1 : b+kw-1]
						if asm.Available {
							asm.AddScaled(&d[0], &src[a], b-a, 1) // d + 1·v: the same sums
							continue
						}
						for i, v := range src[a:b] {
							d[i] += v
						}
						continue
					}
					for ow := a; ow < b; ow++ {
						dst[ow*k.stride+kw-1] += src[ow]
					}
				}
			}
		}
	}
}

func (k *conv3x3) forward(y []float32, in [][]float32) {
	x, w := in[0], in[1]
	xs, ys, kk := k.cin*k.h*k.w, k.cout*k.ho*k.wo, k.cin*9
	cols := k.work.columns(workers(k.batch), kk*k.ho*k.wo)
	parallelFor(k.batch, func(wk, lo, hi int) {
		col := cols[wk]
		for n := lo; n < hi; n++ {
			k.im2col(col, x[n*xs:(n+1)*xs])
			k.gemm.Sgemm(noTrans, noTrans, k.cout, k.ho*k.wo, kk, 1, w, kk, col, k.ho*k.wo, 0, y[n*ys:(n+1)*ys], k.ho*k.wo)
		}
	})
}

func (k *conv3x3) wrt() []bool { return []bool{k.inputGrad, true} }

func (k *conv3x3) grads(b *builder, in gorgonia.Nodes, y, dy *gorgonia.Node) gorgonia.Nodes {
	g := make(gorgonia.Nodes, 2)
	if k.inputGrad {
		g[0] = b.apply("conv3x3.dx", in[0].Shape(), &conv3x3DX{conv3x3: k}, dy, in[1])
	}
	g[1] = b.apply("conv3x3.dw", in[1].Shape(), &conv3x3DW{conv3x3: k, sums: &b.sums}, dy, in[0])
	return g
}

// conv3x3DX computes dx = col2im(Wᵀ·dy) from (dy, w).
type conv3x3DX struct{ *conv3x3 }

func (k *conv3x3DX) forward(dx []float32, in [][]float32) {
	dy, w := in[0], in[1]
	xs, ys, kk := k.cin*k.h*k.w, k.cout*k.ho*k.wo, k.cin*9
	dcols := k.work.columns(workers(k.batch), kk*k.ho*k.wo)
	parallelFor(k.batch, func(wk, lo, hi int) {
		dcol := dcols[wk]
		for n := lo; n < hi; n++ {
			k.gemm.Sgemm(trans, noTrans, kk, k.ho*k.wo, k.cout, 1, w, kk, dy[n*ys:(n+1)*ys], k.ho*k.wo, 0, dcol, k.ho*k.wo)
			dxn := dx[n*xs : (n+1)*xs]
			clear(dxn)
			k.col2im(dxn, dcol)
		}
	})
}

// conv3x3DW computes dW = Σₙ dyₙ·im2col(xₙ)ᵀ from (dy, x).
type conv3x3DW struct {
	*conv3x3
	sums *partials
}

func (k *conv3x3DW) forward(dw []float32, in [][]float32) {
	dy, x := in[0], in[1]
	xs, ys, kk := k.cin*k.h*k.w, k.cout*k.ho*k.wo, k.cin*9
	cols := k.work.columns(workers(k.batch), kk*k.ho*k.wo)
	k.sums.sum(dw, k.batch, func(wk int, part []float32, lo, hi int) {
		col := cols[wk]
		for n := lo; n < hi; n++ {
			k.im2col(col, x[n*xs:(n+1)*xs])
			k.gemm.Sgemm(noTrans, trans, k.cout, kk, k.ho*k.wo, 1, dy[n*ys:(n+1)*ys], k.ho*k.wo, col, k.ho*k.wo, 1, part, kk)
		}
	})
}

// depthwise is a depthwise 3x3 convolution (one filter per channel) with
// padding 1 and stride 1 or 2, without bias.
type depthwise struct {
	batch, c, stride int
	h, w, ho, wo     int
	dw               []float32     // weight gradient, set by depthwiseBack
	cl               *channelsLast // work buffers of the channels-last passes, shared by the graph's depthwise convolutions
	norm             *evalNorm     // a BatchNorm and GELU fused after it (evaluation), or nil
}

func (b *builder) depthwise(name string, x, w *gorgonia.Node, stride int) *gorgonia.Node {
	k, shape := b.depthwiseKernel(name, x, w, stride)
	return b.apply(name, shape, k, x, w)
}

// depthwiseKernel returns the kernel of a depthwise convolution of x by w
// and the shape of its output.
func (b *builder) depthwiseKernel(name string, x, w *gorgonia.Node, stride int) (*depthwise, []int) {
	batch, c, h, wd := b.dims4(x)
	ws := w.Shape()
	if len(ws) != 4 || ws[0] != c || ws[1] != 1 || ws[2] != 3 || ws[3] != 3 {
		b.failf("%s: weight shape %v does not fit input %v", name, ws, x.Shape())
	}
	k := &depthwise{batch: batch, c: c, stride: stride, h: h, w: wd, ho: (h-1)/stride + 1, wo: (wd-1)/stride + 1, cl: &b.workspace().cl}
	return k, []int{batch, c, k.ho, k.wo}
}

// span returns the output columns [lo, hi) whose tap kw reads inside a row
// of width w.
func (k *depthwise) span(kw int) (lo, hi int) {
	// ow*stride + kw - 1 must lie in [0, w).
	lo = 0
	if kw == 0 {
		lo = 1
	}
	if k.w < kw { // (k.w−kw)/stride would round up
		return lo, 0
	}
	hi = min(k.wo, (k.w-kw)/k.stride+1)
	return lo, hi
}

func (k *depthwise) forward(y []float32, in [][]float32) {
	if k.norm != nil {
		k.norm.prepare(in[2], in[3])
	}
	if k.forwardInChannelsLast() {
		k.forwardChannelsLast(y, in[0], in[1])
		return
	}
	k.forwardPlanes(y, in[0], in[1])
}

// forwardPlanes computes the convolution plane by plane, one task per
// (sample, channel).
func (k *depthwise) forwardPlanes(y, x, w []float32) {
	ip, op := k.h*k.w, k.ho*k.wo
	parallelFor(k.batch*k.c, func(_, lo, hi int) {
		for p := lo; p < hi; p++ {
			taps := w[(p%k.c)*9 : (p%k.c)*9+9]
			src, dst := x[p*ip:(p+1)*ip], y[p*op:(p+1)*op]
			clear(dst)
			for oh := range k.ho {
				out := dst[oh*k.wo : (oh+1)*k.wo]
				for kh := range 3 {
					ih := oh*k.stride + kh - 1
					if ih < 0 || ih >= k.h {
						continue
					}
					row := src[ih*k.w : (ih+1)*k.w]
					for kw := range 3 {
						wt := taps[kh*3+kw]
						a, b := k.span(kw)
						if k.stride == 1 {
							r := row[a+kw-1 : b+kw-1]
							o := out[a:b]
							if asm.Available && len(o) > 0 {
								asm.AddScaled(&o[0], &r[0], len(o), wt)
								continue
							}
							for i, v := range r {
								o[i] += float32(wt * v) // rounded, as the assembly does
							}
							continue
						}
						for ow := a; ow < b; ow++ {
							out[ow] += float32(wt * row[ow*k.stride+kw-1])
						}
					}
				}
			}
			if k.norm != nil {
				k.norm.planes(dst, dst, p%k.c, op, 1, 0, 0)
			}
		}
	})
}

func (k *depthwise) wrt() []bool {
	if k.norm != nil {
		return make([]bool, 4) // evaluation only: a frozen part of a training graph has no gradient
	}
	return []bool{true, true}
}

func (k *depthwise) grads(b *builder, in gorgonia.Nodes, y, dy *gorgonia.Node) gorgonia.Nodes {
	k.dw = make([]float32, k.c*9)
	dx := b.apply("depthwise.dx", in[0].Shape(), &depthwiseBack{k}, dy, in[0], in[1])
	return gorgonia.Nodes{dx, b.pick("depthwise.dw", in[1].Shape(), k.dw, dx)}
}

// depthwiseBack computes dx (its value) and dW (into depthwise.dw) from
// (dy, x, w), one channel per task.
type depthwiseBack struct{ *depthwise }

func (k *depthwiseBack) forward(dx []float32, in [][]float32) {
	if k.backInChannelsLast() {
		k.backChannelsLast(dx, in[0], in[1], in[2])
		return
	}
	k.backPlanes(dx, in[0], in[1], in[2])
}

// backPlanes computes the gradients plane by plane, one task per channel.
func (k *depthwiseBack) backPlanes(dx, dy, x, w []float32) {
	ip, op := k.h*k.w, k.ho*k.wo
	parallelFor(k.c, func(_, lo, hi int) {
		for c := lo; c < hi; c++ {
			taps := w[c*9 : c*9+9]
			var dw [9]float64
			for n := range k.batch {
				var dwn [9]float64 // the sample's, added to dw once it is done
				p := n*k.c + c
				g, src, dst := dy[p*op:(p+1)*op], x[p*ip:(p+1)*ip], dx[p*ip:(p+1)*ip]
				clear(dst)
				for oh := range k.ho {
					gr := g[oh*k.wo : (oh+1)*k.wo]
					for kh := range 3 {
						ih := oh*k.stride + kh - 1
						if ih < 0 || ih >= k.h {
							continue
						}
						row, drow := src[ih*k.w:(ih+1)*k.w], dst[ih*k.w:(ih+1)*k.w]
						if k.stride == 2 {
							s0, s1, s2 := backRow2(drow, row, gr, taps[kh*3], taps[kh*3+1], taps[kh*3+2])
							dwn[kh*3] += float64(s0)
							dwn[kh*3+1] += float64(s1)
							dwn[kh*3+2] += float64(s2)
							continue
						}
						for kw := range 3 {
							wt := taps[kh*3+kw]
							a, b := k.span(kw)
							var s float32
							for ow := a; ow < b; ow++ {
								iw := ow*k.stride + kw - 1
								s += float32(gr[ow] * row[iw])
								drow[iw] += float32(wt * gr[ow])
							}
							dwn[kh*3+kw] += float64(s)
						}
					}
				}
				for i, v := range dwn {
					dw[i] += v
				}
			}
			for i, v := range dw {
				k.dw[c*9+i] = float32(v)
			}
		}
	})
}

// backRow2 is one (output row, kernel row) step of backPlanes for stride
// 2: it adds the input gradients of output row gr through the taps w0, w1,
// w2 to drow and returns the taps' sums of gr times input row row, the
// three taps in one pass over the outputs. The result is the same bits as
// three passes, one per tap: each sum runs over the outputs in order, an
// even input gets its one term (tap 1) and an odd one its tap-0 term
// before its tap-2 term.
func backRow2(drow, row, gr []float32, w0, w1, w2 float32) (s0, s1, s2 float32) {
	w, wo := len(row), len(gr)
	drow = drow[:w]
	for ow, g := range gr {
		s1 += float32(g * row[2*ow])
		drow[2*ow] += float32(w1 * g)
		if ow > 0 {
			s0 += float32(g * row[2*ow-1])
			drow[2*ow-1] += float32(w0 * g)
			drow[2*ow-1] += float32(w2 * gr[ow-1])
		}
		if 2*ow+1 < w {
			s2 += float32(g * row[2*ow+1])
		}
	}
	if last := 2*wo - 1; last < w { // an even width: its last input has only a tap-2 term
		drow[last] += float32(w2 * gr[wo-1])
	}
	return s0, s1, s2
}
