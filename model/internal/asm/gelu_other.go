//go:build !amd64 || purego

package asm

// GELU is false: this build has no assembly.
const GELU = false

// GELUAffine8 is not available in this build.
func GELUAffine8(dst, src *float32, n int, scale, shift float32, tab *[4]float64) {
	panic("asm: GELUAffine8 without assembly")
}
