package policy

import (
	"math/rand/v2"
	"testing"
)

func TestErasingOff(t *testing.T) {
	m := noise(16, 16, 3, 1)
	e := Erasing{Prob: 0, Area: [2]float64{0.02, 0.33}, Aspect: [2]float64{0.3, 3.3}, Count: 1, Mean: []float64{0.5}, Std: []float64{0.2}}
	equalImages(t, "erasing with probability 0", e.Apply(m, rand.New(rand.NewPCG(1, 1))), m, 0)
}

func TestErasingRectangle(t *testing.T) {
	const h, w = 40, 50
	m := NewImage(h, w, 3) // all zero: erased pixels are the non-zero ones
	e := Erasing{Prob: 1, Area: [2]float64{0.05, 0.2}, Aspect: [2]float64{0.5, 2}, Count: 1, Mean: ImageNetMean(), Std: ImageNetStd()}
	for seed := range uint64(200) {
		out := e.Apply(m, rand.New(rand.NewPCG(seed, 9)))
		top, left, bottom, right, n := h, w, -1, -1, 0
		for y := range h {
			for x := range w {
				if out.Pix[y*w+x] != 0 {
					top, left = min(top, y), min(left, x)
					bottom, right = max(bottom, y), max(right, x)
					n++
				}
			}
		}
		if n == 0 {
			continue // every attempt failed: allowed, and rare
		}
		bh, bw := bottom-top+1, right-left+1
		if n != bh*bw {
			t.Fatalf("seed %d: %d erased pixels do not fill their %dx%d bounding box", seed, n, bh, bw)
		}
		area := float64(n) / (h * w)
		if area < 0.05*0.8 || area > 0.2*1.2 {
			t.Fatalf("seed %d: erased %.3f of the image, want about 0.05..0.2", seed, area)
		}
		if bh >= h || bw >= w {
			t.Fatalf("seed %d: erased box %dx%d does not fit strictly", seed, bh, bw)
		}
	}
}

func TestErasingFillIsStandardNormalAfterNormalisation(t *testing.T) {
	m := NewImage(64, 64, 3)
	e := Erasing{Prob: 1, Area: [2]float64{0.5, 0.5}, Aspect: [2]float64{1, 1}, Count: 1, Mean: ImageNetMean(), Std: ImageNetStd()}
	out := e.Apply(m, rand.New(rand.NewPCG(4, 4)))
	norm := Normalizer{Mean: ImageNetMean(), Std: ImageNetStd()}
	x := make([]float32, len(out.Pix))
	if err := norm.Into(x, out); err != nil {
		t.Fatal(err)
	}
	for c := range 3 {
		var s, s2, n float64
		for i, v := range out.Plane(c) {
			if v == 0 {
				continue
			}
			z := float64(x[c*64*64+i])
			s, s2, n = s+z, s2+z*z, n+1
		}
		mean, variance := s/n, s2/n-(s/n)*(s/n)
		if n < 1000 || mean < -0.1 || mean > 0.1 || variance < 0.9 || variance > 1.1 {
			t.Errorf("channel %d: %v erased pixels normalise to mean %.3f, variance %.3f; want about 0 and 1", c, n, mean, variance)
		}
	}
}
