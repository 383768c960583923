package policy

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Batch is an NCHW float32 batch (sample i occupies X[i*C*H*W:(i+1)*C*H*W])
// with one class index per sample.
type Batch struct {
	X       []float32
	Labels  []int
	C, H, W int
}

// Sample returns sample i's slice of b.X, for Normalizer.Into.
func (b Batch) Sample(i int) []float32 {
	n := b.C * b.H * b.W
	return b.X[i*n : (i+1)*n : (i+1)*n]
}

func (b Batch) check(classes int, targets []float32) error {
	if b.C <= 0 || b.H <= 0 || b.W <= 0 {
		return fmt.Errorf("policy: batch of %dx%dx%d samples (channels x height x width): every dimension must be positive", b.C, b.H, b.W)
	}
	if len(b.X) != len(b.Labels)*b.C*b.H*b.W {
		return fmt.Errorf("policy: batch holds %d values, expected %d (%d samples of %dx%dx%d)", len(b.X), len(b.Labels)*b.C*b.H*b.W, len(b.Labels), b.C, b.H, b.W)
	}
	return checkTargets(b.Labels, classes, targets)
}

func checkTargets(labels []int, classes int, targets []float32) error {
	if classes <= 0 {
		return fmt.Errorf("policy: %d classes, want at least 1", classes)
	}
	if len(targets) != len(labels)*classes {
		return fmt.Errorf("policy: targets buffer holds %d values, expected %d (%d samples x %d classes)", len(targets), len(labels)*classes, len(labels), classes)
	}
	for i, l := range labels {
		if l < 0 || l >= classes {
			return fmt.Errorf("policy: sample %d has label %d, want 0..%d", i, l, classes-1)
		}
	}
	return nil
}

// SmoothTargets writes label-smoothed one-hot rows for labels into targets
// (len(labels)×classes, row-major), as timm's mixup_target with lambda 1:
// every class gets smoothing/classes and the true class gets
// 1 - smoothing + smoothing/classes, so each row sums to 1.
func SmoothTargets(labels []int, classes int, smoothing float64, targets []float32) error {
	if err := checkTargets(labels, classes, targets); err != nil {
		return err
	}
	mixTargets(labels, nil, classes, smoothing, 1, targets)
	return nil
}

// mixTargets writes lam·y(labels[i]) + (1-lam)·y(labels[partner[i]]) for
// each row i, y being the smoothed one-hot encoding; a nil partner is the
// reversed batch.
func mixTargets(labels, partner []int, classes int, smoothing, lam float64, targets []float32) {
	off := smoothing / float64(classes)
	on := 1 - smoothing + off
	n := len(labels)
	for i, l := range labels {
		row := targets[i*classes : (i+1)*classes]
		for k := range row {
			row[k] = float32(off)
		}
		j := n - 1 - i
		if partner != nil {
			j = partner[i]
		}
		row[l] += float32(lam * (on - off))
		row[labels[j]] += float32((1 - lam) * (on - off))
	}
}

// Mix partners (Config.MixPartner).
const (
	PartnerReverse = "reverse" // sample n-1-i, timm's batch mode
	PartnerPermute = "permute" // a random permutation of the batch
)

// Mixer mixes whole batches like timm's Mixup in "batch" mode, with one
// lambda per batch. Each sample is mixed with the sample a random
// permutation of the batch gives it (Partner PartnerPermute), or with
// sample n-1-i (PartnerReverse, timm's: the batch reversed, so samples mix
// in pairs and the middle sample of an odd batch is mixed with itself, i.e.
// unchanged).
//
// With probability Prob the batch is mixed. If both MixupAlpha and
// CutMixAlpha are positive, CutMix is chosen with probability SwitchProb and
// Mixup otherwise; if only one is positive, it is used; if neither, nothing
// is mixed. Mixup blends whole images with lambda ~ Beta(MixupAlpha,
// MixupAlpha). CutMix pastes into each image a box from its partner, sized
// from lambda ~ Beta(CutMixAlpha, CutMixAlpha) as timm's rand_bbox does,
// and then corrects lambda to 1 - box area / image area.
//
// Targets are lambda·y_i + (1-lambda)·y_partner with the label-smoothed
// one-hot y of SmoothTargets, so label smoothing is folded in whether or
// not the batch is mixed.
type Mixer struct {
	MixupAlpha  float64
	CutMixAlpha float64
	Prob        float64
	SwitchProb  float64
	Smoothing   float64
	Partner     string // PartnerReverse (also when empty) or PartnerPermute
}

// Mix describes what Mixer.Mix did to a batch.
type Mix struct {
	Lambda float64 // weight of each sample's own image and label (1: not mixed)
	CutMix bool    // whether a box was pasted rather than images blended
	Box    Box     // the pasted box, when CutMix
	// Partner is the sample each sample was mixed with, nil for the
	// reversed batch (sample i with n-1-i).
	Partner []int
}

// PartnerOf returns the sample that sample i of an n-sample batch was mixed
// with.
func (m Mix) PartnerOf(i, n int) int {
	if m.Partner != nil {
		return m.Partner[i]
	}
	return n - 1 - i
}

// Mix mixes b.X in place and writes the soft targets (len(b.Labels) rows of
// classes values) into targets. Call it after normalising the samples into
// b.X; mixing commutes with normalisation.
func (m Mixer) Mix(b Batch, classes int, targets []float32, rng *rand.Rand) (Mix, error) {
	if err := b.check(classes, targets); err != nil {
		return Mix{}, err
	}
	mix := m.draw(b.H, b.W, rng)
	n := len(b.Labels)
	switch {
	case m.Partner == PartnerPermute:
		mix.Partner = rng.Perm(n)
		if mix.Lambda != 1 {
			mixPermuted(b, mix)
		}
	default:
		for i := 0; i < n-1-i; i++ {
			x, y := b.Sample(i), b.Sample(n-1-i)
			if mix.CutMix {
				swapBox(x, y, b.C, b.H, b.W, mix.Box)
			} else if mix.Lambda != 1 {
				blendPair(x, y, mix.Lambda)
			}
		}
	}
	mixTargets(b.Labels, mix.Partner, classes, m.Smoothing, mix.Lambda, targets)
	return mix, nil
}

// mixPermuted mixes every sample i of b with the original of sample
// mix.Partner[i]: blended with weight mix.Lambda, or with the box pasted.
func mixPermuted(b Batch, mix Mix) {
	size := b.C * b.H * b.W
	orig := append([]float32(nil), b.X[:len(b.Labels)*size]...)
	for i, j := range mix.Partner {
		x, y := b.Sample(i), orig[j*size:(j+1)*size]
		if mix.CutMix {
			for ch := range b.C {
				for r := mix.Box.Top; r < mix.Box.Top+mix.Box.H; r++ {
					off := (ch*b.H+r)*b.W + mix.Box.Left
					copy(x[off:off+mix.Box.W], y[off:off+mix.Box.W])
				}
			}
			continue
		}
		a, c := float32(mix.Lambda), float32(1-mix.Lambda)
		for k, v := range x {
			x[k] = a*v + c*y[k]
		}
	}
}

func (m Mixer) draw(h, w int, rng *rand.Rand) Mix {
	mixup, cutmix := m.MixupAlpha > 0, m.CutMixAlpha > 0
	if !mixup && !cutmix || rng.Float64() >= m.Prob {
		return Mix{Lambda: 1}
	}
	useCutMix := cutmix && (!mixup || rng.Float64() < m.SwitchProb)
	if !useCutMix {
		return Mix{Lambda: betaSample(rng, m.MixupAlpha, m.MixupAlpha)}
	}
	lam := betaSample(rng, m.CutMixAlpha, m.CutMixAlpha)
	box := CutMixBox(h, w, lam, rng)
	return Mix{Lambda: 1 - float64(box.Area())/float64(h*w), CutMix: true, Box: box}
}

// CutMixBox draws the pasted box of CutMix for an h×w image and lambda lam,
// as timm's rand_bbox: sides ⌊h·√(1-lam)⌋ and ⌊w·√(1-lam)⌋, centred at a
// uniform pixel, clipped to the image (so its area can be smaller than
// (1-lam)·h·w, hence the lambda correction).
func CutMixBox(h, w int, lam float64, rng *rand.Rand) Box {
	r := math.Sqrt(1 - lam)
	ch, cw := int(float64(h)*r), int(float64(w)*r)
	cy, cx := rng.IntN(h), rng.IntN(w)
	y0, y1 := clampInt(cy-ch/2, 0, h), clampInt(cy+ch/2, 0, h)
	x0, x1 := clampInt(cx-cw/2, 0, w), clampInt(cx+cw/2, 0, w)
	return Box{Top: y0, Left: x0, H: y1 - y0, W: x1 - x0}
}

func clampInt(v, lo, hi int) int { return min(max(v, lo), hi) }

func blendPair(x, y []float32, lam float64) {
	a, b := float32(lam), float32(1-lam)
	for k, xv := range x {
		yv := y[k]
		x[k] = a*xv + b*yv
		y[k] = a*yv + b*xv
	}
}

func swapBox(x, y []float32, c, h, w int, box Box) {
	for ch := range c {
		for r := box.Top; r < box.Top+box.H; r++ {
			off := (ch*h+r)*w + box.Left
			xs, ys := x[off:off+box.W], y[off:off+box.W]
			for k := range xs {
				xs[k], ys[k] = ys[k], xs[k]
			}
		}
	}
}

// betaSample draws from Beta(a, b) as the ratio of Gamma variates.
func betaSample(rng *rand.Rand, a, b float64) float64 {
	for {
		x, y := gammaSample(rng, a), gammaSample(rng, b)
		if x+y > 0 {
			return x / (x + y)
		}
	}
}

// gammaSample draws from Gamma(a, 1) with Marsaglia and Tsang's method,
// boosted for a < 1.
func gammaSample(rng *rand.Rand, a float64) float64 {
	if a < 1 {
		return gammaSample(rng, a+1) * math.Pow(rng.Float64(), 1/a)
	}
	d := a - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}
