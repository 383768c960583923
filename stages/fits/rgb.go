package fits

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
)

// Scale places a band in the colour composite: the RGB plane it is drawn
// in (0 red, 1 green, 2 blue) and the factor its flux is multiplied by.
type Scale struct {
	Plane  int
	Factor float64
}

// MarshalJSON writes a Scale as [plane, factor], the form of the job file.
func (s Scale) MarshalJSON() ([]byte, error) {
	return json.Marshal([2]float64{float64(s.Plane), s.Factor})
}

// Scheme is the colour scheme of the Legacy Surveys sky viewer, the asinh
// stretch of legacypipe's sdss_rgb with the per-band scales of dr2_rgb (the
// images of legacysurvey.org/viewer and of Galaxy10 DECals). For bands b
// with flux f_b (nanomaggies) and scale (plane_b, s_b), per pixel:
//
//	v_b = f_b·s_b + M
//	I   = mean over the bands of max(0, v_b)
//	rgb[plane_b] = clip(v_b · asinh(Q·I) / (sqrt(Q)·I), 0, 1)   (0 where I = 0)
//	byte = round(255 · rgb)
//
// Planes no band maps to stay 0. A single band is drawn in all three
// planes (grayscale), as the viewer does for single-band layers.
type Scheme struct {
	Scales map[string]Scale `json:"scales"`
	M      float64          `json:"m"`
	Q      float64          `json:"q"`
}

// LegacyScheme returns the viewer's parameters: g → blue ×6.0, r → green
// ×3.4, z → red ×2.2 (dr2_rgb), u → blue ×1.5 and i → red ×1.0 (sdss_rgb),
// M = 0.03, Q = 20.
func LegacyScheme() Scheme {
	return Scheme{
		Scales: map[string]Scale{
			"u": {2, 1.5},
			"g": {2, 6.0},
			"r": {1, 3.4},
			"i": {0, 1.0},
			"z": {0, 2.2},
		},
		M: 0.03,
		Q: 20,
	}
}

// Check reports whether bands can be composited: each has a scale, and no
// two share a plane.
func (s Scheme) Check(bands []string) error {
	used := map[int]string{}
	for _, b := range bands {
		sc, ok := s.Scales[b]
		if !ok {
			return fmt.Errorf("band %q has no colour scale (known: %s); add it to rgb_scales", b, s.known())
		}
		if prev, dup := used[sc.Plane]; dup && len(bands) > 1 {
			return fmt.Errorf("bands %q and %q are both drawn in RGB plane %d; change rgb_scales", prev, b, sc.Plane)
		}
		used[sc.Plane] = b
	}
	return nil
}

func (s Scheme) known() string {
	var names []string
	for b := range s.Scales {
		names = append(names, b)
	}
	sort.Strings(names)
	out, _ := json.Marshal(names)
	return string(out)
}

// Metadata returns the scheme as table metadata entries.
func (s Scheme) Metadata() map[string]string {
	scales, _ := json.Marshal(s.Scales)
	return map[string]string{
		MetaRGB:       "Legacy Surveys viewer asinh scheme (legacypipe sdss_rgb with the dr2_rgb scales); single band: grayscale",
		MetaRGBScales: string(scales),
		MetaRGBM:      strconv.FormatFloat(s.M, 'g', -1, 64),
		MetaRGBQ:      strconv.FormatFloat(s.Q, 'g', -1, 64),
	}
}

// RGB composites planes (one per band, each h×w row-major in output
// order) into HWC RGB bytes. The bands must pass Check and the fluxes
// must be finite.
func (s Scheme) RGB(planes [][]float32, bands []string, h, w int) []byte {
	out := make([]byte, 3*h*w)
	factor := make([]float64, len(bands))
	plane := make([]int, len(bands))
	for k, b := range bands {
		factor[k], plane[k] = s.Scales[b].Factor, s.Scales[b].Plane
	}
	sqrtQ := math.Sqrt(s.Q)
	v := make([]float64, len(bands))
	for i := range h * w {
		var sum float64
		for k := range bands {
			v[k] = float64(planes[k][i])*factor[k] + s.M
			sum += max(0, v[k])
		}
		I := sum / float64(len(bands))
		if I == 0 {
			continue // asinh(0) = 0: black
		}
		f := math.Asinh(s.Q*I) / (sqrtQ * I)
		px := out[3*i : 3*i+3]
		if len(bands) == 1 {
			b := toByte(v[0] * f)
			px[0], px[1], px[2] = b, b, b
			continue
		}
		for k := range bands {
			px[plane[k]] = toByte(v[k] * f)
		}
	}
	return out
}

// toByte maps [0, 1] to 0..255, rounding to nearest; values outside are
// clipped.
func toByte(x float64) byte {
	return byte(math.Round(255 * max(0, min(1, x))))
}
