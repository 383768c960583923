package galaxy10

import (
	"context"
	"fmt"
	"sync"

	"github.com/astroformer/astroformer/stages/galaxy10/internal/h5"
)

// Names of the datasets of a Galaxy10 DECals file, all at the root group.
const (
	DatasetImages   = "images"   // uint8 (N, H, W, 3): g, r, z as RGB
	DatasetLabels   = "ans"      // integer (N,): class 0-9
	DatasetRA       = "ra"       // float (N,): degrees
	DatasetDec      = "dec"      // float (N,): degrees
	DatasetRedshift = "redshift" // float (N,): NaN when unknown
	DatasetPxScale  = "pxscale"  // float (N,): arcsec/pixel
)

// File is an open Galaxy10 DECals HDF5 file: the one-dimensional columns
// in memory (a few hundred kilobytes for the 17,736 rows of the published
// file) and the images read on demand.
type File struct {
	path     string
	h5       *h5.File
	images   *h5.Dataset
	height   int
	width    int
	channels int
	labels   []int64
	ra       []float64
	dec      []float64
	redshift []float64
	pxscale  []float64
}

// Row is one row of a File, without its pixels. Floats are NaN where the
// file has NaN.
type Row struct {
	Index      int64
	Label      int64
	RA, Dec    float64
	Redshift   float64
	PixelScale float64
}

// Open opens the Galaxy10 DECals file at path and checks its layout: the
// datasets named above, images of uint8 (N, H, W, 3) and columns of N
// numbers.
func Open(path string) (*File, error) {
	hf, err := h5.Open(path)
	if err != nil {
		return nil, err
	}
	f := &File{path: path, h5: hf}
	if err := f.load(); err != nil {
		hf.Close()
		return nil, err
	}
	return f, nil
}

func (f *File) load() error {
	var err error
	if f.images, err = f.h5.Dataset(DatasetImages); err != nil {
		return err
	}
	shape := f.images.Shape()
	if len(shape) != 4 || shape[3] != 3 || f.images.Type() != (h5.Datatype{Class: h5.Integer, Size: 1}) {
		return fmt.Errorf("galaxy10: %s: dataset %s is %s %v: expected uint8 (N, height, width, 3)",
			f.path, DatasetImages, f.images.Type(), shape)
	}
	if shape[1] == 0 || shape[2] == 0 || shape[1] > 1<<14 || shape[2] > 1<<14 {
		return fmt.Errorf("galaxy10: %s: images of %d×%d pixels", f.path, shape[1], shape[2])
	}
	f.height, f.width, f.channels = int(shape[1]), int(shape[2]), int(shape[3])
	n := shape[0]
	column := func(name string) ([]float64, error) {
		d, err := f.h5.Dataset(name)
		if err != nil {
			return nil, err
		}
		if s := d.Shape(); len(s) != 1 || s[0] != n {
			return nil, fmt.Errorf("galaxy10: %s: dataset %s has shape %v: expected (%d,), one value per image", f.path, name, s, n)
		}
		return d.Float64s()
	}
	if f.ra, err = column(DatasetRA); err != nil {
		return err
	}
	if f.dec, err = column(DatasetDec); err != nil {
		return err
	}
	if f.redshift, err = column(DatasetRedshift); err != nil {
		return err
	}
	if f.pxscale, err = column(DatasetPxScale); err != nil {
		return err
	}
	labels, err := f.h5.Dataset(DatasetLabels)
	if err != nil {
		return err
	}
	if s := labels.Shape(); len(s) != 1 || s[0] != n {
		return fmt.Errorf("galaxy10: %s: dataset %s has shape %v: expected (%d,), one label per image", f.path, DatasetLabels, s, n)
	}
	if labels.Type().Class != h5.Integer {
		return fmt.Errorf("galaxy10: %s: dataset %s holds %s: expected integers", f.path, DatasetLabels, labels.Type())
	}
	f.labels, err = labels.Int64s()
	return err
}

// Close closes the file.
func (f *File) Close() error { return f.h5.Close() }

// Path returns the path the file was opened with.
func (f *File) Path() string { return f.path }

// Len returns the number of rows.
func (f *File) Len() int64 { return int64(len(f.labels)) }

// ImageSize returns the height, width and channels of every image.
func (f *File) ImageSize() (height, width, channels int) { return f.height, f.width, f.channels }

// Layout describes how the images are stored, for logs.
func (f *File) Layout() string { return f.images.Layout() }

// Row returns row i without its pixels.
func (f *File) Row(i int64) Row {
	return Row{Index: i, Label: f.labels[i], RA: f.ra[i], Dec: f.dec[i], Redshift: f.redshift[i], PixelScale: f.pxscale[i]}
}

// Memory budget of Images for decoded rows waiting to be used.
const imagesBudget = 96 << 20

// Images decodes the images of rows [first, first+n) with up to workers
// goroutines (at least one) and calls fn with each, in row order, from the
// calling goroutine. pixels (HWC, uint8) is only valid during the call.
// Memory is bounded by a window of decoded rows of about 96 MiB at most,
// whatever n is. The first error of fn or of decoding, or ctx's, stops it.
func (f *File) Images(ctx context.Context, first, n int64, workers int, fn func(row int64, pixels []byte) error) error {
	if first < 0 || n < 0 || first+n > f.Len() {
		return fmt.Errorf("galaxy10: rows [%d, %d) out of range: the file has %d", first, first+n, f.Len())
	}
	if n == 0 {
		return nil
	}
	rowBytes := int64(f.images.RowBytes())
	// A unit of work is a whole number of chunk rows, so that each chunk is
	// decoded once, of at least 8 rows to amortise the hand-offs.
	perChunk := int64(f.images.ChunkRows())
	unit := perChunk * max(1, (8+perChunk-1)/perChunk)
	window := max(1, min(2*int64(max(workers, 1)), imagesBudget/(unit*rowBytes)))
	workers = int(max(1, min(int64(workers), window)))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Buffers of finished jobs are reused; at most window+workers+1 exist.
	free := make(chan []byte, window+int64(workers)+1)
	jobs := make(chan *rowsJob)
	order := make(chan *rowsJob, window)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				j.done <- f.images.ReadRows(j.buf, uint64(j.start), uint64(j.n))
			}
		})
	}
	go splitRows(ctx, first, n, unit, rowBytes, free, order, jobs)
	err := func() error {
		for j := range order {
			if err := <-j.done; err != nil {
				return err
			}
			for i := range j.n {
				if err := fn(j.start+i, j.buf[i*rowBytes:(i+1)*rowBytes]); err != nil {
					return err
				}
			}
			select {
			case free <- j.buf[:cap(j.buf)]:
			default:
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		return ctx.Err() // the producer stops early only when cancelled
	}()
	cancel()
	for j := range order { // unblock and wait for the producer and workers
		<-j.done
	}
	wg.Wait()
	return err
}

// rowsJob is the reading of rows [start, start+n) into buf; done receives
// the error of the read.
type rowsJob struct {
	start, n int64
	buf      []byte
	done     chan error
}

// splitRows hands the rows [first, first+n) out in jobs of up to unit rows
// starting at multiples of unit (so that their chunks do not straddle),
// to order first (the order the caller consumes them in) and then to jobs
// (the readers), with buffers from free when it has one. It closes both
// when done or when ctx is cancelled.
func splitRows(ctx context.Context, first, n, unit, rowBytes int64, free chan []byte, order, jobs chan<- *rowsJob) {
	defer close(order)
	defer close(jobs)
	for start := first; start < first+n; {
		end := min((start/unit+1)*unit, first+n)
		var buf []byte
		select {
		case buf = <-free:
		default:
			buf = make([]byte, unit*rowBytes)
		}
		j := &rowsJob{start: start, n: end - start, buf: buf[:(end-start)*rowBytes], done: make(chan error, 1)}
		select {
		case order <- j:
		case <-ctx.Done():
			return
		}
		select {
		case jobs <- j:
		case <-ctx.Done():
			j.done <- ctx.Err()
			return
		}
		start = end
	}
}
