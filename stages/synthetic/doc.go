// Package synthetic is astroformer's embedded default data source: a survey
// of Galaxy10 DECaLS-like colour cutouts drawn from simple physical models,
// and the stage kind "synthetic" that writes them as a cutouts table.
//
// # Model
//
// A galaxy is a sum of analytic components, evaluated per pixel as g, r and
// z flux (float32):
//
//   - Sérsic profiles I(R) = Ie exp(-b_n((R/Re)^(1/n) - 1)), with b_n from
//     the Ciotti & Bertin expansion, for ellipticals and bulges;
//   - thin exponential disks at a random inclination i (axis ratio cos i)
//     and position angle, whose light is partly gathered into 2 to 4
//     logarithmic spiral arms r ∝ exp(θ tan p), with crest profile
//     ((1+cos ψ)/2)^k;
//   - flat-topped bars exp(-ρ⁴) in the disk plane, the arms starting at
//     their ends;
//   - edge-on disks (1+|x|/h)exp(-|x|/h)·sech²(z/z0), with an optional dust
//     lane that dims g more than z;
//   - star-forming knots, tidal bridges, tails and shells as Gaussians.
//
// Old populations (ellipticals, bulges, bars) are red, disks bluer, arms and
// knots bluest; colours redden slightly with redshift. The light is blurred
// by a Gaussian PSF of seeing FWHM 1.0″ to 1.6″, foreground stars are added as
// Moffat profiles (β = 3) of the same FWHM, then sky and read noise plus the
// Poisson noise of the source, and the g, r, z planes are mapped to 8-bit RGB
// with the asinh stretch of Lupton et al. (2004) (constants in rgb.go).
// Sizes, brightness, centring, seeing and sky level vary per object.
//
// # Classes
//
// The classes overlap at their boundaries, as Galaxy10's do:
//
//	Round Smooth               Sérsic n 2.5–5, axis ratio 0.74–1
//	In-between Round Smooth    n 1.5–4, axis ratio 0.44–0.76
//	Cigar Shaped Smooth        n 0.8–2.5, axis ratio 0.18–0.46
//	Barred Spiral              bar with 5–30% of the light, pitch 8°–28°
//	Unbarred Tight Spiral      pitch 6°–17°, bulge 10–40%; 30% with a weak oval (≤ 4%)
//	Unbarred Loose Spiral      pitch 15°–32°, bulge 3–25%, more knots
//	Edge-on without Bulge      bulge 0–12% of the light
//	Edge-on with Bulge         bulge 10–50% of the light
//	Merging                    two overlapping galaxies, a tidal bridge, often tails
//	Disturbed                  a lopsided clumpy disk with a tail, or an
//	                           elliptical with shells and a plume
//
// # Determinism
//
// Object i of seed s is a pure function of (s, i) and the Options: its class
// comes from the additive recurrence described at Renderer.Class, every other
// draw from a PCG generator seeded by (s, i). Rendering in any number of
// goroutines, in chunks, or resumed after an interruption gives identical
// bytes on a given platform. Object i is named ObjectID(i), "SYN-00000017";
// the seed is recorded in the table metadata (MetaSeed). Positions are
// uniform in solid angle over a Footprint; a cutout of size pixels always
// covers the 67″ field of a Galaxy10 DECaLS image, so its pixel scale is
// PixelScale(size) (1.048″ at 64 pixels).
package synthetic
