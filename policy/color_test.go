package policy

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestAdjustmentsWithFactorOneAreIdentity(t *testing.T) {
	for _, c := range []int{1, 3, 4} {
		m := noise(9, 11, c, uint64(c))
		equalImages(t, "brightness 1", AdjustBrightness(m, 1), m, 0)
		equalImages(t, "contrast 1", AdjustContrast(m, 1), m, 0)
		equalImages(t, "saturation 1", AdjustSaturation(m, 1), m, 0)
		equalImages(t, "sharpness 1", AdjustSharpness(m, 1), m, 0)
	}
	m := noise(9, 11, 3, 7)
	rng := rand.New(rand.NewPCG(1, 1))
	equalImages(t, "jitter of strength 0", Jitter{}.Apply(m, rng), m, 0)
}

func TestAdjustBrightness(t *testing.T) {
	m := Image{H: 1, W: 3, C: 1, Pix: []float32{0.2, 0.5, 0.8}}
	got := AdjustBrightness(m, 1.5)
	want := Image{H: 1, W: 3, C: 1, Pix: []float32{0.3, 0.75, 1}} // clamped
	equalImages(t, "brightness 1.5", got, want, 1e-6)
}

func TestAdjustContrast(t *testing.T) {
	m := Image{H: 1, W: 4, C: 1, Pix: []float32{0, 0.2, 0.4, 0.6}} // mean 0.3
	equalImages(t, "contrast 0", AdjustContrast(m, 0), Image{H: 1, W: 4, C: 1, Pix: []float32{0.3, 0.3, 0.3, 0.3}}, 1e-6)
	equalImages(t, "contrast 0.5", AdjustContrast(m, 0.5), Image{H: 1, W: 4, C: 1, Pix: []float32{0.15, 0.25, 0.35, 0.45}}, 1e-6)
}

func TestAdjustSaturation(t *testing.T) {
	m := noise(4, 5, 3, 8)
	g := AdjustSaturation(m, 0)
	for i := range 20 {
		r, gr, b := m.Plane(0)[i], m.Plane(1)[i], m.Plane(2)[i]
		want := 0.299*r + 0.587*gr + 0.114*b
		for c := range 3 {
			if got := g.Plane(c)[i]; math.Abs(float64(got-want)) > 1e-6 {
				t.Fatalf("saturation 0, pixel %d channel %d = %g, want grey %g", i, c, got, want)
			}
		}
	}
	one := noise(4, 5, 1, 9)
	equalImages(t, "saturation of a 1-channel image", AdjustSaturation(one, 0), one, 0)
}

func TestAdjustSharpness(t *testing.T) {
	flat := NewImage(6, 6, 2)
	for i := range flat.Pix {
		flat.Pix[i] = 0.4
	}
	equalImages(t, "sharpening a constant image", AdjustSharpness(flat, 2), flat, 1e-6)
	// A single bright pixel is blurred to 5/13 of itself at factor 0.
	m := NewImage(5, 5, 1)
	m.Pix[2*5+2] = 1
	b := AdjustSharpness(m, 0)
	if got := b.Pix[2*5+2]; math.Abs(float64(got)-5.0/13) > 1e-6 {
		t.Errorf("blurred peak = %g, want 5/13", got)
	}
	if got := b.Pix[1*5+1]; math.Abs(float64(got)-1.0/13) > 1e-6 {
		t.Errorf("blurred neighbour = %g, want 1/13", got)
	}
	if b.Pix[0] != 0 {
		t.Errorf("border pixel changed to %g", b.Pix[0])
	}
}

func TestJitterFactorsStayInRange(t *testing.T) {
	m := Image{H: 1, W: 1, C: 3, Pix: []float32{0.5, 0.5, 0.5}} // grey: only brightness acts
	j := Jitter{Brightness: 0.4, Contrast: 0.4, Saturation: 0.4}
	rng := rand.New(rand.NewPCG(5, 6))
	lo, hi := math.Inf(1), math.Inf(-1)
	for range 2000 {
		f := float64(j.Apply(m, rng).Pix[0]) / 0.5
		lo, hi = math.Min(lo, f), math.Max(hi, f)
	}
	if lo < 0.6-1e-6 || hi > 1.4+1e-6 || lo > 0.65 || hi < 1.35 {
		t.Errorf("brightness factors span [%.3f, %.3f], want about [0.6, 1.4]", lo, hi)
	}
}

func TestAddNoise(t *testing.T) {
	m := NewImage(64, 64, 1)
	for i := range m.Pix {
		m.Pix[i] = 0.5
	}
	n := AddNoise(m, 0.05, rand.New(rand.NewPCG(1, 2)))
	var s, s2 float64
	for _, v := range n.Pix {
		d := float64(v) - 0.5
		s += d
		s2 += d * d
	}
	k := float64(len(n.Pix))
	if mean, sd := s/k, math.Sqrt(s2/k); math.Abs(mean) > 0.005 || math.Abs(sd-0.05) > 0.005 {
		t.Errorf("noise mean %g and σ %g, want 0 and 0.05", mean, sd)
	}
}
