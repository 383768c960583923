package asm

import (
	"math/rand/v2"
	"testing"
)

// TestMulAddAddScaledScale checks the kernels against Go loops that round
// each product before the sum (Scale: that set the product), for every
// length up to 49 (whole vectors and masked tails): the same values bit
// for bit, and nothing written past n.
func TestMulAddAddScaledScale(t *testing.T) {
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
			set  bool // the term replaces the value instead of adding to it
		}{
			{"MulAdd", func(dst []float32) { MulAdd(&dst[0], &a[0], &b[0], n) }, func(i int) float32 { return float32(a[i] * b[i]) }, false},
			{"AddScaled", func(dst []float32) { AddScaled(&dst[0], &a[0], n, scale) }, func(i int) float32 { return float32(scale * a[i]) }, false},
			{"Scale", func(dst []float32) { Scale(&dst[0], &a[0], n, scale) }, func(i int) float32 { return scale * a[i] }, true},
		} {
			dst := vector(n + 1)
			want := append([]float32(nil), dst...)
			for i := range n {
				if k.set {
					want[i] = 0
				}
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

// TestNormBackDx checks the kernel against the Go loop it replaces, bit
// for bit, for plane sizes with and without a tail of single values, and
// that the values between planes stay untouched.
func TestNormBackDx(t *testing.T) {
	if !Available {
		t.Skip("no assembly kernels on this CPU or build")
	}
	rng := rand.New(rand.NewPCG(5, 5))
	const mean, invstd, a, m1, m2 = float32(0.3), float32(1.7), float32(0.9), float32(-0.05), float32(0.2)
	for _, hw := range []int{1, 4, 15, 16, 17, 40, 256} {
		const planes = 3
		stride := hw + 5
		dx, src := make([]float32, planes*stride), make([]float32, planes*stride)
		for i := range dx {
			dx[i], src[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()*2+0.5)
		}
		want := append([]float32(nil), dx...)
		for p := range planes {
			for i := p * stride; i < p*stride+hw; i++ {
				xhat := (src[i] - mean) * invstd
				want[i] = a * (want[i] - m1 - xhat*m2)
			}
		}
		NormBackDx(&dx[0], &src[0], hw, planes, stride, mean, invstd, a, m1, m2)
		for i := range dx {
			if dx[i] != want[i] {
				t.Fatalf("hw %d: dx[%d] = %g, want %g", hw, i, dx[i], want[i])
			}
		}
	}
}

// TestDzSumsMul4 checks the products it stores and its four-lane sums
// against Go loops, bit for bit.
func TestDzSumsMul4(t *testing.T) {
	if !Available {
		t.Skip("no assembly kernels on this CPU or build")
	}
	rng := rand.New(rand.NewPCG(6, 6))
	const mean, invstd = float32(0.4), float32(1.2)
	for _, n := range []int{4, 8, 64, 100} {
		gr, dg, src := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range gr {
			gr[i], dg[i], src[i] = float32(rng.NormFloat64()), float32(rng.Float64()), float32(rng.NormFloat64())
		}
		var want [8]float64
		dz := make([]float32, n)
		for i := range n {
			d := gr[i] * dg[i]
			want[i%4] += float64(d)
			want[4+i%4] += float64(d * ((src[i] - mean) * invstd))
		}
		got := make([]float32, n)
		var acc [8]float64
		DzSumsMul4(&got[0], &gr[0], &dg[0], &src[0], n, mean, invstd, &acc)
		for i := range n {
			dz[i] = gr[i] * dg[i]
			if got[i] != dz[i] {
				t.Fatalf("n %d: dz[%d] = %g, want %g", n, i, got[i], dz[i])
			}
		}
		if acc != want {
			t.Errorf("n %d: sums %v, want %v", n, acc, want)
		}
	}
}

// TestSumsPlanes checks the many-plane sum kernels against the one-plane
// ones, plane by plane, bit for bit, for plane counts with and without a
// remainder of the groups of four.
func TestSumsPlanes(t *testing.T) {
	if !Available {
		t.Skip("no assembly kernels on this CPU or build")
	}
	rng := rand.New(rand.NewPCG(7, 7))
	const mean, invstd, shift = float32(0.2), float32(1.4), 0.7
	for _, n := range []int{4, 16, 68} {
		for planes := 1; planes <= 9; planes++ {
			stride := n + 12
			gr, dg, src := make([]float32, planes*stride), make([]float32, planes*stride), make([]float32, planes*stride)
			for i := range gr {
				gr[i], dg[i], src[i] = float32(rng.NormFloat64()), float32(rng.Float64()), float32(rng.NormFloat64()*2+1)
			}
			dz := make([]float32, planes*stride)
			acc := make([]float64, 8*planes)
			DzSumsMul4Planes(&dz[0], &gr[0], &dg[0], &src[0], n, planes, stride, mean, invstd, &acc[0])
			ss := make([]float64, 8*planes)
			ShiftedSums4Planes(&src[0], n, planes, stride, shift, &ss[0])
			for p := range planes {
				o := p * stride
				want := make([]float32, n)
				var wantAcc, wantSS [8]float64
				DzSumsMul4(&want[0], &gr[o], &dg[o], &src[o], n, mean, invstd, &wantAcc)
				ShiftedSums4(&src[o], n, shift, &wantSS)
				for i := range n {
					if dz[o+i] != want[i] {
						t.Fatalf("n %d, planes %d: plane %d dz[%d] = %g, want %g", n, planes, p, i, dz[o+i], want[i])
					}
				}
				if [8]float64(acc[8*p:8*p+8]) != wantAcc || [8]float64(ss[8*p:8*p+8]) != wantSS {
					t.Fatalf("n %d, planes %d: plane %d sums differ", n, planes, p)
				}
				for i := o + n; i < o+stride; i++ {
					if dz[i] != 0 {
						t.Fatalf("n %d, planes %d: dz[%d] written between planes", n, planes, i)
					}
				}
			}
		}
	}
}
