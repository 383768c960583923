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

// zeroed is scratch with the first size elements of each buffer cleared:
// per-worker accumulators.
func zeroed(bufs [][]float32, n, size int) [][]float32 {
	bufs = scratch(bufs, n, size)
	for _, b := range bufs[:n] {
		clear(b[:size])
	}
	return bufs
}

// sumInto sets dst to the sum of parts, each cut to the length of dst.
func sumInto(dst []float32, parts [][]float32) {
	copy(dst, parts[0][:len(dst)])
	for _, p := range parts[1:] {
		p = p[:len(dst)]
		for i, v := range p {
			dst[i] += v
		}
	}
}

// grow returns buf resized to n elements, reallocated only when too small.
func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}
