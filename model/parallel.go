package model

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// The kernels split their loops over samples, channels or planes into
// contiguous chunks that goroutines take as they come free, so that a
// goroutine held up (by another process on the same cores, say) leaves its
// share to the others instead of stalling the join.
//
// Which goroutine runs which chunk therefore changes from run to run. Sums
// over the items of a loop (the gradient of a weight over the samples of a
// batch, say) must not depend on it, or training would not be reproducible:
// partials.sum gives every chunk its own partial sum and adds the partial
// sums in chunk order, with a number of chunks that depends on the number
// of items alone. Every rounding is then the same from run to run and for
// any GOMAXPROCS.

// chunksPerWorker is how many chunks parallelFor cuts the work into per
// goroutine.
const chunksPerWorker = 4

// maxSumChunks bounds the chunks of a sum. It cannot follow the number of
// cores, since the chunks fix the order of summation; more chunks balance
// the work better on many cores, but each needs a partial sum the size of
// the result, and adding them up costs one pass over each.
const maxSumChunks = 32

// parallelFor calls fn on contiguous chunks [lo, hi) covering [0, n), from
// at most GOMAXPROCS goroutines, and returns when every chunk is done. A
// goroutine may take several chunks; worker numbers it (0 ≤ worker <
// workers(n)) so that fn can use per-worker scratch space. Since the chunks
// a worker takes vary from run to run, fn must not sum anything across
// chunks: that is what partials.sum is for.
func parallelFor(n int, fn func(worker, lo, hi int)) {
	chunks := min(n, 1)
	if w := workers(n); w > 1 {
		chunks = min(n, chunksPerWorker*w)
	}
	forChunks(n, chunks, func(worker, _, lo, hi int) { fn(worker, lo, hi) })
}

// forChunks cuts [0, n) into chunks contiguous pieces, chunk c being
// [c·n/chunks, (c+1)·n/chunks), and calls fn on each from at most
// workers(n) goroutines, numbered by worker, each taking the next chunk
// when it is free.
func forChunks(n, chunks int, fn func(worker, chunk, lo, hi int)) {
	w := min(chunks, workers(n))
	if w <= 1 {
		for c := range chunks {
			fn(0, c, c*n/chunks, (c+1)*n/chunks)
		}
		return
	}
	var next atomic.Int64
	work := func(worker int) {
		for {
			c := int(next.Add(1)) - 1
			if c >= chunks {
				return
			}
			fn(worker, c, c*n/chunks, (c+1)*n/chunks)
		}
	}
	var wg sync.WaitGroup
	wg.Add(w - 1)
	for i := 1; i < w; i++ {
		go func() {
			defer wg.Done()
			work(i)
		}()
	}
	work(0)
	wg.Wait()
}

// workers returns how many goroutines parallelFor uses for n items.
func workers(n int) int {
	return max(1, min(n, runtime.GOMAXPROCS(0)))
}

// partials holds the partial sums of the kernels of one graph. The kernels
// of a graph run one at a time, so they share it.
type partials struct {
	bufs [][]float32
}

// sum sets dst to a sum over the items [0, n), computed in parallel.
// add(worker, part, lo, hi) must add the terms of items lo to hi−1 into
// part, which has the length of dst and is zero on entry; worker numbers
// the calling goroutine as in parallelFor. The result is the same, bit for
// bit, whatever GOMAXPROCS and however the goroutines are scheduled.
func (p *partials) sum(dst []float32, n int, add func(worker int, part []float32, lo, hi int)) {
	chunks := min(n, maxSumChunks)
	if chunks == 0 {
		clear(dst)
		return
	}
	// Chunk 0 sums into dst itself; the others into buffers.
	p.bufs = scratch(p.bufs, chunks-1, len(dst))
	forChunks(n, chunks, func(worker, c, lo, hi int) {
		part := dst
		if c > 0 {
			part = p.bufs[c-1][:len(dst)]
		}
		clear(part)
		add(worker, part, lo, hi)
	})
	if chunks == 1 {
		return
	}
	parts := p.bufs[:chunks-1]
	chunked(len(dst), func(lo, hi int) {
		out := dst[lo:hi]
		for _, part := range parts {
			for i, v := range part[lo:hi] {
				out[i] += v
			}
		}
	})
}
