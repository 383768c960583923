package synthetic

import "math"

// A scene is the drawing of one object: its random stream, the global
// properties every class shares (centre, brightness, seeing, sky) and the
// recipe of its class. Lengths are given for a 64-pixel cutout and scaled by
// s = size/64, so a cutout of any size shows the same field.
type scene struct {
	c        *canvas
	rng      *rng
	redshift float64
	s        float64 // size / 64
	cx, cy   float64 // centre of the galaxy, pixels
	flux     float64 // total r-band flux of the galaxy
	psfFWHM  float64 // pixels
	psfSigma float64 // pixels
	sky      float64 // sky and read noise per pixel, r-band flux units
	truth    Truth   // the morphology drawn, for simulated volunteers
}

// gain converts flux to photon counts for the Poisson part of the noise.
const gain = 4.0

func newScene(c *canvas, rng *rng, redshift float64) scene {
	n := float64(c.n)
	s := scene{c: c, rng: rng, redshift: redshift, s: n / 64}
	jitter := func() float64 { return max(-3, min(3, 1.2*rng.normal())) * s.s }
	s.cx, s.cy = (n-1)/2+jitter(), (n-1)/2+jitter()
	s.flux = rng.logUniform(2500, 10000) * s.s * s.s
	s.psfFWHM = rng.uniform(1.0, 1.6) / PixelScale(c.n) // arcsec of seeing
	s.psfSigma = s.psfFWHM / (2 * math.Sqrt(2*math.Ln2))
	s.sky = rng.uniform(0.8, 1.3)
	return s
}

// redshiftRange returns the range of redshifts drawn for a class: spirals
// and edge-on disks nearer, ellipticals and mergers reaching further.
func redshiftRange(c Class) (lo, hi float64) {
	switch c {
	case RoundSmooth, InBetweenRoundSmooth, CigarShapedSmooth, Merging:
		return 0.03, 0.15
	case UnbarredLooseSpiral, EdgeOnWithoutBulge:
		return 0.01, 0.08
	default:
		return 0.02, 0.10
	}
}

// Stellar populations, by colour.
type population int

const (
	old   population = iota // ellipticals and bulges
	disk                    // the smooth light of disks
	young                   // spiral arms
	burst                   // star-forming knots
)

// color returns the g, r, z flux ratios of a population: g-r and r-z in AB
// magnitudes, jittered per component and reddened with redshift.
func (s *scene) color(p population) color {
	gr, rz := [...]float64{0.78, 0.55, 0.30, 0.10}[p], [...]float64{0.55, 0.40, 0.22, 0.05}[p]
	gr += 0.05*s.rng.normal() + 1.2*s.redshift
	rz += 0.05*s.rng.normal() + 0.6*s.redshift
	return color{float32(math.Pow(10, -0.4*gr)), 1, float32(math.Pow(10, 0.4*rz))}
}

// mix returns the flux-weighted blend a·(1-t) + b·t of two colours.
func mix(a, b color, t float64) color {
	var m color
	for i := range m {
		m[i] = a[i]*float32(1-t) + b[i]*float32(t)
	}
	return m
}

func (s *scene) galaxy(c Class) {
	switch c {
	case RoundSmooth:
		s.smooth(s.rng.uniform(0.74, 1), 2.5, 5, 4, 10)
	case InBetweenRoundSmooth:
		s.smooth(s.rng.uniform(0.44, 0.76), 1.5, 4, 4.5, 10)
	case CigarShapedSmooth:
		s.smooth(s.rng.uniform(0.18, 0.46), 0.8, 2.5, 5, 11)
	case BarredSpiral:
		s.spiralGalaxy(rad(8), rad(28), 0.05, 0.4, s.rng.uniform(0.05, 0.3))
	case UnbarredTightSpiral:
		s.spiralGalaxy(rad(6), rad(17), 0.1, 0.4, s.weakOval())
	case UnbarredLooseSpiral:
		s.spiralGalaxy(rad(15), rad(32), 0.03, 0.25, s.weakOval())
	case EdgeOnWithoutBulge:
		s.edgeOn(0, 0.12, 0.35)
	case EdgeOnWithBulge:
		s.edgeOn(0.1, 0.5, 0.55)
	case Merging:
		s.merger()
	case Disturbed:
		s.disturbed()
	}
}

func rad(deg float64) float64 { return deg * math.Pi / 180 }

// weakOval returns the bar strength of an unbarred spiral: mostly none, at
// times a weak oval just below the weakest bars.
func (s *scene) weakOval() float64 {
	if s.rng.chance(0.7) {
		return 0
	}
	return s.rng.uniform(0, 0.04)
}

// smooth draws an elliptical galaxy: one Sérsic profile of axis ratio q,
// index in [nLo, nHi) and effective radius in [reLo, reHi) pixels.
func (s *scene) smooth(q, nLo, nHi, reLo, reHi float64) {
	n := s.rng.uniform(nLo, nHi)
	re := s.rng.logUniform(reLo, reHi) * s.s
	s.truth = Truth{AxisRatio: q, Bulge: 1}
	f := newFrame(s.cx, s.cy, s.rng.angle(), q)
	col := mix(s.color(old), s.color(disk), s.rng.uniform(0, 0.25))
	s.c.addSersic(f, re, n, s.flux, col)
}

// spiralGalaxy draws a bulge, an inclined exponential disk with logarithmic
// spiral arms of pitch angle in [pitchLo, pitchHi), and a bar holding the
// fraction barFrac of the light (none when 0).
func (s *scene) spiralGalaxy(pitchLo, pitchHi, btLo, btHi, barFrac float64) {
	rng := s.rng
	h := rng.logUniform(3.5, 7.5) * s.s
	cosInc := rng.uniform(0.45, 1)
	q := math.Sqrt(cosInc*cosInc + 0.1*0.1*(1-cosInc*cosInc)) // intrinsic thickness 0.1
	f := newFrame(s.cx, s.cy, rng.angle(), q)
	bt := rng.uniform(btLo, btHi)

	arms := &spiral{
		arms:     [...]int{2, 2, 2, 3, 4}[rng.intn(5)],
		tanPitch: rng.sign() * math.Tan(rng.uniform(pitchLo, pitchHi)),
		phase:    rng.angle(),
		sharp:    rng.uniform(2, 5),
		frac:     rng.uniform(0.45, 0.8),
		rIn:      h * rng.uniform(0.5, 1),
		col:      s.color(young),
	}
	s.truth = Truth{Featured: true, AxisRatio: q, Bulge: bt, Bar: barFrac, Arms: arms.arms, PitchDeg: math.Atan(math.Abs(arms.tanPitch)) * 180 / math.Pi}
	if barFrac > 0 {
		a := h * rng.uniform(1, 2.2)
		phi := rng.angle()
		s.c.addBar(f, phi, a, rng.uniform(0.2, 0.4), barFrac*s.flux, s.color(old))
		// Arms start at the ends of the bar: a crest at (a, phi).
		arms.phase = math.Mod(float64(arms.arms)*(math.Log(a/h)/arms.tanPitch-phi), 2*math.Pi)
		arms.rIn = a
	}
	bulgeRe := h * rng.uniform(0.25, 0.6)
	bulge := newFrame(s.cx, s.cy, math.Atan2(float64(f.sin), float64(f.cos)), math.Max(q, rng.uniform(0.75, 1)))
	s.c.addSersic(bulge, bulgeRe, rng.uniform(1, 3.5), bt*s.flux, s.color(old))
	diskFlux := (1 - bt - barFrac) * s.flux
	s.c.addDisk(f, h, diskFlux, s.color(disk), arms)

	// HII regions along the arms; more in the open, late-type spirals.
	knots := rng.poisson(1.5 + 3*math.Min(1, math.Abs(arms.tanPitch)/math.Tan(rad(30))))
	for range knots {
		r := h * rng.uniform(1, 3)
		theta := arms.crestTheta(r, h, rng.intn(arms.arms)) + 0.1*rng.normal()
		x, y := f.sky(float32(r*math.Cos(theta)), float32(r*math.Sin(theta)))
		s.c.addBlob(float64(x), float64(y), rng.uniform(0.5, 1)*s.s, rng.uniform(0.004, 0.015)*s.flux, s.color(burst))
	}
}

// edgeOn draws a disk seen edge-on with a bulge holding a fraction in
// [btLo, btHi) of the light and, with probability pDust, a dust lane.
func (s *scene) edgeOn(btLo, btHi, pDust float64) {
	rng := s.rng
	h := rng.logUniform(3, 6) * s.s
	z0 := h * rng.uniform(0.12, 0.3)
	angle := rng.angle()
	f := newFrame(s.cx, s.cy, angle, 1)
	bt := rng.uniform(btLo, btHi)
	s.truth = Truth{Featured: true, EdgeOn: true, AxisRatio: z0 / h, Bulge: bt}
	s.c.addEdgeOn(f, h, z0, (1-bt)*s.flux, mix(s.color(disk), s.color(young), rng.uniform(0, 0.5)))
	if bt > 0 {
		bulge := newFrame(s.cx, s.cy, angle, rng.uniform(0.6, 0.95))
		s.c.addSersic(bulge, h*rng.uniform(0.3, 0.7), rng.uniform(1.5, 4), bt*s.flux, s.color(old))
	}
	if rng.chance(pDust) {
		s.c.dimDustLane(f, z0*rng.uniform(-0.3, 0.3), z0*rng.uniform(0.25, 0.5), 2.5*h, rng.uniform(0.3, 0.9))
	}
}

// member draws one galaxy of a merging pair at (x, y): an elliptical or a
// disk with a bulge, of the given flux and size scale.
func (s *scene) member(x, y, flux, size float64) {
	rng := s.rng
	if rng.chance(0.4) {
		f := newFrame(x, y, rng.angle(), rng.uniform(0.55, 1))
		s.c.addSersic(f, size*rng.uniform(0.8, 1.3), rng.uniform(2, 4), flux, s.color(old))
		return
	}
	f := newFrame(x, y, rng.angle(), rng.uniform(0.4, 1))
	bt := rng.uniform(0.15, 0.5)
	s.c.addSersic(newFrame(x, y, 0, rng.uniform(0.8, 1)), size*rng.uniform(0.3, 0.5), rng.uniform(1.5, 3), bt*flux, s.color(old))
	s.c.addDisk(f, size*rng.uniform(0.6, 0.9), (1-bt)*flux, s.color(disk), nil)
}

// stream lays a tidal feature along the quadratic Bézier curve p0 → p2 with
// control point p1, as overlapping Gaussians that widen from w0 to w1.
func (s *scene) stream(p0, p1, p2 [2]float64, w0, w1, flux float64, col color) {
	const pieces = 24
	for i := range pieces {
		t := (float64(i) + 0.5) / pieces
		a, b, c := (1-t)*(1-t), 2*(1-t)*t, t*t
		x := a*p0[0] + b*p1[0] + c*p2[0]
		y := a*p0[1] + b*p1[1] + c*p2[1]
		s.c.addBlob(x, y, w0+(w1-w0)*t, flux/pieces, col)
	}
}

// merger draws two overlapping galaxies joined by a tidal bridge, often with
// tidal tails.
func (s *scene) merger() {
	rng := s.rng
	d := rng.uniform(11, 24) * s.s
	angle := rng.angle()
	ux, uy := math.Cos(angle), math.Sin(angle)
	// The primary sits nearer the centre of the cutout.
	t := rng.uniform(0.2, 0.5)
	p := [2]float64{s.cx - t*d*ux, s.cy - t*d*uy}
	q := [2]float64{p[0] + d*ux, p[1] + d*uy}
	ratio := rng.uniform(0.3, 1)
	s.truth = Truth{Featured: true, Bulge: 0.3, Merger: MergerMerging}
	size := rng.logUniform(3, 5) * s.s
	s.member(p[0], p[1], s.flux/(1+ratio), size)
	s.member(q[0], q[1], s.flux*ratio/(1+ratio), size*math.Sqrt(ratio))

	bend := rng.uniform(-0.4, 0.4) * d
	mid := [2]float64{(p[0]+q[0])/2 - bend*uy, (p[1]+q[1])/2 + bend*ux}
	s.stream(p, mid, q, 1.2*s.s, 1.8*s.s, rng.uniform(0.05, 0.12)*s.flux, s.color(young))
	for _, end := range [][2]float64{p, q} {
		if !rng.chance(0.6) {
			continue
		}
		// A tail leaving away from the companion, curving to one side.
		out := math.Atan2(end[1]-mid[1], end[0]-mid[0]) + rng.sign()*rng.uniform(rad(20), rad(70))
		length := d * rng.uniform(0.7, 1.4)
		curl := rng.sign() * rng.uniform(0.2, 0.5) * length
		tip := [2]float64{end[0] + length*math.Cos(out), end[1] + length*math.Sin(out)}
		ctrl := [2]float64{(end[0]+tip[0])/2 - curl*math.Sin(out), (end[1]+tip[1])/2 + curl*math.Cos(out)}
		s.stream(end, ctrl, tip, 1.2*s.s, 2.8*s.s, rng.uniform(0.03, 0.09)*s.flux, s.color(disk))
	}
	for range rng.poisson(2) {
		x := mid[0] + rng.normal()*0.3*d
		y := mid[1] + rng.normal()*0.3*d
		s.c.addBlob(x, y, rng.uniform(0.5, 1)*s.s, rng.uniform(0.005, 0.015)*s.flux, s.color(burst))
	}
}

// disturbed draws one irregular galaxy: a lopsided disk with an offset
// nucleus, diffuse lumps, clumpy star-forming knots and a tidal tail; or an
// elliptical with shells and a plume, the signature of a past merger.
func (s *scene) disturbed() {
	rng := s.rng
	s.truth = Truth{Bulge: 0.8, Merger: MergerMajor}
	if rng.chance(0.3) {
		re := rng.logUniform(3.5, 7) * s.s
		f := newFrame(s.cx, s.cy, rng.angle(), rng.uniform(0.6, 1))
		s.c.addSersic(f, re, rng.uniform(2.5, 4.5), 0.8*s.flux, s.color(old))
		for range 1 + rng.intn(3) {
			r, start, width := re*rng.uniform(1.5, 3), rng.angle(), rng.uniform(rad(60), rad(140))
			for i := range 12 {
				a := start + width*float64(i)/11
				s.c.addBlob(s.cx+r*math.Cos(a), s.cy+r*math.Sin(a), 1.2*s.s, 0.1/12/1.5*s.flux, s.color(old))
			}
		}
		s.tail(re, 0.1*s.flux)
		return
	}
	h := rng.logUniform(4, 8) * s.s
	f := newFrame(s.cx, s.cy, rng.angle(), rng.uniform(0.4, 1))
	lumps, knots := rng.uniform(0.25, 0.45), rng.uniform(0.1, 0.25)
	bt := rng.uniform(0, 0.15)
	s.truth = Truth{Featured: true, Bulge: bt, Arms: 1, PitchDeg: 35, Merger: MergerMinor}
	off := h * rng.uniform(0, 0.6)
	oa := rng.angle()
	s.c.addSersic(newFrame(s.cx+off*math.Cos(oa), s.cy+off*math.Sin(oa), 0, rng.uniform(0.7, 1)), h*0.3, 1.5, bt*s.flux, s.color(old))
	s.c.addDisk(f, h, (1-bt-lumps-knots)*s.flux, s.color(disk), &spiral{
		arms: 1, tanPitch: rng.sign() * rng.uniform(0.3, 1), phase: rng.angle(),
		sharp: 1, frac: rng.uniform(0.3, 0.7), rIn: h, col: s.color(young),
	})
	nl := 3 + rng.intn(4)
	for range nl {
		r, a := h*rng.uniform(0.3, 1.8), rng.angle()
		x, y := f.sky(float32(r*math.Cos(a)), float32(r*math.Sin(a)))
		s.c.addBlob(float64(x), float64(y), h*rng.uniform(0.3, 0.7), lumps/float64(nl)*s.flux, s.color(young))
	}
	nk := 5 + rng.intn(11)
	for range nk {
		r, a := h*rng.uniform(0.2, 2.5), rng.angle()
		x, y := f.sky(float32(r*math.Cos(a)), float32(r*math.Sin(a)))
		s.c.addBlob(float64(x), float64(y), rng.uniform(0.5, 1.1)*s.s, knots/float64(nk)*s.flux, s.color(burst))
	}
	if rng.chance(0.7) {
		s.tail(1.5*h, rng.uniform(0.05, 0.12)*s.flux)
	}
}

// tail adds a curved tidal tail leaving the galaxy at radius r.
func (s *scene) tail(r, flux float64) {
	rng := s.rng
	a := rng.angle()
	start := [2]float64{s.cx + r*math.Cos(a), s.cy + r*math.Sin(a)}
	length := r * rng.uniform(1.5, 3)
	out := a + rng.sign()*rng.uniform(0, rad(50))
	tip := [2]float64{start[0] + length*math.Cos(out), start[1] + length*math.Sin(out)}
	curl := rng.sign() * rng.uniform(0.2, 0.5) * length
	ctrl := [2]float64{(start[0]+tip[0])/2 - curl*math.Sin(out), (start[1]+tip[1])/2 + curl*math.Cos(out)}
	s.stream(start, ctrl, tip, 1.2*s.s, 3*s.s, flux, s.color(disk))
}

// background adds a few faint, small galaxies anywhere in the field.
func (s *scene) background() {
	rng := s.rng
	n := float64(s.c.n)
	for range rng.poisson(1.5) {
		f := newFrame(rng.uniform(0, n), rng.uniform(0, n), rng.angle(), rng.uniform(0.4, 1))
		col := mix(s.color(old), s.color(disk), rng.float())
		s.c.addSersic(f, rng.logUniform(0.8, 2)*s.s, 1, rng.logUniform(30, 300)*s.s*s.s, col)
	}
}

// stars adds foreground stars, with Moffat profiles of the seeing FWHM.
func (s *scene) stars() {
	rng := s.rng
	n := float64(s.c.n)
	for range rng.poisson(0.7) {
		gr := rng.uniform(0.3, 1.2)
		rz := 0.1 + 0.7*gr + 0.05*rng.normal()
		col := color{float32(math.Pow(10, -0.4*gr)), 1, float32(math.Pow(10, 0.4*rz))}
		s.c.addStar(rng.uniform(0, n), rng.uniform(0, n), s.psfFWHM, rng.logUniform(80, 8000)*s.s*s.s, col)
	}
}

// addNoise adds sky and read noise of s.sky per pixel plus the Poisson noise
// of the source, in the Gaussian limit: σ² = sky² + flux/gain.
func (s *scene) addNoise(buf []float32) {
	sky2 := float32(s.sky * s.sky)
	for _, plane := range s.c.flux {
		s.rng.noise(buf)
		for p, v := range plane {
			plane[p] = v + buf[p]*float32(math.Sqrt(float64(sky2+max(0, v)/gain)))
		}
	}
}
