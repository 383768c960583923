package policy

import (
	"math"
	"math/rand/v2"
)

// Erasing is timm's RandomErasing in per-pixel mode: with probability Prob,
// Count rectangles are erased. Each rectangle takes up to 10 attempts to
// draw an area fraction uniformly from Area (divided by Count) and an aspect
// ratio (height / width) log-uniformly from Aspect, and is placed uniformly
// if it is non-empty and fits strictly inside the image; a rectangle whose
// attempts all fail is skipped.
//
// Erased pixels of channel c are filled with Mean[c] + Std[c]·N(0,1), so
// after normalisation with the same Mean and Std they are standard normal
// noise, exactly as in timm, which erases after normalising. Such values can
// fall outside [0,1]; they are deliberately not clamped.
type Erasing struct {
	Prob      float64
	Area      [2]float64
	Aspect    [2]float64
	Count     int
	Mean, Std []float64 // per channel; a single value applies to all channels
}

// Apply returns m with rectangles erased according to draws from rng.
func (e Erasing) Apply(m Image, rng *rand.Rand) Image {
	out := m.Clone()
	e.applyInPlace(out, rng)
	return out
}

func (e Erasing) applyInPlace(m Image, rng *rand.Rand) {
	if e.Prob <= 0 || rng.Float64() >= e.Prob {
		return
	}
	area := float64(m.H * m.W)
	logLo, logHi := math.Log(e.Aspect[0]), math.Log(e.Aspect[1])
	count := max(e.Count, 1)
	for range count {
		for range 10 {
			target := uniform(rng, e.Area[0], e.Area[1]) * area / float64(count)
			aspect := math.Exp(uniform(rng, logLo, logHi))
			h := int(math.RoundToEven(math.Sqrt(target * aspect)))
			w := int(math.RoundToEven(math.Sqrt(target / aspect)))
			if h <= 0 || w <= 0 || h >= m.H || w >= m.W {
				continue
			}
			top, left := rng.IntN(m.H-h+1), rng.IntN(m.W-w+1)
			for c := range m.C {
				mean, std := float32(channel(e.Mean, c)), float32(channel(e.Std, c))
				p := m.Plane(c)
				for y := top; y < top+h; y++ {
					row := p[y*m.W+left : y*m.W+left+w]
					for x := range row {
						row[x] = mean + std*float32(rng.NormFloat64())
					}
				}
			}
			break
		}
	}
}

// channel returns v[c], or v[0] when v has a single value.
func channel(v []float64, c int) float64 {
	if len(v) == 1 {
		return v[0]
	}
	return v[c]
}
