package fits

import (
	"fmt"
	"math"
	"strings"

	"github.com/astroformer/astroformer/stages/fits/internal/fitsfile"
)

// tan is a celestial world coordinate system in the gnomonic (TAN)
// projection (Calabretta & Greisen 2002, "Representations of celestial
// coordinates in FITS", A&A 395, 1077): FITS pixel coordinates (1-based,
// pixel centres at integers) to right ascension and declination in
// degrees. SIP distortion terms, when present, are ignored.
type tan struct {
	crpix  [2]float64    // reference pixel
	crval  [2]float64    // sky position of the reference pixel, deg
	cd     [2][2]float64 // pixel to intermediate world coordinates, deg/pixel
	lonpol float64       // native longitude of the celestial pole, deg
}

// parseTAN reads the WCS keywords of h. It returns nil and the reason
// when h has no usable celestial TAN WCS (no CTYPE keywords, another
// projection or frame, missing keywords, a singular matrix); an error
// when a keyword has the wrong type.
func parseTAN(h *fitsfile.Header) (*tan, string, error) {
	c1, ok1, err := h.String("CTYPE1")
	if err != nil {
		return nil, "", err
	}
	c2, ok2, err := h.String("CTYPE2")
	if err != nil {
		return nil, "", err
	}
	switch {
	case !ok1 && !ok2:
		return nil, "no WCS (CTYPE1, CTYPE2)", nil
	case !isTAN(c1, "RA") || !isTAN(c2, "DEC"):
		return nil, fmt.Sprintf("CTYPE1 = %q, CTYPE2 = %q: only RA---TAN and DEC--TAN are supported", c1, c2), nil
	}
	if sys, ok, err := h.String("RADESYS"); err != nil {
		return nil, "", err
	} else if ok && sys != "ICRS" && sys != "FK5" {
		return nil, fmt.Sprintf("RADESYS = %q: only ICRS and FK5 (J2000) are supported", sys), nil
	}
	if eq, ok, err := h.Float("EQUINOX"); err != nil {
		return nil, "", err
	} else if ok && eq != 2000 {
		return nil, fmt.Sprintf("EQUINOX = %g: only J2000 is supported", eq), nil
	}
	for _, k := range []string{"CUNIT1", "CUNIT2"} {
		if u, ok, err := h.String(k); err != nil {
			return nil, "", err
		} else if ok && u != "deg" && u != "" {
			return nil, fmt.Sprintf("%s = %q: expected deg", k, u), nil
		}
	}
	w := &tan{lonpol: 180}
	for i, k := range []string{"CRPIX1", "CRPIX2", "CRVAL1", "CRVAL2"} {
		v, ok, err := h.Float(k)
		if err != nil {
			return nil, "", err
		}
		if !ok {
			return nil, k + " is missing", nil
		}
		if i < 2 {
			w.crpix[i] = v
		} else {
			w.crval[i-2] = v
		}
	}
	if d := w.crval[1]; d < -90 || d > 90 {
		return nil, fmt.Sprintf("CRVAL2 = %g is not a declination", d), nil
	}
	if v, ok, err := h.Float("LONPOLE"); err != nil {
		return nil, "", err
	} else if ok {
		w.lonpol = v
	}
	why, err := w.readMatrix(h)
	if why != "" || err != nil {
		return nil, why, err
	}
	if det := w.cd[0][0]*w.cd[1][1] - w.cd[0][1]*w.cd[1][0]; det == 0 {
		return nil, "the CD matrix is singular", nil
	}
	return w, "", nil
}

// isTAN reports whether ctype is axis ("RA" or "DEC") padded with '-' to
// four characters, then "-TAN" and optionally "-SIP".
func isTAN(ctype, axis string) bool {
	want := axis + strings.Repeat("-", 4-len(axis)) + "-TAN"
	return ctype == want || ctype == want+"-SIP"
}

// readMatrix sets w.cd from the CDi_j keywords (missing ones are 0), or
// from PCi_j (default the identity) scaled by CDELTi, or from CDELTi and
// CROTA2 (AIPS convention).
func (w *tan) readMatrix(h *fitsfile.Header) (why string, err error) {
	w.cd = [2][2]float64{}
	if hasCD, err := readKeyMatrix(h, "CD", &w.cd); err != nil || hasCD {
		return "", err
	}
	var cdelt [2]float64
	for i, k := range []string{"CDELT1", "CDELT2"} {
		v, ok, err := h.Float(k)
		if err != nil {
			return "", err
		}
		if !ok {
			return "neither CDi_j nor " + k + " is set", nil
		}
		cdelt[i] = v
	}
	pc := [2][2]float64{{1, 0}, {0, 1}}
	hasPC, err := readKeyMatrix(h, "PC", &pc)
	if err != nil {
		return "", err
	}
	if !hasPC {
		rot, _, err := h.Float("CROTA2")
		if err != nil {
			return "", err
		}
		s, c := math.Sincos(rot * math.Pi / 180)
		if cdelt[0] == 0 || cdelt[1] == 0 {
			return "CDELT1 or CDELT2 is 0", nil
		}
		pc = [2][2]float64{{c, -s * cdelt[1] / cdelt[0]}, {s * cdelt[0] / cdelt[1], c}}
	}
	for i := range 2 {
		for j := range 2 {
			w.cd[i][j] = cdelt[i] * pc[i][j]
		}
	}
	return "", nil
}

// readKeyMatrix sets each entry m[i][j] whose keyword prefix+"i_j" (1-based)
// is set in h to its value, keeping the others, and reports whether any was.
func readKeyMatrix(h *fitsfile.Header, prefix string, m *[2][2]float64) (set bool, err error) {
	for i := range 2 {
		for j := range 2 {
			v, ok, err := h.Float(fmt.Sprintf("%s%d_%d", prefix, i+1, j+1))
			if err != nil {
				return false, err
			}
			if ok {
				m[i][j], set = v, true
			}
		}
	}
	return set, nil
}

// sky returns the right ascension in [0, 360) and the declination, in
// degrees, of FITS pixel coordinates (x, y); ok is false when they are not
// finite (extreme header values).
func (w *tan) sky(x, y float64) (ra, dec float64, ok bool) {
	const rad = math.Pi / 180
	dx, dy := x-w.crpix[0], y-w.crpix[1]
	// Intermediate world coordinates, degrees.
	ix := w.cd[0][0]*dx + w.cd[0][1]*dy
	iy := w.cd[1][0]*dx + w.cd[1][1]*dy
	// Native spherical coordinates of the gnomonic projection.
	phi := math.Atan2(ix, -iy)
	theta := math.Atan2(1/rad, math.Hypot(ix, iy))
	// Rotation to celestial coordinates, with the reference point at the
	// native pole (zenithal projections): alpha_p, delta_p = CRVAL.
	sinT, cosT := math.Sincos(theta)
	sinD, cosD := math.Sincos(w.crval[1] * rad)
	sinP, cosP := math.Sincos(phi - w.lonpol*rad)
	a := math.Atan2(-cosT*sinP, sinT*cosD-cosT*sinD*cosP)
	d := math.Asin(max(-1, min(1, sinT*sinD+cosT*cosD*cosP)))
	ra = math.Mod(w.crval[0]+a/rad, 360)
	if ra < 0 {
		ra += 360
	}
	if ra >= 360 { // -tiny + 360 rounds to 360
		ra = 0
	}
	dec = d / rad
	return ra, dec, !math.IsNaN(ra) && !math.IsNaN(dec)
}

// scale returns the pixel scale in arcsec per pixel, the square root of
// the absolute determinant of the CD matrix; ok is false when it is not
// positive and finite.
func (w *tan) scale() (arcsec float64, ok bool) {
	det := w.cd[0][0]*w.cd[1][1] - w.cd[0][1]*w.cd[1][0]
	arcsec = math.Sqrt(math.Abs(det)) * 3600
	return arcsec, arcsec > 0 && !math.IsInf(arcsec, 0)
}
