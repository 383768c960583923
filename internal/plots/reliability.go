package plots

import (
	"fmt"
	"image/color"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// ReliabilityBin is one confidence bin of a reliability diagram.
type ReliabilityBin struct {
	Lower, Upper float64 // the bin's confidence range
	Count        int64   // predictions whose confidence fell in the bin
	Confidence   float64 // their mean confidence
	Accuracy     float64 // the fraction of them that were correct
}

// Reliability draws a reliability diagram and writes it to w as PNG. The
// upper panel shows the accuracy of every non-empty confidence bin as a bar
// next to the diagonal of perfect calibration, with the gap between the bar
// and the bin's mean confidence shaded; the lower panel shows how many
// predictions fell in each bin.
func Reliability(w io.Writer, title string, bins []ReliabilityBin) error {
	if len(bins) == 0 {
		return fmt.Errorf("plots: reliability diagram without bins")
	}
	var bars, counts []plotter.HistogramBin
	var gaps []plotter.XYer
	for i, b := range bins {
		if !(0 <= b.Lower && b.Lower < b.Upper && b.Upper <= 1) {
			return fmt.Errorf("plots: reliability bin %d: range [%g, %g] is not inside [0, 1]", i, b.Lower, b.Upper)
		}
		if b.Count < 0 {
			return fmt.Errorf("plots: reliability bin %d: negative count %d", i, b.Count)
		}
		counts = append(counts, plotter.HistogramBin{Min: b.Lower, Max: b.Upper, Weight: float64(b.Count)})
		if b.Count == 0 {
			continue
		}
		if !finite(b.Accuracy) || !finite(b.Confidence) {
			return fmt.Errorf("plots: reliability bin %d: accuracy %g or confidence %g is not finite", i, b.Accuracy, b.Confidence)
		}
		bars = append(bars, plotter.HistogramBin{Min: b.Lower, Max: b.Upper, Weight: b.Accuracy})
		gaps = append(gaps, plotter.XYs{
			{X: b.Lower, Y: b.Accuracy}, {X: b.Upper, Y: b.Accuracy},
			{X: b.Upper, Y: b.Confidence}, {X: b.Lower, Y: b.Confidence},
		})
	}

	top := plot.New()
	top.Title.Text = title
	top.X.Label.Text = "confidence"
	top.Y.Label.Text = "accuracy"
	top.X.Min, top.X.Max, top.Y.Min, top.Y.Max = 0, 1, 0, 1
	top.Legend.Top = true
	top.Legend.Left = true
	top.Add(plotter.NewGrid())
	if len(bars) > 0 {
		acc := &plotter.Histogram{
			Bins:      bars,
			FillColor: color.RGBA{0, 114, 178, 255},
			LineStyle: draw.LineStyle{Color: color.White, Width: vg.Points(0.5)},
		}
		gap, err := plotter.NewPolygon(gaps...)
		if err != nil {
			return fmt.Errorf("plots: reliability gaps: %w", err)
		}
		gap.Color = color.NRGBA{213, 94, 0, 110}
		gap.LineStyle = draw.LineStyle{Color: color.RGBA{213, 94, 0, 255}, Width: vg.Points(0.5)}
		top.Add(acc, gap)
		top.Legend.Add("accuracy", acc)
		top.Legend.Add("gap to confidence", gap)
	}
	diag, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	if err != nil {
		return fmt.Errorf("plots: reliability diagonal: %w", err)
	}
	diag.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	diag.Color = color.Gray{90}
	top.Add(diag)
	top.Legend.Add("perfect calibration", diag)

	bottom := plot.New()
	bottom.X.Label.Text = "confidence"
	bottom.Y.Label.Text = "predictions"
	bottom.X.Min, bottom.X.Max = 0, 1
	bottom.Add(plotter.NewGrid())
	bottom.Add(&plotter.Histogram{
		Bins:      counts,
		FillColor: color.Gray{150},
		LineStyle: draw.LineStyle{Color: color.White, Width: vg.Points(0.5)},
	})

	return render(w, [][]*plot.Plot{{top}, {bottom}}, 5*vg.Inch, 7*vg.Inch)
}
