package fits

import (
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/astroformer/astroformer/stages/fits/internal/fitsfile"
)

// scratch is the buffers of one converting goroutine, kept from one cutout
// to the next, so that a worker holds about the fluxes of the largest
// cutout it has made and converting cutouts of one size allocates little
// more than their pixels.
type scratch struct {
	flux    []float32 // the fluxes of every band of a cutout, plane after plane
	resized []float32 // the planes resized to size×size, plane after plane
	acc     []float64 // one output row of the resize
	zr      *gzip.Reader
}

// scratches is a free list of scratch buffers, at most one per worker.
type scratches chan *scratch

func newScratches(workers int) scratches { return make(scratches, max(workers, 1)) }

func (f scratches) get() *scratch {
	select {
	case sc := <-f:
		return sc
	default:
		return new(scratch)
	}
}

func (f scratches) put(sc *scratch) {
	select {
	case f <- sc:
	default:
	}
}

// grow returns *buf resized to n values, reallocated only when it is too
// small; the old buffer is dropped first, so that both are not held.
func grow[T any](buf *[]T, n int) []T {
	if cap(*buf) < n {
		*buf = nil
		*buf = make([]T, n)
	}
	*buf = (*buf)[:n]
	return *buf
}

// openImage opens a FITS file, gzip-compressed when its name ends in
// ".gz", and reads the header of its first image (fitsfile.ReadImageHeader);
// the image's data is next in the file, which close closes. The header of
// an uncompressed file is checked against the file's size.
func (sc *scratch) openImage(path string) (im *fitsfile.Image, close func(), err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	var r io.Reader = f
	gz := strings.HasSuffix(strings.ToLower(path), ".gz")
	if gz {
		if r, err = sc.gunzip(f); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("gzip: %w", err)
		}
	}
	if im, err = fitsfile.ReadImageHeader(r, MaxImageBytes); err == nil && !gz {
		var st os.FileInfo
		if st, err = f.Stat(); err == nil {
			err = im.CheckSize(st.Size())
		}
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return im, func() { f.Close() }, nil
}

// gunzip returns a gzip reader of f, reusing the worker's.
func (sc *scratch) gunzip(f io.Reader) (io.Reader, error) {
	if sc.zr == nil {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, err
		}
		sc.zr = zr
		return zr, nil
	}
	return sc.zr, sc.zr.Reset(f)
}

// flipPlane flips an h×w plane vertically in place and sets its
// non-finite values to 0; it returns how many there were.
func flipPlane(plane []float32, w, h int) int {
	for r := range h / 2 {
		top, bottom := plane[r*w:(r+1)*w], plane[(h-1-r)*w:(h-r)*w]
		for x := range top {
			top[x], bottom[x] = bottom[x], top[x]
		}
	}
	bad := 0
	for i, v := range plane {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			plane[i] = 0
			bad++
		}
	}
	return bad
}

// cropPlane moves the side×side square at (x0, y0) of a w-wide plane to
// the start of the plane, row after row, and returns it. Each row moves
// towards the start, so no row is overwritten before it has moved.
func cropPlane(plane []float32, w, x0, y0, side int) []float32 {
	for y := range side {
		from := (y0+y)*w + x0
		copy(plane[y*side:(y+1)*side], plane[from:from+side])
	}
	return plane[:side*side]
}
