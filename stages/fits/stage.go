// Package fits is the source stage of FITS image cutouts in the style of the
// Legacy Surveys cutout service (legacysurvey.org/viewer/fits-cutout): a
// float32 cube of NAXIS3 bands named by the BANDS or BAND0…BANDn keywords,
// a single-band 2-D image, or one 2-D file per band grouped by a manifest.
//
// Fluxes are read as physical values (BZERO + BSCALE × stored, BLANK as
// NaN); non-finite values are set to 0 and counted in the nonfinite_values
// column, the stage's log and its summary. Images are flipped
// vertically, so that row 0 of the pixels is the last FITS row and an image
// with the usual orientation (north up, east left) shows north up, as
// JPEG cutouts do. With size > 0 the fluxes are cropped to the largest
// centred square and area-averaged to size×size. The bands are then
// composited to RGB bytes with the Legacy Surveys viewer colour scheme (see
// Scheme); a single band gives a grayscale image in three channels.
//
// ra and dec come from the manifest when it has them, otherwise from the
// image's celestial WCS (TAN projection; CD, PC+CDELT or CDELT+CROTA2) at
// the centre of the output image; pixel_scale from the WCS unless set.
// With keep_raw the fluxes of the output image (after flip, crop and
// resize, non-finite values 0) are stored in the raw column as planar
// little-endian float32.
//
// A file that cannot be read, or whose header is malformed, is rejected
// with its byte offset when there is one, unless path names that single
// file: then the stage fails with the file and the offset.
package fits

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"

	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/fits/internal/fitsfile"
	"github.com/astroformer/astroformer/stages/ingest"
	"github.com/astroformer/astroformer/stages/internal/imageops"
	"github.com/astroformer/astroformer/stages/internal/manifest"
	"github.com/astroformer/astroformer/stages/internal/source"
)

// Kind is the stage kind of the FITS source.
const Kind = "fits"

// Limits.
const (
	// ChunkRows is the number of cutouts committed at a time: a killed run
	// resumes after the last complete chunk.
	ChunkRows = 64
	// MaxImageBytes bounds the data of the image read from one file.
	MaxImageBytes = 1 << 30
)

// Keys of the table metadata written by the stage.
const (
	MetaClassNames  = schemas.MetaClassNames // JSON list, label order; with a manifest that names every label
	MetaRGB         = "fits.rgb"             // the colour scheme, in words
	MetaRGBScales   = "fits.rgb_scales"      // JSON {"g": [plane, factor], …}
	MetaRGBM        = "fits.rgb_m"
	MetaRGBQ        = "fits.rgb_q"
	MetaOrientation = "fits.orientation"
)

// Orientation is the value of MetaOrientation.
const Orientation = "row 0 of pixels and raw is the last FITS image row (NAXIS2): north up for the usual orientation"

// params determine the stage's output. Inputs is a digest of the names,
// sizes and modification times of the input files. Scales and Memory are
// the rgb_scales and memory attributes as given: RGBScales merges Scales
// over the defaults, and the memory budget is not a parameter of the
// output.
type params struct {
	source.Files
	Bands      string               `hcl:"bands,optional" json:"bands"`
	Size       int                  `hcl:"size,optional" json:"size"`
	KeepRaw    bool                 `hcl:"keep_raw,optional" json:"keep_raw"`
	Scales     map[string][]float64 `hcl:"rgb_scales,optional" json:"-"`
	RGBScales  map[string]Scale     `json:"rgb_scales"`
	RGBM       float64              `hcl:"rgb_m,optional" json:"rgb_m"`
	RGBQ       float64              `hcl:"rgb_q,optional" json:"rgb_q"`
	Split      string               `hcl:"split,optional" json:"split"`
	PixelScale *float64             `hcl:"pixel_scale,optional" json:"pixel_scale,omitempty"`
	Survey     *string              `hcl:"survey,optional" json:"survey,omitempty"`
	Release    *string              `hcl:"release,optional" json:"release,omitempty"`
	Memory     *string              `hcl:"memory,optional" json:"-"`
}

type stage struct {
	source.Stage[params, *params]
	p      *params
	memory int64 // bytes; 0: not set
}

// Decode decodes a fits stage block:
//
//	stage "fits" "legacy" {
//	  path        = "data/cutouts"     # required: a folder (searched recursively for .fits, .fit, .fts,
//	                                   # optionally .gz), a glob ("data/*.fits"), a manifest (.csv,
//	                                   # .parquet), or one file
//	  output      = "cutouts"          # required: the cutouts table
//	  rejects     = "cutouts_rejects"  # optional; default "<output>_rejects"
//	  max_rejects = 0                  # fail after this many rejected files; 0: no limit
//	  votes       = ""                 # optional: a vote-count catalog (.csv, .parquet) joined on
//	                                   # object_id; with votes_key and vote_tree (docs/votes.md)
//	  bands       = ""                 # band names of the image planes, e.g. "grz"; default from
//	                                   # BANDS or BAND0…BANDn (per-band files: the manifest's band column)
//	  size        = 0                  # centre-crop and area-resize to size×size; 0: keep the image size
//	  keep_raw    = false              # store the fluxes in the raw column
//	  rgb_scales  = { g = [2, 6.0] }   # per band [RGB plane (0 red, 1 green, 2 blue), flux factor];
//	                                   # merged over the defaults u [2, 1.5], g [2, 6.0], r [1, 3.4],
//	                                   # i [0, 1.0], z [0, 2.2]
//	  rgb_m       = 0.03               # offset added to the scaled fluxes
//	  rgb_q       = 20                 # asinh softening
//	  split       = ""                 # split of every row: "", "train", "val" or "test"
//	  pixel_scale = 0.262              # optional: arcsec per image pixel, instead of the WCS's
//	  survey      = "DECaLS"           # optional: the survey column
//	  release     = "DR10"             # optional: the release column
//	  workers     = 0                  # reading goroutines; 0: one per CPU (GOMAXPROCS), fewer
//	                                   # when the memory budget does not hold that many
//	  memory      = "4GiB"             # optional: the memory budget of the workers; default
//	                                   # GOMEMLIMIT, else half of MemAvailable
//	}
//
// Decoding lists the input files for the fingerprint.
func Decode(name string, body hcl.Body, ctx *hcl.EvalContext) (pipeline.Stage, hcl.Diagnostics) {
	scheme := LegacyScheme()
	p := &params{RGBScales: scheme.Scales, RGBM: scheme.M, RGBQ: scheme.Q}
	s := &stage{Stage: source.NewStage(name, Kind, p), p: p}
	return source.Declare(s, body, ctx, p, source.Block{
		Path: "path names a folder of FITS files, a glob, a manifest (.csv or .parquet) or one FITS file.",
		Check: func(at *source.Attrs) {
			p.check(at)
			s.memory = at.CheckMemory(p.Memory)
		},
		Inputs: s.digest,
	})
}

// check merges rgb_scales over the defaults and reports the invalid
// attributes of the kind.
func (p *params) check(at *source.Attrs) {
	for band, v := range p.Scales {
		if len(v) != 2 || (v[0] != 0 && v[0] != 1 && v[0] != 2) || !(v[1] > 0) || math.IsInf(v[1], 0) {
			at.Bad("rgb_scales", "Invalid rgb_scales", fmt.Sprintf("rgb_scales.%s is %v; expected [plane, factor] with plane 0 (red), 1 (green) or 2 (blue) and a positive factor.", band, v))
			continue
		}
		p.RGBScales[band] = Scale{Plane: int(v[0]), Factor: v[1]}
	}
	at.CheckResize(p.Size, "keep the image size", 4096)
	if !(p.RGBM > -1 && p.RGBM < 1) {
		at.Bad("rgb_m", "Invalid rgb_m", fmt.Sprintf("rgb_m is %g; expected a small offset such as 0.03.", p.RGBM))
	}
	if !(p.RGBQ > 0 && p.RGBQ < 1e6) {
		at.Bad("rgb_q", "Invalid rgb_q", fmt.Sprintf("rgb_q is %g; expected a positive softening such as 20.", p.RGBQ))
	}
	at.CheckSplit(p.Split)
	at.CheckPixelScale(p.PixelScale)
}

// digest summarises the input files.
func (s *stage) digest() string {
	paths := []string{s.p.Path}
	if manifest.IsManifest(s.p.Path) || isGlob(s.p.Path) {
		if units, _, _, err := listUnits(s.p.Path); err == nil {
			for _, u := range units {
				for _, f := range u.files {
					paths = append(paths, f.path)
				}
			}
		}
	}
	return source.Digest(paths...)
}

func (s *stage) scheme() Scheme {
	return Scheme{Scales: s.p.RGBScales, M: s.p.RGBM, Q: s.p.RGBQ}
}

// Run lists the input files and converts them in that order, ChunkRows
// cutouts at a time; an interrupted run resumes after the last complete
// chunk.
func (s *stage) Run(ctx context.Context, env *pipeline.Env) error {
	start := time.Now()
	units, names, single, err := listUnits(s.p.Path)
	if err != nil {
		return err
	}
	md := s.scheme().Metadata()
	md[MetaOrientation] = Orientation
	if names != nil {
		b, err := json.Marshal(names)
		if err != nil {
			return err
		}
		md[MetaClassNames] = string(b)
	}
	env.Log.Info("reading", "path", s.p.Path, "cutouts", len(units))
	st := &stats{log: env.Log}
	workers := s.workerCount(units, env.Log)
	free := newScratches(workers)
	sum, err := s.Ingest(ctx, env, source.Input{
		Items: len(units), Unit: "cutouts", Chunk: ChunkRows, Workers: workers, Metadata: md,
		Convert: func(i int) source.Result {
			sc := free.get()
			defer free.put(sc)
			return s.cutout(&units[i], st, single, sc)
		},
	})
	if err != nil {
		return err
	}
	env.Summarize("%s: %d FITS cutouts from %s → %s (%d rejected → %s) in %s",
		s.Name(), sum.Rows, s.p.Path, s.p.Output, sum.Rejects, s.p.Rejects, time.Since(start).Round(time.Millisecond))
	if n := st.nonFiniteRows.Load(); n > 0 {
		env.Log.Info("non-finite fluxes set to 0", "pixels", st.nonFinitePixels.Load(), "cutouts", n)
		env.Summarize("  %d non-finite flux values set to 0 in %d cutouts", st.nonFinitePixels.Load(), n)
	}
	if n := st.noWCS.Load(); n > 0 {
		env.Log.Warn("cutouts without a usable WCS have null ra and dec", "cutouts", n, "first reason", st.firstNoWCS())
		env.Summarize("  %d cutouts without ra/dec: %s", n, st.firstNoWCS())
	}
	if names != nil {
		env.Summarize("  %s", source.PerClass(sum.PerClass, names, ingest.Unlabelled))
	}
	return nil
}

// stats are counted across the converting goroutines.
type stats struct {
	log             hclog.Logger
	nonFinitePixels atomic.Int64
	nonFiniteRows   atomic.Int64
	noWCS           atomic.Int64
	mu              sync.Mutex
	noWCSReason     string
}

func (st *stats) firstNoWCS() string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.noWCSReason
}

func (st *stats) missingWCS(reason string) {
	st.noWCS.Add(1)
	st.mu.Lock()
	if st.noWCSReason == "" {
		st.noWCSReason = reason
	}
	st.mu.Unlock()
}

// planes is the fluxes of one cutout in output order: one h×w plane per
// band, row 0 at the top, in the buffers of a scratch; and what the first
// file's header says of the cutout's position.
type planes struct {
	bands []string
	data  [][]float32
	h, w  int
	fitH  int // FITS NAXIS2, for the WCS of the output centre
	wcs   *tan
	why   string // why wcs is nil

	nonFinite int32 // NaN and infinite fluxes set to 0, over all bands
}

// cutout reads and converts one unit with the buffers of sc. A problem with
// the input gives a Result with Reject set, the file in Cutout.Source and
// the byte offset, if known, in Cutout.Position; or, when the unit is the
// stage's single input file, with Err set.
func (s *stage) cutout(u *unit, st *stats, single bool, sc *scratch) source.Result {
	c := ingest.Cutout{ObjectID: u.objectID, Source: u.files[0].rel, Position: u.position}
	reject := func(f bandFile, err error) source.Result {
		if single {
			return source.Result{Err: fmt.Errorf("%s: %w", f.path, err)}
		}
		c.Source = f.rel
		var fe *fitsfile.Error
		if errors.As(err, &fe) {
			c.Position = "byte " + strconv.FormatInt(fe.Offset, 10)
			return source.Result{Cutout: c, Reject: fe.Msg}
		}
		return source.Result{Cutout: c, Reject: err.Error()}
	}
	var p planes
	for i, f := range u.files {
		n, err := s.readFile(&p, f, i, len(u.files), sc)
		if err != nil {
			return reject(f, err)
		}
		p.nonFinite += int32(n)
		if n > 0 {
			st.nonFinitePixels.Add(int64(n))
			st.nonFiniteRows.Add(1)
			st.log.Debug("non-finite fluxes set to 0", "object_id", u.objectID, "file", f.rel, "pixels", n)
		}
	}
	scheme := s.scheme()
	if err := scheme.Check(p.bands); err != nil {
		return reject(u.files[0], err)
	}
	cx, cy, scale := s.resize(&p, sc)
	c.NonFinite = &p.nonFinite
	c.Pixels = scheme.RGB(p.data, p.bands, p.h, p.w)
	c.Height, c.Width, c.Channels = int32(p.h), int32(p.w), 3
	c.Bands = joinBands(p.bands)
	c.Label, c.LabelName, c.Split = u.label, u.labelName, s.p.Split
	c.Survey, c.Release = s.p.Survey, s.p.Release
	s.position(&c, &p, cx, cy, scale, u, st)
	if s.p.KeepRaw {
		c.Raw = rawBytes(p.data)
	}
	return source.Result{Cutout: c}
}

// readFile reads file i of the files of a unit into p: its planes, flipped
// vertically and with non-finite values set to 0, go into sc's flux buffer
// after those of the files before it. It returns how many values were not
// finite. The header is checked before the data is read, but an error of
// the data is reported first, as when the whole file was read at once.
func (s *stage) readFile(p *planes, f bandFile, i, files int, sc *scratch) (int, error) {
	im, closeFile, err := sc.openImage(f.path)
	if err != nil {
		return 0, err
	}
	defer closeFile()
	bands, err := s.checkImage(p, im, f, i)
	if err != nil {
		if derr := im.Discard(); derr != nil {
			return 0, derr
		}
		return 0, err
	}
	if i == 0 {
		// The files of a unit of several are one plane each, of one size.
		grow(&sc.flux, files*im.Values())
	}
	w, h := im.Width(), im.Height()
	off := len(p.data) * w * h
	data := sc.flux[off : off+im.Values()]
	if err := im.ReadData(data); err != nil {
		return 0, err
	}
	bad := 0
	for k := range im.Planes() {
		plane := data[k*w*h : (k+1)*w*h]
		bad += flipPlane(plane, w, h)
		p.data = append(p.data, plane)
	}
	p.bands = append(p.bands, bands...)
	return bad, nil
}

// checkImage returns the band names of the planes of file i of a unit,
// from its header; the first file sets the size of the cutout and its
// WCS, and the others must have that size.
func (s *stage) checkImage(p *planes, im *fitsfile.Image, f bandFile, i int) ([]string, error) {
	var bands []string
	var err error
	if f.band != "" {
		if im.Planes() != 1 {
			return nil, fmt.Errorf("band %s: %d image planes, expected one per file", f.band, im.Planes())
		}
		bands = []string{f.band}
	} else if bands, err = bandNames(s.p.Bands, im.Planes(), im.Header, im.Primary); err != nil {
		return nil, err
	} else if bands == nil {
		return nil, fmt.Errorf("%d image planes without band names (BANDS, BAND0…); set the bands attribute", im.Planes())
	}
	if i == 0 {
		p.h, p.w, p.fitH = im.Height(), im.Width(), im.Height()
		if p.wcs, p.why, err = parseTAN(im.Header); err != nil {
			return nil, err
		}
	} else if im.Height() != p.h || im.Width() != p.w {
		return nil, fmt.Errorf("band %s is %d×%d pixels, band %s %d×%d", f.band, im.Width(), im.Height(), p.bands[0], p.w, p.h)
	}
	return bands, nil
}

// resize crops the planes of p in place to the largest centred square and
// area-resizes them to size×size, when size is set: in place when that
// shrinks them, else into sc's buffer. It returns the centre of the output
// image in FITS pixel coordinates and the number of source pixels per
// output pixel.
func (s *stage) resize(p *planes, sc *scratch) (cx, cy, scale float64) {
	if s.p.Size <= 0 {
		return float64(p.w+1) / 2, float64(p.h+1) / 2, 1
	}
	sq := imageops.CenterSquare(image.Rect(0, 0, p.w, p.h))
	side, size := sq.Dx(), s.p.Size
	cx = float64(sq.Min.X) + float64(side+1)/2
	cy = float64(p.fitH-sq.Min.Y) - float64(side-1)/2
	var sh [][]imageops.Span[float64]
	if side != size {
		sh = shares(side, size)
		grow(&sc.acc, size)
	}
	if size > side {
		grow(&sc.resized, len(p.data)*size*size)
	}
	for k, d := range p.data {
		d = cropPlane(d, p.w, sq.Min.X, sq.Min.Y, side)
		if side != size {
			out := d[:min(len(d), size*size)]
			if size > side {
				out = sc.resized[k*size*size : (k+1)*size*size]
			}
			resizeArea(out, d, side, size, sh, sc.acc)
			d = out
		}
		p.data[k] = d
	}
	p.h, p.w = size, size
	return cx, cy, float64(side) / float64(size)
}

// position sets the ra, dec and pixel_scale of c: ra and dec from the
// manifest, or else from the WCS at (cx, cy); the pixel scale from the
// stage, or else from the WCS, times scale.
func (s *stage) position(c *ingest.Cutout, p *planes, cx, cy, scale float64, u *unit, st *stats) {
	switch {
	case u.ra != nil:
		c.RA, c.Dec = u.ra, u.dec
	case p.wcs != nil:
		if ra, dec, ok := p.wcs.sky(cx, cy); ok {
			c.RA, c.Dec = &ra, &dec
		} else {
			st.missingWCS("the WCS gives no finite position")
		}
	default:
		st.missingWCS(p.why)
	}
	if s.p.PixelScale != nil {
		ps := *s.p.PixelScale * scale
		c.PixelScale = &ps
	} else if p.wcs != nil {
		if ps, ok := p.wcs.scale(); ok {
			ps *= scale
			c.PixelScale = &ps
		}
	}
}

// rawBytes encodes planes as consecutive little-endian float32 values.
func rawBytes(data [][]float32) []byte {
	out := make([]byte, 0, 4*len(data)*len(data[0]))
	for _, d := range data {
		for _, v := range d {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
		}
	}
	return out
}
