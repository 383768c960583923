package synthetic

import "math"

// The colour mapping follows Lupton et al. (2004, PASP 116, 133), as used for
// survey colour images such as the Legacy Survey cutouts behind Galaxy10
// DECaLS: z, r and g drive red, green and blue; the three scaled fluxes share
// one asinh stretch of their mean, so colours are preserved from the faint
// outskirts to the bright centre.
const (
	// Scale of each band in the red, green and blue channels; chosen so that
	// a typical disk (g-r ≈ 0.55, r-z ≈ 0.4) looks nearly white, old bulges
	// yellow-orange and star-forming arms and knots blue.
	scaleZ = 0.69
	scaleR = 1.0
	scaleG = 1.66
	// asinhSoft is where the stretch turns from linear to logarithmic, in
	// flux per pixel; the sky noise is about 1.
	asinhSoft = 4.0
	// asinhSat is the mean channel flux that maps to full scale.
	asinhSat = 200.0
)

// toRGB writes the canvas as 8-bit RGB, row-major, HWC.
func (c *canvas) toRGB(dst []uint8) {
	const invSoft = 1 / asinhSoft
	norm := float32(1 / math.Asinh(asinhSat/asinhSoft))
	g, r, z := c.flux[bandG], c.flux[bandR], c.flux[bandZ]
	for p := range g {
		red, green, blue := max(0, z[p]*scaleZ), max(0, r[p]*scaleR), max(0, g[p]*scaleG)
		mean := (red + green + blue) * (1.0 / 3)
		q := dst[3*p : 3*p+3 : 3*p+3]
		if mean <= 0 {
			q[0], q[1], q[2] = 0, 0, 0
			continue
		}
		x := mean * invSoft
		k := logf(x+float32(math.Sqrt(float64(x*x+1)))) * norm / mean // asinh
		red, green, blue = red*k, green*k, blue*k
		if top := max(red, green, blue); top > 1 {
			red, green, blue = red/top, green/top, blue/top
		}
		q[0], q[1], q[2] = uint8(red*255+0.5), uint8(green*255+0.5), uint8(blue*255+0.5)
	}
}
