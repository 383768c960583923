package synthetic

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// Constants of the cutouts table rows this package produces.
const (
	Bands   = "grz"
	Survey  = "synthetic"
	Release = "v1"
	// Channels is the number of image channels (RGB).
	Channels = 3
	// DefaultSize is the default cutout height and width in pixels.
	DefaultSize = 64
	// FieldOfView is the side of every cutout in arcseconds: that of a
	// Galaxy10 DECaLS image (256 pixels of 0.262″). A cutout of Size pixels
	// shows the same field, so its pixel scale is FieldOfView/Size.
	FieldOfView = 256 * 0.262
)

// PixelScale returns the pixel scale in arcsec/pixel of a cutout of size pixels.
func PixelScale(size int) float64 {
	return FieldOfView / float64(size)
}

// ObjectID returns the identifier of object index: "SYN-" and the index in
// at least eight digits. It does not depend on the seed, so the same index
// names the same position in the catalogue of every seed; the seed is
// recorded in the table metadata.
func ObjectID(index int64) string {
	return fmt.Sprintf("SYN-%08d", index)
}

// Footprint is the patch of sky the objects are spread over, uniformly in
// solid angle. Angles in degrees.
type Footprint struct {
	RAMin, RAMax, DecMin, DecMax float64
}

// DefaultFootprint returns a 10°×5° patch inside the DECaLS footprint.
func DefaultFootprint() Footprint {
	return Footprint{RAMin: 150, RAMax: 160, DecMin: 0, DecMax: 5}
}

// Options configure a Renderer.
type Options struct {
	// Size is the image height and width in pixels; 0 means DefaultSize.
	Size int
	// Seed selects the catalogue: the same seed and index give the same object.
	Seed int64
	// Weights are the relative class frequencies, NumClasses non-negative
	// numbers; nil means Galaxy10Counts.
	Weights []float64
	// Footprint is where objects lie on the sky; zero means DefaultFootprint.
	Footprint Footprint
}

func (o Options) withDefaults() (Options, error) {
	if o.Size == 0 {
		o.Size = DefaultSize
	}
	if o.Size < 16 || o.Size > 2048 {
		return o, fmt.Errorf("synthetic: size %d pixels: expected 16 to 2048", o.Size)
	}
	if o.Weights == nil {
		o.Weights = Galaxy10Counts()
	}
	if len(o.Weights) != NumClasses {
		return o, fmt.Errorf("synthetic: %d class weights: expected %d", len(o.Weights), NumClasses)
	}
	var sum float64
	for i, w := range o.Weights {
		if !(w >= 0) || math.IsInf(w, 0) {
			return o, fmt.Errorf("synthetic: class weight %d is %g: expected a finite number >= 0", i, w)
		}
		sum += w
	}
	if sum == 0 {
		return o, errors.New("synthetic: class weights are all zero")
	}
	if o.Footprint == (Footprint{}) {
		o.Footprint = DefaultFootprint()
	}
	fp := o.Footprint
	if !(fp.RAMin < fp.RAMax) || !(-90 <= fp.DecMin && fp.DecMin < fp.DecMax && fp.DecMax <= 90) {
		return o, fmt.Errorf("synthetic: footprint %+v: expected RAMin < RAMax and -90 <= DecMin < DecMax <= 90", fp)
	}
	return o, nil
}

// Object is one rendered galaxy.
type Object struct {
	Index    int64
	Class    Class
	RA, Dec  float64 // degrees
	Redshift float64
	// Pixels is the Size×Size RGB image, row-major, HWC, 8 bits per channel.
	Pixels []uint8
	// Truth is the morphology drawn, which simulated volunteers see.
	Truth Truth
}

// A Renderer draws objects. It keeps scratch buffers, so it is not safe for
// concurrent use; use one per goroutine (RenderBatch does).
type Renderer struct {
	opt       Options
	cum       [NumClasses]float64 // cumulative class fractions
	classBase uint64
	canvas    *canvas
	noise     []float32
	kernel    []float32
	rng       rng
}

// NewRenderer validates opt and returns a Renderer.
func NewRenderer(opt Options) (*Renderer, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	r := &Renderer{
		opt:       opt,
		classBase: mix64(uint64(opt.Seed) ^ 0xc1a55),
		canvas:    newCanvas(opt.Size),
		noise:     make([]float32, opt.Size*opt.Size),
	}
	var sum, acc float64
	for _, w := range opt.Weights {
		sum += w
	}
	for c, w := range opt.Weights {
		acc += w
		r.cum[c] = acc / sum
	}
	return r, nil
}

// Options returns the options in effect, defaults filled in.
func (r *Renderer) Options() Options {
	return r.opt
}

// Class returns the class of object index. Classes follow the additive
// recurrence u_i = frac(u_0 + i/φ) (φ the golden ratio) through the
// cumulative class fractions, so every prefix of the catalogue holds each
// class in proportion to its weight within a few objects, and any object's
// class is known without rendering the others.
func (r *Renderer) Class(index int64) Class {
	u := float64((r.classBase+uint64(index)*0x9e3779b97f4a7c15)>>11) * 0x1p-53
	for c, edge := range r.cum {
		if u < edge {
			return Class(c)
		}
	}
	return NumClasses - 1
}

// Render draws object index into obj, reusing obj.Pixels when large enough.
// The result depends only on the options and index.
func (r *Renderer) Render(index int64, obj *Object) {
	n := r.opt.Size
	if cap(obj.Pixels) < n*n*Channels {
		obj.Pixels = make([]uint8, n*n*Channels)
	}
	obj.Pixels = obj.Pixels[:n*n*Channels]
	obj.Index = index
	obj.Class = r.Class(index)

	r.rng.reset(r.opt.Seed, index)
	rng := &r.rng
	fp := r.opt.Footprint
	obj.RA = fp.RAMin + (fp.RAMax-fp.RAMin)*rng.float()
	sin0, sin1 := math.Sin(fp.DecMin*math.Pi/180), math.Sin(fp.DecMax*math.Pi/180)
	obj.Dec = math.Asin(sin0+(sin1-sin0)*rng.float()) * 180 / math.Pi
	lo, hi := redshiftRange(obj.Class)
	obj.Redshift = rng.uniform(lo, hi)

	c := r.canvas
	c.clear()
	s := newScene(c, rng, obj.Redshift)
	s.galaxy(obj.Class)
	obj.Truth = s.truth
	s.background()
	r.kernel = c.blur(s.psfSigma, r.kernel)
	s.stars()
	s.addNoise(r.noise)
	c.toRGB(obj.Pixels)
}

// RenderBatch renders objects first, first+1, … into objs using the given
// number of goroutines (runtime.GOMAXPROCS when workers <= 0). The result is
// the same for any number of workers. It returns ctx.Err() if cancelled.
func RenderBatch(ctx context.Context, opt Options, workers int, first int64, objs []Object) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, len(objs))
	if _, err := NewRenderer(opt); err != nil {
		return err
	}
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			r, _ := NewRenderer(opt)
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(len(objs)) {
					return
				}
				r.Render(first+i, &objs[i])
			}
		})
	}
	wg.Wait()
	return ctx.Err()
}
