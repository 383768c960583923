//go:build cgo && openblas

package model

/*
void openblas_set_num_threads(int);
*/
import "C"

import (
	"sync"

	"gonum.org/v1/netlib/blas/netlib"
)

// BLAS names the matrix-product implementation this binary was built with.
const BLAS = "openblas"

// singleThreaded makes OpenBLAS run each product on the calling thread: the
// kernels call it from one goroutine per sample or head, so its own thread
// pool would only oversubscribe the cores.
var singleThreaded = sync.OnceFunc(func() { C.openblas_set_num_threads(1) })

func newGEMM() gemm {
	singleThreaded()
	return netlib.Implementation{}
}
