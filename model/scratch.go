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
