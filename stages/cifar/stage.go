// Package cifar is the source stage of CIFAR-100 (Krizhevsky 2009; 60,000
// 32×32 colour images in 100 classes grouped into 20 superclasses) in its
// binary version: the folder cifar-100-binary holding train.bin, test.bin,
// fine_label_names.txt and coarse_label_names.txt.
//
// Every record becomes one cutout of 32×32 RGB pixels (or size×size, area
// averaged). The official test set gets split "test"; the training set gets
// the split named by train_split, by default "" so that a split stage
// divides it into train and val. object_id is "cifar100-train-00042" for
// record 42 of train.bin and "cifar100-test-00042" for test.bin: stable for
// the published files.
package cifar

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/ingest"
	"github.com/astroformer/astroformer/stages/internal/imageops"
	"github.com/astroformer/astroformer/stages/internal/source"
)

// Kind is the stage kind of the CIFAR-100 source.
const Kind = "cifar100"

// Constants of the rows this stage writes.
const (
	Release = "CIFAR-100"
	Bands   = "rgb"
	// ChunkRows is the number of records committed at a time: a killed run
	// resumes after the last complete chunk.
	ChunkRows = 2048
)

// Files of the binary version, inside the stage's path.
const (
	TrainFile       = "train.bin"
	TestFile        = "test.bin"
	FineNamesFile   = "fine_label_names.txt"
	CoarseNamesFile = "coarse_label_names.txt"
)

// Keys of the table metadata written by the stage.
const (
	MetaClassNames = schemas.MetaClassNames // JSON list, label order
	MetaLabels     = "cifar100.labels"      // "fine" or "coarse"
)

// ObjectID returns the object_id of record i of the file of the given
// part, "train" or "test".
func ObjectID(part string, i int64) string {
	return fmt.Sprintf("cifar100-%s-%05d", part, i)
}

// params determine the stage's output. Inputs is a digest of the names,
// sizes and modification times of the input files.
type params struct {
	source.Files
	Labels     string `hcl:"labels,optional" json:"labels"`
	TrainSplit string `hcl:"train_split,optional" json:"train_split"`
	Limit      int64  `hcl:"limit,optional" json:"limit"`
	Size       int    `hcl:"size,optional" json:"size"`
}

type stage struct {
	source.Stage[params, *params]
	p *params
}

// Decode decodes a cifar100 stage block:
//
//	stage "cifar100" "cifar" {
//	  path        = "data/cifar-100-binary" # required: folder of train.bin, test.bin and the label names
//	  output      = "cutouts"               # required: the cutouts table
//	  rejects     = "cutouts_rejects"       # optional; default "<output>_rejects"
//	  max_rejects = 0                       # fail after this many rejected records; 0: no limit
//	  votes       = ""                      # optional: a vote-count catalog (.csv, .parquet) joined on
//	                                        # object_id; with votes_key and vote_tree (docs/votes.md)
//	  labels      = "fine"                  # "fine" (100 classes) or "coarse" (20 superclasses)
//	  train_split = ""                      # split of train.bin rows: "" (left to a split stage) or "train"
//	  limit       = 0                       # read only the first records of each file; 0: all
//	  size        = 0                       # resize to size×size by area averaging; 0: keep 32×32
//	  workers     = 0                       # converting goroutines; 0: GOMAXPROCS
//	}
//
// Records whose label has no name in the names file are rejected.
func Decode(name string, body hcl.Body, ctx *hcl.EvalContext) (pipeline.Stage, hcl.Diagnostics) {
	p := &params{Labels: "fine"}
	s := &stage{Stage: source.NewStage(name, Kind, p), p: p}
	return source.Declare(s, body, ctx, p, source.Block{
		Path: "path names the cifar-100-binary folder holding train.bin, test.bin and fine_label_names.txt.",
		Check: func(at *source.Attrs) {
			if p.Labels != "fine" && p.Labels != "coarse" {
				at.Bad("labels", "Invalid labels", fmt.Sprintf("labels is %q; expected \"fine\" (100 classes) or \"coarse\" (20 superclasses).", p.Labels))
			}
			at.CheckTrainSplit(p.TrainSplit)
			at.CheckLimit(p.Limit, "every record")
			at.CheckResize(p.Size, "keep 32", 2048)
		},
		Inputs: func() string { return source.Digest(s.files()...) },
	})
}

func (s *stage) namesFile() string {
	if s.p.Labels == "coarse" {
		return filepath.Join(s.p.Path, CoarseNamesFile)
	}
	return filepath.Join(s.p.Path, FineNamesFile)
}

// files are the stage's input files.
func (s *stage) files() []string {
	return []string{filepath.Join(s.p.Path, TrainFile), filepath.Join(s.p.Path, TestFile), s.namesFile()}
}

// part is one of the two record files.
type part struct {
	name  string // "train" or "test"
	split string
	file  *RecordFile
	n     int64 // records read from it
}

// Run converts train.bin then test.bin into the cutouts table, ChunkRows
// records at a time; an interrupted run resumes after the last complete
// chunk.
func (s *stage) Run(ctx context.Context, env *pipeline.Env) error {
	start := time.Now()
	names, err := ReadLabelNames(s.namesFile())
	if err != nil {
		return err
	}
	parts := []*part{
		{name: "train", split: s.p.TrainSplit},
		{name: "test", split: schemas.SplitTest},
	}
	var total int64
	for i, pt := range parts {
		if pt.file, err = OpenRecords(s.files()[i]); err != nil {
			return err
		}
		defer pt.file.Close()
		pt.n = pt.file.Len()
		if s.p.Limit > 0 {
			pt.n = min(pt.n, s.p.Limit)
		}
		total += pt.n
	}
	classNames, err := json.Marshal(names)
	if err != nil {
		return err
	}
	side := Side
	if s.p.Size > 0 {
		side = s.p.Size
	}
	env.Log.Info("reading", "folder", s.p.Path, "train records", parts[0].n, "test records", parts[1].n, "labels", s.p.Labels)
	sum, err := s.Ingest(ctx, env, source.Input{
		Items: int(total), Unit: "records", Chunk: ChunkRows,
		Metadata: map[string]string{MetaClassNames: string(classNames), MetaLabels: s.p.Labels},
		Convert: func(i int) source.Result {
			pt, rec := parts[0], int64(i)
			if rec >= pt.n {
				pt, rec = parts[1], rec-pt.n
			}
			return s.cutout(pt, rec, names, side)
		},
	})
	if err != nil {
		return err
	}
	env.Summarize("%s: %d CIFAR-100 cutouts of %d×%d (%s labels) from %s → %s (%d rejected → %s) in %s",
		s.Name(), sum.Rows, side, side, s.p.Labels, s.p.Path, s.p.Output, sum.Rejects, s.p.Rejects, time.Since(start).Round(time.Millisecond))
	env.Summarize("  %s", source.PerClass(sum.PerClass, names))
	return nil
}

// cutout converts record rec of pt.
func (s *stage) cutout(pt *part, rec int64, names []string, side int) source.Result {
	r, err := pt.file.Record(rec)
	c := ingest.Cutout{
		ObjectID: ObjectID(pt.name, rec),
		Source:   pt.name + ".bin",
		Position: "record " + strconv.FormatInt(rec, 10),
	}
	if err != nil {
		return source.Result{Err: err}
	}
	l := r.Fine
	if s.p.Labels == "coarse" {
		l = r.Coarse
	}
	if int(l) >= len(names) {
		return source.Result{Cutout: c, Reject: fmt.Sprintf("%s label %d has no name in %s (%d names)", s.p.Labels, l, filepath.Base(s.namesFile()), len(names))}
	}
	label, name, release := int16(l), names[l], Release
	c.Label, c.LabelName = &label, &name
	c.Split = pt.split
	c.Height, c.Width, c.Channels = int32(side), int32(side), Channels
	c.Pixels = r.Pixels
	if side != Side {
		c.Pixels = imageops.ResizeArea(r.Pixels, Side, Side, Channels, side, side)
	}
	c.Bands = Bands
	c.Release = &release
	return source.Result{Cutout: c}
}
