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
	e := expNeg(-0.5 * x * x)
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

// expNeg returns eˣ for x ≤ 0 with a relative error below 1e-8: x = k·ln2 + r
// with |r| ≤ ln2/2, eʳ from its Taylor polynomial of degree 8, and 2ᵏ put
// into the exponent bits. It is several times faster than math.Exp, which
// the GELU kernels would otherwise spend most of their time in.
func expNeg(x float64) float64 {
	if x < -700 {
		return 0
	}
	const (
		log2e = 1.44269504088896340736
		ln2Hi = 6.93147180369123816490e-01 // ln2 split in two for an exact k·ln2
		ln2Lo = 1.90821492927058770002e-10
	)
	k := math.Floor(x*log2e + 0.5)
	r := (x - k*ln2Hi) - k*ln2Lo
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040+r*(1.0/40320))))))))
	return p * math.Float64frombits(uint64(int64(k)+1023)<<52)
}
