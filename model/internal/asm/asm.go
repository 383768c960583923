// Package asm holds the model's element-wise kernels in assembly, for the
// CPUs that have the instructions they need; the model calls them only
// where Available reports so. (They live apart from package model because
// a package that uses cgo, as model does with OpenBLAS, cannot hold Go
// assembly.)
package asm
