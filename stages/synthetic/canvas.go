package synthetic

import "math"

// Photometric bands of the flux planes, in the order of the bands column.
const (
	bandG = iota
	bandR
	bandZ
	numBands
)

// color is a component's flux in g, r and z per unit of r-band flux.
type color [numBands]float32

// canvas holds the g, r and z flux of one image in float32 planes, row-major.
// Coordinates are in pixels; (0, 0) is the centre of the top-left pixel.
type canvas struct {
	n     int
	flux  [numBands][]float32
	tmp   []float32 // scratch for the blur
	table []float32 // scratch for radial profiles
}

func newCanvas(n int) *canvas {
	c := &canvas{n: n, tmp: make([]float32, n*n)}
	for b := range c.flux {
		c.flux[b] = make([]float32, n*n)
	}
	return c
}

func (c *canvas) clear() {
	for b := range c.flux {
		clear(c.flux[b])
	}
}

// box returns the pixel ranges [x0, x1) × [y0, y1) within radius r of
// (cx, cy), clipped to the image; empty ranges when they do not meet.
func (c *canvas) box(cx, cy, r float32) (x0, x1, y0, y1 int) {
	clip := func(v float32) int {
		return int(max(0, min(float32(c.n), v)))
	}
	return clip(cx - r), clip(cx + r + 1), clip(cy - r), clip(cy + r + 1)
}

// frame places an elliptical component: centre, position angle of the major
// axis (counter-clockwise from +x, in image coordinates) and axis ratio q =
// minor/major. For a thin disk, q = cos(inclination).
type frame struct {
	x0, y0   float32
	cos, sin float32
	q        float32
}

func newFrame(x0, y0, angle, q float64) frame {
	return frame{
		x0: float32(x0), y0: float32(y0),
		cos: float32(math.Cos(angle)), sin: float32(math.Sin(angle)),
		q: float32(q),
	}
}

// local returns the coordinates of pixel (x, y) along the major axis and
// along the minor axis stretched by 1/q (so a circle in the galaxy plane).
func (f frame) local(x, y float32) (u, v float32) {
	dx, dy := x-f.x0, y-f.y0
	return dx*f.cos + dy*f.sin, (dy*f.cos - dx*f.sin) / f.q
}

// sky maps galaxy-plane coordinates (u, v) back to the image.
func (f frame) sky(u, v float32) (x, y float32) {
	v *= f.q
	return f.x0 + u*f.cos - v*f.sin, f.y0 + u*f.sin + v*f.cos
}

// softening (pixels²) added to squared radii, standing in for the average of
// a cuspy profile over the central pixel.
const softening = 0.25

// sersicB returns b_n of the Sérsic profile, for which Re encloses half the
// light (Ciotti & Bertin 1999 asymptotic expansion, good to 1e-4 for n > 0.36).
func sersicB(n float64) float64 {
	return 2*n - 1.0/3 + 4/(405*n) + 46/(25515*n*n) + 131/(1148175*n*n*n)
}

// faint is the surface brightness (flux per pixel, the sky noise being
// about 1) below which a smooth profile is cut off: under a thousandth of the
// noise and of the faintest non-zero output level.
const faint = 1e-3

// tableRes is the number of samples per pixel of radius in a radial table.
const tableRes = 16

// radial tabulates a profile I(R) of the softened radius R = sqrt(r² +
// softening) for r from 0 to reach pixels, in c.table, so that each pixel
// costs a square root and an interpolation instead of transcendentals.
func (c *canvas) radial(reach float32, profile func(r2 float32) float32) []float32 {
	n := int(reach*tableRes) + 2
	if cap(c.table) < n {
		c.table = make([]float32, n)
	}
	t := c.table[:n]
	for i := range t {
		r := float32(i) / tableRes
		t[i] = profile(r*r + softening)
	}
	t[n-1] = 0
	return t
}

// lookup interpolates table t at radius r (pixels); 0 beyond its end.
func lookup(t []float32, r float32) float32 {
	x := r * tableRes
	i := int(x)
	if i >= len(t)-1 {
		return 0
	}
	return t[i] + (x-float32(i))*(t[i+1]-t[i])
}

// addSersic adds a Sérsic profile I(R) = Ie exp(-b_n((R/Re)^(1/n) - 1)) with
// total r-band flux, normalised analytically.
func (c *canvas) addSersic(f frame, re, n, flux float64, col color) {
	b := sersicB(n)
	total := 2 * math.Pi * float64(f.q) * re * re * n * math.Exp(b) * math.Pow(b, -2*n) * math.Gamma(2*n)
	ie := flux / total
	if ie*math.Exp(b) < faint {
		return
	}
	// Out to where the profile falls to faint.
	reach := float32(re * math.Pow(1+math.Log(ie/faint)/b, n))
	x0, x1, y0, y1 := c.box(f.x0, f.y0, reach)
	reach = min(reach, float32(2*c.n))
	invRe2, exponent, bf, ief := float32(1/(re*re)), float32(0.5/n), float32(b), float32(ie)
	t := c.radial(reach, func(r2 float32) float32 {
		return ief * expf(bf*(1-expf(exponent*logf(r2*invRe2)))) // (R/Re)^(1/n) = (R²/Re²)^(1/2n)
	})
	g, r, z := c.flux[bandG], c.flux[bandR], c.flux[bandZ]
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			u, v := f.local(float32(x), float32(y))
			i := lookup(t, float32(math.Sqrt(float64(u*u+v*v))))
			p := y*c.n + x
			g[p] += i * col[bandG]
			r[p] += i * col[bandR]
			z[p] += i * col[bandZ]
		}
	}
}

// spiral describes logarithmic spiral arms r = r0 exp(θ tan(pitch)) that
// gather a fraction of a disk's light, with their own colour.
type spiral struct {
	arms     int     // 1 gives a lopsided disk
	tanPitch float64 // signed: the sign picks the winding sense
	phase    float64 // angle of an arm crest at r = h
	sharp    float64 // crest profile ((1+cos ψ)/2)^sharp
	frac     float64 // fraction of the disk light in the arms, outside rIn
	rIn      float64 // arms fade in over this radius (bar length or bulge)
	col      color
}

// crestTheta returns the galaxy-plane angle of arm crest j at radius r.
func (s *spiral) crestTheta(r, h float64, j int) float64 {
	return (float64(s.arms)*math.Log(r/h)/s.tanPitch - s.phase + 2*math.Pi*float64(j)) / float64(s.arms)
}

// addDisk adds an infinitely thin exponential disk of scale length h, seen
// with axis ratio f.q = cos(inclination), optionally with spiral arms.
func (c *canvas) addDisk(f frame, h, flux float64, col color, arms *spiral) {
	i0 := flux / (2 * math.Pi * h * h * float64(f.q))
	if i0 < faint {
		return
	}
	reach := float32(h * math.Log(i0/faint))
	x0, x1, y0, y1 := c.box(f.x0, f.y0, reach)
	reach = min(reach, float32(2*c.n))
	i0f, invH := float32(i0), float32(1/h)
	t := c.radial(reach, func(r2 float32) float32 {
		return i0f * expf(-float32(math.Sqrt(float64(r2)))*invH)
	})
	var (
		m, invTan, phase, sharp, frac, invRIn2 float32
		norm                                   float32
		armCol                                 color
	)
	if arms != nil {
		m, invTan, phase = float32(arms.arms), float32(1/arms.tanPitch), float32(arms.phase)
		sharp, frac = float32(arms.sharp), float32(arms.frac)
		invRIn2 = float32(1 / (arms.rIn * arms.rIn))
		// Mean of ((1+cos ψ)/2)^k over ψ is Γ(k+1/2)/(√π Γ(k+1)).
		norm = float32(math.Sqrt(math.Pi) * math.Gamma(arms.sharp+1) / math.Gamma(arms.sharp+0.5))
		armCol = arms.col
	}
	g, r, z := c.flux[bandG], c.flux[bandR], c.flux[bandZ]
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			u, v := f.local(float32(x), float32(y))
			r2 := u*u + v*v
			d := lookup(t, float32(math.Sqrt(float64(r2))))
			if d == 0 {
				continue
			}
			p := y*c.n + x
			if arms == nil {
				g[p] += d * col[bandG]
				r[p] += d * col[bandR]
				z[p] += d * col[bandZ]
				continue
			}
			r2 += softening
			theta := atan2f(v, u)
			psi := m*theta - 0.5*m*logf(r2*invH*invH)*invTan + phase
			crest := expf(sharp*logf(max(0.5+0.5*cosf(psi), 1e-30))) * norm
			w := frac * (1 - expf(-r2*invRIn2))
			smooth, arm := d*(1-w), d*w*crest
			g[p] += smooth*col[bandG] + arm*armCol[bandG]
			r[p] += smooth*col[bandR] + arm*armCol[bandR]
			z[p] += smooth*col[bandZ] + arm*armCol[bandZ]
		}
	}
}

// addBar adds a flat-topped bar exp(-ρ⁴) lying in the plane of disk f at
// angle phi from its major axis, with semi-length a and axis ratio qb.
func (c *canvas) addBar(f frame, phi, a, qb, flux float64, col color) {
	// ∫ exp(-ρ^4) over an ellipse of semi-axes a, a·qb = 2π a² qb Γ(1/2)/4.
	i0 := float32(flux / (2 * math.Pi * a * a * qb * math.Gamma(0.5) / 4 * float64(f.q)))
	x0, x1, y0, y1 := c.box(f.x0, f.y0, float32(2*a))
	cp, sp := float32(math.Cos(phi)), float32(math.Sin(phi))
	invA2, invQb := float32(1/(a*a)), float32(1/qb)
	g, r, z := c.flux[bandG], c.flux[bandR], c.flux[bandZ]
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			u, v := f.local(float32(x), float32(y))
			bu, bv := u*cp+v*sp, (v*cp-u*sp)*invQb
			rho2 := (bu*bu + bv*bv) * invA2
			i := i0 * expf(-rho2*rho2)
			p := y*c.n + x
			g[p] += i * col[bandG]
			r[p] += i * col[bandR]
			z[p] += i * col[bandZ]
		}
	}
}

// addEdgeOn adds a disk seen edge-on: the line-of-sight integral of an
// exponential disk, approximated as (1+|u|/h) exp(-|u|/h), times a sech²
// vertical profile of scale height z0. f.q is ignored.
func (c *canvas) addEdgeOn(f frame, h, z0, flux float64, col color) {
	i0 := float32(flux / (8 * h * z0)) // 4h along the disk, 2z0 across
	x0, x1, y0, y1 := c.box(f.x0, f.y0, float32(12*h))
	invH, invZ := float32(1/h), float32(2/z0)
	g, r, z := c.flux[bandG], c.flux[bandR], c.flux[bandZ]
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			dx, dy := float32(x)-f.x0, float32(y)-f.y0
			u, v := abs32(dx*f.cos+dy*f.sin)*invH, abs32(dy*f.cos-dx*f.sin)*invZ
			e := expf(-v) // sech²(t) = 4e^{-2t}/(1+e^{-2t})²
			i := i0 * (1 + u) * expf(-u) * 4 * e / ((1 + e) * (1 + e))
			p := y*c.n + x
			g[p] += i * col[bandG]
			r[p] += i * col[bandR]
			z[p] += i * col[bandZ]
		}
	}
}

// dimDustLane multiplies the flux by exp(-τ_band · lane) for a dust lane of
// Gaussian half-width w, offset v0 across the major axis of the edge-on frame
// f and fading along it with scale length l. Dust reddens: τ is larger in g.
func (c *canvas) dimDustLane(f frame, v0, w, l, tau float64) {
	x0, x1, y0, y1 := c.box(f.x0, f.y0, float32(3*l))
	taus := [numBands]float32{float32(1.35 * tau), float32(tau), float32(0.65 * tau)}
	invW, invL, fv0 := float32(1/w), float32(1/l), float32(v0)
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			dx, dy := float32(x)-f.x0, float32(y)-f.y0
			u, v := (dx*f.cos+dy*f.sin)*invL, (dy*f.cos-dx*f.sin-fv0)*invW
			lane := expf(-v*v - u*u)
			p := y*c.n + x
			for b := range c.flux {
				c.flux[b][p] *= expf(-taus[b] * lane)
			}
		}
	}
}

// addBlob adds a circular Gaussian of width sigma (a star-forming knot, or a
// piece of a tidal feature).
func (c *canvas) addBlob(x, y, sigma, flux float64, col color) {
	i0 := float32(flux / (2 * math.Pi * sigma * sigma))
	x0, x1, y0, y1 := c.box(float32(x), float32(y), float32(3.5*sigma))
	inv := float32(0.5 / (sigma * sigma))
	fx, fy := float32(x), float32(y)
	g, r, z := c.flux[bandG], c.flux[bandR], c.flux[bandZ]
	for py := y0; py < y1; py++ {
		dy := float32(py) - fy
		for px := x0; px < x1; px++ {
			dx := float32(px) - fx
			i := i0 * expf(-(dx*dx+dy*dy)*inv)
			p := py*c.n + px
			g[p] += i * col[bandG]
			r[p] += i * col[bandR]
			z[p] += i * col[bandZ]
		}
	}
}

// moffatBeta is the Moffat index of point sources; 3 resembles ground-based
// seeing with its extended wings.
const moffatBeta = 3

// addStar adds a point source with a Moffat profile (1 + (r/α)²)^-β of the
// given FWHM. Stars go on after the blur: they are the PSF.
func (c *canvas) addStar(x, y, fwhm, flux float64, col color) {
	alpha := fwhm / (2 * math.Sqrt(math.Pow(2, 1.0/moffatBeta)-1))
	i0 := float32(flux * (moffatBeta - 1) / (math.Pi * alpha * alpha))
	x0, x1, y0, y1 := c.box(float32(x), float32(y), float32(8*fwhm))
	inv := float32(1 / (alpha * alpha))
	fx, fy := float32(x), float32(y)
	g, r, z := c.flux[bandG], c.flux[bandR], c.flux[bandZ]
	for py := y0; py < y1; py++ {
		dy := float32(py) - fy
		for px := x0; px < x1; px++ {
			dx := float32(px) - fx
			i := i0 * powf(1+(dx*dx+dy*dy)*inv, -moffatBeta)
			p := py*c.n + px
			g[p] += i * col[bandG]
			r[p] += i * col[bandR]
			z[p] += i * col[bandZ]
		}
	}
}

// blur convolves every band with a circular Gaussian of width sigma pixels,
// as two 1-D passes; light that leaves the image is lost.
func (c *canvas) blur(sigma float64, kernel []float32) []float32 {
	if sigma < 0.2 {
		return kernel
	}
	// Taps beyond 2.5σ would carry under 1% of the light; the kernel is
	// renormalised, so light is conserved.
	radius := max(1, int(2.5*sigma+0.5))
	kernel = kernel[:0]
	var sum float32
	for i := -radius; i <= radius; i++ {
		w := float32(math.Exp(-float64(i*i) / (2 * sigma * sigma)))
		kernel = append(kernel, w)
		sum += w
	}
	for i := range kernel {
		kernel[i] /= sum
	}
	n := c.n
	for _, plane := range c.flux {
		// Rows into tmp, then columns back into the plane; both passes add
		// shifted rows (axpy), which the compiler turns into tight loops.
		clear(c.tmp)
		for y := 0; y < n; y++ {
			row, out := plane[y*n:(y+1)*n], c.tmp[y*n:(y+1)*n]
			for k, w := range kernel {
				d := k - radius // out[x] += w·row[x+d]
				lo, hi := max(0, -d), min(n, n-d)
				axpy(out[lo:hi], row[lo+d:hi+d], w)
			}
		}
		clear(plane)
		for y := 0; y < n; y++ {
			out := plane[y*n : (y+1)*n]
			for k := max(0, y-radius); k <= min(n-1, y+radius); k++ {
				axpy(out, c.tmp[k*n:(k+1)*n], kernel[k-y+radius])
			}
		}
	}
	return kernel
}

// axpy adds w·x to y; len(x) >= len(y).
func axpy(y, x []float32, w float32) {
	x = x[:len(y)]
	for i := range y {
		y[i] += w * x[i]
	}
}
