// Package galaxy10 is the source stage of the Galaxy10 DECals data set
// (Leung & Bovy; 17,736 galaxies of 256×256 g,r,z pixels in ten Galaxy Zoo
// classes), published as one HDF5 file, and the downloader of that file.
//
// The stage streams the file into a cutouts table: images are decoded chunk
// by chunk on several goroutines by a pure-Go HDF5 reader (internal/h5) and
// written in row order, so memory does not grow with the number of rows.
//
// Rows are identified by their position in the file: object_id "G10-00000"
// is row 0, "G10-17735" the last row of the published file. The published
// file is fixed (Fetch checks its SHA-256), so these identifiers are stable;
// a different file with the same layout gets identifiers of the same form
// that only mean "row i of that file".
package galaxy10

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/astroformer/astroformer/internal/progress"
	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/ingest"
	"github.com/astroformer/astroformer/stages/internal/imageops"
	"github.com/astroformer/astroformer/stages/internal/source"
)

// Kind is the stage kind of the Galaxy10 DECals source.
const Kind = "galaxy10"

// Constants of the cutouts table rows this stage writes.
const (
	Survey  = "DECaLS"
	Release = "Galaxy10 DECals"
	Bands   = "grz" // the three channels of every image, in order
	// NumClasses is the number of Galaxy10 classes; labels are 0 to NumClasses-1.
	NumClasses = 10
	// ChunkRows is the number of rows committed at a time: a killed run
	// resumes after the last complete chunk.
	ChunkRows = 512
)

// Keys of the table metadata written by the stage.
const (
	MetaClassNames = schemas.MetaClassNames // JSON list, label order
	MetaFile       = "galaxy10.file"        // base name of the HDF5 file
	MetaFileBytes  = "galaxy10.file_bytes"
	MetaLayout     = "galaxy10.images_layout" // e.g. "chunked (1, 256, 256, 3) deflate"
)

// ObjectID returns the object_id of row i of the file: "G10-" and the row
// index in at least five digits.
func ObjectID(row int64) string {
	return fmt.Sprintf("G10-%05d", row)
}

// params determine the stage's output: the fingerprint changes when one
// does. Inputs is a digest of the file's name, size and modification time,
// so replacing or touching the file makes the stage run again.
type params struct {
	source.Files
	Limit int64 `hcl:"limit,optional" json:"limit"` // 0: every row
	Size  int   `hcl:"size,optional" json:"size"`   // 0: the file's own (256)
}

type stage struct {
	source.Stage[params, *params]
	p         *params
	chunkRows int64 // rows per resumable part; 0: ChunkRows
}

// Decode decodes a galaxy10 stage block:
//
//	stage "galaxy10" "galaxy10" {
//	  path        = "data/Galaxy10_DECals.h5" # required; relative to the working directory
//	  output      = "cutouts"                 # required: the cutouts table
//	  rejects     = "cutouts_rejects"         # optional; default "<output>_rejects"
//	  max_rejects = 0                         # fail after this many rejected rows; 0: no limit
//	  votes       = ""                        # optional: a vote-count catalog (.csv, .parquet) joined on
//	                                          # object_id; with votes_key and vote_tree (docs/votes.md)
//	  limit       = 0                         # read only the first rows; 0: all
//	  size        = 0                         # resize to size×size by area averaging; 0: keep 256×256
//	  workers     = 0                         # decoding goroutines; 0: GOMAXPROCS
//	}
func Decode(name string, body hcl.Body, ctx *hcl.EvalContext) (pipeline.Stage, hcl.Diagnostics) {
	p := &params{}
	return source.Declare(&stage{Stage: source.NewStage(name, Kind, p), p: p}, body, ctx, p, source.Block{
		Path: "path names the Galaxy10 DECals HDF5 file; 'astroformer fetch galaxy10' downloads it.",
		Check: func(at *source.Attrs) {
			at.CheckLimit(p.Limit, "every row")
			at.CheckResize(p.Size, "keep the file's", 2048)
		},
	})
}

// Run reads the file chunk by chunk of ChunkRows rows into the cutouts
// table. Rows with a label outside 0-9 or a NaN position go to the rejects
// table. An interrupted run keeps the chunks it completed and the next run
// with the same fingerprint starts after them.
func (s *stage) Run(ctx context.Context, env *pipeline.Env) error {
	start := time.Now()
	f, err := Open(s.p.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	rows := f.Len()
	if s.p.Limit > 0 {
		rows = min(rows, s.p.Limit)
	}
	h, w, c := f.ImageSize()
	outH, outW := h, w
	if s.p.Size != 0 {
		if h != w {
			return fmt.Errorf("galaxy10: %s: images of %d×%d pixels cannot be resized to a square without cropping", s.p.Path, h, w)
		}
		outH, outW = s.p.Size, s.p.Size
	}
	names := schemas.Galaxy10Classes()
	classNames, err := json.Marshal(names)
	if err != nil {
		return err
	}
	fileBytes := int64(0)
	if st, err := os.Stat(s.p.Path); err == nil {
		fileBytes = st.Size()
	}
	env.Log.Info("reading", "file", s.p.Path, "rows", rows, "image", fmt.Sprintf("%d×%d×%d", h, w, c), "layout", f.Layout())
	join, err := source.OpenVotes(&s.p.Votes)
	if err != nil {
		return err
	}
	sink, err := source.NewFilesSink(env, &s.p.Files, map[string]string{
		MetaClassNames: string(classNames),
		MetaFile:       filepath.Base(s.p.Path),
		MetaFileBytes:  strconv.FormatInt(fileBytes, 10),
		MetaLayout:     f.Layout(),
	}, join)
	if err != nil {
		return err
	}
	bar := env.Progress.Bar(s.Name(), rows)
	defer bar.Done()
	workers := s.p.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	conv := converter{
		file: f, names: names, source: filepath.Base(s.p.Path),
		h: h, w: w, c: c, outH: outH, outW: outW, votes: join,
	}
	resumed, err := s.ingest(ctx, f, rows, workers, &conv, sink, bar)
	if err != nil {
		return err
	}
	join.Report(env.Log, resumed)
	sum, err := source.Commit(ctx, env, sink, resumed)
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	env.Summarize("%s: %d Galaxy10 DECals cutouts of %d×%d from %s → %s (%d rejected → %s) in %s",
		s.Name(), sum.Rows, outH, outW, filepath.Base(s.p.Path), s.p.Output, sum.Rejects, s.p.Rejects, elapsed.Round(time.Millisecond))
	env.Summarize("  %s", source.PerClass(sum.PerClass, names))
	return nil
}

// ingest converts the first rows of f into sink, chunk by chunk on
// workers goroutines, skipping the chunks an interrupted run completed,
// and returns how many rows those held. On an error it aborts sink, or
// after a failed read keeps its completed chunks for the next run.
func (s *stage) ingest(ctx context.Context, f *File, rows int64, workers int, conv *converter, sink *ingest.Sink, bar *progress.Bar) (resumed int, err error) {
	part := int64(ChunkRows)
	if s.chunkRows > 0 {
		part = s.chunkRows
	}
	for first := int64(0); first < rows; first += part {
		n := min(part, rows-first)
		key := fmt.Sprintf("rows %d-%d", first, first+n-1)
		if sink.Done(key) {
			resumed += int(n)
			bar.IncrBy(int(n))
			continue
		}
		var addErr error
		err := f.Images(ctx, first, n, workers, func(row int64, pixels []byte) error {
			if cut, reason := conv.cutout(row, pixels); reason != "" {
				addErr = sink.Reject(cut.Source, cut.Position, cut.ObjectID, reason)
			} else {
				addErr = sink.Add(cut)
			}
			bar.Increment()
			return addErr
		})
		if addErr != nil {
			sink.Abort()
			return resumed, addErr
		}
		if err != nil {
			return resumed, err
		}
		if err := sink.EndPart(key); err != nil {
			sink.Abort()
			return resumed, err
		}
	}
	return resumed, nil
}

// converter turns rows of a File into cutouts.
type converter struct {
	file       *File
	names      []string
	source     string // file name, for the source column
	h, w, c    int    // image size in the file
	outH, outW int    // image size in the table
	votes      *source.VoteJoin
}

// cutout returns the cutout of row, with its vote counts when there is a
// vote-count catalog, or why it must be rejected. The cutout's Source,
// Position and ObjectID are set either way.
func (v *converter) cutout(row int64, pixels []byte) (ingest.Cutout, string) {
	r := v.file.Row(row)
	survey, release := Survey, Release
	c := ingest.Cutout{
		ObjectID: ObjectID(row),
		Source:   v.source,
		Position: fmt.Sprintf("row %d", row),
		Height:   int32(v.outH), Width: int32(v.outW), Channels: int32(v.c),
		Bands:   Bands,
		Survey:  &survey,
		Release: &release,
	}
	switch {
	case r.Label < 0 || r.Label >= NumClasses:
		return c, fmt.Sprintf("label %d is outside 0-%d", r.Label, NumClasses-1)
	case math.IsNaN(r.RA):
		return c, "ra is NaN"
	case math.IsNaN(r.Dec):
		return c, "dec is NaN"
	}
	label := int16(r.Label)
	name := v.names[label]
	c.Label, c.LabelName = &label, &name
	c.RA, c.Dec = &r.RA, &r.Dec
	if !math.IsNaN(r.Redshift) {
		c.Redshift = &r.Redshift
	}
	if !math.IsNaN(r.PixelScale) {
		scale := r.PixelScale * float64(v.h) / float64(v.outH)
		c.PixelScale = &scale
	}
	c.Pixels = pixels
	if v.outH != v.h || v.outW != v.w {
		c.Pixels = imageops.ResizeArea(pixels, v.h, v.w, v.c, v.outH, v.outW)
	}
	return c, v.votes.Apply(&c)
}
