package model

import "math"

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

// normalTable holds Φ and φ at x = −normalRange + i/normalSteps. It is
// computed once and never written again.
var normalTable = func() (t [2*normalRange*normalSteps + 2][2]float64) {
	for i := range t {
		x := -normalRange + float64(i)/normalSteps
		t[i] = [2]float64{0.5 * math.Erfc(-x/math.Sqrt2), math.Exp(-0.5*x*x) / math.Sqrt(2*math.Pi)}
	}
	return t
}()

// lookup returns the table interval of x: index i and fraction f with
// x = −normalRange + (i+f)/normalSteps, or ok = false outside the table,
// where Φ(x) is 0 or 1 to float32 precision (and for NaN).
func lookup(x float64) (i int, f float64, ok bool) {
	pos := (x + normalRange) * normalSteps
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
	a, b := normalTable[i], normalTable[i+1]
	g := 1 - f
	// Cubic Hermite basis on [0, 1]: values at both ends, then slopes (×h).
	return (1+2*f)*g*g*a[0] + f*f*(3-2*f)*b[0] + (f*g*g*a[1]-f*f*g*b[1])/normalSteps
}

// normal returns Φ(x) and φ(x).
func normal(x float64) (cdf, pdf float64) {
	i, f, ok := lookup(x)
	if !ok {
		return outside(x), 0
	}
	a, b := normalTable[i], normalTable[i+1]
	const h = 1.0 / normalSteps
	xa := -normalRange + float64(i)*h
	g := 1 - f
	h00, h10 := (1+2*f)*g*g, f*g*g
	h01, h11 := f*f*(3-2*f), -f*f*g
	cdf = h00*a[0] + h01*b[0] + h*(h10*a[1]+h11*b[1])
	pdf = h00*a[1] + h01*b[1] - h*(h10*xa*a[1]+h11*(xa+h)*b[1])
	return cdf, pdf
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
	return float32(cdf + float64(x)*pdf)
}
