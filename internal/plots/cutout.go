package plots

import (
	"image"
	"image/color"
)

// DrawCutout scales raw HWC uint8 pixels into cell, keeping the aspect ratio:
// area averaging when shrinking, nearest neighbour when enlarging. One
// channel is grey; of three or more, the first three are red, green, blue.
func DrawCutout(dst *image.RGBA, cell image.Rectangle, pix []byte, h, w, c int) {
	scale := float64(max(h, w)) / float64(cell.Dx())
	dw, dh := max(int(float64(w)/scale), 1), max(int(float64(h)/scale), 1)
	ox := cell.Min.X + (cell.Dx()-dw)/2
	oy := cell.Min.Y + (cell.Dy()-dh)/2
	var sum [3]int
	for y := range dh {
		sy0 := y * h / dh
		sy1 := max((y+1)*h/dh, sy0+1)
		for x := range dw {
			sx0 := x * w / dw
			sx1 := max((x+1)*w/dw, sx0+1)
			sum = [3]int{}
			for sy := sy0; sy < sy1; sy++ {
				for sx := sx0; sx < sx1; sx++ {
					at := (sy*w + sx) * c
					if c >= 3 {
						sum[0] += int(pix[at])
						sum[1] += int(pix[at+1])
						sum[2] += int(pix[at+2])
					} else {
						v := int(pix[at])
						sum[0] += v
						sum[1] += v
						sum[2] += v
					}
				}
			}
			n := (sy1 - sy0) * (sx1 - sx0)
			dst.SetRGBA(ox+x, oy+y, color.RGBA{uint8(sum[0] / n), uint8(sum[1] / n), uint8(sum[2] / n), 0xff})
		}
	}
}

// Thumbnail returns a cutout's raw HWC uint8 pixels as an image whose longer
// side is at most size pixels: the cutout itself when it is that small, else
// scaled down by DrawCutout.
func Thumbnail(pix []byte, h, w, c, size int) *image.RGBA {
	scale := max(1, float64(max(h, w))/float64(size))
	dw, dh := max(int(float64(w)/scale), 1), max(int(float64(h)/scale), 1)
	img := image.NewRGBA(image.Rect(0, 0, dw, dh))
	side := max(dw, dh)
	// DrawCutout centres the cutout in a square cell; offset it so that the
	// cell's visible part is the image.
	DrawCutout(img, image.Rect((dw-side)/2, (dh-side)/2, (dw-side)/2+side, (dh-side)/2+side), pix, h, w, c)
	return img
}
