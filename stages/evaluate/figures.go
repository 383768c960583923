package evaluate

import (
	"bytes"
	"fmt"

	"github.com/astroformer/astroformer/internal/plots"
	"github.com/astroformer/astroformer/internal/skymap"
)

// figure is one PNG of the report.
type figure struct {
	file    string // name in the report folder
	title   string
	caption string
	png     []byte
}

// drawFigures renders the confusion matrix, the reliability diagram and,
// when there are training curves, the curves.
func drawFigures(r *results, curves []curveSeries) ([]figure, error) {
	var figs []figure
	draw := func(file, title, caption string, render func(*bytes.Buffer) error) error {
		var buf bytes.Buffer
		if err := render(&buf); err != nil {
			return fmt.Errorf("evaluate: drawing %s: %w", file, err)
		}
		figs = append(figs, figure{file: file, title: title, caption: caption, png: buf.Bytes()})
		return nil
	}
	err := draw("confusion.png", "Confusion matrix",
		"Rows are the true classes, columns the predicted ones. Cells are coloured by their fraction of the row, "+
			"so the diagonal shows each class's recall; they print that fraction and the count.",
		func(b *bytes.Buffer) error {
			return plots.Confusion(b, fmt.Sprintf("confusion matrix (%s, n=%d)", r.selection, r.n), r.classes, r.confusion)
		})
	if err != nil {
		return nil, err
	}
	bins := make([]plots.ReliabilityBin, len(r.bins))
	for i, b := range r.bins {
		bins[i] = plots.ReliabilityBin(b)
	}
	err = draw("reliability.png", "Reliability diagram",
		fmt.Sprintf("Accuracy against confidence in %d equal-width confidence bins; the shaded gaps to the diagonal, "+
			"weighted by the number of predictions in each bin (lower panel), sum to the ECE of %.3f.", len(r.bins), r.ece),
		func(b *bytes.Buffer) error {
			return plots.Reliability(b, fmt.Sprintf("reliability (ECE %.3f)", r.ece), bins)
		})
	if err != nil {
		return nil, err
	}
	if len(curves) > 0 {
		err = draw("curves.png", "Training curves", "Metrics recorded by the train stage, by split.",
			func(b *bytes.Buffer) error { return plots.Curves(b, curvePanels(curves)) })
		if err != nil {
			return nil, err
		}
	}
	return figs, nil
}

// drawSky draws the sky map of the catalog's positions, or returns a note
// saying why there is none.
func drawSky(m *skymap.Map, classes []string) (*figure, string, error) {
	if m.Positions() == 0 {
		return nil, fmt.Sprintf("No row of the catalog has a position (%d rows without ra/dec), so there is no sky map.", m.Missing()), nil
	}
	var buf bytes.Buffer
	sum, err := m.Draw(&buf, "catalog positions by predicted class", classes)
	if err != nil {
		return nil, "", fmt.Errorf("evaluate: drawing sky.png: %w", err)
	}
	return &figure{file: "sky.png", title: "Sky map", caption: "Positions of the whole catalog coloured by predicted class (top) and their density (bottom): " +
		sum.Caption(), png: buf.Bytes()}, "", nil
}
