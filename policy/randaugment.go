package policy

import (
	"math"
	"math/rand/v2"
)

// RandAugment is the RandAugment policy (Cubuk et al. 2019) as timm runs it,
// with an operation list chosen for astronomical images: N operations are
// drawn uniformly with replacement, and each is applied with probability 0.5
// at magnitude M (0..10), re-drawn per operation from N(M, MStd²) clipped
// to [0, 10] when MStd > 0. Signed operations take a random sign.
//
// The operations, at level = magnitude/10:
//
//	rotate       rotation by ±30·level degrees, bilinear, with the configured fill
//	flip_h       horizontal mirror (no magnitude)
//	flip_v       vertical mirror (no magnitude)
//	brightness   AdjustBrightness by 1 ± 0.9·level
//	contrast     AdjustContrast by 1 ± 0.9·level
//	sharpness    AdjustSharpness by 1 ± 0.9·level (blur or sharpen: seeing/PSF variation)
//	translate_x  shift by ±0.1·level of the width (centring errors), with the configured fill
//	translate_y  shift by ±0.1·level of the height
//	noise        Gaussian noise of σ = 0.05·level (sky noise)
//
// Left out on purpose: equalize, autocontrast, posterize, solarize, invert
// (non-physical remappings of flux), colour/hue (colour is physics) and
// shear (changes apparent ellipticity, hence the class).
type RandAugment struct {
	N    int
	M    float64
	MStd float64
	Fill Fill
}

// RandAugmentOps returns the names of RandAugment's operations, in the order
// in which they are numbered when drawn.
func RandAugmentOps() []string {
	return []string{"rotate", "flip_h", "flip_v", "brightness", "contrast", "sharpness", "translate_x", "translate_y", "noise"}
}

const (
	raOpCount   = 9
	raOpProb    = 0.5
	raMaxLevel  = 10
	raRotateMax = 30   // degrees at level 1
	raEnhance   = 0.9  // factor span at level 1
	raShiftMax  = 0.1  // fraction of the side at level 1
	raNoiseMax  = 0.05 // σ at level 1
)

// Apply returns m transformed by N operations drawn from rng.
func (ra RandAugment) Apply(m Image, rng *rand.Rand) Image {
	out := m.Clone()
	return ra.apply(out, rng)
}

// apply may modify m in place and returns the result.
func (ra RandAugment) apply(m Image, rng *rand.Rand) Image {
	for range ra.N {
		op := rng.IntN(raOpCount)
		if rng.Float64() >= raOpProb {
			continue
		}
		mag := ra.M
		if ra.MStd > 0 {
			mag = mag + ra.MStd*rng.NormFloat64()
		}
		level := math.Min(math.Max(mag, 0), raMaxLevel) / raMaxLevel
		sign := 1.0
		if rng.IntN(2) == 0 {
			sign = -1
		}
		m = raOp(m, op, sign*level, rng, ra.Fill)
	}
	return m
}

// raOp applies operation op at the signed level v in [-1, 1].
func raOp(m Image, op int, v float64, rng *rand.Rand, fill Fill) Image {
	switch op {
	case 0:
		return Rotate(m, raRotateMax*v, fill)
	case 1:
		flipHInPlace(m)
	case 2:
		flipVInPlace(m)
	case 3:
		brightnessInPlace(m, 1+raEnhance*v)
	case 4:
		contrastInPlace(m, 1+raEnhance*v)
	case 5:
		sharpnessInPlace(m, 1+raEnhance*v)
	case 6:
		return Translate(m, raShiftMax*v*float64(m.W), 0, fill)
	case 7:
		return Translate(m, 0, raShiftMax*v*float64(m.H), fill)
	case 8:
		noiseInPlace(m, raNoiseMax*math.Abs(v), rng)
	}
	return m
}
