//go:build !amd64 || purego

package asm

// Available is false: this build has no assembly.
const Available = false

// GELUAffine8 is not available in this build.
func GELUAffine8(dst, src *float32, n int, scale, shift float32, tab *[4]float64) {
	panic("asm: GELUAffine8 without assembly")
}

// MulAdd is not available in this build.
func MulAdd(dst, a, b *float32, n int) {
	panic("asm: MulAdd without assembly")
}

// AddScaled is not available in this build.
func AddScaled(dst, src *float32, n int, a float32) {
	panic("asm: AddScaled without assembly")
}
