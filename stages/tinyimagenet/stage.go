// Package tinyimagenet is the source stage of Tiny ImageNet (the
// tiny-imagenet-200 folder of the Stanford CS231n course: 200 ImageNet
// classes, 500 training and 50 validation JPEG images of 64×64 pixels each).
//
// Labels are the line indices of the WordNet ids in wnids.txt; label_name
// is the first synonym of the id in words.txt. The training images
// (train/<wnid>/images/) get the split named by train_split, by default ""
// so that a split stage divides them into train and val; the official
// validation images (val/images/, labelled by val/val_annotations.txt)
// serve as the test set and get split "test". The unlabelled test/ folder
// is not read. object_id is "tinyimagenet-" followed by the file name
// without its extension: "tinyimagenet-n01443537_0", "tinyimagenet-val_0".
package tinyimagenet

import (
	"context"
	"encoding/json"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/ingest"
	"github.com/astroformer/astroformer/stages/internal/imageops"
	"github.com/astroformer/astroformer/stages/internal/source"
)

// Kind is the stage kind of the Tiny ImageNet source.
const Kind = "tinyimagenet"

// Constants of the rows this stage writes.
const (
	Release = "Tiny ImageNet 200"
	Bands   = "rgb"
	// ChunkRows is the number of images committed at a time: a killed run
	// resumes after the last complete chunk.
	ChunkRows = 2048
)

// Keys of the table metadata written by the stage.
const (
	MetaClassNames = schemas.MetaClassNames // JSON list, label order
	MetaWnids      = "tinyimagenet.wnids"   // JSON list, label order
)

// ObjectID returns the object_id of an image file.
func ObjectID(file string) string {
	base := path.Base(filepath.ToSlash(file))
	return "tinyimagenet-" + strings.TrimSuffix(base, path.Ext(base))
}

// params determine the stage's output. Inputs is a digest of the names,
// sizes and modification times of the files under Path.
type params struct {
	source.Files
	TrainSplit string `hcl:"train_split,optional" json:"train_split"`
	Size       int    `hcl:"size,optional" json:"size"`
}

type stage struct {
	source.Stage[params, *params]
	p *params
}

// Decode decodes a tinyimagenet stage block:
//
//	stage "tinyimagenet" "tiny" {
//	  path        = "data/tiny-imagenet-200" # required: folder of wnids.txt, words.txt, train/ and val/
//	  output      = "cutouts"                # required: the cutouts table
//	  rejects     = "cutouts_rejects"        # optional; default "<output>_rejects"
//	  max_rejects = 0                        # fail after this many rejected images; 0: no limit
//	  votes       = ""                       # optional: a vote-count catalog (.csv, .parquet) joined on
//	                                         # object_id; with votes_key and vote_tree (docs/votes.md)
//	  train_split = ""                       # split of train/ images: "" (left to a split stage) or "train"
//	  size        = 0                        # centre-crop and area-resize to size×size; 0: keep 64×64
//	  workers     = 0                        # decoding goroutines; 0: GOMAXPROCS
//	}
//
// Decoding lists every file under path, for the fingerprint.
func Decode(name string, body hcl.Body, ctx *hcl.EvalContext) (pipeline.Stage, hcl.Diagnostics) {
	p := &params{}
	return source.Declare(&stage{Stage: source.NewStage(name, Kind, p), p: p}, body, ctx, p, source.Block{
		Path: "path names the tiny-imagenet-200 folder holding wnids.txt, words.txt, train/ and val/.",
		Check: func(at *source.Attrs) {
			at.CheckTrainSplit(p.TrainSplit)
			at.CheckResize(p.Size, "keep 64", 2048)
		},
	})
}

// Run converts the training images, class by class in label order, then the
// validation images in annotation order, ChunkRows at a time; an
// interrupted run resumes after the last complete chunk. Images that cannot
// be decoded are rejected.
func (s *stage) Run(ctx context.Context, env *pipeline.Env) error {
	start := time.Now()
	root := s.p.Path
	wnids, err := readWnids(filepath.Join(root, WnidsFile))
	if err != nil {
		return err
	}
	names, err := classNames(filepath.Join(root, WordsFile), wnids)
	if err != nil {
		return err
	}
	items, err := trainItems(root, wnids, s.p.TrainSplit)
	if err != nil {
		return err
	}
	nTrain := len(items)
	val, err := valItems(root, wnids, schemas.SplitTest)
	if err != nil {
		return err
	}
	items = append(items, val...)
	classJSON, err := json.Marshal(names)
	if err != nil {
		return err
	}
	wnidJSON, err := json.Marshal(wnids)
	if err != nil {
		return err
	}
	env.Log.Info("reading", "folder", root, "classes", len(wnids), "train images", nTrain, "val images", len(val))
	release := Release
	convert := func(i int) source.Result {
		it := &items[i]
		c := ingest.Cutout{ObjectID: ObjectID(it.path), Source: it.path, Position: it.position}
		if it.reject != "" {
			c.Source = ValDir + "/" + ValAnnotationsFile
			return source.Result{Cutout: c, Reject: it.reject}
		}
		img, err := imageops.Load(filepath.Join(root, filepath.FromSlash(it.path)))
		if err != nil {
			return source.Result{Cutout: c, Reject: err.Error()}
		}
		pix, side, err := imageops.SquareRGB(img, s.p.Size)
		if err != nil {
			return source.Result{Cutout: c, Reject: err.Error()}
		}
		label, name := int16(it.label), names[it.label]
		c.Label, c.LabelName, c.Split = &label, &name, it.split
		c.Height, c.Width, c.Channels, c.Pixels = int32(side), int32(side), 3, pix
		c.Bands, c.Release = Bands, &release
		return source.Result{Cutout: c}
	}
	sum, err := s.Ingest(ctx, env, source.Input{
		Items: len(items), Unit: "images", Chunk: ChunkRows, Convert: convert,
		Metadata: map[string]string{MetaClassNames: string(classJSON), MetaWnids: string(wnidJSON)},
	})
	if err != nil {
		return err
	}
	env.Summarize("%s: %d Tiny ImageNet cutouts (%d train, %d val as test) from %s → %s (%d rejected → %s) in %s",
		s.Name(), sum.Rows, nTrain, len(val), root, s.p.Output, sum.Rejects, s.p.Rejects, time.Since(start).Round(time.Millisecond))
	env.Summarize("  %s", source.PerClass(sum.PerClass, names))
	return nil
}
