package model

import (
	"runtime"
	"sync"
)

// parallelFor calls fn on contiguous chunks [lo, hi) covering [0, n), on at
// most GOMAXPROCS goroutines, and returns when every chunk is done. worker
// numbers the chunk (0 ≤ worker < workers(n)) so that fn can use per-worker
// scratch space.
func parallelFor(n int, fn func(worker, lo, hi int)) {
	w := workers(n)
	if w <= 1 {
		if n > 0 {
			fn(0, 0, n)
		}
		return
	}
	var wg sync.WaitGroup
	wg.Add(w)
	for i := range w {
		lo, hi := i*n/w, (i+1)*n/w
		go func() {
			defer wg.Done()
			fn(i, lo, hi)
		}()
	}
	wg.Wait()
}

// workers returns how many chunks parallelFor splits n items into.
func workers(n int) int {
	return max(1, min(n, runtime.GOMAXPROCS(0)))
}
