package policy

import (
	"fmt"
	"math"
)

// Image is a planar (CHW) image: the value of channel c at row y, column x is
// Pix[(c*H+y)*W+x]. Values are in [0,1] before normalisation; the only
// transform that leaves that range is random erasing (see Config.EraseProb).
type Image struct {
	H, W, C int
	Pix     []float32
}

// NewImage returns a zero (black) image of h rows, w columns and c channels.
func NewImage(h, w, c int) Image {
	if h < 0 || w < 0 || c < 0 {
		panic(fmt.Sprintf("policy: NewImage(%d, %d, %d): negative dimension", h, w, c))
	}
	return Image{H: h, W: w, C: c, Pix: make([]float32, h*w*c)}
}

// Clone returns a deep copy of m.
func (m Image) Clone() Image {
	m.Pix = append([]float32(nil), m.Pix...)
	return m
}

// Plane returns channel c of m as a row-major H*W slice sharing m's pixels.
func (m Image) Plane(c int) []float32 {
	n := m.H * m.W
	return m.Pix[c*n : (c+1)*n : (c+1)*n]
}

// FromHWC converts interleaved 8-bit pixels (row-major, channels last, as
// stored in the cutouts table's pixels column) to an Image with values
// v/255.
func FromHWC(pix []byte, h, w, c int) (Image, error) {
	if err := checkHWC(pix, h, w, c); err != nil {
		return Image{}, fmt.Errorf("policy: FromHWC: %w", err)
	}
	m := NewImage(h, w, c)
	n := h * w
	for ch := range c {
		dst := m.Pix[ch*n : (ch+1)*n]
		for i := range dst {
			dst[i] = float32(pix[i*c+ch]) / 255
		}
	}
	return m, nil
}

// checkHWC reports whether pix holds an h×w×c image of interleaved bytes.
func checkHWC(pix []byte, h, w, c int) error {
	if h <= 0 || w <= 0 || c <= 0 {
		return fmt.Errorf("image of %dx%dx%d (height x width x channels): every dimension must be positive", h, w, c)
	}
	if len(pix) != h*w*c {
		return fmt.Errorf("%d bytes for a %dx%dx%d image, expected %d", len(pix), h, w, c, h*w*c)
	}
	return nil
}

// HWC converts m to interleaved 8-bit pixels, the inverse of FromHWC: each
// value is clamped to [0,1], scaled by 255 and rounded to the nearest
// integer (NaN becomes 0).
func (m Image) HWC() []byte {
	n := m.H * m.W
	out := make([]byte, n*m.C)
	for ch := range m.C {
		src := m.Plane(ch)
		for i, v := range src {
			out[i*m.C+ch] = toByte(v)
		}
	}
	return out
}

func toByte(v float32) byte {
	switch {
	case !(v > 0): // also NaN
		return 0
	case v >= 1:
		return 255
	}
	return byte(v*255 + 0.5)
}

// Crop returns the h×w window of m whose top-left corner is at row top,
// column left. Parts of the window outside m are zero, so Crop also pads.
func Crop(m Image, top, left, h, w int) Image {
	out := NewImage(h, w, m.C)
	y0, y1 := max(top, 0), min(top+h, m.H)
	x0, x1 := max(left, 0), min(left+w, m.W)
	if y0 >= y1 || x0 >= x1 {
		return out
	}
	for c := range m.C {
		src, dst := m.Plane(c), out.Plane(c)
		for y := y0; y < y1; y++ {
			copy(dst[(y-top)*w+x0-left:(y-top)*w+x1-left], src[y*m.W+x0:y*m.W+x1])
		}
	}
	return out
}

// CenterCrop returns the centred h×w window of m, at top = ⌊(m.H-h)/2⌋ and
// left = ⌊(m.W-w)/2⌋; a window larger than m is padded with zeros.
func CenterCrop(m Image, h, w int) Image {
	return Crop(m, floorDiv(m.H-h, 2), floorDiv(m.W-w, 2), h, w)
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Resize resamples m to h×w, each axis independently. An axis that shrinks
// is area-averaged (every output pixel is the mean of the input area it
// covers, fractional pixels weighted by overlap, like OpenCV's INTER_AREA),
// which avoids aliasing; an axis that grows or keeps its size is
// interpolated bilinearly with pixel centres aligned (align_corners=False,
// clamped at the edges). Resizing to the same size returns an exact copy.
func Resize(m Image, h, w int) Image {
	if h <= 0 || w <= 0 {
		panic(fmt.Sprintf("policy: Resize to %dx%d: size must be positive", h, w))
	}
	if h == m.H && w == m.W {
		return m.Clone()
	}
	fx, fy := newAxisFilter(m.W, w), newAxisFilter(m.H, h)
	tmp := make([]float32, m.H*w) // one channel, resized horizontally
	out := NewImage(h, w, m.C)
	for c := range m.C {
		src, dst := m.Plane(c), out.Plane(c)
		for y := range m.H {
			fx.apply(tmp[y*w:(y+1)*w], src[y*m.W:(y+1)*m.W])
		}
		// Vertically, whole rows are weighted and summed.
		for o := range h {
			row := dst[o*w : (o+1)*w]
			for t := fy.start[o]; t < fy.start[o+1]; t++ {
				wt, in := fy.wt[t], tmp[fy.idx[t]*w:(fy.idx[t]+1)*w]
				for x, v := range in {
					row[x] += wt * v
				}
			}
		}
	}
	return out
}

// axisFilter holds, for each output position o, the source indices
// idx[start[o]:start[o+1]] and their weights.
type axisFilter struct {
	start []int
	idx   []int
	wt    []float32
}

func newAxisFilter(in, out int) axisFilter {
	f := axisFilter{start: make([]int, 1, out+1)}
	scale := float64(in) / float64(out)
	for o := range out {
		if out < in { // area: output o covers source [o*scale, (o+1)*scale)
			lo, hi := float64(o)*scale, float64(o+1)*scale
			for i := int(lo); i < in && float64(i) < hi; i++ {
				overlap := math.Min(float64(i+1), hi) - math.Max(float64(i), lo)
				if overlap > 0 {
					f.idx = append(f.idx, i)
					f.wt = append(f.wt, float32(overlap/scale))
				}
			}
		} else { // bilinear with aligned pixel centres
			s := (float64(o)+0.5)*scale - 0.5
			s = math.Min(math.Max(s, 0), float64(in-1))
			i0 := int(s)
			frac := s - float64(i0)
			f.idx = append(f.idx, i0)
			f.wt = append(f.wt, float32(1-frac))
			if frac > 0 {
				f.idx = append(f.idx, i0+1)
				f.wt = append(f.wt, float32(frac))
			}
		}
		f.start = append(f.start, len(f.idx))
	}
	return f
}

// apply filters the row src into the row dst.
func (f axisFilter) apply(dst, src []float32) {
	for o := range dst {
		var sum float32
		for t := f.start[o]; t < f.start[o+1]; t++ {
			sum += f.wt[t] * src[f.idx[t]]
		}
		dst[o] = sum
	}
}
