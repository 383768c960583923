package synthetic

import "math"

// Single-precision approximations of the transcendental functions evaluated
// per pixel. Their relative errors (below 4e-6 for exp, 1e-6 for log and cos,
// 1e-5 rad for atan2) are far below the 8-bit quantisation of the output.

const (
	ln2    = 0.69314718
	ln2Hi  = 0.693145752 // ln2 = ln2Hi + ln2Lo, ln2Hi with a short mantissa
	ln2Lo  = 1.42860677e-6
	log2e  = 1.44269504
	twoPi  = 2 * math.Pi
	halfPi = math.Pi / 2
)

// expf returns e**x for x <= 88; it flushes to 0 (or a denormal) below -87.
func expf(x float32) float32 {
	x = max(x, -87)
	// Adding 1.5·2²³ rounds x·log2(e) to the integer k held in the low
	// mantissa bits of t; x - k·ln2 (Cody–Waite) is within ±ln2/2.
	t := x*log2e + 0x1.8p23
	k := t - 0x1.8p23
	f := x - k*ln2Hi - k*ln2Lo
	p := 1 + f*(1+f*(1.0/2+f*(1.0/6+f*(1.0/24+f*(1.0/120)))))                  // Taylor, error < 2.5e-6
	return math.Float32frombits(math.Float32bits(p) + math.Float32bits(t)<<23) // p·2^k
}

// logf returns the natural logarithm of a normal float32 x > 0.
func logf(x float32) float32 {
	// x = 2^e·m with m in [√½, √2), found by offsetting the bits of x by
	// those of √½ (0x3f3504f3).
	off := math.Float32bits(x) - 0x3f3504f3
	e := float32(int32(off) >> 23)
	m := math.Float32frombits(off&0x007fffff + 0x3f3504f3)
	s := (m - 1) / (m + 1) // |s| <= 0.172
	s2 := s * s
	return 2*s*(1+s2*(1.0/3+s2*(1.0/5+s2*(1.0/7+s2*(1.0/9))))) + e*ln2
}

// powf returns x**y for x >= 0.
func powf(x, y float32) float32 {
	if x <= 0 {
		return 0
	}
	return expf(y * logf(x))
}

// atan2f returns the angle of (x, y) in (-π, π].
func atan2f(y, x float32) float32 {
	ax, ay := abs32(x), abs32(y)
	hi, lo := ax, ay
	if ay > ax {
		hi, lo = ay, ax
	}
	if hi == 0 {
		return 0
	}
	a := lo / hi
	s := a * a
	r := a * (0.9998660 + s*(-0.3302995+s*(0.1801410+s*(-0.0851330+s*0.0208351)))) // A&S 4.4.47
	if ay > ax {
		r = halfPi - r
	}
	if x < 0 {
		r = math.Pi - r
	}
	if y < 0 {
		r = -r
	}
	return r
}

// cosf returns cos(x) for |x| up to about 1e5.
func cosf(x float32) float32 {
	k := x*(1/twoPi) + 0x1.8p23 - 0x1.8p23 // nearest integer to x/2π
	y := x - k*twoPi                       // [-π, π]
	s := y * y
	return 1 + s*(-1.0/2+s*(1.0/24+s*(-1.0/720+s*(1.0/40320+s*(-1.0/3628800+s*(1.0/479001600+s*(-1.0/87178291200+s*(1.0/20922789888000))))))))
}

func abs32(x float32) float32 {
	return math.Float32frombits(math.Float32bits(x) &^ (1 << 31))
}
