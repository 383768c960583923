package fits

// An area resize computed one output row at a time, so that it needs one
// row of sums beside its output, and, when it shrinks, can write its output
// over its input: imageops.ResizeAreaFloat holds the
// horizontal sums of every source row, side×size float64 values, which for
// a large image is more than the image. The sums are the same, added in the
// same order, so the results are bit-identical to it (resize_test.go).

// share is the part of a source pixel in an output pixel along one axis,
// in units of 1/out of a source pixel.
type share struct {
	index   int
	overlap float64
}

// shares returns, for each of the out output pixels along an axis of in
// source pixels, the source pixels it covers and by how much: output pixel
// i covers [i·in, (i+1)·in) in units of 1/out, source pixel j covers
// [j·out, (j+1)·out).
func shares(in, out int) [][]share {
	all := make([][]share, out)
	for i := range all {
		lo, hi := i*in, (i+1)*in
		for j := lo / out; j*out < hi; j++ {
			if ov := min(hi, (j+1)*out) - max(lo, j*out); ov > 0 {
				all[i] = append(all[i], share{j, float64(ov)})
			}
		}
	}
	return all
}

// resizeArea resamples the side×side plane src to the size×size plane dst
// by area averaging, accumulating in float64; acc holds size values. When
// size < side, dst may be src: output row y is written to the first
// (y+1)·size values only once it is summed, and no later output row reads
// a source row before row ⌊(y+1)·side/size⌋, which starts at or after
// (y+1)·side values.
func resizeArea(dst, src []float32, side, size int, sh [][]share, acc []float64) {
	den := float64(side) * float64(side)
	for y, rows := range sh {
		clear(acc)
		for _, r := range rows {
			in := src[r.index*side:]
			for x, cols := range sh {
				var s float64
				for _, c := range cols {
					s += float64(in[c.index]) * c.overlap
				}
				acc[x] += s * r.overlap
			}
		}
		out := dst[y*size : (y+1)*size]
		for x, s := range acc {
			out[x] = float32(s / den)
		}
	}
}
