package catalog

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Directions whose base pixel (order 0) follows from the layout of the 12
// faces: faces 0-3 are centred on z = 2/3 at φ = π/4, 3π/4, 5π/4, 7π/4;
// faces 4-7 on the equator at φ = 0, π/2, π, 3π/2; faces 8-11 on z = -2/3
// at the same longitudes as 0-3.
func TestAng2PixBasePixels(t *testing.T) {
	q := math.Pi / 4
	cases := []struct {
		name       string
		z, phi     float64
		wantPixel0 int64
	}{
		{"north pole", 1, 0.1, 0},
		{"north pole, second quarter", 1, 2*q + 0.1, 1},
		{"north pole, third quarter", 1, 4*q + 0.1, 2},
		{"north pole, fourth quarter", 1, 6*q + 0.1, 3},
		{"face 0 centre region", 0.9, q, 0},
		{"face 1", 0.9, 3 * q, 1},
		{"face 2", 0.9, 5 * q, 2},
		{"face 3", 0.9, 7 * q, 3},
		{"equator φ=0", 0, 0, 4},
		{"equator φ=π/2", 0, 2 * q, 5},
		{"equator φ=π", 0, 4 * q, 6},
		{"equator φ=3π/2", 0, 6 * q, 7},
		{"face 8", -0.9, q, 8},
		{"face 9", -0.9, 3 * q, 9},
		{"face 10", -0.9, 5 * q, 10},
		{"face 11", -0.9, 7 * q, 11},
		{"south pole", -1, 0.1, 8},
		// Above the bottom corner of face 0 (z = 0, φ = π/4): still face 0,
		// below the top corner of face 8: face 8.
		{"above the corner of faces 0/4/5/8", 0.3, q, 0},
		{"below the corner of faces 0/4/5/8", -0.3, q, 8},
		{"inside equatorial face 4", 0.3, 0, 4},
		{"z = 0.5 in face 0", 0.5, q, 0},
		{"z = -0.5 in face 8", -0.5, q, 8},
		{"φ = 2π wraps to φ = 0", 0, 8 * q, 4},
		{"negative φ", 0, -2 * q, 7},
	}
	for _, c := range cases {
		theta := math.Acos(c.z)
		if got := Ang2Pix(0, theta, c.phi); got != c.wantPixel0 {
			t.Errorf("%s: Ang2Pix(0, acos(%g), %g) = %d, want %d", c.name, c.z, c.phi, got, c.wantPixel0)
		}
	}
}

// Values at order 1 (nside 2) derived by hand from the face geometry: the
// sub-pixel of face 0 touching the north pole is x = y = 1, i.e. nested
// index 3; the south pole is in sub-pixel x = y = 0 of face 8, index 32; a
// point just north-east of the centre of face 4 is in its northern
// sub-pixel (x = y = 1), 4·4+3 = 19.
func TestAng2PixOrder1(t *testing.T) {
	cases := []struct {
		theta, phi float64
		want       int64
	}{
		{0, 0.1, 3},
		{math.Pi, 0.1, 32},
		{math.Acos(0.1), 0.1, 19},
	}
	for _, c := range cases {
		if got := Ang2Pix(1, c.theta, c.phi); got != c.want {
			t.Errorf("Ang2Pix(1, %g, %g) = %d, want %d", c.theta, c.phi, got, c.want)
		}
	}
}

// Pixel centres by hand: base pixels 0, 4 and 8 are centred on
// (z, φ) = (2/3, π/4), (0, 0) and (-2/3, π/4); the first ring at order 1
// lies at z = 1 - 1/(3·nside²) = 11/12.
func TestPix2AngCentres(t *testing.T) {
	cases := []struct {
		order  int
		pix    int64
		z, phi float64
	}{
		{0, 0, 2.0 / 3, math.Pi / 4},
		{0, 4, 0, 0},
		{0, 7, 0, 3 * math.Pi / 2},
		{0, 8, -2.0 / 3, math.Pi / 4},
		{0, 11, -2.0 / 3, 7 * math.Pi / 4},
		{1, 3, 11.0 / 12, math.Pi / 4},
		{1, 32, -11.0 / 12, math.Pi / 4},
	}
	for _, c := range cases {
		theta, phi := Pix2Ang(c.order, c.pix)
		if z := math.Cos(theta); math.Abs(z-c.z) > 1e-12 || math.Abs(phi-c.phi) > 1e-12 {
			t.Errorf("Pix2Ang(%d, %d) = (z %g, φ %g), want (z %g, φ %g)", c.order, c.pix, z, phi, c.z, c.phi)
		}
	}
}

func TestPoleAndEquatorEdges(t *testing.T) {
	for order := 0; order <= MaxOrder; order++ {
		for _, dir := range []struct{ theta, phi float64 }{
			{0, 0}, {math.Pi, 0}, {0, 2 * math.Pi}, {math.Pi / 2, 0}, {math.Pi / 2, 2*math.Pi - 1e-15},
			{math.Acos(2.0 / 3), 0}, {math.Acos(-2.0 / 3), math.Pi}, {1e-300, 1}, {math.Pi - 1e-16, 5},
			{math.Pi / 2, -1e-17},
		} {
			p := Ang2Pix(order, dir.theta, dir.phi)
			if p < 0 || p >= NPix(order) {
				t.Fatalf("Ang2Pix(%d, %g, %g) = %d, outside 0..%d", order, dir.theta, dir.phi, p, NPix(order)-1)
			}
		}
		// Both poles belong to polar faces at every order.
		if f := Ang2Pix(order, 0, 0) >> (2 * order); f != 0 {
			t.Errorf("order %d: north pole in face %d, want 0", order, f)
		}
		if f := Ang2Pix(order, math.Pi, 0) >> (2 * order); f != 8 {
			t.Errorf("order %d: south pole in face %d, want 8", order, f)
		}
	}
}

// Every pixel centre maps back to its pixel.
func TestPix2AngAng2PixRoundTrip(t *testing.T) {
	for order := 0; order <= 5; order++ {
		for p := range NPix(order) {
			theta, phi := Pix2Ang(order, p)
			if got := Ang2Pix(order, theta, phi); got != p {
				t.Fatalf("order %d: centre of pixel %d (θ %g, φ %g) maps to %d", order, p, theta, phi, got)
			}
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, order := range []int{8, 13, 20, 29} {
		for range 2000 {
			p := rng.Int64N(NPix(order))
			theta, phi := Pix2Ang(order, p)
			if got := Ang2Pix(order, theta, phi); got != p {
				t.Fatalf("order %d: centre of pixel %d maps to %d", order, p, got)
			}
		}
	}
}

// A random direction lies within one pixel size of the centre of the pixel
// Ang2Pix gives it, and the pixels of one direction at two orders nest.
func TestAng2PixNearCentre(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, order := range []int{0, 1, 2, 5, 10, 16, 24, 29} {
		// The farthest corners of HEALPix pixels (the long thin pixels by
		// the polar-cap boundary) are about 1.02 mean pixel sizes from
		// their centre; nothing in a pixel is farther.
		limit := 1.1 * Resolution(order)
		for range 5000 {
			z := 2*rng.Float64() - 1
			theta, phi := math.Acos(z), 2*math.Pi*rng.Float64()
			p := Ang2Pix(order, theta, phi)
			ct, cp := Pix2Ang(order, p)
			if d := angularDistance(theta, phi, ct, cp); d > limit {
				t.Fatalf("order %d: (θ %g, φ %g) is %g rad from the centre of its pixel %d, limit %g", order, theta, phi, d, p, limit)
			}
			if order > 0 {
				if parent := Ang2Pix(order-1, theta, phi); ParentPix(p, order, order-1) != parent {
					t.Fatalf("order %d: pixel %d is not inside pixel %d of order %d", order, p, parent, order-1)
				}
			}
		}
	}
}

func TestRaDec2Pix(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 1000 {
		ra, dec := 360*rng.Float64(), 180*rng.Float64()-90
		theta, phi := (90-dec)*math.Pi/180, ra*math.Pi/180
		for _, order := range []int{3, 29} {
			a, b := RaDec2Pix(order, ra, dec), Ang2Pix(order, theta, phi)
			// Conversions to radians may round differently; the pixels
			// must still be the same or adjacent at order 29.
			if a != b && order < 29 {
				t.Fatalf("RaDec2Pix(%d, %g, %g) = %d, Ang2Pix = %d", order, ra, dec, a, b)
			}
		}
		cra, cdec := Pix2RaDec(12, RaDec2Pix(12, ra, dec))
		d := angularDistance((90-dec)*math.Pi/180, ra*math.Pi/180, (90-cdec)*math.Pi/180, cra*math.Pi/180)
		if d > 1.1*Resolution(12) {
			t.Fatalf("(%g, %g): pixel centre (%g, %g) is %g rad away", ra, dec, cra, cdec, d)
		}
	}
}

func TestBitInterleaving(t *testing.T) {
	for _, v := range []int64{0, 1, 2, 3, 0x5a5a, 1<<29 - 1, 1<<32 - 1} {
		s := spreadBits(v)
		if compactBits(s) != v || compactBits(s>>1) != 0 {
			t.Errorf("spreadBits(%#x) = %#x does not compact back", v, s)
		}
	}
	if got := spreadBits(3) | spreadBits(1)<<1; got != 0b0111 {
		t.Errorf("x=3, y=1 interleave to %#b, want 0b111", got)
	}
}

func angularDistance(t1, p1, t2, p2 float64) float64 {
	// Haversine form, accurate at small distances.
	s := math.Sin((t2-t1)/2)*math.Sin((t2-t1)/2) + math.Sin(t1)*math.Sin(t2)*math.Sin((p2-p1)/2)*math.Sin((p2-p1)/2)
	return 2 * math.Asin(math.Sqrt(min(1, s)))
}
