package skymap

import (
	"math"

	"github.com/astroformer/astroformer/catalog"
	"github.com/astroformer/astroformer/internal/plots"
)

// raBins is the number of bins of right ascension, 0.1° each, in which the
// footprint's extent is found.
const raBins = 3600

// Limits of a zoomed map: a footprint wider than maxZoomWidth degrees on the
// sky, or taller than maxZoomHeight, or reaching past ±maxZoomDec, is drawn
// on the whole sky.
const (
	maxZoomWidth  = 150
	maxZoomHeight = 100
	maxZoomDec    = 80
)

// window returns the zoomed view of the positions, with a margin, or nil
// for the whole sky.
func (m *Map) window() *plots.SkyWindow {
	centre, halfWidth := m.raExtent()
	margin := 0.05*(m.decMax-m.decMin) + 0.1
	w := plots.SkyWindow{RA: centre, HalfWidth: halfWidth, DecMin: m.decMin - margin, DecMax: m.decMax + margin}
	cos := math.Cos((w.DecMin + w.DecMax) / 2 * math.Pi / 180)
	if 2*halfWidth*cos > maxZoomWidth || w.DecMax-w.DecMin > maxZoomHeight ||
		w.DecMin < -maxZoomDec || w.DecMax > maxZoomDec {
		return nil
	}
	w.HalfWidth = w.HalfWidth*1.05 + 0.1/cos
	// Keep the panel between 3:1 and 1:1 by widening the narrow side.
	if a := w.Aspect(); a < 1.0/3 {
		grow := (w.DecMax - w.DecMin) * (1/(3*a) - 1) / 2
		w.DecMin, w.DecMax = max(w.DecMin-grow, -90), min(w.DecMax+grow, 90)
	} else if a > 1 {
		w.HalfWidth *= a
	}
	return &w
}

// raExtent returns the centre of the smallest arc of right ascension that
// holds every position, and half its width, from the largest run of empty
// bins around the circle.
func (m *Map) raExtent() (centre, halfWidth float64) {
	bestStart, bestLen := 0, 0
	for start := 0; start < raBins; start++ {
		if m.raBins[start] || !m.raBins[(start+raBins-1)%raBins] {
			continue // not the first empty bin of a run
		}
		n := 0
		for n < raBins && !m.raBins[(start+n)%raBins] {
			n++
		}
		if n > bestLen {
			bestStart, bestLen = start, n
		}
	}
	// The positions lie from the end of the gap to its start, around the circle.
	from := float64(bestStart+bestLen) * 360 / raBins
	width := float64(raBins-bestLen) * 360 / raBins
	return math.Mod(from+width/2, 360), width / 2
}

// Choice of the density map's order: coarsen from CountOrder while the
// occupied pixels hold fewer than minPerPixel rows on average and the view
// stays at least minAcross pixels across.
const (
	minPerPixel = 10
	minAcross   = 16
)

// displayOrder returns the HEALPix order of the density map of a view (nil:
// the whole sky).
func (m *Map) displayOrder(w *plots.SkyWindow) int {
	across := 360.0
	if w != nil {
		cos := math.Cos((w.DecMin + w.DecMax) / 2 * math.Pi / 180)
		across = max(2*w.HalfWidth*cos, w.DecMax-w.DecMin)
	}
	order := CountOrder
	for order > 0 {
		occupied := len(m.degrade(order))
		coarser := catalog.Resolution(order-1) * 180 / math.Pi
		if float64(m.seen)/float64(occupied) >= minPerPixel || across/coarser < minAcross {
			break
		}
		order--
	}
	return order
}
