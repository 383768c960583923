package model

// Work buffers of the kernels, kept between runs of a graph.

// scratch returns n buffers of size elements each, reusing bufs when they
// are big enough. Buffers are not cleared.
func scratch[T float32 | float64](bufs [][]T, n, size int) [][]T {
	if len(bufs) < n {
		bufs = append(bufs, make([][]T, n-len(bufs))...)
	}
	for i := range bufs[:n] {
		if len(bufs[i]) < size {
			bufs[i] = make([]T, size)
		}
	}
	return bufs
}

// grow returns buf resized to n elements, reallocated only when too small.
func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

// workspace holds the buffers a graph's kernels need only while they run.
// The tape machine runs one op at a time, so such kernels of one graph
// share them instead of keeping their own.
type workspace struct {
	bufs [2][]float32 // the gathered matrices of the 1x1 convolutions
	cols [][]float32  // per worker: the im2col matrices of the 3x3 convolutions
	cl   channelsLast // the depthwise convolutions' channels-last samples
}

// columns returns n buffers of size elements, one per worker, valid until
// the next call; their contents are not cleared.
func (w *workspace) columns(n, size int) [][]float32 {
	w.cols = scratch(w.cols, n, size)
	return w.cols
}

// pair returns two distinct buffers of n0 and n1 elements, valid until the
// next call; their contents are not cleared.
func (w *workspace) pair(n0, n1 int) ([]float32, []float32) {
	w.bufs[0], w.bufs[1] = grow(w.bufs[0], n0), grow(w.bufs[1], n1)
	return w.bufs[0], w.bufs[1]
}
