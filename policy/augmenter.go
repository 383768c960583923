package policy

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Augmenter applies a validated Config to single images. It is immutable
// and safe for concurrent use.
//
// Training (Apply) runs, in this order and each only when enabled:
// random-resized crop to Height×Width (or a plain resize), translation,
// horizontal flip,
// vertical flip, quarter turns, arbitrary rotation, then RandAugment or
// else colour jitter, then random erasing. Each step draws from the rng
// only when it is enabled.
type Augmenter struct {
	cfg     Config
	fill    Fill
	scale   [2]float64
	ratio   [2]float64
	jitter  Jitter
	ra      RandAugment
	erasing Erasing
}

// New returns an Augmenter for cfg, or cfg.Validate's error.
func New(cfg Config) (*Augmenter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.clone()
	fill, _ := ParseFill(cfg.Fill)
	return &Augmenter{
		cfg:    cfg,
		fill:   fill,
		scale:  [2]float64{cfg.CropScale[0], cfg.CropScale[1]},
		ratio:  [2]float64{cfg.CropRatio[0], cfg.CropRatio[1]},
		jitter: Jitter{Brightness: cfg.Brightness, Contrast: cfg.Contrast, Saturation: cfg.Saturation},
		ra:     RandAugment{N: cfg.RandAugmentN, M: cfg.RandAugmentM, MStd: cfg.RandAugmentMStd, Fill: fill},
		erasing: Erasing{
			Prob:   cfg.EraseProb,
			Area:   [2]float64{cfg.EraseArea[0], cfg.EraseArea[1]},
			Aspect: [2]float64{cfg.EraseAspect[0], cfg.EraseAspect[1]},
			Count:  cfg.EraseCount,
			Mean:   cfg.Mean,
			Std:    cfg.Std,
		},
	}, nil
}

func (c Config) clone() Config {
	c.CropScale, c.CropRatio = slices.Clone(c.CropScale), slices.Clone(c.CropRatio)
	c.EraseArea, c.EraseAspect = slices.Clone(c.EraseArea), slices.Clone(c.EraseAspect)
	c.Mean, c.Std = slices.Clone(c.Mean), slices.Clone(c.Std)
	return c
}

// Config returns a copy of the configuration.
func (a *Augmenter) Config() Config { return a.cfg.clone() }

// Normalizer returns the configuration's normalisation.
func (a *Augmenter) Normalizer() Normalizer {
	return Normalizer{Mean: slices.Clone(a.cfg.Mean), Std: slices.Clone(a.cfg.Std)}
}

// Mixer returns the configuration's batch mixing and label smoothing.
func (a *Augmenter) Mixer() Mixer {
	return Mixer{
		MixupAlpha:  a.cfg.MixupAlpha,
		CutMixAlpha: a.cfg.CutMixAlpha,
		Prob:        a.cfg.MixProb,
		SwitchProb:  a.cfg.SwitchProb,
		Partner:     a.cfg.MixPartner,
		Smoothing:   a.cfg.LabelSmoothing,
	}
}

// Apply returns a training view of m, Height×Width, drawn from rng (use
// SampleRand for reproducibility). m is not modified. m must have as many
// channels as Mean and Std have values (or they must have one value).
func (a *Augmenter) Apply(m Image, rng *rand.Rand) Image {
	if n := len(a.cfg.Mean); n != 1 && n != m.C {
		panic(fmt.Sprintf("policy: Apply to a %d-channel image with %d-channel mean/std", m.C, n))
	}
	c := &a.cfg
	var out Image
	if c.RandomCrop {
		out = RandomResizedCrop(m, c.Height, c.Width, a.scale, a.ratio, rng)
	} else {
		out = Resize(m, c.Height, c.Width)
	}
	// out is ours from here on: steps may work in place.
	if n := c.Translate; n > 0 {
		out = Shift(out, n, rng.IntN(2*n+1)-n, rng.IntN(2*n+1)-n)
	}
	if c.HFlip > 0 && rng.Float64() < c.HFlip {
		flipHInPlace(out)
	}
	if c.VFlip > 0 && rng.Float64() < c.VFlip {
		flipVInPlace(out)
	}
	if c.Rot90 {
		if k := rng.IntN(4); k != 0 {
			out = Rot90(out, k)
		}
	}
	if c.RotateDegrees > 0 {
		out = Rotate(out, uniform(rng, -c.RotateDegrees, c.RotateDegrees), a.fill)
	}
	switch {
	case c.RandAugmentN > 0:
		out = a.ra.apply(out, rng)
	case c.Brightness > 0 || c.Contrast > 0 || c.Saturation > 0:
		a.jitter.applyInPlace(out, rng)
	}
	a.erasing.applyInPlace(out, rng)
	return out
}

// EvalKeeps reports whether Eval returns an h×w image as it is (a copy):
// it has the model's size and the crop keeps all of it.
func (a *Augmenter) EvalKeeps(h, w int) bool {
	rh, rw := a.evalSize(h, w)
	return h == a.cfg.Height && w == a.cfg.Width && rh == h && rw == w
}

// evalSize returns the size Eval resizes an h×w image to before cropping.
func (a *Augmenter) evalSize(mh, mw int) (rh, rw int) {
	h, w := a.cfg.Height, a.cfg.Width
	s := math.Max(float64(h)/(a.cfg.CropPct*float64(mh)), float64(w)/(a.cfg.CropPct*float64(mw)))
	return max(h, int(math.Floor(float64(mh)*s+1e-9))), max(w, int(math.Floor(float64(mw)*s+1e-9)))
}

// Eval returns the evaluation view of m, as timm's eval transform: m is
// resized (keeping its aspect ratio) so that Height×Width is CropPct of it
// along its tighter axis, then centre-cropped to Height×Width. m is not
// modified.
func (a *Augmenter) Eval(m Image) Image {
	h, w := a.cfg.Height, a.cfg.Width
	rh, rw := a.evalSize(m.H, m.W)
	if rh == m.H && rw == m.W {
		return CenterCrop(m, h, w) // Resize would return a copy: CenterCrop makes one anyway
	}
	return CenterCrop(Resize(m, rh, rw), h, w)
}

// TTAViews returns the first n (1..8) dihedral views of Eval(m), in
// Dihedral's order: identity, horizontal flip, vertical flip, half turn,
// then the four that swap axes. Views 4..7 need a square image; TTAViews
// panics for n outside 1..8, or n > 4 with Height != Width.
func (a *Augmenter) TTAViews(m Image, n int) []Image {
	if n < 1 || n > 8 {
		panic(fmt.Sprintf("policy: %d test-time views, want 1..8", n))
	}
	if n > 4 && a.cfg.Height != a.cfg.Width {
		panic(fmt.Sprintf("policy: %d test-time views of %dx%d images: views beyond 4 need square images", n, a.cfg.Height, a.cfg.Width))
	}
	base := a.Eval(m)
	views := make([]Image, n)
	views[0] = base
	for i := 1; i < n; i++ {
		views[i] = Dihedral(base, i)
	}
	return views
}
