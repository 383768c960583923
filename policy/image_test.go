package policy

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// ramp returns an h×w×c image whose every pixel value is distinct.
func ramp(h, w, c int) Image {
	m := NewImage(h, w, c)
	for i := range m.Pix {
		m.Pix[i] = float32(i+1) / float32(len(m.Pix)+1)
	}
	return m
}

// noise returns an h×w×c image of uniform random values.
func noise(h, w, c int, seed uint64) Image {
	rng := rand.New(rand.NewPCG(seed, 0))
	m := NewImage(h, w, c)
	for i := range m.Pix {
		m.Pix[i] = rng.Float32()
	}
	return m
}

func equalImages(t *testing.T, what string, got, want Image, tol float64) {
	t.Helper()
	if got.H != want.H || got.W != want.W || got.C != want.C {
		t.Fatalf("%s: got a %dx%dx%d image, want %dx%dx%d", what, got.H, got.W, got.C, want.H, want.W, want.C)
	}
	for i := range got.Pix {
		if d := math.Abs(float64(got.Pix[i] - want.Pix[i])); !(d <= tol) {
			c, y, x := i/(got.H*got.W), i/got.W%got.H, i%got.W
			t.Fatalf("%s: pixel (c=%d, y=%d, x=%d) = %g, want %g (tolerance %g)", what, c, y, x, got.Pix[i], want.Pix[i], tol)
		}
	}
}

func TestFromHWCRoundTrip(t *testing.T) {
	pix := make([]byte, 5*7*3)
	for i := range pix {
		pix[i] = byte(i * 37)
	}
	m, err := FromHWC(pix, 5, 7, 3)
	if err != nil {
		t.Fatal(err)
	}
	// Pixel (y=2, x=4) channel 1 is byte (2*7+4)*3+1.
	if got, want := m.Pix[(1*5+2)*7+4], float32(pix[(2*7+4)*3+1])/255; got != want {
		t.Errorf("planar layout: got %g, want %g", got, want)
	}
	if back := m.HWC(); !slices.Equal(back, pix) {
		t.Errorf("HWC(FromHWC(p)) differs from p")
	}
}

func TestFromHWCErrors(t *testing.T) {
	if _, err := FromHWC(make([]byte, 11), 2, 2, 3); err == nil || !strings.Contains(err.Error(), "expected 12") {
		t.Errorf("short buffer: got %v, want an error naming the expected 12 bytes", err)
	}
	if _, err := FromHWC(nil, 0, 2, 3); err == nil {
		t.Errorf("zero height: no error")
	}
}

func TestHWCRoundsAndClamps(t *testing.T) {
	m := Image{H: 1, W: 5, C: 1, Pix: []float32{-0.2, 0.5 / 255, 1.49 / 255, 1.2, float32(math.NaN())}}
	if got, want := m.HWC(), []byte{0, 1, 1, 255, 0}; !slices.Equal(got, want) {
		t.Errorf("HWC = %v, want %v", got, want)
	}
}

func TestCropPadsAndCenters(t *testing.T) {
	m := ramp(4, 4, 1)
	c := Crop(m, -1, 2, 3, 3)
	want := []float32{
		0, 0, 0,
		m.Pix[2], m.Pix[3], 0,
		m.Pix[6], m.Pix[7], 0,
	}
	if !slices.Equal(c.Pix, want) {
		t.Errorf("Crop(-1, 2, 3, 3) = %v, want %v", c.Pix, want)
	}
	cc := CenterCrop(ramp(5, 6, 2), 3, 2)
	equalImages(t, "CenterCrop", cc, Crop(ramp(5, 6, 2), 1, 2, 3, 2), 0)
}

func TestResizeSameSizeIsCopy(t *testing.T) {
	m := noise(9, 13, 3, 1)
	r := Resize(m, 9, 13)
	equalImages(t, "Resize to same size", r, m, 0)
	r.Pix[0] = 7
	if m.Pix[0] == 7 {
		t.Error("Resize to same size shares pixels with its input")
	}
}

func TestResizeAreaHalvingIsBlockMean(t *testing.T) {
	m := noise(8, 6, 2, 2)
	r := Resize(m, 4, 3)
	for c := range 2 {
		for y := range 4 {
			for x := range 3 {
				p := m.Plane(c)
				want := (p[2*y*6+2*x] + p[2*y*6+2*x+1] + p[(2*y+1)*6+2*x] + p[(2*y+1)*6+2*x+1]) / 4
				if got := r.Plane(c)[y*3+x]; math.Abs(float64(got-want)) > 1e-6 {
					t.Fatalf("(c=%d, y=%d, x=%d) = %g, want block mean %g", c, y, x, got, want)
				}
			}
		}
	}
}

func TestResizeAreaPreservesMean(t *testing.T) {
	m := noise(17, 23, 1, 3)
	r := Resize(m, 5, 7) // non-integer factors
	mean := func(p []float32) (s float64) {
		for _, v := range p {
			s += float64(v)
		}
		return s / float64(len(p))
	}
	if a, b := mean(m.Pix), mean(r.Pix); math.Abs(a-b) > 1e-5 {
		t.Errorf("area resize changed the mean from %g to %g", a, b)
	}
}

func TestResizeBilinearUpsample(t *testing.T) {
	m := Image{H: 1, W: 2, C: 1, Pix: []float32{0, 1}}
	r := Resize(m, 1, 4)
	// Output centres 0.5, 1.5, 2.5, 3.5 map to source -0.25 (clamped to 0),
	// 0.25, 0.75, 1.25 (clamped to 1).
	if want := []float32{0, 0.25, 0.75, 1}; !slices.Equal(r.Pix, want) {
		t.Errorf("Resize([0 1], 1x4) = %v, want %v", r.Pix, want)
	}
	flat := Resize(Image{H: 2, W: 2, C: 1, Pix: []float32{0.3, 0.3, 0.3, 0.3}}, 7, 5)
	for i, v := range flat.Pix {
		if math.Abs(float64(v)-0.3) > 1e-6 {
			t.Fatalf("constant image upsampled: pixel %d = %g, want 0.3", i, v)
		}
	}
}
