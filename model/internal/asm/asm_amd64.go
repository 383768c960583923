//go:build amd64 && !purego

package asm

import "golang.org/x/sys/cpu"

// Available reports whether the kernels run on this CPU (AVX-512 F and
// VL); the model calls them only then.
var Available = cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL

// GELUAffine8 sets dst[i] = gelu(src[i]·scale + shift) for i < n, n a
// positive multiple of 8, with tab the cubics of the normal distribution
// function on [−10, 10] at steps of 1/32, one piece of four power-basis
// coefficients per step, after a sentinel piece (Φ = 0) and before one
// (Φ = 1). The arithmetic is model.geluAffine's: z = float32(src·scale) +
// shift, x = float64(z), pos = (x + 10)·32 clamped to [−1, 640] (NaN to
// 640), f = pos − ⌊pos⌋, Φ = (c0 + f·c1) + f·f·(c2 + f·c3), dst =
// float32(x·Φ), and +0 where Φ = 0.
//
//go:noescape
func GELUAffine8(dst, src *float32, n int, scale, shift float32, tab *[4]float64)

// MulAdd sets dst[i] += a[i]·b[i] for i < n, rounding the product before
// the sum as Go's dst[i] += a[i] * b[i] does without fused multiply-add.
//
//go:noescape
func MulAdd(dst, a, b *float32, n int)

// AddScaled sets dst[i] += a·src[i] for i < n, rounding the product before
// the sum.
//
//go:noescape
func AddScaled(dst, src *float32, n int, a float32)
