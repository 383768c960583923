package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/astroformer/astroformer/internal/plots"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/table"
)

// sheetColumns returns the columns writeSheet reads, in scan order.
func sheetColumns() []string { return []string{"label_name", "height", "width", "channels", "pixels"} }

// Contact sheet layout, in pixels.
const (
	sheetCell       = 96 // cutouts are scaled to fit a square of this size
	sheetGap        = 4
	sheetMaxClasses = 32 // rows; further classes are left out
	sheetMaxLabel   = 32 // characters of a class name
)

// writeSheet draws the first perClass cutouts of each class of hist, one
// row per class labelled with its name and row count, and writes the PNG to
// path. Only the sheet is held in memory: each cutout is scaled into its cell
// as it is read, and the scan stops once every row is full. It returns the
// number of cutouts drawn.
func writeSheet(ctx context.Context, t *table.Table, hist *histogram, perClass int, path string) (int, error) {
	classes := hist.classes[:min(len(hist.classes), sheetMaxClasses)]
	s := newContactSheet(classes, hist.total, perClass)
	want := 0 // cutouts to draw
	for _, class := range classes {
		want += int(min(int64(perClass), hist.total[class]))
	}
	drawn, err := s.drawCutouts(ctx, t, want)
	if err != nil {
		return 0, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, s.img); err != nil {
		return 0, err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return 0, err
	}
	return drawn, nil
}

// contactSheet is a contact sheet being drawn: a row of cells per class,
// after a column of class labels.
type contactSheet struct {
	img        *image.RGBA
	labelWidth int
	perClass   int            // cells in a row
	row        map[string]int // the row of each class
	filled     []int          // cells drawn in each row
}

// newContactSheet returns a sheet of perClass cells for each of classes, with
// the rows labelled by class name and by the class's total rows.
func newContactSheet(classes []string, total map[string]int64, perClass int) *contactSheet {
	var (
		background = color.RGBA{0x18, 0x18, 0x18, 0xff}
		text       = color.RGBA{0xe8, 0xe8, 0xe8, 0xff}
		faint      = color.RGBA{0x90, 0x90, 0x90, 0xff}
		face       = basicfont.Face7x13
	)
	s := &contactSheet{
		labelWidth: (sheetMaxLabel+1)*face.Advance + 2*sheetGap,
		perClass:   perClass,
		row:        make(map[string]int, len(classes)),
		filled:     make([]int, len(classes)),
	}
	width := s.labelWidth + perClass*(sheetCell+sheetGap)
	s.img = image.NewRGBA(image.Rect(0, 0, width, sheetGap+len(classes)*(sheetCell+sheetGap)))
	draw.Draw(s.img, s.img.Bounds(), image.NewUniform(background), image.Point{}, draw.Src)
	for r, class := range classes {
		s.row[class] = r
		label := class
		if len(label) > sheetMaxLabel {
			label = label[:sheetMaxLabel-3] + "..."
		}
		y := sheetGap + r*(sheetCell+sheetGap) + sheetCell/2
		d := font.Drawer{Dst: s.img, Src: image.NewUniform(text), Face: face, Dot: fixed.P(sheetGap, y)}
		d.DrawString(label)
		d.Src = image.NewUniform(faint)
		d.Dot = fixed.P(sheetGap, y+face.Height)
		d.DrawString(fmt.Sprintf("%d rows", total[class]))
	}
	return s
}

// drawCutouts scans t and draws each cutout into the next free cell of its
// class's row, until want cutouts are drawn or the scan ends. It returns
// the number drawn.
func (s *contactSheet) drawCutouts(ctx context.Context, t *table.Table, want int) (int, error) {
	drawn, seen := 0, 0
	sc := t.Scan(ctx, table.ScanOptions{Columns: sheetColumns(), BatchRows: 256})
	defer sc.Close()
	for drawn < want && sc.Next() {
		rec := sc.Record()
		cutouts, err := schemas.NewCutoutsReader(rec, sheetColumns()...)
		if err != nil {
			return 0, err
		}
		for i := range int(rec.NumRows()) {
			c := cutouts.Row(i)
			class := unlabelled
			if c.LabelName.Valid {
				class = c.LabelName.V
			}
			r, ok := s.row[class]
			if !ok || s.filled[r] >= s.perClass {
				continue
			}
			h, w, ch := int(c.Height), int(c.Width), int(c.Channels)
			if h <= 0 || w <= 0 || ch <= 0 || len(c.Pixels) != h*w*ch {
				return 0, fmt.Errorf("row %d: pixels has %d bytes, expected height×width×channels = %d×%d×%d", seen+i, len(c.Pixels), h, w, ch)
			}
			x0 := s.labelWidth + s.filled[r]*(sheetCell+sheetGap)
			y0 := sheetGap + r*(sheetCell+sheetGap)
			plots.DrawCutout(s.img, image.Rect(x0, y0, x0+sheetCell, y0+sheetCell), c.Pixels, h, w, ch)
			s.filled[r]++
			drawn++
		}
		seen += int(rec.NumRows())
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return drawn, nil
}
