package synthetic

import (
	"math"
	"math/rand/v2"
)

// rng is the random source of one object. Every draw is derived from the
// 64-bit outputs of a PCG generator with fixed arithmetic, so an object's
// pixels depend only on (seed, index) and not on which goroutine renders it or
// on the standard library's choice of sampling algorithms.
type rng struct {
	src rand.PCG
}

// mix64 is the SplitMix64 finaliser: it scatters nearby seeds (index i and
// i+1) into unrelated generator states.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// reset starts the stream of object index for the given seed.
func (r *rng) reset(seed, index int64) {
	r.src.Seed(mix64(uint64(seed)), mix64(uint64(index)^0x5851f42d4c957f2d))
}

// float returns a uniform number in [0, 1).
func (r *rng) float() float64 {
	return float64(r.src.Uint64()>>11) * 0x1p-53
}

// uniform returns a uniform number in [lo, hi).
func (r *rng) uniform(lo, hi float64) float64 {
	return lo + (hi-lo)*r.float()
}

// logUniform returns a number whose logarithm is uniform in [ln lo, ln hi).
func (r *rng) logUniform(lo, hi float64) float64 {
	return lo * math.Exp(r.float()*math.Log(hi/lo))
}

// chance reports true with probability p.
func (r *rng) chance(p float64) bool {
	return r.float() < p
}

// intn returns a uniform integer in [0, n).
func (r *rng) intn(n int) int {
	return int(r.float() * float64(n))
}

// angle returns a uniform angle in [0, 2π).
func (r *rng) angle() float64 {
	return 2 * math.Pi * r.float()
}

// sign returns -1 or +1 with equal probability.
func (r *rng) sign() float64 {
	if r.src.Uint64()>>63 == 0 {
		return -1
	}
	return 1
}

// normal returns a standard normal deviate (Box–Muller).
func (r *rng) normal() float64 {
	u := 1 - r.float() // (0, 1]
	return math.Sqrt(-2*math.Log(u)) * math.Cos(2*math.Pi*r.float())
}

// poisson returns a Poisson deviate with a small mean (Knuth's product of
// uniforms; fine for means below about 20).
func (r *rng) poisson(mean float64) int {
	limit := math.Exp(-mean)
	k, p := 0, r.float()
	for p > limit {
		k++
		p *= r.float()
	}
	return k
}

// noise fills dst with approximately standard normal deviates, cheaply: each
// is the centred and scaled sum of the four 16-bit quarters of one 64-bit
// draw (Irwin–Hall, truncated at ±3.46σ), which is ample for pixel noise.
func (r *rng) noise(dst []float32) {
	const (
		mean  = 4 * 65535 / 2.0
		scale = 1.7320508 / 65536 // 1/σ of the sum: σ² = 4·65536²/12
	)
	for i := range dst {
		x := r.src.Uint64()
		s := x&0xffff + x>>16&0xffff + x>>32&0xffff + x>>48
		dst[i] = (float32(s) - mean) * scale
	}
}
