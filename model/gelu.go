package model

import "math"

// The exact GELU, x·Φ(x) with Φ the standard normal distribution function,
// as PyTorch's F.gelu (approximate="none"), and its derivative Φ(x) + x·φ(x).
//
// Φ is computed from erf by Abramowitz & Stegun's formula 7.1.26,
// erf(z) = 1 − (a₁t + a₂t² + a₃t³ + a₄t⁴ + a₅t⁵)·exp(−z²) with t = 1/(1+pz),
// whose absolute error is below 1.5e-7, under float32 resolution near one.
// With z = |x|/√2, exp(−z²) is also what φ needs, so value and derivative
// cost one exponential between them, a third of math.Erf and math.Exp.
const (
	erfP  = 0.3275911
	erfA1 = 0.254829592
	erfA2 = -0.284496736
	erfA3 = 1.421413741
	erfA4 = -1.453152027
	erfA5 = 1.061405429

	invSqrt2   = 0.70710678118654752440
	invSqrt2Pi = 0.39894228040143267794
)

// normal returns Φ(x) and φ(x).
func normal(x float64) (cdf, pdf float64) {
	e := math.Exp(-0.5 * x * x)
	t := 1 / (1 + erfP*invSqrt2*math.Abs(x))
	poly := t * (erfA1 + t*(erfA2+t*(erfA3+t*(erfA4+t*erfA5))))
	half := 0.5 * poly * e // (1 − erf(|x|/√2)) / 2
	if x >= 0 {
		return 1 - half, e * invSqrt2Pi
	}
	return half, e * invSqrt2Pi
}

// gelu returns x·Φ(x).
func gelu(x float32) float32 {
	cdf, _ := normal(float64(x))
	return float32(float64(x) * cdf)
}

// geluGrad returns the derivative of gelu at x.
func geluGrad(x float32) float32 {
	cdf, pdf := normal(float64(x))
	return float32(cdf + float64(x)*pdf)
}
