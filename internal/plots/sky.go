package plots

import (
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// SkyPoint is a position on the sky in degrees and the index of the class
// it is drawn as.
type SkyPoint struct {
	RA, Dec float64
	Class   int
}

// SkyMap is the content of the figure Sky draws.
type SkyMap struct {
	Title   string     // of the upper panel, the positions
	Classes []string   // names of the classes SkyPoint.Class indexes
	Points  []SkyPoint // positions; those of a class outside Classes are left off
	Window  *SkyWindow // the zoomed view; nil draws the whole sky (Mollweide)

	DensityTitle string // of the lower panel
	DensityLabel string // of its colour scale, e.g. "objects per deg²"
	// Density returns the value the lower panel shows at a position: 0 where
	// there is nothing (drawn light grey), positive values on a colour scale.
	// A nil Density leaves the lower panel out.
	Density func(ra, dec float64) float64
}

// Layout of the sky map, in inches.
const (
	skyWidth       = 10.0
	skyLegendWidth = 3.2 // room for "In-between Round Smooth Galaxies (12345)"
	skyRaster      = 480 // columns of the density raster
)

// Colours of the parts of the density map that hold no value.
var (
	skyEmpty   = color.RGBA{0xe4, 0xe4, 0xe4, 0xff} // on the map, no objects
	skyOutside = color.RGBA{0xff, 0xff, 0xff, 0xff} // off the projection
	skyGrid    = color.RGBA{0x99, 0x99, 0x99, 0xff}
)

// Sky draws a sky map and writes it to w as PNG: an upper panel with the
// positions coloured (and, past eight classes, shaped) by class and a legend
// with the number of points of each class, and a lower panel with
// m.Density on a colour scale. A zoomed window is drawn in plate carrée with
// right ascension increasing to the left and a degree equally long along
// both axes at the window's centre; the whole sky is drawn in the
// equal-area Mollweide projection centred on ra 180°, with a graticule every
// 30° of declination and 60° of right ascension.
func Sky(w io.Writer, m SkyMap) error {
	if len(m.Classes) == 0 {
		return fmt.Errorf("plots: sky map without classes")
	}
	var proj projection = mollweide{}
	aspect := 0.5
	if m.Window != nil {
		if !(m.Window.HalfWidth > 0 && m.Window.HalfWidth <= 180 && m.Window.DecMin < m.Window.DecMax) {
			return fmt.Errorf("plots: sky window %+v is empty", *m.Window)
		}
		win := window{*m.Window}
		proj, aspect = win, math.Min(math.Max(win.Aspect(), 0.2), 1.2)
	}
	panelW := skyWidth - skyLegendWidth
	panelH := (panelW-0.8)*aspect + 0.8
	panels := 1
	if m.Density != nil {
		panels = 2
	}
	width, height := vg.Length(skyWidth)*vg.Inch, vg.Length(panelH*float64(panels))*vg.Inch
	canvas := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(DPI))
	dc := draw.New(canvas)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	split := vg.Length(panelW) * vg.Inch
	row := vg.Length(panelH) * vg.Inch

	top := draw.Crop(dc, 0, 0, height-row+vg.Points(8), 0)
	positionPanel(m, proj).Draw(draw.Crop(top, 0, split-width, 0, 0))
	legend := classLegend(m)
	legend.Draw(draw.Crop(top, split+vg.Points(6), 0, 0, -vg.Points(24)))
	if m.Density != nil {
		bottom := draw.Crop(dc, 0, 0, 0, row-height)
		p, scale := densityPanel(m, proj)
		p.Draw(draw.Crop(bottom, 0, split-width, 0, 0))
		scale.Draw(draw.Crop(bottom, split+vg.Points(6), -vg.Length(skyLegendWidth-0.8)*vg.Inch, vg.Points(30), -vg.Points(30)))
	}
	if _, err := (vgimg.PngCanvas{Canvas: canvas}).WriteTo(w); err != nil {
		return fmt.Errorf("plots: writing PNG: %w", err)
	}
	return nil
}

// skyPlot returns an empty plot of the projection's plane with its frame:
// axes in degrees for a window, a graticule for the whole sky.
func skyPlot(title string, proj projection) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	xmin, xmax, ymin, ymax := proj.bounds()
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = xmin, xmax, ymin, ymax
	p.X.Padding, p.Y.Padding = 0, 0
	switch pr := proj.(type) {
	case window:
		p.X.Label.Text = "right ascension (deg)"
		p.Y.Label.Text = "declination (deg)"
		p.X.Tick.Marker = raTicks(pr.RA)
	case mollweide:
		p.HideAxes()
	}
	return p
}

// raTicks labels the x axis of a window centred on ra0 with right
// ascensions.
func raTicks(ra0 float64) plot.Ticker {
	return plot.TickerFunc(func(min, max float64) []plot.Tick {
		ticks := plot.DefaultTicks{}.Ticks(min, max)
		for i, t := range ticks {
			if t.Label == "" {
				continue
			}
			decimals := 0
			if dot := strings.IndexByte(t.Label, '.'); dot >= 0 {
				decimals = len(t.Label) - dot - 1
			}
			ra := math.Mod(ra0-t.Value+720, 360)
			ticks[i].Label = fmt.Sprintf("%.*f", decimals, ra)
		}
		return ticks
	})
}

// addGraticule draws the outline of the Mollweide ellipse and its
// graticule, with right ascensions along the equator.
func addGraticule(p *plot.Plot, proj projection) {
	line := func(pts plotter.XYs) {
		l, err := plotter.NewLine(pts)
		if err != nil {
			return // only for non-finite points, which the projection does not make
		}
		l.LineStyle = draw.LineStyle{Color: skyGrid, Width: vg.Points(0.5)}
		p.Add(l)
	}
	const steps = 90
	for dec := -60.0; dec <= 60; dec += 30 {
		pts := make(plotter.XYs, 0, steps+1)
		for i := range steps + 1 {
			x, y := proj.forward(180-179.999+359.998*float64(i)/steps, dec)
			pts = append(pts, plotter.XY{X: x, Y: y})
		}
		line(pts)
	}
	var labels plotter.XYLabels
	for ra := 0.0; ra < 360; ra += 60 {
		pts := make(plotter.XYs, 0, steps+1)
		for i := range steps + 1 {
			x, y := proj.forward(ra, -90+180*float64(i)/steps)
			pts = append(pts, plotter.XY{X: x, Y: y})
		}
		if ra != 0 {
			line(pts)
			x, y := proj.forward(ra, 0)
			labels.XYs = append(labels.XYs, plotter.XY{X: x, Y: y})
			labels.Labels = append(labels.Labels, fmt.Sprintf("%g°", ra))
		}
	}
	outline := make(plotter.XYs, 0, 2*steps+1)
	for i := range 2*steps + 1 {
		t := 2 * math.Pi * float64(i) / float64(2*steps)
		outline = append(outline, plotter.XY{X: 2 * math.Sqrt2 * math.Cos(t), Y: math.Sqrt2 * math.Sin(t)})
	}
	line(outline)
	if l, err := plotter.NewLabels(labels); err == nil {
		for i := range l.TextStyle {
			l.TextStyle[i].Color = skyGrid
		}
		p.Add(l)
	}
}

// classGlyph is the marker of class i: the colours of Color, then, for
// every further eight classes, another shape.
func classGlyph(i int, radius vg.Length) draw.GlyphStyle {
	shapes := [...]draw.GlyphDrawer{draw.CircleGlyph{}, draw.TriangleGlyph{}, draw.SquareGlyph{},
		draw.PyramidGlyph{}, draw.CrossGlyph{}, draw.PlusGlyph{}, draw.RingGlyph{}, draw.BoxGlyph{}}
	return draw.GlyphStyle{Color: Color(i), Radius: radius, Shape: shapes[(i/8)%len(shapes)]}
}

// pointRadius shrinks the markers as the points grow many.
func pointRadius(n int) vg.Length {
	switch {
	case n <= 2000:
		return vg.Points(2.2)
	case n <= 20000:
		return vg.Points(1.4)
	default:
		return vg.Points(0.9)
	}
}

// positionPanel draws the points of every class in their glyphs.
func positionPanel(m SkyMap, proj projection) *plot.Plot {
	p := skyPlot(m.Title, proj)
	if _, ok := proj.(mollweide); ok {
		addGraticule(p, proj)
	}
	byClass := make([]plotter.XYs, len(m.Classes))
	for _, pt := range m.Points {
		if pt.Class < 0 || pt.Class >= len(m.Classes) {
			continue
		}
		x, y := proj.forward(pt.RA, pt.Dec)
		byClass[pt.Class] = append(byClass[pt.Class], plotter.XY{X: x, Y: y})
	}
	radius := pointRadius(len(m.Points))
	for i, xys := range byClass {
		if len(xys) == 0 {
			continue
		}
		s, err := plotter.NewScatter(xys)
		if err != nil {
			continue // only for non-finite positions, which the caller leaves off
		}
		s.GlyphStyle = classGlyph(i, radius)
		p.Add(s)
	}
	return p
}

// classLegend lists the classes that have points, with their counts.
func classLegend(m SkyMap) plot.Legend {
	counts := make([]int, len(m.Classes))
	for _, pt := range m.Points {
		if pt.Class >= 0 && pt.Class < len(m.Classes) {
			counts[pt.Class]++
		}
	}
	l := plot.NewLegend()
	l.Top, l.Left = true, true
	l.TextStyle.Font.Size = vg.Points(10)
	for i, name := range m.Classes {
		if counts[i] == 0 {
			continue
		}
		g := classGlyph(i, vg.Points(3))
		l.Add(fmt.Sprintf("%s (%d)", name, counts[i]), glyphThumb(g))
	}
	return l
}

// glyphThumb is a legend thumbnail of one glyph.
type glyphThumb draw.GlyphStyle

// Thumbnail implements plot.Thumbnailer.
func (g glyphThumb) Thumbnail(c *draw.Canvas) {
	c.DrawGlyph(draw.GlyphStyle(g), c.Center())
}

// densityPanel rasterises m.Density over the projection and returns the
// panel and a plot of its colour scale.
func densityPanel(m SkyMap, proj projection) (*plot.Plot, *plot.Plot) {
	xmin, xmax, ymin, ymax := proj.bounds()
	cols := skyRaster
	rows := max(1, int(float64(cols)*(ymax-ymin)/(xmax-xmin)+0.5))
	if w, ok := proj.(window); ok {
		rows = max(1, int(float64(cols)*w.Aspect()+0.5))
	}
	values := make([]float64, rows*cols)
	top := 0.0
	for r := range rows {
		y := ymax - (float64(r)+0.5)*(ymax-ymin)/float64(rows)
		for c := range cols {
			x := xmin + (float64(c)+0.5)*(xmax-xmin)/float64(cols)
			v := math.NaN()
			if ra, dec, ok := proj.inverse(x, y); ok {
				v = m.Density(ra, dec)
			}
			values[r*cols+c] = v
			if v > top {
				top = v
			}
		}
	}
	cmap := moreland.ExtendedBlackBody()
	cmap.SetMin(0)
	// A little headroom keeps the densest cells off white.
	cmap.SetMax(math.Max(1.08*top, 1e-9))
	img := image.NewRGBA(image.Rect(0, 0, cols, rows))
	for i, v := range values {
		img.Set(i%cols, i/cols, densityColor(cmap, v))
	}
	p := skyPlot(m.DensityTitle, proj)
	p.Add(plotter.NewImage(img, xmin, ymin, xmax, ymax))
	if _, ok := proj.(mollweide); ok {
		addGraticule(p, proj)
	}
	scale := plot.New()
	scale.HideX()
	scale.Y.Label.Text = m.DensityLabel
	scale.Add(&plotter.ColorBar{ColorMap: cmap, Vertical: true})
	return p, scale
}

// densityColor is the colour of a density value: white off the map (NaN),
// light grey for nothing, the colour map for the rest.
func densityColor(cmap palette.ColorMap, v float64) color.Color {
	switch {
	case math.IsNaN(v):
		return skyOutside
	case v <= 0:
		return skyEmpty
	}
	c, err := cmap.At(math.Min(v, cmap.Max()))
	if err != nil {
		return skyOutside
	}
	return c
}
