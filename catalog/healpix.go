package catalog

import (
	"fmt"
	"math"
)

// MaxOrder is the deepest HEALPix order supported: nside = 2^29, the order
// of the hats spatial index column _healpix_29.
const MaxOrder = 29

// NSide returns the HEALPix resolution parameter of an order: 2^order.
func NSide(order int) int64 { return 1 << order }

// NPix returns the number of pixels of the sphere at an order: 12·4^order.
func NPix(order int) int64 { return 12 << (2 * order) }

// Resolution returns the mean angular size of a pixel at an order, in
// radians: the square root of its area, sqrt(4π / NPix).
func Resolution(order int) float64 {
	return math.Sqrt(4 * math.Pi / float64(NPix(order)))
}

func checkOrder(order int) {
	if order < 0 || order > MaxOrder {
		panic(fmt.Sprintf("catalog: HEALPix order %d out of range 0..%d", order, MaxOrder))
	}
}

// Ang2Pix returns the nested-scheme HEALPix pixel at the given order that
// contains the direction of colatitude theta ∈ [0, π] and longitude phi
// (radians; any value, taken modulo 2π). It panics for an order outside
// 0..MaxOrder.
//
// The sphere is cut into 12 base pixels (faces): four around each pole and
// four on the equator. Points with |cos θ| ≤ 2/3 are in the equatorial
// region, where pixel boundaries are straight lines in (φ, cos θ); beyond it
// they are curves along which (1 - |cos θ|) scales with the square of the
// distance from the pole. Within its face a point gets integer coordinates
// (x, y) in [0, nside), and the nested index interleaves their bits: face ·
// nside² + Σ (x_i 2^(2i) + y_i 2^(2i+1)).
func Ang2Pix(order int, theta, phi float64) int64 {
	checkOrder(order)
	z := math.Cos(theta)
	// Near the poles 1 - |z| loses precision; sin θ keeps it.
	return zPhi2Pix(order, z, math.Sin(theta), phi)
}

// RaDec2Pix is Ang2Pix for a right ascension and declination in degrees
// (θ = 90° - dec, φ = ra).
func RaDec2Pix(order int, ra, dec float64) int64 {
	checkOrder(order)
	d := dec * math.Pi / 180
	return zPhi2Pix(order, math.Sin(d), math.Cos(d), ra*math.Pi/180)
}

// zPhi2Pix finds the pixel of the direction with z = cos θ, sinTheta = sin θ
// (≥ 0) and longitude phi.
func zPhi2Pix(order int, z, sinTheta, phi float64) int64 {
	nside := NSide(order)
	za := math.Abs(z)
	tt := math.Mod(phi*2/math.Pi, 4) // φ in units of quarter turns, [0, 4)
	if tt < 0 {
		tt += 4
	}
	if tt >= 4 { // a tiny negative φ rounds up to 4
		tt = 0
	}
	var face, x, y int64
	if za <= 2.0/3 {
		// Equatorial region. Pixel boundaries are the lines of constant
		// tt ± 3z/4 (in units of 1/nside): jp counts the ascending lines
		// crossed, jm the descending ones.
		a := float64(nside) * (0.5 + tt)
		b := float64(nside) * z * 0.75
		jp := int64(a - b)
		jm := int64(a + b)
		fp, fm := jp>>order, jm>>order // which face diagonal, 0..4
		switch {
		case fp == fm: // an equatorial face
			face = fp | 4
		case fp < fm: // a northern face
			face = fp
		default: // a southern face
			face = fm + 8
		}
		x = jm & (nside - 1)
		y = nside - (jp & (nside - 1)) - 1
	} else {
		// Polar caps. Within a quarter turn ntt, the distance from the pole
		// in pixel units is nside·sqrt(3(1-|z|)).
		ntt := min(int64(tt), 3)
		tp := tt - float64(ntt)
		var r float64
		if za < 0.99 {
			r = float64(nside) * math.Sqrt(3*(1-za))
		} else { // 1-|z| = sin²θ/(1+|z|), without cancellation
			r = float64(nside) * sinTheta / math.Sqrt((1+za)/3)
		}
		jp := min(int64(tp*r), nside-1)     // ascending edge lines crossed
		jm := min(int64((1-tp)*r), nside-1) // descending edge lines crossed
		if z >= 0 {
			face, x, y = ntt, nside-jm-1, nside-jp-1
		} else {
			face, x, y = ntt+8, jp, jm
		}
	}
	return face<<(2*order) | spreadBits(x) | spreadBits(y)<<1
}

// faceRing returns the ring of the southern corner of a base pixel, in
// units of nside: 2 for the northern faces 0-3, 3 for the equatorial faces
// 4-7, 4 for the southern faces 8-11.
func faceRing(face int64) int64 { return 2 + face/4 }

// faceLon returns the longitude of the centre of a base pixel in units of
// π/4: 1, 3, 5, 7 for the polar faces, 0, 2, 4, 6 for the equatorial ones.
func faceLon(face int64) int64 {
	if face/4 == 1 {
		return 2 * (face % 4)
	}
	return 2*(face%4) + 1
}

// Pix2Ang returns the colatitude θ and longitude φ ∈ [0, 2π) of the centre
// of nested pixel pix at the given order. It panics for an order outside
// 0..MaxOrder or a pixel outside 0..NPix(order)-1.
func Pix2Ang(order int, pix int64) (theta, phi float64) {
	checkOrder(order)
	if pix < 0 || pix >= NPix(order) {
		panic(fmt.Sprintf("catalog: HEALPix pixel %d out of range 0..%d at order %d", pix, NPix(order)-1, order))
	}
	nside := NSide(order)
	face := pix >> (2 * order)
	within := pix & (nside*nside - 1)
	x, y := compactBits(within), compactBits(within>>1)
	ring := faceRing(face)*nside - x - y - 1 // ring index from the north pole, 1..4nside-1
	var nr int64                             // pixels per quarter turn on that ring
	var z, sinTheta float64
	npix := float64(NPix(order))
	switch {
	case ring < nside: // north cap
		nr = ring
		t := float64(nr*nr) * 4 / npix // 1 - z
		z, sinTheta = 1-t, math.Sqrt(t*(2-t))
	case ring > 3*nside: // south cap
		nr = 4*nside - ring
		t := float64(nr*nr) * 4 / npix
		z, sinTheta = t-1, math.Sqrt(t*(2-t))
	default:
		nr = nside
		z = float64(2*nside-ring) * 8 * float64(nside) / npix
		sinTheta = math.Sqrt((1 - z) * (1 + z))
	}
	t := faceLon(face)*nr + x - y // longitude in units of π/(4 nr)
	if t < 0 {
		t += 8 * nr
	}
	phi = math.Pi / 4 * float64(t) / float64(nr)
	return math.Atan2(sinTheta, z), phi
}

// Pix2RaDec is Pix2Ang in degrees: the right ascension and declination of
// the pixel centre.
func Pix2RaDec(order int, pix int64) (ra, dec float64) {
	theta, phi := Pix2Ang(order, pix)
	return phi * 180 / math.Pi, 90 - theta*180/math.Pi
}

// ParentPix returns the pixel at order to that contains nested pixel pix
// at order from ≥ to.
func ParentPix(pix int64, from, to int) int64 {
	return pix >> (2 * (from - to))
}

// spreadBits moves bit i of v (v < 2^32) to bit 2i.
func spreadBits(v int64) int64 {
	u := uint64(v) & 0xffffffff
	u = (u | u<<16) & 0x0000ffff0000ffff
	u = (u | u<<8) & 0x00ff00ff00ff00ff
	u = (u | u<<4) & 0x0f0f0f0f0f0f0f0f
	u = (u | u<<2) & 0x3333333333333333
	u = (u | u<<1) & 0x5555555555555555
	return int64(u)
}

// compactBits is the inverse of spreadBits: it moves bit 2i of v to bit i,
// ignoring the odd bits.
func compactBits(v int64) int64 {
	u := uint64(v) & 0x5555555555555555
	u = (u | u>>1) & 0x3333333333333333
	u = (u | u>>2) & 0x0f0f0f0f0f0f0f0f
	u = (u | u>>4) & 0x00ff00ff00ff00ff
	u = (u | u>>8) & 0x0000ffff0000ffff
	u = (u | u>>16) & 0x00000000ffffffff
	return int64(u)
}
