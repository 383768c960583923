package asm

import (
	"math/rand/v2"
	"testing"
)

// TestMulAddAndAddScaled checks the kernels against Go loops that round
// each product before the sum, for every length up to 49 (whole vectors
// and masked tails): the same values bit for bit, and nothing written past
// n.
func TestMulAddAndAddScaled(t *testing.T) {
	if !Available {
		t.Skip("no assembly kernels on this CPU or build")
	}
	rng := rand.New(rand.NewPCG(1, 1))
	vector := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	for n := range 50 {
		a, b, scale := vector(n+1), vector(n+1), float32(rng.NormFloat64())
		for _, k := range []struct {
			name string
			run  func(dst []float32)
			term func(i int) float32
		}{
			{"MulAdd", func(dst []float32) { MulAdd(&dst[0], &a[0], &b[0], n) }, func(i int) float32 { return float32(a[i] * b[i]) }},
			{"AddScaled", func(dst []float32) { AddScaled(&dst[0], &a[0], n, scale) }, func(i int) float32 { return float32(scale * a[i]) }},
		} {
			dst := vector(n + 1)
			want := append([]float32(nil), dst...)
			for i := range n {
				want[i] += k.term(i)
			}
			if n > 0 {
				k.run(dst)
			}
			for i := range dst {
				if dst[i] != want[i] {
					t.Fatalf("%s, n %d: dst[%d] = %g, want %g", k.name, n, i, dst[i], want[i])
				}
			}
		}
	}
}

func TestTranspose16(t *testing.T) {
	if !Available {
		t.Skip("no assembly kernels on this CPU or build")
	}
	const srcStride, dstStride = 21, 19
	src := make([]float32, 16*srcStride)
	for i := range src {
		src[i] = float32(i)
	}
	dst := make([]float32, 16*dstStride)
	Transpose16(&dst[0], dstStride, &src[0], srcStride)
	for i := range 16 {
		for j := range 16 {
			if got, want := dst[j*dstStride+i], src[i*srcStride+j]; got != want {
				t.Fatalf("dst[%d][%d] = %g, want %g", j, i, got, want)
			}
		}
		for j := 16; j < dstStride; j++ {
			if dst[i*dstStride+j] != 0 {
				t.Fatalf("dst[%d][%d] written past the tile", i, j)
			}
		}
	}
}
