package policy

import (
	"math/rand/v2"
)

// The photometric adjustments follow torchvision's tensor semantics: each
// blends the image with a degenerate image (black, the mean grey level, the
// grey image, a blurred image) as f·m + (1-f)·degenerate and clamps to
// [0,1]. A factor of 1 returns the image unchanged, bit for bit.
//
// The grey level of a 3-channel image uses the ITU-R 601 weights
// (0.299, 0.587, 0.114) that torchvision uses for RGB; Galaxy10 and the
// Legacy Surveys cutouts map g, r, z to those channels. A 1-channel image is
// its own grey image, and any other channel count uses the channel mean.

// AdjustBrightness returns m scaled by f (blend with black).
func AdjustBrightness(m Image, f float64) Image { return adjusted(m, f, brightnessInPlace) }

// AdjustContrast returns m blended by f with its mean grey level.
func AdjustContrast(m Image, f float64) Image { return adjusted(m, f, contrastInPlace) }

// AdjustSaturation returns m blended by f with its grey image; it does
// nothing to a 1-channel image.
func AdjustSaturation(m Image, f float64) Image { return adjusted(m, f, saturationInPlace) }

// AdjustSharpness returns m blended by f with a blurred copy (PIL's
// 3×3 smoothing kernel [1 1 1; 1 5 1; 1 1 1]/13, border pixels kept): f < 1
// blurs, as worse seeing would, and f > 1 sharpens.
func AdjustSharpness(m Image, f float64) Image { return adjusted(m, f, sharpnessInPlace) }

// adjusted returns a copy of m adjusted by f with inPlace.
func adjusted(m Image, f float64, inPlace func(Image, float64)) Image {
	out := m.Clone()
	inPlace(out, f)
	return out
}

// AddNoise returns m plus independent Gaussian noise of standard deviation
// sigma in every pixel and channel, clamped to [0,1]: a crude model of sky
// noise.
func AddNoise(m Image, sigma float64, rng *rand.Rand) Image {
	out := m.Clone()
	noiseInPlace(out, sigma, rng)
	return out
}

// blendConst sets dst to f·dst + (1-f)·d, clamped.
func blendConst(dst []float32, f, d float32) {
	g := (1 - f) * d
	for i, v := range dst {
		dst[i] = clamp01(f*v + g)
	}
}

// blendWith sets dst to f·dst + (1-f)·degenerate, clamped.
func blendWith(dst []float32, f float32, degenerate []float32) {
	g := 1 - f
	degenerate = degenerate[:len(dst)]
	for i, v := range dst {
		dst[i] = clamp01(f*v + g*degenerate[i])
	}
}

func clamp01(v float32) float32 {
	switch {
	case v < 0:
		return 0
	case v > 1:
		return 1
	}
	return v
}

func brightnessInPlace(m Image, f float64) {
	blendConst(m.Pix, float32(f), 0)
}

func contrastInPlace(m Image, f float64) {
	var sum float64
	for _, v := range grey(m) {
		sum += float64(v)
	}
	mean := float32(sum / float64(m.H*m.W))
	blendConst(m.Pix, float32(f), mean)
}

func saturationInPlace(m Image, f float64) {
	if m.C == 1 {
		return
	}
	g := grey(m)
	for c := range m.C {
		blendWith(m.Plane(c), float32(f), g)
	}
}

func sharpnessInPlace(m Image, f float64) {
	if m.H < 3 || m.W < 3 {
		return // all border: the degenerate image is m itself
	}
	blurred := make([]float32, m.H*m.W)
	for c := range m.C {
		p := m.Plane(c)
		copy(blurred, p)
		for y := 1; y < m.H-1; y++ {
			for x := 1; x < m.W-1; x++ {
				i := y*m.W + x
				sum := 4*p[i] +
					p[i-m.W-1] + p[i-m.W] + p[i-m.W+1] +
					p[i-1] + p[i] + p[i+1] +
					p[i+m.W-1] + p[i+m.W] + p[i+m.W+1]
				blurred[i] = sum / 13
			}
		}
		blendWith(p, float32(f), blurred)
	}
}

func noiseInPlace(m Image, sigma float64, rng *rand.Rand) {
	for i, v := range m.Pix {
		m.Pix[i] = clamp01(v + float32(sigma*rng.NormFloat64()))
	}
}

// grey returns the grey image of m (H*W values).
func grey(m Image) []float32 {
	n := m.H * m.W
	g := make([]float32, n)
	switch m.C {
	case 1:
		copy(g, m.Pix)
	case 3:
		r, gr, b := m.Plane(0), m.Plane(1), m.Plane(2)
		for i := range g {
			g[i] = 0.299*r[i] + 0.587*gr[i] + 0.114*b[i]
		}
	default:
		for c := range m.C {
			for i, v := range m.Plane(c) {
				g[i] += v
			}
		}
		inv := 1 / float32(m.C)
		for i := range g {
			g[i] *= inv
		}
	}
	return g
}

// Jitter is torchvision's ColorJitter without hue: each strength s > 0
// enables one adjustment with a factor drawn uniformly from
// [max(0, 1-s), 1+s], and the enabled adjustments run in a random order.
// A zero strength disables its adjustment and draws nothing.
type Jitter struct {
	Brightness, Contrast, Saturation float64
}

// Apply returns m jittered with factors drawn from rng.
func (j Jitter) Apply(m Image, rng *rand.Rand) Image {
	out := m.Clone()
	j.applyInPlace(out, rng)
	return out
}

func (j Jitter) applyInPlace(m Image, rng *rand.Rand) {
	strengths := [3]float64{j.Brightness, j.Contrast, j.Saturation}
	// torchvision draws the order first, then the factors.
	order := rng.Perm(3)
	var factors [3]float64
	for i, s := range strengths {
		if s > 0 {
			factors[i] = uniform(rng, max(0, 1-s), 1+s)
		}
	}
	for _, i := range order {
		if strengths[i] <= 0 {
			continue
		}
		switch i {
		case 0:
			brightnessInPlace(m, factors[0])
		case 1:
			contrastInPlace(m, factors[1])
		case 2:
			saturationInPlace(m, factors[2])
		}
	}
}
