package policy

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestNormalizerInto(t *testing.T) {
	m := Image{H: 1, W: 2, C: 3, Pix: []float32{0.485, 1, 0.456, 0, 0.406, 0.5}}
	n := Normalizer{Mean: ImageNetMean(), Std: ImageNetStd()}
	batch := Batch{X: make([]float32, 2*6), Labels: []int{0, 0}, C: 3, H: 1, W: 2}
	if err := n.Into(batch.Sample(1), m); err != nil {
		t.Fatal(err)
	}
	want := []float64{0, (1 - 0.485) / 0.229, 0, -0.456 / 0.224, 0, (0.5 - 0.406) / 0.225}
	for i, w := range want {
		if got := batch.X[6+i]; math.Abs(float64(got)-w) > 1e-5 {
			t.Errorf("value %d = %g, want %g", i, got, w)
		}
	}
	for i := range 6 {
		if batch.X[i] != 0 {
			t.Fatalf("sample 0 was written to")
		}
	}
	one := Normalizer{Mean: []float64{0.5}, Std: []float64{0.5}}
	dst := make([]float32, 6)
	if err := one.Into(dst, m); err != nil || math.Abs(float64(dst[1])-1) > 1e-6 {
		t.Errorf("broadcast statistics: %v, value %g, want 1", err, dst[1])
	}
}

func TestNormalizerErrors(t *testing.T) {
	n := Normalizer{Mean: ImageNetMean(), Std: ImageNetStd()}
	if err := n.Into(make([]float32, 4), NewImage(2, 2, 1)); err == nil || !strings.Contains(err.Error(), "1-channel image with 3-channel") {
		t.Errorf("channel mismatch: %v", err)
	}
	if err := n.Into(make([]float32, 5), NewImage(1, 2, 3)); err == nil {
		t.Error("short buffer: no error")
	}
	if err := (Normalizer{Mean: []float64{0}, Std: []float64{0}}).Validate(); err == nil {
		t.Error("zero std: no error")
	}
	if err := (Normalizer{Mean: []float64{0, 0}, Std: []float64{1}}).Validate(); err == nil {
		t.Error("length mismatch: no error")
	}
}

func TestChannelStats(t *testing.T) {
	images := []Image{noise(5, 7, 2, 1), noise(3, 3, 2, 2), noise(10, 1, 2, 3)}
	var s ChannelStats
	for _, m := range images {
		if err := s.Add(m); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Normalizer()
	if err != nil {
		t.Fatal(err)
	}
	for c := range 2 {
		var all []float64
		for _, m := range images {
			for _, v := range m.Plane(c) {
				all = append(all, float64(v))
			}
		}
		var mean, ss float64
		for _, v := range all {
			mean += v
		}
		mean /= float64(len(all))
		for _, v := range all {
			ss += (v - mean) * (v - mean)
		}
		std := math.Sqrt(ss / float64(len(all)))
		if math.Abs(got.Mean[c]-mean) > 1e-12 || math.Abs(got.Std[c]-std) > 1e-12 {
			t.Errorf("channel %d: mean %g std %g, want %g %g", c, got.Mean[c], got.Std[c], mean, std)
		}
	}
	if s.Pixels() != 35+9+10 {
		t.Errorf("Pixels() = %d, want 54", s.Pixels())
	}
	if err := s.Add(NewImage(2, 2, 3)); err == nil {
		t.Error("adding a 3-channel image after 2-channel ones: no error")
	}
	var empty ChannelStats
	if _, err := empty.Normalizer(); err == nil {
		t.Error("no images: no error")
	}
	var flat ChannelStats
	_ = flat.Add(NewImage(2, 2, 1))
	if _, err := flat.Normalizer(); err == nil || !strings.Contains(err.Error(), "constant") {
		t.Errorf("constant channel: %v", err)
	}
}

// TestHWCInto checks that normalising straight from the pixel bytes gives
// the values of FromHWC followed by Into, bit for bit.
func TestHWCInto(t *testing.T) {
	const h, w, c = 5, 7, 3
	pix := make([]byte, h*w*c)
	for i := range pix {
		pix[i] = byte(i * 37)
	}
	for _, n := range []Normalizer{{Mean: ImageNetMean(), Std: ImageNetStd()}, {Mean: []float64{0.5}, Std: []float64{0.5}}} {
		img, err := FromHWC(pix, h, w, c)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]float32, h*w*c)
		if err := n.Into(want, img); err != nil {
			t.Fatal(err)
		}
		got := make([]float32, h*w*c)
		if err := n.HWCInto(got, pix, h, w, c); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%v: HWCInto differs from FromHWC and Into", n)
		}
		if err := n.HWCInto(got[1:], pix, h, w, c); err == nil {
			t.Error("HWCInto into a short buffer: no error")
		}
	}
}
