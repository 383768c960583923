package fits

import "github.com/astroformer/astroformer/stages/internal/imageops"

// An area resize computed one output row at a time, so that it needs one
// row of sums beside its output, and, when it shrinks, can write its output
// over its input: imageops.ResizeAreaFloat holds the
// horizontal sums of every source row, side×size float64 values, which for
// a large image is more than the image. The sums are the same, added in the
// same order, so the results are bit-identical to it (resize_test.go).

// shares returns, for each of the out output pixels along an axis of in
// source pixels, the source pixels it covers and by how much, with the
// float64 overlaps that imageops.ResizeAreaFloat weighs them with.
func shares(in, out int) [][]imageops.Span[float64] {
	return imageops.AreaSpans[float64](in, out)
}

// resizeArea resamples the side×side plane src to the size×size plane dst
// by area averaging, accumulating in float64; acc holds size values. When
// size < side, dst may be src: output row y is written to the first
// (y+1)·size values only once it is summed, and no later output row reads
// a source row before row ⌊(y+1)·side/size⌋, which starts at or after
// (y+1)·side values.
func resizeArea(dst, src []float32, side, size int, sh [][]imageops.Span[float64], acc []float64) {
	den := float64(side) * float64(side)
	for y, rows := range sh {
		clear(acc)
		for _, r := range rows {
			in := src[r.Index*side:]
			for x, cols := range sh {
				var s float64
				for _, c := range cols {
					s += float64(in[c.Index]) * c.Overlap
				}
				acc[x] += s * r.Overlap
			}
		}
		out := dst[y*size : (y+1)*size]
		for x, s := range acc {
			out[x] = float32(s / den)
		}
	}
}
