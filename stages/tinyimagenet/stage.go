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
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"

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

type config struct {
	Path       string  `hcl:"path"`
	Output     string  `hcl:"output"`
	Rejects    *string `hcl:"rejects,optional"`
	MaxRejects *int64  `hcl:"max_rejects,optional"`
	TrainSplit *string `hcl:"train_split,optional"`
	Size       *int    `hcl:"size,optional"`
	Workers    *int    `hcl:"workers,optional"`
}

// params determine the stage's output. Inputs is a digest of the names,
// sizes and modification times of the files under Path.
type params struct {
	Path       string `json:"path"`
	Inputs     string `json:"inputs"`
	Output     string `json:"output"`
	Rejects    string `json:"rejects"`
	MaxRejects int64  `json:"max_rejects"`
	TrainSplit string `json:"train_split"`
	Size       int    `json:"size"`
}

type stage struct {
	name    string
	p       params
	workers int
}

// Decode decodes a tinyimagenet stage block:
//
//	stage "tinyimagenet" "tiny" {
//	  path        = "data/tiny-imagenet-200" # required: folder of wnids.txt, words.txt, train/ and val/
//	  output      = "cutouts"                # required: the cutouts table
//	  rejects     = "cutouts_rejects"        # optional; default "<output>_rejects"
//	  max_rejects = 0                        # fail after this many rejected images; 0: no limit
//	  train_split = ""                       # split of train/ images: "" (left to a split stage) or "train"
//	  size        = 0                        # centre-crop and area-resize to size×size; 0: keep 64×64
//	  workers     = 0                        # decoding goroutines; 0: GOMAXPROCS
//	}
//
// Decoding lists every file under path, for the fingerprint.
func Decode(name string, body hcl.Body, ctx *hcl.EvalContext) (pipeline.Stage, hcl.Diagnostics) {
	var cfg config
	diags := gohcl.DecodeBody(body, ctx, &cfg)
	if diags.HasErrors() {
		return nil, diags
	}
	s := &stage{name: name, p: params{Path: cfg.Path, Output: cfg.Output, Rejects: cfg.Output + "_rejects"}}
	source.Override(&s.p.Rejects, cfg.Rejects)
	source.Override(&s.p.MaxRejects, cfg.MaxRejects)
	source.Override(&s.p.TrainSplit, cfg.TrainSplit)
	source.Override(&s.p.Size, cfg.Size)
	source.Override(&s.workers, cfg.Workers)
	at := source.NewAttrs(body, &diags)
	at.CheckPath(s.p.Path, "path names the tiny-imagenet-200 folder holding wnids.txt, words.txt, train/ and val/.")
	at.CheckTables(s.p.Output, s.p.Rejects)
	at.CheckMaxRejects(s.p.MaxRejects)
	at.CheckTrainSplit(s.p.TrainSplit)
	at.CheckResize(s.p.Size, "keep 64", 2048)
	at.CheckWorkers(s.workers)
	if diags.HasErrors() {
		return nil, diags
	}
	s.p.Inputs = source.Digest(s.p.Path)
	return s, diags
}

func (s *stage) Name() string      { return s.name }
func (s *stage) Kind() string      { return Kind }
func (s *stage) Inputs() []string  { return nil }
func (s *stage) Sources() []string { return []string{s.p.Path} }
func (s *stage) Outputs() []string { return []string{s.p.Output, s.p.Rejects} }
func (s *stage) Params() any       { return s.p }

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
	sink, err := source.NewSink(env, s.p.Output, s.p.Rejects, s.p.MaxRejects, map[string]string{
		MetaClassNames: string(classJSON),
		MetaWnids:      string(wnidJSON),
	})
	if err != nil {
		return err
	}
	env.Log.Info("reading", "folder", root, "classes", len(wnids), "train images", nTrain, "val images", len(val))
	bar := env.Progress.Bar(s.name, int64(len(items)))
	defer bar.Done()
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
	resumed, err := source.Ingest(ctx, sink, len(items), source.Options{
		Chunk: ChunkRows, Workers: s.workers, Bar: bar,
		Key: func(first, last int) string { return fmt.Sprintf("images %d-%d", first, last) },
	}, convert)
	if err != nil {
		return err
	}
	sum, err := source.Commit(env, sink, resumed)
	if err != nil {
		return err
	}
	if sum.Rejects > 0 {
		env.Log.Warn("images rejected", "rows", sum.Rejects, "table", s.p.Rejects)
	}
	env.Summarize("%s: %d Tiny ImageNet cutouts (%d train, %d val as test) from %s → %s (%d rejected → %s) in %s",
		s.name, sum.Rows, nTrain, len(val), root, s.p.Output, sum.Rejects, s.p.Rejects, time.Since(start).Round(time.Millisecond))
	env.Summarize("  %s", source.PerClass(sum.PerClass, names))
	return nil
}
