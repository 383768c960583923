package model

import (
	"math"
	"slices"
	"testing"

	"github.com/astroformer/astroformer/model/internal/asm"
)

// TestGELU compares the fast GELU and its derivative with their definitions
// through math.Erf, over the range where they differ from 0 and x.
func TestGELU(t *testing.T) {
	var worstY, worstD float64
	for i := -200000; i <= 200000; i++ {
		x := float64(float32(float64(i) * 1e-4)) // [-20, 20], exactly representable
		cdf := 0.5 * (1 + math.Erf(x/math.Sqrt2))
		pdf := math.Exp(-x*x/2) / math.Sqrt(2*math.Pi)
		y, d := x*cdf, cdf+x*pdf
		worstY = max(worstY, math.Abs(float64(gelu(float32(x)))-y)/max(1, math.Abs(y)))
		worstD = max(worstD, math.Abs(float64(geluGrad(float32(x)))-d))
	}
	for _, x := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), -1e30, 1e30} {
		y, d := gelu(x), geluGrad(x)
		switch {
		case x != x:
			if y == y || d == d {
				t.Errorf("gelu(NaN) = %g, %g; want NaN", y, d)
			}
		case x > 0 && (y != x || d != 1), x < 0 && (y != 0 || d != 0):
			t.Errorf("gelu(%g) = %g, derivative %g", x, y, d)
		}
	}
	if worstY > 1e-7 || worstD > 1e-7 {
		t.Errorf("gelu relative error %.3g, derivative error %.3g; want both below 1e-7", worstY, worstD)
	}
	t.Logf("gelu relative error %.3g, derivative error %.3g", worstY, worstD)
}

func TestGELUAffineMatchesScalar(t *testing.T) {
	var src []float32
	for x := -12.0; x <= 12; x += 0.0137 {
		src = append(src, float32(x))
	}
	src = append(src, float32(math.Inf(1)), float32(math.Inf(-1)), 0, -0)
	const scale, shift = 0.75, 0.125
	y, d := make([]float32, len(src)), make([]float32, len(src))
	geluAffine(y, d, src, scale, shift)
	for i, v := range src {
		z := v*scale + shift
		if y[i] != gelu(z) || d[i] != geluGrad(z) {
			t.Fatalf("geluAffine at %g: %g, %g; want %g, %g", z, y[i], d[i], gelu(z), geluGrad(z))
		}
	}
	// Without derivatives (eight at a time on CPUs with AVX-512, the rest
	// one by one), over every length of the tail.
	for _, n := range []int{len(src), len(src) - 1, len(src) - 7, 8, 7, 1} {
		y2 := make([]float32, n)
		geluAffine(y2, nil, src[:n], scale, shift)
		if !slices.Equal(y[:n], y2) {
			t.Errorf("geluAffine of %d values without derivatives differs from with them", n)
		}
	}
}

// TestGELUAffineVectorSpecialValues checks the vector path at the edges
// of the table and on values that are not finite.
func TestGELUAffineVectorSpecialValues(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	src := []float32{-10, 10, -10.000001, 9.999999, -1e30, 1e30, -inf, inf, nan, 0, float32(math.Copysign(0, -1)), 1e-40}
	for len(src)%8 != 0 {
		src = append(src, 1)
	}
	y := make([]float32, len(src))
	scale, shift := float32(1), float32(0)
	geluAffine(y, nil, src, scale, shift)
	for i, v := range src {
		z := v*scale + shift // -0 + 0 is +0
		want := gelu(z)
		if y[i] != want && !(math.IsNaN(float64(want)) && math.IsNaN(float64(y[i]))) || math.Signbit(float64(y[i])) != math.Signbit(float64(want)) {
			t.Errorf("gelu(%g) = %g, want %g", z, y[i], want)
		}
	}
	t.Logf("vector path: %v", asm.Available)
}
