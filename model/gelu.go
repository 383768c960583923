package model

import (
	"math"

	"github.com/astroformer/astroformer/model/internal/asm"
)

// The exact GELU, x·Φ(x) with Φ the standard normal distribution function,
// as PyTorch's F.gelu (approximate="none"), and its derivative Φ(x) + x·φ(x).
//
// Φ and φ come from a table at steps of 1/32 over [−10, 10], interpolated
// by cubic Hermite polynomials from the tabulated values and derivatives
// (φ' = −xφ). The interpolation error is below 1e-9, far under float32
// resolution, and a lookup costs a few multiplications where math.Erf and
// math.Exp cost tens of nanoseconds: the GELU kernels are among the
// busiest of the network. Outside the table Φ is 0 or 1 and φ is 0, to
// float32 precision.

const (
	normalRange = 10
	normalSteps = 32 // per unit
)

// normalPiece holds the Hermite cubics of Φ and φ on one table interval in
// the power basis of the fraction f ∈ [0, 1) into the interval: Φ =
// cdf[0] + f·cdf[1] + f²·(cdf[2] + f·cdf[3]), and φ alike.
type normalPiece struct {
	cdf, pdf [4]float64
}

// normalTable holds the pieces on [−normalRange + i/normalSteps,
// −normalRange + (i+1)/normalSteps). It is computed once and never written
// again.
var normalTable = func() (t [2 * normalRange * normalSteps]normalPiece) {
	const h = 1.0 / normalSteps
	at := func(i int) (x, cdf, pdf float64) {
		x = -normalRange + float64(i)*h
		return x, 0.5 * math.Erfc(-x/math.Sqrt2), math.Exp(-0.5*x*x) / math.Sqrt(2*math.Pi)
	}
	// cubic returns the power-basis coefficients of the cubic on [0, 1]
	// with values p0, p1 and slopes m0, m1 at its ends.
	cubic := func(p0, p1, m0, m1 float64) [4]float64 {
		return [4]float64{p0, m0, 3*(p1-p0) - 2*m0 - m1, 2*(p0-p1) + m0 + m1}
	}
	for i := range t {
		xa, ca, pa := at(i)
		xb, cb, pb := at(i + 1)
		t[i] = normalPiece{
			cdf: cubic(ca, cb, h*pa, h*pb),
			pdf: cubic(pa, pb, -h*xa*pa, -h*xb*pb),
		}
	}
	return t
}()

// lookup returns the table interval of x: index i and fraction f with
// x = −normalRange + (i+f)/normalSteps, or ok = false outside the table,
// where Φ(x) is 0 or 1 to float32 precision (and for NaN).
func lookup(x float64) (i int, f float64, ok bool) {
	pos := float64(x+normalRange) * normalSteps
	if !(pos >= 0 && pos < 2*normalRange*normalSteps) {
		return 0, 0, false
	}
	i = int(pos)
	return i, pos - float64(i), true
}

// outside returns Φ(x) for x outside the table.
func outside(x float64) float64 {
	if x > 0 || math.IsNaN(x) {
		return math.Min(1, x) // 1, or NaN
	}
	return 0
}

// normalCDF returns Φ(x).
func normalCDF(x float64) float64 {
	i, f, ok := lookup(x)
	if !ok {
		return outside(x)
	}
	c := &normalTable[i].cdf
	return (c[0] + float64(f*c[1])) + float64(f*f)*(c[2]+float64(f*c[3]))
}

// normal returns Φ(x) and φ(x).
func normal(x float64) (cdf, pdf float64) {
	i, f, ok := lookup(x)
	if !ok {
		return outside(x), 0
	}
	c, p := &normalTable[i].cdf, &normalTable[i].pdf
	return (c[0] + float64(f*c[1])) + float64(f*f)*(c[2]+float64(f*c[3])), (p[0] + float64(f*p[1])) + float64(f*f)*(p[2]+float64(f*p[3]))
}

// gelu returns x·Φ(x).
func gelu(x float32) float32 {
	cdf := normalCDF(float64(x))
	if cdf == 0 { // x·0 would be NaN for x = −∞
		return 0
	}
	return float32(float64(x) * cdf)
}

// geluGrad returns the derivative of gelu at x.
func geluGrad(x float32) float32 {
	cdf, pdf := normal(float64(x))
	if pdf == 0 { // x·0 would be NaN for x = ±∞
		return float32(cdf)
	}
	return float32(cdf + float64(float64(x)*pdf))
}

// geluPoly holds, for asm.GELUPoly, the normal distribution function Φ
// on [−8, 8) as 16 polynomials of degree 7, one per unit interval: Φ(x) =
// Σ_k geluPoly[k][p]·t^k for p = ⌊x⌋ + 8 and t = x − ⌊x⌋ − ½. Each
// interpolates Φ at the 8 Chebyshev nodes of its interval (near-minimax:
// below 1e-8 off Φ, under float32 rounding).
var geluPoly = piecewise(func(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) })

// geluGradPoly holds, for asm.GELUPolyGrad, geluPoly's polynomials of Φ
// and then, in the same form, those of the normal density φ.
var geluGradPoly = func() (c [16][16]float32) {
	pdf := piecewise(func(x float64) float64 { return math.Exp(-0.5*x*x) / math.Sqrt(2*math.Pi) })
	copy(c[:8], geluPoly[:])
	copy(c[8:], pdf[:])
	return c
}()

// piecewise returns f on [−8, 8) as 16 polynomials of degree 7 in the
// form of geluPoly, each interpolating f at the 8 Chebyshev nodes of its
// unit interval.
func piecewise(f func(float64) float64) (c [8][16]float32) {
	const degree = 7
	for p := range 16 {
		center := float64(p) - 8 + 0.5
		v := make([][]float64, degree+1) // Vandermonde rows, values last
		for j := range v {
			t := 0.5 * math.Cos(float64(2*j+1)*math.Pi/(2*(degree+1)))
			v[j] = make([]float64, degree+2)
			for k, tk := 0, 1.0; k <= degree; k, tk = k+1, tk*t {
				v[j][k] = tk
			}
			v[j][degree+1] = f(center + t)
		}
		for k, x := range solve(v) {
			c[k][p] = float32(x)
		}
	}
	return c
}

// solve returns the solution of the linear system whose augmented rows
// are a (n rows of n+1 values), by Gaussian elimination with partial
// pivoting; a is overwritten.
func solve(a [][]float64) []float64 {
	n := len(a)
	for col := range n {
		pivot := col
		for r := col + 1; r < n; r++ {
			if math.Abs(a[r][col]) > math.Abs(a[pivot][col]) {
				pivot = r
			}
		}
		a[col], a[pivot] = a[pivot], a[col]
		for r := col + 1; r < n; r++ {
			f := a[r][col] / a[col][col]
			for k := col; k <= n; k++ {
				a[r][k] -= f * a[col][k]
			}
		}
	}
	x := make([]float64, n)
	for r := n - 1; r >= 0; r-- {
		s := a[r][n]
		for k := r + 1; k < n; k++ {
			s -= a[r][k] * x[k]
		}
		x[r] = s / a[r][r]
	}
	return x
}

// geluPlanes is geluAffine over planes planes of hw values, plane p at
// p·stride in dst, grad (when not nil) and src: one call of the assembly
// kernel where it runs, so that small planes do not each pay for a call.
func geluPlanes(dst, grad, src []float32, hw, planes, stride int, scale, shift float32) {
	if planes == 0 || hw == 0 {
		return
	}
	last := (planes-1)*stride + hw
	switch {
	case asm.Available && grad == nil:
		_, _ = dst[last-1], src[last-1] // every plane lies inside both
		asm.GELUPoly(&dst[0], &src[0], hw, planes, stride, stride, scale, shift, &geluPoly)
		return
	case asm.Available:
		_, _, _ = dst[last-1], grad[last-1], src[last-1]
		asm.GELUPolyGrad(&dst[0], &grad[0], &src[0], hw, planes, stride, scale, shift, &geluGradPoly)
		return
	}
	for p := range planes {
		var g []float32
		if grad != nil {
			g = grad[p*stride : p*stride+hw]
		}
		geluAffine(dst[p*stride:p*stride+hw], g, src[p*stride:p*stride+hw], scale, shift)
	}
}

// geluAffine sets dst[i] = gelu(z) for z = src[i]·scale + shift and, where
// grad is not nil, grad[i] = gelu'(z).
//
// On CPUs with the assembly kernels, asm.GELUPoly and asm.GELUPolyGrad
// compute them sixteen at a time from the piecewise polynomials of
// geluPoly and geluGradPoly: within 2e-7·max(1, |z|) of the exact GELU
// and its derivative (1e-7 measured), as PyTorch's vectorised CPU GELU is
// within about 1e-7·|z| (its erf has an absolute error of 1.5e-7), and
// several times faster than the table. Elsewhere the loop below computes
// them bit for bit as gelu and geluGrad would, with the table lookup
// written out so that nothing is called per element inside the table.
func geluAffine(dst, grad, src []float32, scale, shift float32) {
	dst = dst[:len(src)]
	if grad != nil {
		grad = grad[:len(src)]
	}
	if asm.Available && len(src) > 0 {
		if grad == nil {
			asm.GELUPoly(&dst[0], &src[0], len(src), 1, 0, 0, scale, shift, &geluPoly)
		} else {
			asm.GELUPolyGrad(&dst[0], &grad[0], &src[0], len(src), 1, 0, scale, shift, &geluGradPoly)
		}
		return
	}
	t := &normalTable
	for i, v := range src {
		z := float32(v*scale) + shift
		x := float64(z)
		pos := float64(x+normalRange) * normalSteps
		if !(pos >= 0 && pos < 2*normalRange*normalSteps) {
			dst[i] = gelu(z)
			if grad != nil {
				grad[i] = geluGrad(z)
			}
			continue
		}
		j := int(pos)
		f := pos - float64(j)
		piece := &t[j]
		c := &piece.cdf
		cdf := (c[0] + float64(f*c[1])) + float64(f*f)*(c[2]+float64(f*c[3]))
		dst[i] = float32(x * cdf)
		if grad != nil {
			p := &piece.pdf
			pdf := (p[0] + float64(f*p[1])) + float64(f*f)*(p[2]+float64(f*p[3]))
			grad[i] = float32(cdf + float64(x*pdf))
		}
	}
}
