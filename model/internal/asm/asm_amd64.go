//go:build amd64 && !purego

package asm

import "golang.org/x/sys/cpu"

// Available reports whether the kernels run on this CPU (AVX-512 F and
// VL); the model calls them only then.
var Available = cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL

// MulAdd sets dst[i] += a[i]·b[i] for i < n, rounding the product before
// the sum as Go's dst[i] += a[i] * b[i] does without fused multiply-add.
//
//go:noescape
func MulAdd(dst, a, b *float32, n int)

// Scale sets dst[i] = a·src[i] for i < n.
//
//go:noescape
func Scale(dst, src *float32, n int, a float32)

// AddScaled sets dst[i] += a·src[i] for i < n, rounding the product before
// the sum.
//
//go:noescape
func AddScaled(dst, src *float32, n int, a float32)

// GELUPoly sets dst[i] = gelu(src[i]·scale + shift) over planes planes
// of hw values, plane p at p·dstStride in dst and p·srcStride in src,
// with Φ from the 16 degree-7 polynomials coef (model.geluPoly): within
// 1e-7·max(1, |z|) of the exact GELU.
//
//go:noescape
func GELUPoly(dst, src *float32, hw, planes, dstStride, srcStride int, scale, shift float32, coef *[8][16]float32)

// GELUPolyRows is GELUPoly with a scale and shift per column over rows
// rows of n values, row r at r·stride in dst and src: the GELU of a
// BatchNorm channels last.
//
//go:noescape
func GELUPolyRows(dst, src *float32, n, rows, stride int, scale, shift *float32, coef *[8][16]float32)

// Transpose16 sets dst[j·dstStride + i] = src[i·srcStride + j] for i, j <
// 16, strides counted in elements.
//
//go:noescape
func Transpose16(dst *float32, dstStride int, src *float32, srcStride int)

// ShiftedSums4 sets acc to the four-lane sums of d = float64(src[i]) −
// shift (acc[0:4]) and of d·d (acc[4:8]) over i < n, lane i mod 4, n a
// positive multiple of 4: the loop of model.shiftedSums.
//
//go:noescape
func ShiftedSums4(src *float32, n int, shift float64, acc *[8]float64)

// DzSums4 sets acc to the four-lane sums of float64(dz[i]) (acc[0:4]) and
// of float64(dz[i]·((src[i] − mean)·invstd)) (acc[4:8]) over i < n, lane
// i mod 4, n a positive multiple of 4: the loop of model.dzSums.
//
//go:noescape
func DzSums4(dz, src *float32, n int, mean, invstd float32, acc *[8]float64)

// DzSumsMul4 is DzSums4 of dz[i] = gr[i]·dg[i] (the product rounded),
// which it also stores.
//
//go:noescape
func DzSumsMul4(dz, gr, dg, src *float32, n int, mean, invstd float32, acc *[8]float64)

// ShiftedSums4Planes sets acc[8p:8p+8] to ShiftedSums4 of each of planes
// planes of n values (n a positive multiple of 4), plane p at p·stride,
// four planes at a time.
//
//go:noescape
func ShiftedSums4Planes(src *float32, n, planes, stride int, shift float64, acc *float64)

// DzSumsMul4Planes is DzSumsMul4 of each of planes planes of n values (n a
// positive multiple of 4), plane p at p·stride in dz, gr, dg and src, its
// sums into acc[8p:8p+8], four planes at a time.
//
//go:noescape
func DzSumsMul4Planes(dz, gr, dg, src *float32, n, planes, stride int, mean, invstd float32, acc *float64)

// NormBackDx sets dx[i] = a·((dx[i] − m1) − ((src[i] − mean)·invstd)·m2),
// every operation rounded, over planes planes of hw values, plane p at
// p·stride in dx and src (planes > 0): the second pass of BatchNorm's
// backward pass.
//
//go:noescape
func NormBackDx(dx, src *float32, hw, planes, stride int, mean, invstd, a, m1, m2 float32)

// GELUPolyGrad sets dst[i] = gelu(z) and grad[i] = gelu'(z) for z =
// src[i]·scale + shift over planes planes of hw values, plane p at p·stride
// in dst, grad and src, with Φ from the 16 degree-7 polynomials coef[:8]
// (as GELUPoly) and φ from coef[8:]: within 2e-7·max(1, |z|) of the exact
// GELU and its derivative.
//
//go:noescape
func GELUPolyGrad(dst, grad, src *float32, hw, planes, stride int, scale, shift float32, coef *[16][16]float32)

// AdamW8 applies model.AdamW's update to n values, n a positive multiple
// of 8, with the same arithmetic: parameters p, gradients grad, moments m
// and v.
//
//go:noescape
func AdamW8(p, grad, m, v *float32, n int, b1, b2, decay float32, step, bc2Sqrt, eps float64)
