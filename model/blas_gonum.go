//go:build !(cgo && openblas)

package model

import "gonum.org/v1/gonum/blas/gonum"

// BLAS names the matrix-product implementation this binary was built with.
const BLAS = "gonum"

func newGEMM() gemm { return gonum.Implementation{} }
