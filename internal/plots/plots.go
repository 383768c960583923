// Package plots draws the figures of astroformer reports as PNG images with
// gonum.org/v1/plot: training curves, a confusion matrix heat map and a
// reliability diagram.
//
// Every function takes plain numbers and writes one PNG to an io.Writer; none
// reads tables or files, so training and evaluation share them. Fonts are
// embedded in gonum/plot, so rendering needs nothing from the system.
package plots

import (
	"fmt"
	"image/color"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// DPI is the resolution of the PNG images: a 6-inch-wide figure is 576
// pixels wide.
const DPI = 96

// Color returns the i-th colour of the palette Curves draws lines with: a
// set that stays distinct for readers with colour-vision deficiencies
// (Okabe & Ito, 2008), repeating after eight.
func Color(i int) color.Color {
	okabeIto := [...]color.RGBA{
		{0, 114, 178, 255},   // blue
		{213, 94, 0, 255},    // vermillion
		{0, 158, 115, 255},   // bluish green
		{204, 121, 167, 255}, // reddish purple
		{230, 159, 0, 255},   // orange
		{86, 180, 233, 255},  // sky blue
		{0, 0, 0, 255},       // black
		{240, 228, 66, 255},  // yellow
	}
	return okabeIto[i%len(okabeIto)]
}

// render draws a grid of plots (rows × columns, nil entries left blank) on
// a canvas of the given size and writes it to w as PNG.
func render(w io.Writer, grid [][]*plot.Plot, width, height vg.Length) error {
	canvas := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(DPI))
	tiles := draw.Tiles{
		Rows: len(grid), Cols: len(grid[0]),
		PadX: vg.Points(18), PadY: vg.Points(18),
		PadTop: vg.Points(8), PadBottom: vg.Points(6),
		PadLeft: vg.Points(6), PadRight: vg.Points(14),
	}
	canvases := plot.Align(grid, tiles, draw.New(canvas))
	for r, row := range grid {
		for c, p := range row {
			if p != nil {
				p.Draw(canvases[r][c])
			}
		}
	}
	if _, err := (vgimg.PngCanvas{Canvas: canvas}).WriteTo(w); err != nil {
		return fmt.Errorf("plots: writing PNG: %w", err)
	}
	return nil
}
