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
