package plots

import "math"

// SkyWindow is a zoomed view of the sky in degrees: right ascensions within
// HalfWidth of RA (across 0°/360° if need be) and declinations DecMin to
// DecMax.
type SkyWindow struct {
	RA, HalfWidth  float64
	DecMin, DecMax float64
}

// projection maps (ra, dec) in degrees to plane coordinates (x, y) in which
// east is to the left, as on the sky seen from inside the sphere, and back.
type projection interface {
	// forward returns the plane coordinates of a position.
	forward(ra, dec float64) (x, y float64)
	// inverse returns the position at (x, y), and false off the map.
	inverse(x, y float64) (ra, dec float64, ok bool)
	// bounds returns the rectangle of the plane the map covers.
	bounds() (xmin, xmax, ymin, ymax float64)
}

// window is the projection of a SkyWindow: plate carrée, x being the right
// ascension east of the centre, negated, and y the declination. Distances in
// x are stretched by 1/cos(dec) at the centre's declination; Sky sizes the
// panel so that a degree has the same length along both axes there.
type window struct{ SkyWindow }

func (w window) forward(ra, dec float64) (x, y float64) {
	return -wrap180(ra - w.RA), dec
}

func (w window) inverse(x, y float64) (ra, dec float64, ok bool) {
	if y < -90 || y > 90 {
		return 0, 0, false
	}
	return math.Mod(w.RA-x+720, 360), y, true
}

func (w window) bounds() (xmin, xmax, ymin, ymax float64) {
	return -w.HalfWidth, w.HalfWidth, w.DecMin, w.DecMax
}

// Aspect is the height to width ratio of the window on the sky, at its
// central declination.
func (w SkyWindow) Aspect() float64 {
	cos := math.Cos((w.DecMin + w.DecMax) / 2 * math.Pi / 180)
	return (w.DecMax - w.DecMin) / (2 * w.HalfWidth * math.Max(cos, 0.1))
}

// wrap180 returns an angle in degrees in [-180, 180).
func wrap180(a float64) float64 {
	a = math.Mod(a+180, 360)
	if a < 0 {
		a += 360
	}
	return a - 180
}

// mollweide is the equal-area Mollweide projection of the whole sky centred
// on ra 180°, so that ra runs from 360° at the left edge to 0° at the right
// one. The plane spans x in [-2√2, 2√2] and y in [-√2, √2].
type mollweide struct{}

func (mollweide) forward(ra, dec float64) (x, y float64) {
	lon := -wrap180(ra-180) * math.Pi / 180
	phi := dec * math.Pi / 180
	// Solve 2θ + sin 2θ = π sin φ for the auxiliary angle θ (Newton).
	theta := phi
	target := math.Pi * math.Sin(phi)
	for range 50 {
		d := 2 + 2*math.Cos(2*theta)
		if d < 1e-12 {
			break
		}
		step := (2*theta + math.Sin(2*theta) - target) / d
		theta -= step
		if math.Abs(step) < 1e-10 {
			break
		}
	}
	return 2 * math.Sqrt2 / math.Pi * lon * math.Cos(theta), math.Sqrt2 * math.Sin(theta)
}

func (mollweide) inverse(x, y float64) (ra, dec float64, ok bool) {
	s := y / math.Sqrt2
	if s < -1 || s > 1 {
		return 0, 0, false
	}
	theta := math.Asin(s)
	cos := math.Cos(theta)
	lon := 0.0
	if cos > 1e-12 {
		lon = math.Pi * x / (2 * math.Sqrt2 * cos)
	}
	if lon < -math.Pi || lon > math.Pi {
		return 0, 0, false
	}
	sinPhi := (2*theta + math.Sin(2*theta)) / math.Pi
	dec = math.Asin(math.Max(-1, math.Min(1, sinPhi))) * 180 / math.Pi
	ra = math.Mod(180-lon*180/math.Pi+360, 360)
	return ra, dec, true
}

func (mollweide) bounds() (xmin, xmax, ymin, ymax float64) {
	return -2 * math.Sqrt2, 2 * math.Sqrt2, -math.Sqrt2, math.Sqrt2
}
