package plots

import (
	"fmt"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Line is one curve of a panel: Y against X, named in the legend by Label.
type Line struct {
	Label string
	X, Y  []float64
	Color color.Color // nil: Color(i) for the i-th line of its panel
}

// Panel is one chart of a figure, such as the loss of the train and val
// splits against the epoch.
type Panel struct {
	Title, XLabel, YLabel string
	LogY                  bool // logarithmic Y axis, e.g. for the learning rate
	Lines                 []Line
}

// Panel sizes of Curves.
const (
	panelWidth  = 4.5 * vg.Inch
	panelHeight = 3.2 * vg.Inch
	maxColumns  = 3
)

// markersUpTo is the number of points up to which a line also marks every
// point (a per-epoch curve); longer lines are drawn plain.
const markersUpTo = 60

// Curves draws panels in a grid, left to right and top to bottom, at most
// three per row, and writes the figure to w as PNG. Points whose X or Y is
// NaN or infinite are left out, so that a diverged loss does not hide the
// rest of its curve; with LogY so are points with Y ≤ 0. A panel without
// points is drawn empty.
func Curves(w io.Writer, panels []Panel) error {
	if len(panels) == 0 {
		return fmt.Errorf("plots: no panels to draw")
	}
	cols := min(maxColumns, int(math.Ceil(math.Sqrt(float64(len(panels))))))
	rows := (len(panels) + cols - 1) / cols
	grid := make([][]*plot.Plot, rows)
	for r := range grid {
		grid[r] = make([]*plot.Plot, cols)
	}
	for i, pn := range panels {
		p, err := curvesPlot(pn)
		if err != nil {
			return fmt.Errorf("plots: panel %d %q: %w", i, pn.Title, err)
		}
		grid[i/cols][i%cols] = p
	}
	return render(w, grid, vg.Length(cols)*panelWidth, vg.Length(rows)*panelHeight)
}

func curvesPlot(pn Panel) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = pn.Title
	p.X.Label.Text = pn.XLabel
	p.Y.Label.Text = pn.YLabel
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	if pn.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	entries := 0
	for i, ln := range pn.Lines {
		if len(ln.X) != len(ln.Y) {
			return nil, fmt.Errorf("line %d %q: %d x values but %d y values", i, ln.Label, len(ln.X), len(ln.Y))
		}
		segments, pts := segmentsOf(ln, pn.LogY)
		for _, pt := range pts {
			lo, hi = math.Min(lo, pt.Y), math.Max(hi, pt.Y)
		}
		if len(pts) == 0 {
			continue
		}
		col := ln.Color
		if col == nil {
			col = Color(i)
		}
		var legend []plot.Thumbnailer
		for _, seg := range segments {
			l, err := plotter.NewLine(seg)
			if err != nil {
				return nil, fmt.Errorf("line %d %q: %w", i, ln.Label, err)
			}
			l.Color = col
			l.Width = vg.Points(1.5)
			p.Add(l)
			if legend == nil {
				legend = append(legend, l)
			}
		}
		if len(pts) <= markersUpTo {
			s, err := plotter.NewScatter(pts)
			if err != nil {
				return nil, fmt.Errorf("line %d %q: %w", i, ln.Label, err)
			}
			s.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(2), Shape: draw.CircleGlyph{}}
			p.Add(s)
			legend = append(legend, s)
		}
		p.Legend.Add(ln.Label, legend...)
		entries++
	}
	if entries > 0 {
		p.Y.Max = legendRoom(lo, hi, entries, pn.LogY)
	}
	return p, nil
}

// segmentsOf returns the plottable points of a line, split into segments
// where a point is left out (not finite, or not positive on a log scale),
// and all of them together.
func segmentsOf(ln Line, logY bool) (segments []plotter.XYs, pts plotter.XYs) {
	gap := true
	for j, x := range ln.X {
		y := ln.Y[j]
		if !finite(x) || !finite(y) || (logY && y <= 0) {
			gap = true
			continue
		}
		if gap {
			segments = append(segments, nil)
			gap = false
		}
		segments[len(segments)-1] = append(segments[len(segments)-1], plotter.XY{X: x, Y: y})
		pts = append(pts, plotter.XY{X: x, Y: y})
	}
	return segments, pts
}

// legendRoom returns the top of the y axis that leaves room above data
// spanning lo to hi for a legend of so many entries.
func legendRoom(lo, hi float64, entries int, logY bool) float64 {
	room := 0.06 + 0.08*float64(entries)
	if logY {
		decades := math.Max(math.Log10(hi/lo), 1)
		return hi * math.Pow(10, room*decades)
	}
	span := hi - lo
	if span == 0 {
		span = math.Max(math.Abs(hi), 1)
	}
	return hi + room*span
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
