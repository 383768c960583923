package policy

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// FlipH returns m mirrored left to right.
func FlipH(m Image) Image {
	out := m.Clone()
	flipHInPlace(out)
	return out
}

// FlipV returns m mirrored top to bottom.
func FlipV(m Image) Image {
	out := m.Clone()
	flipVInPlace(out)
	return out
}

func flipHInPlace(m Image) {
	for c := range m.C {
		p := m.Plane(c)
		for y := range m.H {
			row := p[y*m.W : (y+1)*m.W]
			for i, j := 0, len(row)-1; i < j; i, j = i+1, j-1 {
				row[i], row[j] = row[j], row[i]
			}
		}
	}
}

func flipVInPlace(m Image) {
	for c := range m.C {
		p := m.Plane(c)
		for i, j := 0, m.H-1; i < j; i, j = i+1, j-1 {
			a, b := p[i*m.W:(i+1)*m.W], p[j*m.W:(j+1)*m.W]
			for x := range a {
				a[x], b[x] = b[x], a[x]
			}
		}
	}
}

// Rot90 returns m rotated by k quarter turns counter-clockwise as displayed
// (row 0 at the top), like numpy.rot90. k may be any integer; odd k swaps
// the height and width.
func Rot90(m Image, k int) Image {
	k = ((k % 4) + 4) % 4
	switch k {
	case 0:
		return m.Clone()
	case 2:
		out := m.Clone()
		for c := range out.C {
			p := out.Plane(c)
			for i, j := 0, len(p)-1; i < j; i, j = i+1, j-1 {
				p[i], p[j] = p[j], p[i]
			}
		}
		return out
	}
	out := NewImage(m.W, m.H, m.C)
	for c := range m.C {
		src, dst := m.Plane(c), out.Plane(c)
		for y := range out.H {
			for x := range out.W {
				if k == 1 { // out(y, x) = in(x, W-1-y)
					dst[y*out.W+x] = src[x*m.W+m.W-1-y]
				} else { // out(y, x) = in(H-1-x, y)
					dst[y*out.W+x] = src[(m.H-1-x)*m.W+y]
				}
			}
		}
	}
	return out
}

// Dihedral returns view i (0..7) of the eight symmetries of the square, in
// an order that puts the four shape-preserving ones first: identity, FlipH,
// FlipV, Rot90 by 2, Rot90 by 1, Rot90 by 3, FlipH then Rot90 by 1
// (transpose), FlipH then Rot90 by 3 (anti-transpose).
func Dihedral(m Image, i int) Image {
	switch i {
	case 0:
		return m.Clone()
	case 1:
		return FlipH(m)
	case 2:
		return FlipV(m)
	case 3:
		return Rot90(m, 2)
	case 4:
		return Rot90(m, 1)
	case 5:
		return Rot90(m, 3)
	case 6:
		return Rot90(FlipH(m), 1)
	case 7:
		return Rot90(FlipH(m), 3)
	}
	panic(fmt.Sprintf("policy: Dihedral view %d out of range 0..7", i))
}

// Fill says how a resampling transform fills output pixels whose source
// lies outside the image.
type Fill int

const (
	// FillReflect mirrors the image about its edges (the edge pixel is
	// repeated: ... 2 1 0 | 0 1 2 ...). It keeps the sky-noise texture in
	// the corners, so the model cannot learn the rotation from black wedges.
	FillReflect Fill = iota
	// FillZero fills with 0 (black).
	FillZero
)

// fillNames are the names of the Fills, which String gives and ParseFill
// accepts.
var fillNames = [...]string{FillReflect: "reflect", FillZero: "zero"}

// String returns "reflect" or "zero", the names ParseFill accepts.
func (f Fill) String() string {
	if f >= 0 && int(f) < len(fillNames) {
		return fillNames[f]
	}
	return fmt.Sprintf("Fill(%d)", int(f))
}

// ParseFill returns the Fill named s ("reflect" or "zero").
func ParseFill(s string) (Fill, error) {
	if i := slices.Index(fillNames[:], s); i >= 0 {
		return Fill(i), nil
	}
	return 0, fmt.Errorf("policy: fill %q: want \"reflect\" or \"zero\"", s)
}

// Rotate returns m rotated counter-clockwise (as displayed) by degrees about
// its centre, keeping its size, sampled bilinearly; fill decides what
// appears where the rotated image does not cover the output. Rotating a
// square image by a multiple of 90 degrees reproduces Rot90 up to rounding.
func Rotate(m Image, degrees float64, fill Fill) Image {
	sin, cos := math.Sincos(degrees * math.Pi / 180)
	cx, cy := float64(m.W-1)/2, float64(m.H-1)/2
	// Inverse map: source = R(-θ)·(p - c) + c, in display coordinates (y down).
	return warp(m, affine{
		cos, -sin, cx - cos*cx + sin*cy,
		sin, cos, cy - sin*cx - cos*cy,
	}, fill)
}

// Translate returns m shifted right by dx and down by dy pixels (fractions
// are interpolated bilinearly), keeping its size.
func Translate(m Image, dx, dy float64, fill Fill) Image {
	return warp(m, affine{1, 0, -dx, 0, 1, -dy}, fill)
}

// affine maps an output pixel (x, y) to the source position
// (a[0]x + a[1]y + a[2], a[3]x + a[4]y + a[5]).
type affine [6]float64

// warp resamples m bilinearly through the inverse map a.
func warp(m Image, a affine, fill Fill) Image {
	out := NewImage(m.H, m.W, m.C)
	n := m.H * m.W
	var idx [4]int
	var wt [4]float32
	for y := range m.H {
		for x := range m.W {
			sx := a[0]*float64(x) + a[1]*float64(y) + a[2]
			sy := a[3]*float64(x) + a[4]*float64(y) + a[5]
			x0, y0 := math.Floor(sx), math.Floor(sy)
			fx, fy := sx-x0, sy-y0
			wx, wy := [2]float64{1 - fx, fx}, [2]float64{1 - fy, fy}
			ix0, iy0 := int(x0), int(y0)
			taps := 0
			if ix0 >= 0 && iy0 >= 0 && ix0+1 < m.W && iy0+1 < m.H { // interior
				i := iy0*m.W + ix0
				idx = [4]int{i, i + 1, i + m.W, i + m.W + 1}
				wt = [4]float32{float32(wx[0] * wy[0]), float32(wx[1] * wy[0]), float32(wx[0] * wy[1]), float32(wx[1] * wy[1])}
				taps = 4
			} else {
				for j := range 2 {
					for i := range 2 {
						w := wx[i] * wy[j]
						if w == 0 {
							continue
						}
						ix, okx := edge(ix0+i, m.W, fill)
						iy, oky := edge(iy0+j, m.H, fill)
						if !okx || !oky {
							continue
						}
						idx[taps], wt[taps] = iy*m.W+ix, float32(w)
						taps++
					}
				}
			}
			o := y*m.W + x
			for c := range m.C {
				src := m.Pix[c*n : (c+1)*n]
				var v float32
				for t := range taps {
					v += wt[t] * src[idx[t]]
				}
				out.Pix[c*n+o] = v
			}
		}
	}
	return out
}

// edge maps index i onto 0..n-1 according to fill; ok is false when the
// tap must read as zero.
func edge(i, n int, fill Fill) (j int, ok bool) {
	if i >= 0 && i < n {
		return i, true
	}
	if fill == FillZero {
		return 0, false
	}
	period := 2 * n
	i %= period
	if i < 0 {
		i += period
	}
	if i >= n {
		i = period - 1 - i
	}
	return i, true
}

// Box is an axis-aligned rectangle of pixels: rows Top..Top+H-1, columns
// Left..Left+W-1.
type Box struct {
	Top, Left, H, W int
}

// Area returns the number of pixels in b.
func (b Box) Area() int { return b.H * b.W }

// RandomResizedCropBox draws the crop window of a random-resized crop of an
// h×w image, with the semantics of timm and torchvision: up to 10 attempts
// draw an area fraction uniformly from scale and an aspect ratio (width /
// height) log-uniformly from ratio, round the sides to the nearest integer,
// and accept the first window that fits, at a uniform position. If none
// fits, the fallback is the largest centred window whose aspect ratio is
// clamped into ratio.
func RandomResizedCropBox(h, w int, scale, ratio [2]float64, rng *rand.Rand) Box {
	area := float64(h * w)
	logLo, logHi := math.Log(ratio[0]), math.Log(ratio[1])
	for range 10 {
		target := area * uniform(rng, scale[0], scale[1])
		aspect := math.Exp(uniform(rng, logLo, logHi))
		cw := int(math.RoundToEven(math.Sqrt(target * aspect)))
		ch := int(math.RoundToEven(math.Sqrt(target / aspect)))
		if 0 < cw && cw <= w && 0 < ch && ch <= h {
			top := rng.IntN(h - ch + 1)
			left := rng.IntN(w - cw + 1)
			return Box{Top: top, Left: left, H: ch, W: cw}
		}
	}
	cw, ch := w, h
	switch in := float64(w) / float64(h); {
	case in < ratio[0]:
		ch = int(math.RoundToEven(float64(cw) / ratio[0]))
	case in > ratio[1]:
		cw = int(math.RoundToEven(float64(ch) * ratio[1]))
	}
	return Box{Top: (h - ch) / 2, Left: (w - cw) / 2, H: ch, W: cw}
}

// RandomResizedCrop crops m to a window drawn by RandomResizedCropBox and
// resizes it to outH×outW with Resize.
func RandomResizedCrop(m Image, outH, outW int, scale, ratio [2]float64, rng *rand.Rand) Image {
	b := RandomResizedCropBox(m.H, m.W, scale, ratio, rng)
	return Resize(Crop(m, b.Top, b.Left, b.H, b.W), outH, outW)
}

// uniform draws from [lo, hi).
func uniform(rng *rand.Rand, lo, hi float64) float64 {
	return lo + (hi-lo)*rng.Float64()
}

// Shift returns m moved down by dy and right by dx pixels (negative: up,
// left), filling what enters with the mirror image of the border without
// repeating the border pixel, so that Shift(m, n, dy, dx) is m
// reflect-padded by n pixels on every side (PyTorch's padding_mode
// "reflect") and cropped back to its size at row n-dy, column n-dx. The
// shifts must satisfy |dy|, |dx| <= n < min(m.H, m.W).
func Shift(m Image, n, dy, dx int) Image {
	if n < 0 || n >= min(m.H, m.W) || abs(dy) > n || abs(dx) > n {
		panic(fmt.Sprintf("policy: Shift of a %dx%d image by (%d, %d) with padding %d", m.H, m.W, dy, dx, n))
	}
	out := NewImage(m.H, m.W, m.C)
	cols := make([]int, m.W)
	for x := range cols {
		cols[x] = mirror(x-dx, m.W)
	}
	for c := range m.C {
		src, dst := m.Plane(c), out.Plane(c)
		for y := range m.H {
			row := src[mirror(y-dy, m.H)*m.W:]
			d := dst[y*m.W : (y+1)*m.W]
			for x, sx := range cols {
				d[x] = row[sx]
			}
		}
	}
	return out
}

// mirror maps i in -n+1..2n-2 onto 0..n-1 by reflection about the first
// and last index, which are not repeated.
func mirror(i, n int) int {
	if i < 0 {
		return -i
	}
	if i >= n {
		return 2*(n-1) - i
	}
	return i
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
