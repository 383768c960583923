// Package imageops holds the few image operations the source stages share:
// a centre crop to a square, an exact area-average resize, and conversion of
// any decoded image to 8-bit RGB in height×width×channel (HWC) order.
//
// The resize policy of every source stage is the same: crop the largest
// centred square, then resample it to size×size by area averaging, where each
// output pixel is the mean of the source pixels it covers, weighted by the
// covered fraction of each. Upscaling by an integer factor therefore
// replicates pixels and downscaling by one averages blocks. The uint8 resize
// is computed in integers and rounds half up, so its results are exact and
// identical on every platform.
package imageops

import (
	"fmt"
	"image"
	"image/draw"
)

// CenterSquare returns the largest square inside r centred on r's centre.
// When the excess along an axis is odd, the extra row or column is dropped at
// the bottom or right. An empty r yields an empty rectangle.
func CenterSquare(r image.Rectangle) image.Rectangle {
	w, h := r.Dx(), r.Dy()
	side := min(w, h)
	if side <= 0 {
		return image.Rectangle{Min: r.Min, Max: r.Min}
	}
	x0 := r.Min.X + (w-side)/2
	y0 := r.Min.Y + (h-side)/2
	return image.Rect(x0, y0, x0+side, y0+side)
}

// RGB returns the pixels of img inside r (clipped to img's bounds) as 8-bit
// RGB bytes in HWC order, together with the height and width. Grayscale is
// replicated into the three channels; transparent pixels are composited over
// black; 16-bit samples keep their high byte.
func RGB(img image.Image, r image.Rectangle) (pix []byte, h, w int) {
	r = r.Intersect(img.Bounds())
	h, w = r.Dy(), r.Dx()
	pix = make([]byte, 3*h*w)
	if h == 0 || w == 0 {
		return pix, h, w
	}
	if g, ok := img.(*image.Gray); ok {
		for y := 0; y < h; y++ {
			row := g.Pix[g.PixOffset(r.Min.X, r.Min.Y+y):]
			out := pix[3*w*y:]
			for x := 0; x < w; x++ {
				v := row[x]
				out[3*x], out[3*x+1], out[3*x+2] = v, v, v
			}
		}
		return pix, h, w
	}
	// draw.Draw has fast paths for the common decoded types (YCbCr from
	// JPEG, NRGBA and paletted from PNG); the result is premultiplied RGBA,
	// which is the composite over black once alpha is dropped.
	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(rgba, rgba.Bounds(), img, r.Min, draw.Src)
	for i, j := 0, 0; i < len(rgba.Pix); i, j = i+4, j+3 {
		pix[j], pix[j+1], pix[j+2] = rgba.Pix[i], rgba.Pix[i+1], rgba.Pix[i+2]
	}
	return pix, h, w
}

// SquareRGB crops img to its centred square, converts it with RGB and, when
// size > 0, resizes it to size×size with ResizeArea. It returns the HWC
// pixels and the side of the square. An image with no pixels is an error.
func SquareRGB(img image.Image, size int) (pix []byte, side int, err error) {
	b := img.Bounds()
	if b.Empty() {
		return nil, 0, fmt.Errorf("image has no pixels (%dx%d)", b.Dx(), b.Dy())
	}
	pix, side, _ = RGB(img, CenterSquare(b))
	if size <= 0 || size == side {
		return pix, side, nil
	}
	return ResizeArea(pix, side, side, 3, size, size), size, nil
}

// Span is one source pixel's share of an output pixel along one axis: the
// overlap of source pixel Index with the output pixel, in units of 1/out of
// a source pixel. The overlaps of one output pixel sum to in. Overlap is
// uint64 for sums of integer pixels and float64 for sums of float pixels;
// either holds the overlap exactly.
type Span[T uint64 | float64] struct {
	Index   int
	Overlap T
}

// AreaSpans returns, for each of the out output pixels along an axis of in
// source pixels, the source pixels it covers and by how much. Output pixel i
// covers source coordinates [i·in/out, (i+1)·in/out); in units of 1/out that
// is [i·in, (i+1)·in), and source pixel j covers [j·out, (j+1)·out).
func AreaSpans[T uint64 | float64](in, out int) [][]Span[T] {
	spans := make([][]Span[T], out)
	for i := range out {
		lo, hi := i*in, (i+1)*in
		for j := lo / out; j*out < hi; j++ {
			ov := min(hi, (j+1)*out) - max(lo, j*out)
			if ov > 0 {
				spans[i] = append(spans[i], Span[T]{j, T(ov)})
			}
		}
	}
	return spans
}

// ResizeArea resamples an h×w image with c interleaved channels (HWC) to
// outH×outW by area averaging and rounds each value half up. It panics if
// len(src) != h·w·c or a dimension is not positive.
func ResizeArea(src []byte, h, w, c, outH, outW int) []byte {
	checkDims(len(src), h, w, c, outH, outW)
	xs, ys := AreaSpans[uint64](w, outW), AreaSpans[uint64](h, outH)
	// Horizontal pass: each sum is the exact total scaled by w.
	rows := make([]uint64, h*outW*c)
	for y := range h {
		in := src[y*w*c:]
		out := rows[y*outW*c:]
		for x, sp := range xs {
			for k := range c {
				var s uint64
				for _, p := range sp {
					s += uint64(in[p.Index*c+k]) * p.Overlap
				}
				out[x*c+k] = s
			}
		}
	}
	// Vertical pass: scaled by w·h in total.
	dst := make([]byte, outH*outW*c)
	den := uint64(w) * uint64(h)
	for y, sp := range ys {
		out := dst[y*outW*c:]
		for i := range outW * c {
			var s uint64
			for _, p := range sp {
				s += rows[p.Index*outW*c+i] * p.Overlap
			}
			out[i] = byte((2*s + den) / (2 * den))
		}
	}
	return dst
}

// ResizeAreaFloat resamples an h×w single-channel float32 plane to outH×outW
// by area averaging, accumulating in float64. It panics if len(src) != h·w or
// a dimension is not positive.
func ResizeAreaFloat(src []float32, h, w, outH, outW int) []float32 {
	checkDims(len(src), h, w, 1, outH, outW)
	xs, ys := AreaSpans[float64](w, outW), AreaSpans[float64](h, outH)
	rows := make([]float64, h*outW)
	for y := range h {
		in := src[y*w:]
		for x, sp := range xs {
			var s float64
			for _, p := range sp {
				s += float64(in[p.Index]) * p.Overlap
			}
			rows[y*outW+x] = s
		}
	}
	dst := make([]float32, outH*outW)
	den := float64(w) * float64(h)
	for y, sp := range ys {
		for x := range outW {
			var s float64
			for _, p := range sp {
				s += rows[p.Index*outW+x] * p.Overlap
			}
			dst[y*outW+x] = float32(s / den)
		}
	}
	return dst
}

func checkDims(n, h, w, c, outH, outW int) {
	if h <= 0 || w <= 0 || c <= 0 || outH <= 0 || outW <= 0 {
		panic(fmt.Sprintf("imageops: non-positive dimension in %dx%dx%d -> %dx%d", h, w, c, outH, outW))
	}
	if n != h*w*c {
		panic(fmt.Sprintf("imageops: %d values for a %dx%dx%d image", n, h, w, c))
	}
}
