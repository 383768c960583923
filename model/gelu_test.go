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

// TestGELUAffineMatchesScalar checks that the Go loop of geluAffine, the
// kernel of builds without the assembly, gives gelu and geluGrad bit for
// bit, NaN included.
func TestGELUAffineMatchesScalar(t *testing.T) {
	if asm.Available {
		t.Skip("this build computes the GELU by the polynomial kernels: TestGELUEvaluation and TestGELUDerivative check them")
	}
	var src []float32
	for x := -12.0; x <= 12; x += 0.0137 {
		src = append(src, float32(x))
	}
	src = append(src, float32(math.Inf(1)), float32(math.Inf(-1)), 0, -0, float32(math.NaN()))
	const scale, shift = 0.75, 0.125
	y, d, y2 := make([]float32, len(src)), make([]float32, len(src)), make([]float32, len(src))
	geluAffine(y, d, src, scale, shift)
	geluAffine(y2, nil, src, scale, shift)
	for i, v := range src {
		z := v*scale + shift
		if z != z {
			if y[i] == y[i] || d[i] == d[i] || y2[i] == y2[i] {
				t.Fatalf("geluAffine(NaN) = %g, derivative %g; want NaN, NaN", y[i], d[i])
			}
			continue
		}
		if y[i] != gelu(z) || d[i] != geluGrad(z) || y2[i] != y[i] {
			t.Fatalf("geluAffine at %g: %g, %g; want %g, %g", z, y[i], d[i], gelu(z), geluGrad(z))
		}
	}
}

// TestGELUDerivative checks geluAffine with derivatives against the exact
// GELU and its derivative Φ(x) + x·φ(x) in float64, as TestGELUEvaluation
// checks it without them: within 2e-7·max(1, |x|) on a fine sweep of
// [−12, 12] at every tail length, and 0, x, 1 or NaN where the values are
// not finite or lie outside the polynomials.
func TestGELUDerivative(t *testing.T) {
	var src []float32
	for x := -12.0; x <= 12; x += 1.0 / 4096 {
		src = append(src, float32(x))
	}
	exact := func(x float64) (float64, float64) {
		cdf := 0.5 * math.Erfc(-x/math.Sqrt2)
		return x * cdf, cdf + x*math.Exp(-x*x/2)/math.Sqrt(2*math.Pi)
	}
	for _, n := range []int{len(src), len(src) - 1, 15, 1} {
		y, d := make([]float32, n), make([]float32, n)
		geluAffine(y, d, src[:n], 1, 0)
		worstY, worstD, at := 0.0, 0.0, 0.0
		for i := range y {
			x := float64(src[i])
			wy, wd := exact(x)
			worstY = max(worstY, math.Abs(float64(y[i])-wy)/max(1, math.Abs(x)))
			if e := math.Abs(float64(d[i])-wd) / max(1, math.Abs(x)); e > worstD {
				worstD, at = e, x
			}
		}
		if worstY > 2e-7 || worstD > 2e-7 {
			t.Errorf("%d values: error %.3g, derivative error %.3g (at x = %g); want both below 2e-7·max(1, |x|)", n, worstY, worstD, at)
		}
		if n == len(src) {
			t.Logf("assembly %v: largest errors %.3g and, of the derivative, %.3g·max(1, |x|) at x = %g", asm.Available, worstY, worstD, at)
		}
	}
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	special := []float32{-inf, inf, nan, 8, -1e30, 1e30, -11}
	y, d := make([]float32, len(special)), make([]float32, len(special))
	geluAffine(y, d, special, 1, 0)
	wantY := []float32{0, inf, nan, 8, 0, 1e30, 0}
	wantD := []float32{0, 1, nan, 1, 0, 1, 0}
	same := func(a, b float32) bool { return a == b || a != a && b != b }
	for i := range special {
		if !same(y[i], wantY[i]) || !same(d[i], wantD[i]) {
			t.Errorf("gelu(%g) = %g, derivative %g; want %g, %g", special[i], y[i], d[i], wantY[i], wantD[i])
		}
	}
}

// TestGELUEvaluation checks geluAffine without derivatives against the
// exact GELU, x·Φ(x) in float64 through math.Erfc, on a fine sweep of
// [−12, 12] at every tail length, and on values that are not finite: the
// error stays below 2e-7·max(1, |x|) (measured: 1e-7 for the polynomial
// path, 6e-8 for the table).
func TestGELUEvaluation(t *testing.T) {
	var src []float32
	for x := -12.0; x <= 12; x += 1.0 / 4096 {
		src = append(src, float32(x))
	}
	exact := func(x float64) float64 { return x * 0.5 * math.Erfc(-x/math.Sqrt2) }
	for _, n := range []int{len(src), len(src) - 1, 15, 1} {
		y := make([]float32, n)
		geluAffine(y, nil, src[:n], 1, 0)
		worst, at := 0.0, 0.0
		for i, v := range y {
			x := float64(src[i])
			if e := math.Abs(float64(v)-exact(x)) / max(1, math.Abs(x)); e > worst {
				worst, at = e, x
			}
		}
		if worst > 2e-7 {
			t.Errorf("%d values: error %.3g at x = %g, want below 2e-7·max(1, |x|)", n, worst, at)
		}
		if n == len(src) {
			t.Logf("assembly %v: largest error %.3g·max(1, |x|) at x = %g", asm.Available, worst, at)
		}
	}
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	special := []float32{-inf, inf, nan, -8, 8, float32(math.Nextafter32(8, 0)), -1e30, 1e30}
	y := make([]float32, len(special))
	geluAffine(y, nil, special, 1, 0)
	want := []float32{0, inf, nan, y[3], 8, y[5], 0, 1e30}
	for i, w := range want {
		if y[i] != w && !(w != w && y[i] != y[i]) {
			t.Errorf("gelu(%g) = %g, want %g", special[i], y[i], w)
		}
	}
	if d := math.Abs(float64(y[3]) - exact(-8)); d > 1e-12 {
		t.Errorf("gelu(-8) = %g, want %g", y[3], exact(-8))
	}
}

// TestGELUPlanes compares geluPlanes with geluAffine plane by plane, for
// planes shorter and longer than a vector, and checks that it writes
// nothing between the planes.
func TestGELUPlanes(t *testing.T) {
	for _, hw := range []int{1, 5, 16, 17, 33} {
		const planes, scale, shift = 7, float32(1.3), float32(-0.2)
		stride := hw + 3
		src := make([]float32, planes*stride)
		for i := range src {
			src[i] = float32(i%23-11) * 0.4
		}
		got, want := make([]float32, len(src)), make([]float32, len(src))
		for i := range got {
			got[i], want[i] = 42, 42
		}
		geluPlanes(got, nil, src, hw, planes, stride, scale, shift)
		for p := range planes {
			geluAffine(want[p*stride:p*stride+hw], nil, src[p*stride:p*stride+hw], scale, shift)
		}
		if !slices.Equal(got, want) {
			t.Errorf("hw %d: geluPlanes differs from geluAffine plane by plane", hw)
		}
		gotD, wantD := make([]float32, len(src)), make([]float32, len(src))
		for i := range gotD {
			got[i], want[i], gotD[i], wantD[i] = 42, 42, 42, 42
		}
		geluPlanes(got, gotD, src, hw, planes, stride, scale, shift)
		for p := range planes {
			geluAffine(want[p*stride:p*stride+hw], wantD[p*stride:p*stride+hw], src[p*stride:p*stride+hw], scale, shift)
		}
		if !slices.Equal(got, want) || !slices.Equal(gotD, wantD) {
			t.Errorf("hw %d: geluPlanes with derivatives differs from geluAffine plane by plane", hw)
		}
	}
}
