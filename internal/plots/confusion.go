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

// Limits on what Confusion writes into the figure.
const (
	maxAnnotatedClasses = 20 // cells show their fraction and count up to this many classes
	maxNamedTicks       = 50 // at most this many class names per axis; beyond, every n-th
)

// Confusion draws a confusion matrix as a heat map and writes it to w as
// PNG. counts[t][p] is the number of objects of true class t predicted as
// class p; rows (true class) run top to bottom and columns (predicted
// class) left to right, both in the order of classNames. Each cell is
// coloured by its fraction of the row, so the diagonal shows the recall of
// every class whatever its size; with up to 20 classes each cell also
// prints that fraction and its count.
func Confusion(w io.Writer, title string, classNames []string, counts [][]int64) error {
	k := len(classNames)
	if k == 0 {
		return fmt.Errorf("plots: confusion matrix without classes")
	}
	if len(counts) != k {
		return fmt.Errorf("plots: confusion matrix has %d rows for %d classes", len(counts), k)
	}
	g := confusionGrid{frac: make([]float64, k*k), k: k}
	for t, row := range counts {
		if len(row) != k {
			return fmt.Errorf("plots: confusion matrix row %d (%s) has %d columns for %d classes", t, classNames[t], len(row), k)
		}
		var total int64
		for _, n := range row {
			if n < 0 {
				return fmt.Errorf("plots: confusion matrix row %d (%s) holds a negative count %d", t, classNames[t], n)
			}
			total += n
		}
		for p, n := range row {
			if total > 0 {
				g.frac[t*k+p] = float64(n) / float64(total)
			}
		}
	}

	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "predicted class"
	p.Y.Label.Text = "true class"
	p.Y.Scale = plot.InvertedScale{Normalizer: plot.LinearScale{}}
	p.X.Padding, p.Y.Padding = 0, 0
	ticks := classTicks(classNames)
	p.X.Tick.Marker, p.Y.Tick.Marker = ticks, ticks
	p.X.Tick.Label.Rotation = math.Pi / 4
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YTop

	hm := plotter.NewHeatMap(g, blues())
	hm.Min, hm.Max = 0, 1
	p.Add(hm)

	if k <= maxAnnotatedClasses {
		cells := plotter.XYLabels{XYs: make(plotter.XYs, 0, k*k), Labels: make([]string, 0, k*k)}
		for t, row := range counts {
			for c, n := range row {
				cells.XYs = append(cells.XYs, plotter.XY{X: float64(c), Y: float64(t)})
				cells.Labels = append(cells.Labels, fmt.Sprintf("%.2f\n%d", g.frac[t*k+c], n))
			}
		}
		labels, err := plotter.NewLabels(cells)
		if err != nil {
			return fmt.Errorf("plots: confusion labels: %w", err)
		}
		size := vg.Points(min(10, max(6, 100/float64(k))))
		for i := range labels.TextStyle {
			st := &labels.TextStyle[i]
			st.Font.Size = size
			st.XAlign, st.YAlign = draw.XCenter, draw.YCenter
			st.Color = color.Black
			if g.frac[i] > 0.55 {
				st.Color = color.White
			}
		}
		p.Add(labels)
	}

	cell := min(0.7*vg.Inch, max(0.05*vg.Inch, 9*vg.Inch/vg.Length(k)))
	margin := 3 * vg.Inch // class names, axis labels and the title
	if k > maxNamedTicks {
		margin = 2 * vg.Inch
	}
	side := vg.Length(k)*cell + margin
	return render(w, [][]*plot.Plot{{p}}, side, side)
}

// confusionGrid adapts row-normalised confusion fractions to
// plotter.GridXYZ: column c is the predicted class, row r the true class.
type confusionGrid struct {
	frac []float64 // k×k, row-major by true class
	k    int
}

func (g confusionGrid) Dims() (c, r int)   { return g.k, g.k }
func (g confusionGrid) Z(c, r int) float64 { return g.frac[r*g.k+c] }
func (g confusionGrid) X(c int) float64    { return float64(c) }
func (g confusionGrid) Y(r int) float64    { return float64(r) }
func (g confusionGrid) Min() float64       { return 0 }
func (g confusionGrid) Max() float64       { return 1 }

// classTicks labels every class by name, or every n-th one when there are
// more than maxNamedTicks.
func classTicks(names []string) plot.ConstantTicks {
	stride := (len(names) + maxNamedTicks - 1) / maxNamedTicks
	ticks := make(plot.ConstantTicks, 0, len(names)/stride+1)
	for i := 0; i < len(names); i += stride {
		ticks = append(ticks, plot.Tick{Value: float64(i), Label: names[i]})
	}
	return ticks
}

// ramp is a palette.Palette of fixed colours.
type ramp []color.Color

func (r ramp) Colors() []color.Color { return r }

// blues returns a sequential palette from white to dark blue.
func blues() ramp {
	const n = 256
	lo, hi := color.RGBA{247, 251, 255, 255}, color.RGBA{8, 48, 107, 255}
	pal := make(ramp, n)
	for i := range pal {
		t := float64(i) / (n - 1)
		mix := func(a, b uint8) uint8 { return uint8(math.Round(float64(a) + t*(float64(b)-float64(a)))) }
		pal[i] = color.RGBA{mix(lo.R, hi.R), mix(lo.G, hi.G), mix(lo.B, hi.B), 255}
	}
	return pal
}
