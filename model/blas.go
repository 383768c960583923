package model

import "gonum.org/v1/gonum/blas"

// gemm is the single-precision matrix product every dense kernel of the
// network is built on: C = alpha*op(A)*op(B) + beta*C on row-major matrices.
// Two implementations exist, chosen at build time: gonum's pure-Go BLAS (the
// default) and OpenBLAS through cgo (build tag openblas).
type gemm interface {
	Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
}

// Transposition flags, shortened for the kernels.
const (
	noTrans = blas.NoTrans
	trans   = blas.Trans
)
