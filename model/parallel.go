package model

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// chunksPerWorker is how many pieces parallelFor cuts the work into per
// goroutine, so that a goroutine held up (by another process on the same
// cores, say) leaves its share to the others instead of stalling the join.
const chunksPerWorker = 4

// parallelFor calls fn on contiguous chunks [lo, hi) covering [0, n), from
// at most GOMAXPROCS goroutines, and returns when every chunk is done. A
// goroutine may take several chunks; worker numbers it (0 ≤ worker <
// workers(n)) so that fn can use per-worker scratch space, which must
// therefore accumulate over calls rather than start afresh in each.
func parallelFor(n int, fn func(worker, lo, hi int)) {
	w := workers(n)
	if w <= 1 {
		if n > 0 {
			fn(0, 0, n)
		}
		return
	}
	chunks := min(n, chunksPerWorker*w)
	var next atomic.Int64
	work := func(worker int) {
		for {
			c := int(next.Add(1)) - 1
			if c >= chunks {
				return
			}
			fn(worker, c*n/chunks, (c+1)*n/chunks)
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
