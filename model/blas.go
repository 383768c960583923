package model

import (
	"runtime"
	"sync"
	"time"

	"gonum.org/v1/gonum/blas"

	"github.com/astroformer/astroformer/model/internal/bf16"
)

// gemm is the single-precision matrix product every dense kernel of the
// network is built on: C = alpha*op(A)*op(B) + beta*C on row-major matrices.
// Two implementations exist, chosen at build time: gonum's pure-Go BLAS (the
// default) and OpenBLAS through cgo (build tag openblas). A Net set to BF16
// precision (see SetPrecision) uses the bfloat16 product of package
// model/internal/bf16 instead, in every build, on CPUs with AVX512_BF16.
type gemm interface {
	Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
}

// Transposition flags, shortened for the kernels.
const (
	noTrans = blas.NoTrans
	trans   = blas.Trans
)

// blockedSgemm computes g.Sgemm(tA, tB, m, n, k, ...) with the n columns
// of C cut into blocks, several goroutines taking them as they come free:
// the one large product of a layer whose batch is gathered into a single
// matrix would otherwise run on one core (each product is single-threaded:
// the kernels parallelise over samples). The blocks depend on n alone, never
// on the number of threads, so results are the same for any GOMAXPROCS.
func blockedSgemm(g gemm, tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	width := gemmBlockWidth(n)
	blocks := (n + width - 1) / width
	if blocks <= 1 {
		g.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	parallelFor(blocks, func(_, lo, hi int) {
		for blk := lo; blk < hi; blk++ {
			j0 := blk * width
			jn := min(n, j0+width) - j0
			bj := j0 // column j0 of op(B): B's column j0, or its row j0 when transposed
			if tB == trans {
				bj = j0 * ldb
			}
			g.Sgemm(tA, tB, m, jn, k, alpha, a, lda, b[bj:], ldb, beta, c[j0:], ldc)
		}
	})
}

// gemmBlockWidth is the width of blockedSgemm's column blocks for n
// columns: wide enough that packing A again for each block costs little,
// narrow enough that two cores share even a small product, and cutting
// n into an even number of blocks (a multiple of 16 wide), since two
// cores given three blocks would wait a third of the time for the last.
func gemmBlockWidth(n int) int {
	var target int
	switch {
	case n >= 1024:
		target = 256
	case n >= 256:
		target = 128
	case n >= 128:
		target = 64
	default:
		return n
	}
	blocks := (n + target - 1) / target
	blocks += blocks % 2
	return ((n+blocks-1)/blocks + 15) &^ 15
}

// GEMMFLOPS measures the single-precision matrix product of this build (the
// backend every dense kernel uses) on this machine: GOMAXPROCS goroutines
// each multiply two n×n matrices reps times, as the kernels do, and the
// result is the floating-point operations per second of all of them
// together (2n³ per product). It is the ceiling the model's throughput is
// compared with.
func GEMMFLOPS(n, reps int) float64 { return gemmFLOPS(newGEMM(), n, reps) }

// GEMMFLOPSAt is GEMMFLOPS for the matrix product of precision p (which
// must be available: see BF16Supported).
func GEMMFLOPSAt(p Precision, n, reps int) (float64, error) {
	switch p {
	case FP32:
		return GEMMFLOPS(n, reps), nil
	case BF16:
		if !BF16Supported() {
			return 0, ErrNoBF16
		}
		return gemmFLOPS(bf16.New(newGEMM()), n, reps), nil
	}
	_, err := ParsePrecision(string(p))
	return 0, err
}

func gemmFLOPS(g gemm, n, reps int) float64 {
	workers := max(1, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			a, b, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
			for i := range a {
				a[i], b[i] = float32(i%7)*0.1, float32(i%5)*0.1
			}
			for range reps {
				g.Sgemm(noTrans, noTrans, n, n, n, 1, a, n, b, n, 0, c, n)
			}
		})
	}
	wg.Wait()
	return 2 * float64(n) * float64(n) * float64(n) * float64(reps*workers) / time.Since(start).Seconds()
}
