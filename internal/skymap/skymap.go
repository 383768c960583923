// Package skymap gathers the positions of a catalog's rows, streamed batch
// by batch, and draws its sky map with plots.Sky: the positions coloured by
// predicted class and a HEALPix density map.
//
// Memory is bounded whatever the number of rows: the density counts live in
// one array of the HEALPix pixels at CountOrder (3 MiB), and the points
// drawn are a uniform random sample of at most MaxPoints positions
// (reservoir sampling with a seed, so a map is reproducible).
package skymap

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/astroformer/astroformer/catalog"
	"github.com/astroformer/astroformer/internal/plots"
)

// CountOrder is the HEALPix order at which positions are counted (pixels of
// about 0.23°); the map shows them at this order or a coarser one.
const CountOrder = 8

// MaxPoints is the most positions the upper panel draws.
const MaxPoints = 20000

// Columns are the catalog columns AddColumns reads, in its argument order.
var Columns = []string{"ra", "dec", "predicted_class"}

// Map accumulates positions. The zero value is not usable; call New.
type Map struct {
	counts  []uint32 // rows per HEALPix pixel at CountOrder (nested), allocated on the first position
	sample  []plots.SkyPoint
	seen    int64 // rows with a position
	missing int64 // rows without one
	rng     *rand.Rand

	raBins         [raBins]bool // which bins of right ascension hold a position
	decMin, decMax float64
}

// New returns an empty Map whose sample is drawn with the given seed.
func New(seed int64) *Map {
	return &Map{rng: rand.New(rand.NewPCG(uint64(seed), 0x736b796d6170))}
}

// Positions returns the number of rows with a position.
func (m *Map) Positions() int64 { return m.seen }

// Missing returns the number of rows without one: a null or non-finite ra
// or dec, or a dec outside [-90, 90].
func (m *Map) Missing() int64 { return m.missing }

// Add adds a row at (ra, dec) in degrees predicted as class; ra and dec
// that are not a position count as missing.
func (m *Map) Add(ra, dec float64, class int) {
	if math.IsNaN(ra) || math.IsInf(ra, 0) || !(dec >= -90 && dec <= 90) {
		m.missing++
		return
	}
	ra = math.Mod(ra, 360)
	if ra < 0 {
		ra += 360
	}
	if m.counts == nil {
		m.counts = make([]uint32, catalog.NPix(CountOrder))
	}
	m.counts[catalog.RaDec2Pix(CountOrder, ra, dec)]++
	m.raBins[min(int(ra*raBins/360), raBins-1)] = true
	if m.seen == 0 || dec < m.decMin {
		m.decMin = dec
	}
	if m.seen == 0 || dec > m.decMax {
		m.decMax = dec
	}
	m.seen++
	pt := plots.SkyPoint{RA: ra, Dec: dec, Class: class}
	if len(m.sample) < MaxPoints {
		m.sample = append(m.sample, pt)
	} else if j := m.rng.Int64N(m.seen); j < MaxPoints {
		m.sample[j] = pt
	}
}

// AddColumns adds the rows of a batch from its ra, dec (float64, nullable)
// and predicted_class (int16) columns; a null ra or dec counts as missing.
func (m *Map) AddColumns(ra, dec, class arrow.Array) error {
	ras, ok1 := ra.(*array.Float64)
	decs, ok2 := dec.(*array.Float64)
	classes, ok3 := class.(*array.Int16)
	if !ok1 || !ok2 || !ok3 {
		return fmt.Errorf("skymap: ra, dec and predicted_class are %s, %s and %s; expected float64, float64 and int16",
			ra.DataType(), dec.DataType(), class.DataType())
	}
	for i := range ras.Len() {
		if ras.IsNull(i) || decs.IsNull(i) {
			m.missing++
			continue
		}
		m.Add(ras.Value(i), decs.Value(i), int(classes.Value(i)))
	}
	return nil
}

// Summary describes a drawn map.
type Summary struct {
	Positions, Missing int64
	Drawn              int  // points in the upper panel
	Order              int  // HEALPix order of the density map
	AllSky             bool // Mollweide projection of the whole sky, else a zoomed window
}

// Caption is a sentence about the map for a report or a console.
func (s Summary) Caption() string {
	text := fmt.Sprintf("%d positions", s.Positions)
	if int64(s.Drawn) < s.Positions {
		text += fmt.Sprintf(" (a uniform random sample of %d drawn)", s.Drawn)
	}
	text += fmt.Sprintf("; %d rows without ra/dec left off. ", s.Missing)
	if s.AllSky {
		text += "Whole sky, Mollweide projection centred on ra 180°; "
	} else {
		text += "Zoomed to the catalog's footprint, plate carrée; "
	}
	npix := catalog.NPix(s.Order)
	return text + fmt.Sprintf("right ascension increases to the left. The lower panel counts rows per HEALPix pixel "+
		"(order %d, nside %d, %.3g deg² a pixel) divided by the pixel area; grey pixels hold none, and pixels on "+
		"the footprint's edge, only partly inside it, look sparser than they are.",
		s.Order, catalog.NSide(s.Order), fullSky/float64(npix))
}

// fullSky is the area of the sphere in square degrees.
const fullSky = 4 * math.Pi * (180 / math.Pi) * (180 / math.Pi)

// Draw writes the sky map as PNG: classes names the predicted classes.
// It fails when no row had a position.
func (m *Map) Draw(w io.Writer, title string, classes []string) (Summary, error) {
	s := Summary{Positions: m.seen, Missing: m.missing, Drawn: len(m.sample)}
	if m.seen == 0 {
		return s, fmt.Errorf("skymap: no row has a position (%d rows without ra/dec)", m.missing)
	}
	win := m.window()
	s.AllSky = win == nil
	s.Order = m.displayOrder(win)
	counts := m.degrade(s.Order)
	area := fullSky / float64(catalog.NPix(s.Order))
	err := plots.Sky(w, plots.SkyMap{
		Title: title, Classes: classes, Points: m.sample, Window: win,
		DensityTitle: fmt.Sprintf("density (HEALPix order %d)", s.Order),
		DensityLabel: "rows per deg²",
		Density: func(ra, dec float64) float64 {
			return float64(counts[catalog.RaDec2Pix(s.Order, ra, dec)]) / area
		},
	})
	return s, err
}

// degrade returns the counts at a coarser order.
func (m *Map) degrade(order int) map[int64]uint32 {
	out := map[int64]uint32{}
	for pix, n := range m.counts {
		if n > 0 {
			out[catalog.ParentPix(int64(pix), CountOrder, order)] += n
		}
	}
	return out
}
