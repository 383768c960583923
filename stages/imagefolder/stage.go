// Package imagefolder is the source stage of JPEG and PNG images on disk,
// found either by walking a folder or by reading a manifest.
//
// A folder is read class-per-subfolder by default: every immediate
// subfolder of path is a class, labelled by its index in sorted (byte-wise)
// order and named after the folder; its images are found recursively.
// With labels = "none" every image under path is read, unlabelled. A
// manifest (a .csv or .parquet path; see stages/internal/manifest for its
// columns) lists the files with optional object_id, ra, dec, label and
// label_name; relative paths are relative to the manifest's folder.
//
// Every image goes through the same resize policy: the largest centred
// square is cropped, then resampled to size×size by area averaging (each
// output pixel is the covered-area-weighted mean of the source pixels).
// Grayscale images are replicated into three channels and transparency is
// composited over black. object_id defaults to the file's path relative to
// the folder or manifest, slash-separated. Files that cannot be read or
// decoded are rejected with the reason.
package imagefolder

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/ingest"
	"github.com/astroformer/astroformer/stages/internal/imageops"
	"github.com/astroformer/astroformer/stages/internal/manifest"
	"github.com/astroformer/astroformer/stages/internal/source"
)

// Kind is the stage kind of the image folder source.
const Kind = "imagefolder"

// Defaults of the stage attributes.
const (
	DefaultSize  = 64
	DefaultBands = "rgb"
	// ChunkRows is the number of images committed at a time: a killed run
	// resumes after the last complete chunk.
	ChunkRows = 1024
)

// MetaClassNames is the table metadata key of the class names, a JSON list
// in label order, written when every label has a name.
const MetaClassNames = schemas.MetaClassNames

// params determine the stage's output. Inputs is a digest of the names,
// sizes and modification times of the input files.
type params struct {
	source.Files
	Labels     string   `hcl:"labels,optional" json:"labels"`
	Extensions []string `hcl:"extensions,optional" json:"extensions"`
	Size       int      `hcl:"size,optional" json:"size"`
	Split      string   `hcl:"split,optional" json:"split"`
	Bands      string   `hcl:"bands,optional" json:"bands"`
	PixelScale *float64 `hcl:"pixel_scale,optional" json:"pixel_scale,omitempty"`
	Survey     *string  `hcl:"survey,optional" json:"survey,omitempty"`
	Release    *string  `hcl:"release,optional" json:"release,omitempty"`
}

type stage struct {
	source.Stage[params, *params]
	p *params
}

// Decode decodes an imagefolder stage block:
//
//	stage "imagefolder" "galaxies" {
//	  path        = "data/galaxies"          # required: a folder, or a manifest (.csv, .parquet)
//	  output      = "cutouts"                # required: the cutouts table
//	  rejects     = "cutouts_rejects"        # optional; default "<output>_rejects"
//	  max_rejects = 0                        # fail after this many rejected images; 0: no limit
//	  votes       = ""                       # optional: a vote-count catalog (.csv, .parquet) joined on
//	                                         # object_id; with votes_key and vote_tree (docs/votes.md)
//	  labels      = "folders"                # folder only: "folders" (class per subfolder) or "none"
//	  extensions  = [".jpg", ".jpeg", ".png"] # folder only: file name endings read, any case
//	  size        = 64                       # side of the square output images, 8 to 2048
//	  split       = ""                       # split of every row: "", "train", "val" or "test"
//	  bands       = "rgb"                    # the bands column, e.g. "grz" for Legacy Survey JPEGs
//	  pixel_scale = 0.262                    # optional: arcsec per source pixel; scaled by the resize
//	  survey      = "DECaLS"                 # optional: the survey column
//	  release     = "DR10"                   # optional: the release column
//	  workers     = 0                        # decoding goroutines; 0: GOMAXPROCS
//	}
//
// Decoding lists the input files (folder walk or manifest) for the
// fingerprint.
func Decode(name string, body hcl.Body, ctx *hcl.EvalContext) (pipeline.Stage, hcl.Diagnostics) {
	p := &params{Labels: "folders", Extensions: []string{".jpg", ".jpeg", ".png"}, Size: DefaultSize, Bands: DefaultBands}
	s := &stage{Stage: source.NewStage(name, Kind, p), p: p}
	return source.Declare(s, body, ctx, p, source.Block{
		Path:   "path names a folder of images, or a manifest (.csv or .parquet) listing them.",
		Check:  p.check,
		Inputs: s.digest,
	})
}

// check reports the invalid attributes of the kind.
func (p *params) check(at *source.Attrs) {
	if p.Labels != "folders" && p.Labels != "none" {
		at.Bad("labels", "Invalid labels", fmt.Sprintf("labels is %q; expected \"folders\" (one class per subfolder) or \"none\".", p.Labels))
	}
	if len(p.Extensions) == 0 || slices.ContainsFunc(p.Extensions, func(e string) bool { return len(e) < 2 || e[0] != '.' }) {
		at.Bad("extensions", "Invalid extensions", fmt.Sprintf("extensions is %q; expected file name endings with their dot, e.g. [\".jpg\", \".png\"].", p.Extensions))
	}
	if p.Size < 8 || p.Size > 2048 {
		at.Bad("size", "Invalid size", fmt.Sprintf("size is %d pixels; expected 8 to 2048.", p.Size))
	}
	at.CheckSplit(p.Split)
	if p.Bands == "" {
		at.Bad("bands", "Empty bands", "bands names the photometric bands of the three channels, e.g. \"grz\", or \"rgb\".")
	}
	at.CheckPixelScale(p.PixelScale)
}

// digest summarises the input files: the folder, or the manifest and the
// files it lists.
func (s *stage) digest() string {
	if !manifest.IsManifest(s.p.Path) {
		return source.Digest(s.p.Path)
	}
	paths := []string{s.p.Path}
	if entries, err := manifest.Read(s.p.Path); err == nil {
		for _, e := range entries {
			paths = append(paths, e.Path)
		}
	}
	return source.Digest(paths...)
}

// Run lists the images and converts them in that order, ChunkRows at a
// time; an interrupted run resumes after the last complete chunk.
func (s *stage) Run(ctx context.Context, env *pipeline.Env) error {
	start := time.Now()
	var (
		items []item
		names []string
		err   error
	)
	if manifest.IsManifest(s.p.Path) {
		items, names, err = manifestItems(s.p.Path)
	} else {
		items, names, err = folderItems(s.p.Path, s.p.Extensions, s.p.Labels == "folders")
	}
	if err != nil {
		return err
	}
	md := map[string]string{}
	if names != nil {
		b, err := json.Marshal(names)
		if err != nil {
			return err
		}
		md[MetaClassNames] = string(b)
	}
	env.Log.Info("reading", "path", s.p.Path, "images", len(items), "classes", len(names))
	sum, err := s.Ingest(ctx, env, source.Input{
		Items: len(items), Unit: "images", Chunk: ChunkRows, Metadata: md,
		Convert: func(i int) source.Result { return s.cutout(&items[i]) },
	})
	if err != nil {
		return err
	}
	env.Summarize("%s: %d cutouts of %d×%d from %s → %s (%d rejected → %s) in %s",
		s.Name(), sum.Rows, s.p.Size, s.p.Size, s.p.Path, s.p.Output, sum.Rejects, s.p.Rejects, time.Since(start).Round(time.Millisecond))
	env.Summarize("  %s", source.PerClass(sum.PerClass, names, ingest.Unlabelled))
	return nil
}

// cutout reads and converts one image.
func (s *stage) cutout(it *item) source.Result {
	c := ingest.Cutout{ObjectID: it.objectID, Source: it.rel, Position: it.position}
	if it.reject != "" {
		return source.Result{Cutout: c, Reject: it.reject}
	}
	img, err := imageops.Load(it.path)
	if err != nil {
		return source.Result{Cutout: c, Reject: err.Error()}
	}
	pix, side, err := imageops.SquareRGB(img, 0)
	if err != nil {
		return source.Result{Cutout: c, Reject: err.Error()}
	}
	if side != s.p.Size {
		pix = imageops.ResizeArea(pix, side, side, 3, s.p.Size, s.p.Size)
	}
	c.RA, c.Dec = it.ra, it.dec
	c.Label, c.LabelName = it.label, it.labelName
	c.Split = s.p.Split
	c.Height, c.Width, c.Channels, c.Pixels = int32(s.p.Size), int32(s.p.Size), 3, pix
	c.Bands = s.p.Bands
	c.Survey, c.Release = s.p.Survey, s.p.Release
	if s.p.PixelScale != nil {
		scale := *s.p.PixelScale * float64(side) / float64(s.p.Size)
		c.PixelScale = &scale
	}
	return source.Result{Cutout: c}
}
