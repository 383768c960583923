//go:build !amd64 || purego

package asm

// Available is false: this build has no assembly.
const Available = false

// MulAdd is not available in this build.
func MulAdd(dst, a, b *float32, n int) {
	panic("asm: MulAdd without assembly")
}

// Scale is not available in this build.
func Scale(dst, src *float32, n int, a float32) {
	panic("asm: Scale without assembly")
}

// AddScaled is not available in this build.
func AddScaled(dst, src *float32, n int, a float32) {
	panic("asm: AddScaled without assembly")
}

// GELUPoly is not available in this build.
func GELUPoly(dst, src *float32, hw, planes, dstStride, srcStride int, scale, shift float32, coef *[8][16]float32) {
	panic("asm: GELUPoly without assembly")
}

// GELUPolyRows is not available in this build.
func GELUPolyRows(dst, src *float32, n, rows, stride int, scale, shift *float32, coef *[8][16]float32) {
	panic("asm: GELUPolyRows without assembly")
}

// Transpose16 is not available in this build.
func Transpose16(dst *float32, dstStride int, src *float32, srcStride int) {
	panic("asm: Transpose16 without assembly")
}

// ShiftedSums4 is not available in this build.
func ShiftedSums4(src *float32, n int, shift float64, acc *[8]float64) {
	panic("asm: ShiftedSums4 without assembly")
}

// DzSums4 is not available in this build.
func DzSums4(dz, src *float32, n int, mean, invstd float32, acc *[8]float64) {
	panic("asm: DzSums4 without assembly")
}

// DzSumsMul4 is not available in this build.
func DzSumsMul4(dz, gr, dg, src *float32, n int, mean, invstd float32, acc *[8]float64) {
	panic("asm: DzSumsMul4 without assembly")
}

// ShiftedSums4Planes is not available in this build.
func ShiftedSums4Planes(src *float32, n, planes, stride int, shift float64, acc *float64) {
	panic("asm: ShiftedSums4Planes without assembly")
}

// DzSumsMul4Planes is not available in this build.
func DzSumsMul4Planes(dz, gr, dg, src *float32, n, planes, stride int, mean, invstd float32, acc *float64) {
	panic("asm: DzSumsMul4Planes without assembly")
}

// NormBackDx is not available in this build.
func NormBackDx(dx, src *float32, hw, planes, stride int, mean, invstd, a, m1, m2 float32) {
	panic("asm: NormBackDx without assembly")
}

// GELUPolyGrad is not available in this build.
func GELUPolyGrad(dst, grad, src *float32, hw, planes, stride int, scale, shift float32, coef *[16][16]float32) {
	panic("asm: GELUPolyGrad without assembly")
}

// AdamW8 is not available in this build.
func AdamW8(p, grad, m, v *float32, n int, b1, b2, decay float32, step, bc2Sqrt, eps float64) {
	panic("asm: AdamW8 without assembly")
}
