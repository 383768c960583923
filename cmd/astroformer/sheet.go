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

	"github.com/apache/arrow-go/v18/arrow/array"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/astroformer/astroformer/internal/plots"
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
	row := make(map[string]int, len(classes))
	for i, c := range classes {
		row[c] = i
	}
	var (
		background = color.RGBA{0x18, 0x18, 0x18, 0xff}
		text       = color.RGBA{0xe8, 0xe8, 0xe8, 0xff}
		faint      = color.RGBA{0x90, 0x90, 0x90, 0xff}
		face       = basicfont.Face7x13
	)
	labelWidth := (sheetMaxLabel+1)*face.Advance + 2*sheetGap
	width := labelWidth + perClass*(sheetCell+sheetGap)
	sheet := image.NewRGBA(image.Rect(0, 0, width, sheetGap+len(classes)*(sheetCell+sheetGap)))
	draw.Draw(sheet, sheet.Bounds(), image.NewUniform(background), image.Point{}, draw.Src)
	for r, class := range classes {
		label := class
		if len(label) > sheetMaxLabel {
			label = label[:sheetMaxLabel-3] + "..."
		}
		y := sheetGap + r*(sheetCell+sheetGap) + sheetCell/2
		d := font.Drawer{Dst: sheet, Src: image.NewUniform(text), Face: face, Dot: fixed.P(sheetGap, y)}
		d.DrawString(label)
		d.Src = image.NewUniform(faint)
		d.Dot = fixed.P(sheetGap, y+face.Height)
		d.DrawString(fmt.Sprintf("%d rows", hist.total[class]))
	}

	filled := make([]int, len(classes))
	want := 0 // cutouts still to draw
	for _, class := range classes {
		want += int(min(int64(perClass), hist.total[class]))
	}
	drawn, seen := 0, 0
	sc := t.Scan(ctx, table.ScanOptions{Columns: sheetColumns(), BatchRows: 256})
	defer sc.Close()
	for drawn < want && sc.Next() {
		rec := sc.Record()
		names, err := columnAs[*array.String](rec, 0)
		if err != nil {
			return 0, err
		}
		hs, err := columnAs[*array.Int32](rec, 1)
		if err != nil {
			return 0, err
		}
		ws, err := columnAs[*array.Int32](rec, 2)
		if err != nil {
			return 0, err
		}
		cs, err := columnAs[*array.Int32](rec, 3)
		if err != nil {
			return 0, err
		}
		pix, err := columnAs[*array.Binary](rec, 4)
		if err != nil {
			return 0, err
		}
		for i := range int(rec.NumRows()) {
			class := unlabelled
			if names.IsValid(i) {
				class = names.Value(i)
			}
			r, ok := row[class]
			if !ok || filled[r] >= perClass {
				continue
			}
			h, w, c := int(hs.Value(i)), int(ws.Value(i)), int(cs.Value(i))
			p := pix.Value(i)
			if h <= 0 || w <= 0 || c <= 0 || len(p) != h*w*c {
				return 0, fmt.Errorf("row %d: pixels has %d bytes, expected height×width×channels = %d×%d×%d", seen+i, len(p), h, w, c)
			}
			x0 := labelWidth + filled[r]*(sheetCell+sheetGap)
			y0 := sheetGap + r*(sheetCell+sheetGap)
			plots.DrawCutout(sheet, image.Rect(x0, y0, x0+sheetCell, y0+sheetCell), p, h, w, c)
			filled[r]++
			drawn++
		}
		seen += int(rec.NumRows())
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}

	var buf bytes.Buffer
	if err := png.Encode(&buf, sheet); err != nil {
		return 0, err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return 0, err
	}
	return drawn, nil
}
