package synthetic

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/ingest"
	"github.com/astroformer/astroformer/stages/internal/source"
	"github.com/astroformer/astroformer/votes"
)

// Kind is the stage kind of the synthetic survey source.
const Kind = "synthetic"

// Defaults of the stage attributes.
const (
	DefaultCount = 3000
	// MaxCount bounds count: 10 million 64x64 cutouts are about 120 GB of
	// pixels and a day of rendering on one core. A larger survey is several
	// stages with their own seeds, so that each one resumes and finishes.
	MaxCount = 10_000_000
	// MaxPixelBytes bounds count x size² x 3, the table's raw pixel bytes.
	MaxPixelBytes = 1 << 40
	// ChunkRows is the number of objects rendered and committed at a time: a
	// killed run resumes after the last complete chunk.
	ChunkRows = 1024
)

// Keys of the table metadata written by the stage.
const (
	MetaSeed       = "synthetic.seed"
	MetaClassNames = schemas.MetaClassNames // JSON list, label order
)

// params are the stage parameters that determine its output: the
// fingerprint changes when one does. Workers is not one of them.
type params struct {
	source.Tables
	Count        int64     `hcl:"count,optional" json:"count"`
	Size         int       `hcl:"size,optional" json:"size"`
	Seed         *int64    `hcl:"seed,optional" json:"seed,omitempty"` // nil: the job seed
	ClassWeights []float64 `hcl:"class_weights,optional" json:"class_weights"`
	Labelled     bool      `hcl:"labelled,optional" json:"labelled"`
	// Votes adds simulated Galaxy Zoo DECaLS volunteer votes to every
	// cutout (Votes, DefaultVolunteers).
	Votes bool `hcl:"votes,optional" json:"votes,omitempty"`
}

type stage struct {
	source.Stage[params, *params]
	p       *params
	chunk   int64            // objects per resumable chunk: ChunkRows
	onChunk func(key string) // called after each completed chunk; tests interrupt runs with it
}

// Decode decodes a synthetic stage block:
//
//	stage "synthetic" "survey" {
//	  output        = "cutouts"        # required: the cutouts table
//	  rejects       = "cutouts_rejects" # optional; default "<output>_rejects"
//	  count         = 3000             # number of cutouts
//	  size          = 64               # height and width in pixels
//	  seed          = 1                # optional; default the job seed
//	  class_weights = [1, 1, …]        # ten relative frequencies; default Galaxy10 DECaLS
//	  labelled      = true             # false leaves label and label_name null
//	  votes         = false            # true: simulated GZ DECaLS volunteer votes in vote_counts
//	  workers       = 0                # rendering goroutines; 0: GOMAXPROCS
//	}
func Decode(name string, body hcl.Body, ctx *hcl.EvalContext) (pipeline.Stage, hcl.Diagnostics) {
	p := &params{Count: DefaultCount, Size: DefaultSize, ClassWeights: Galaxy10Counts(), Labelled: true}
	s := &stage{Stage: source.NewStage(name, Kind, p), p: p, chunk: ChunkRows}
	return source.Declare(s, body, ctx, p, source.Block{Check: p.check})
}

// check reports the invalid attributes of the kind.
func (p *params) check(at *source.Attrs) {
	switch {
	case p.Count < 1:
		at.Bad("count", "Invalid count", fmt.Sprintf("count is %d; expected at least 1 cutout.", p.Count))
	case p.Count > MaxCount:
		at.Bad("count", "Invalid count", fmt.Sprintf("count is %d; expected at most %d cutouts. "+
			"For a larger survey, declare several synthetic stages with their own seed and output.", p.Count, MaxCount))
	case p.Size >= 16 && p.Size <= 2048 && p.Count*int64(p.Size*p.Size*3) > MaxPixelBytes:
		at.Bad("count", "Invalid count", fmt.Sprintf("count %d at size %d is %.1f TiB of pixels; the limit is 1 TiB. "+
			"Lower count or size, or split the survey over several stages.", p.Count, p.Size,
			float64(p.Count)*float64(p.Size*p.Size*3)/(1<<40)))
	}
	if p.Size < 16 || p.Size > 2048 {
		at.Bad("size", "Invalid size", fmt.Sprintf("size is %d pixels; expected 16 to 2048.", p.Size))
	}
	if _, err := NewRenderer(Options{Size: DefaultSize, Weights: p.ClassWeights}); err != nil {
		at.Bad("class_weights", "Invalid class_weights", fmt.Sprintf(
			"%s. class_weights lists the relative frequencies of the %d classes in label order: %s.",
			strings.TrimPrefix(err.Error(), "synthetic: "), NumClasses, strings.Join(schemas.Galaxy10Classes(), ", ")))
	}
}

// Run renders the cutouts chunk by chunk into the cutouts table. A run that
// is interrupted keeps the chunks it completed, and the next run with the
// same fingerprint starts after them; the rows are the same either way.
func (s *stage) Run(ctx context.Context, env *pipeline.Env) error {
	seed := env.Seed
	if s.p.Seed != nil {
		seed = *s.p.Seed
	}
	opt := Options{Size: s.p.Size, Seed: seed, Weights: s.p.ClassWeights}
	if _, err := NewRenderer(opt); err != nil {
		return err
	}
	names := schemas.Galaxy10Classes()
	classNames, err := json.Marshal(names)
	if err != nil {
		return err
	}
	md := map[string]string{MetaSeed: strconv.FormatInt(seed, 10), MetaClassNames: string(classNames)}
	var tree *votes.Tree
	var sink *ingest.Sink
	if s.p.Votes {
		tree = votes.DECaLS()
		sink, err = source.NewVoteSink(env, s.p.Output, s.p.Rejects, 0, md, tree.Name, tree.CountColumns())
	} else {
		sink, err = source.NewSink(env, s.p.Output, s.p.Rejects, 0, md)
	}
	if err != nil {
		return err
	}
	bar := env.Progress.Bar(s.Name(), s.p.Count)
	defer bar.Done()

	rows := rowMaker{names: names, tree: tree, seed: seed, labelled: s.p.Labelled, size: int32(s.p.Size),
		pixelScale: PixelScale(s.p.Size), source: fmt.Sprintf("synthetic %s seed %d", Release, seed)}
	objs := make([]Object, min(s.chunk, s.p.Count))
	var resumed int
	for first := int64(0); first < s.p.Count; first += s.chunk {
		n := min(s.chunk, s.p.Count-first)
		key := fmt.Sprintf("objects %d-%d", first, first+n-1)
		if sink.Done(key) {
			resumed += int(n)
			bar.IncrBy(int(n))
			continue
		}
		if err := RenderBatch(ctx, opt, s.p.Workers, first, objs[:n]); err != nil {
			// Keep the completed chunks for the next run to resume from.
			return err
		}
		for i := range objs[:n] {
			if err := sink.Add(rows.cutout(&objs[i])); err != nil {
				sink.Abort()
				return err
			}
		}
		if err := sink.EndPart(key); err != nil {
			sink.Abort()
			return err
		}
		bar.IncrBy(int(n))
		if s.onChunk != nil {
			s.onChunk(key)
		}
	}
	sum, err := source.Commit(ctx, env, sink, resumed)
	if err != nil {
		return err
	}
	if sum.Rejects > 0 {
		// The renderer only makes valid cutouts: a reject is a bug.
		env.Log.Warn("cutouts rejected", "rows", sum.Rejects, "table", s.p.Rejects)
	}
	env.Summarize("%s: %d synthetic %d×%d cutouts (seed %d) → %s", s.Name(), sum.Rows, s.p.Size, s.p.Size, seed, s.p.Output)
	env.Summarize("  %s", source.PerClass(sum.PerClass, names, ingest.Unlabelled))
	return nil
}

// rowMaker makes the cutouts table's rows of rendered objects.
type rowMaker struct {
	names      []string
	tree       *votes.Tree // nil: no votes
	seed       int64
	labelled   bool
	size       int32
	pixelScale float64
	source     string
}

// cutout returns the row of o, with simulated volunteer votes when the
// stage has a tree.
func (m *rowMaker) cutout(o *Object) ingest.Cutout {
	survey, release := Survey, Release
	c := ingest.Cutout{
		ObjectID: ObjectID(o.Index),
		RA:       &o.RA, Dec: &o.Dec,
		Height: m.size, Width: m.size, Channels: Channels,
		Pixels:     o.Pixels,
		PixelScale: &m.pixelScale,
		Bands:      Bands,
		Source:     m.source,
		Survey:     &survey,
		Release:    &release,
		Redshift:   &o.Redshift,
		Position:   fmt.Sprintf("object %d", o.Index),
	}
	if m.labelled {
		label, name := int16(o.Class), m.names[o.Class]
		c.Label, c.LabelName = &label, &name
	}
	if m.tree != nil {
		for _, v := range Votes(m.tree, o.Truth, m.seed, o.Index, DefaultVolunteers()) {
			c.VoteCounts = append(c.VoteCounts, float32(v))
		}
	}
	return c
}
