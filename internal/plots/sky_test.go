package plots

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"
)

// skyPoints returns n points of 3 classes spread over a patch of the sky
// (or over the whole sky when patch is false).
func skyPoints(n int, patch bool) []SkyPoint {
	rng := rand.New(rand.NewPCG(1, 2))
	pts := make([]SkyPoint, n)
	for i := range pts {
		ra, dec := 355+10*rng.Float64(), -2+5*rng.Float64() // across ra 0
		if !patch {
			ra, dec = 360*rng.Float64(), math.Asin(2*rng.Float64()-1)*180/math.Pi
		}
		pts[i] = SkyPoint{RA: math.Mod(ra, 360), Dec: dec, Class: i % 3}
	}
	return pts
}

func TestProjectionsRoundTrip(t *testing.T) {
	for _, proj := range []projection{mollweide{}, window{SkyWindow{RA: 2, HalfWidth: 6, DecMin: -3, DecMax: 4}}} {
		for _, pos := range [][2]float64{{0, 0}, {359.5, 1}, {5, -2.5}, {1, 3.9}} {
			x, y := proj.forward(pos[0], pos[1])
			ra, dec, ok := proj.inverse(x, y)
			if !ok || math.Abs(wrap180(ra-pos[0])) > 1e-6 || math.Abs(dec-pos[1]) > 1e-6 {
				t.Errorf("%T: (%g, %g) -> (%g, %g) -> (%g, %g, %v)", proj, pos[0], pos[1], x, y, ra, dec, ok)
			}
		}
	}
	// East is to the left.
	if x1, _ := (mollweide{}).forward(170, 0); x1 <= 0 {
		t.Errorf("mollweide: ra 170 at x %g, want right of the centre", x1)
	}
	w := window{SkyWindow{RA: 0, HalfWidth: 5, DecMin: 0, DecMax: 1}}
	if x, _ := w.forward(359, 0); x <= 0 {
		t.Errorf("window: ra 359 at x %g, want right of ra 0", x)
	}
	if _, _, ok := (mollweide{}).inverse(2.8, 1.3); ok {
		t.Error("mollweide: a point outside the ellipse inverts")
	}
}

func TestSky(t *testing.T) {
	density := func(ra, dec float64) float64 {
		if dec > 0 {
			return 3 + dec
		}
		return 0
	}
	for name, m := range map[string]SkyMap{
		"window": {Title: "positions", Classes: []string{"a", "b", "c"}, Points: skyPoints(500, true),
			Window: &SkyWindow{RA: 0, HalfWidth: 6, DecMin: -3, DecMax: 4}, DensityTitle: "density", DensityLabel: "per deg²", Density: density},
		"all sky": {Title: "positions", Classes: []string{"a", "b", "c"}, Points: skyPoints(3000, false), Density: density},
		"no density": {Title: "positions", Classes: []string{"a", "b", "c"}, Points: skyPoints(10, true),
			Window: &SkyWindow{RA: 0, HalfWidth: 6, DecMin: -3, DecMax: 4}},
	} {
		var buf bytes.Buffer
		if err := Sky(&buf, m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		minH := 400
		if m.Density == nil {
			minH = 200
		}
		img := decode(t, buf.Bytes(), 900, 1000, minH, 1200)
		blue := countPixels(img, func(r, g, b uint32) bool { return r < 40 && g > 90 && g < 140 && b > 150 })
		if blue == 0 {
			t.Errorf("%s: no point of the first class drawn", name)
		}
	}
	if err := Sky(&bytes.Buffer{}, SkyMap{}); err == nil {
		t.Error("a sky map without classes drew")
	}
}
