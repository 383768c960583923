package source

import (
	"context"
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/stages/ingest"
	"github.com/astroformer/astroformer/stages/internal/decl"
)

// Tables are the attributes every source block declares beside its own:
// output, the cutouts table it writes; rejects, the table of the items it
// could not convert (default "<output>_rejects"); and workers, the number
// of converting goroutines (0: GOMAXPROCS), which is not a parameter of
// the output. A kind's params struct embeds Tables, or Files, first: its
// JSON then holds these fields beside the kind's own.
type Tables struct {
	Output  string `hcl:"output" json:"output"`
	Rejects string `hcl:"rejects,optional" json:"rejects"`
	Workers int    `hcl:"workers,optional" json:"-"`
}

// Files are the Tables of a source that reads files: path, what it reads;
// Inputs, a digest of those files for the fingerprint (see Digest), set
// after decoding; max_rejects, the number of rejected items after which
// the stage fails (0: no limit); and the Votes that can be joined to the
// cutouts.
type Files struct {
	Path   string `hcl:"path" json:"path"`
	Inputs string `json:"inputs"`
	Tables
	MaxRejects int64 `hcl:"max_rejects,optional" json:"max_rejects"`
	Votes
}

// Params is implemented by the params structs of the source kinds, through
// the Tables or Files they embed.
type Params interface {
	common() (*Tables, *Files)
}

func (t *Tables) common() (*Tables, *Files) { return t, nil }
func (f *Files) common() (*Tables, *Files)  { return &f.Tables, f }

// Block describes a kind's source block for Decode.
type Block struct {
	// Path says what path names, for the diagnostic of an empty path of a
	// Files source.
	Path string
	// Check reports the kind's invalid attributes.
	Check func(a *Attrs)
	// Inputs returns the digest of the files a Files source reads, for the
	// fingerprint, once the block is valid; nil means Digest(path).
	Inputs func() string
}

// Declare decodes a source block into p with Decode and returns s, the
// stage whose params p are, or nil and the diagnostics of an invalid
// block.
func Declare(s pipeline.Stage, body hcl.Body, ctx *hcl.EvalContext, p Params, b Block) (pipeline.Stage, hcl.Diagnostics) {
	diags := Decode(body, ctx, p, b)
	if diags.HasErrors() {
		return nil, diags
	}
	return s, diags
}

// Decode decodes a source block into p, which holds the kind's defaults,
// with decl.Decode: output, rejects, workers and, for Files, path,
// max_rejects and the Votes into the Tables or Files p embeds, the kind's
// own attributes into p's fields with hcl tags. Decode then reports invalid
// attributes at their values, in order path, output or rejects,
// max_rejects, the votes, the kind's (with b.Check), workers. For a valid
// Files block it sets Inputs.
func Decode(body hcl.Body, ctx *hcl.EvalContext, p Params, b Block) hcl.Diagnostics {
	t, f := p.common()
	content, diags := body.Content(decl.Schema(p))
	diags = append(diags, decl.Assign(content, ctx, p)...)
	if diags.HasErrors() {
		return diags
	}
	if attr, ok := content.Attributes["rejects"]; !ok || decl.Null(attr, ctx) {
		t.Rejects = t.Output + "_rejects"
	}
	a := NewAttrs(body, &diags)
	if f != nil {
		a.CheckPath(f.Path, b.Path)
	}
	a.CheckTables(t.Output, t.Rejects)
	if f != nil {
		a.CheckMaxRejects(f.MaxRejects)
		f.Votes.decode(a, &diags)
	}
	if b.Check != nil {
		b.Check(a)
	}
	a.CheckWorkers(t.Workers)
	switch {
	case f == nil || diags.HasErrors():
	case b.Inputs != nil:
		f.Inputs = b.Inputs()
	default:
		f.Inputs = Digest(f.Path)
	}
	return diags
}

// Stage is what every source stage shares: its name, kind and params, the
// pipeline.Stage methods other than Run, and Ingest, the skeleton of Run.
// A kind's stage embeds it.
type Stage[T any, P interface {
	*T
	Params
}] struct {
	name, kind string
	p          P
}

// NewStage returns the Stage of a source named name of the given kind,
// with the params *p.
func NewStage[T any, P interface {
	*T
	Params
}](name, kind string, p P) Stage[T, P] {
	return Stage[T, P]{name: name, kind: kind, p: p}
}

// Name returns the stage's name.
func (s *Stage[T, P]) Name() string { return s.name }

// Kind returns the stage's kind.
func (s *Stage[T, P]) Kind() string { return s.kind }

// Inputs returns nil: a source reads no artifact.
func (s *Stage[T, P]) Inputs() []string { return nil }

// Outputs returns the cutouts table and the rejects table.
func (s *Stage[T, P]) Outputs() []string {
	t, _ := s.p.common()
	return []string{t.Output, t.Rejects}
}

// Sources returns the path of a Files source, nil for another.
func (s *Stage[T, P]) Sources() []string {
	if _, f := s.p.common(); f != nil {
		return []string{f.Path}
	}
	return nil
}

// Params returns the params (a T), as the kind's Decode gave them.
func (s *Stage[T, P]) Params() any { return *s.p }

// Input is what a source converts in one run: Items numbered items, each
// converted by Convert, Chunk at a time (see Ingest).
type Input struct {
	Items    int
	Unit     string // what an item is, in the plural, as "images": names the chunks and the log lines
	Chunk    int
	Workers  int               // converting goroutines; 0: the Workers of the params
	Metadata map[string]string // of the cutouts table
	Convert  func(i int) Result
}

// Ingest converts in's items into the stage's cutouts and rejects tables
// (see the package function Ingest), with a progress bar, commits them and
// returns their summary; chunk k of the items is named "<unit> <first>-<last>".
func (s *Stage[T, P]) Ingest(ctx context.Context, env *pipeline.Env, in Input) (ingest.Summary, error) {
	t, f := s.p.common()
	var (
		join *VoteJoin
		sink *ingest.Sink
		err  error
	)
	if f == nil {
		sink, err = NewSink(env, t.Output, t.Rejects, 0, in.Metadata)
	} else if join, err = OpenVotes(&f.Votes); err == nil {
		sink, err = NewFilesSink(env, f, in.Metadata, join)
	}
	if err != nil {
		return ingest.Summary{}, err
	}
	bar := env.Progress.Bar(s.name, int64(in.Items))
	defer bar.Done()
	workers := in.Workers
	if workers == 0 {
		workers = t.Workers
	}
	resumed, err := Ingest(ctx, sink, in.Items, Options{
		Chunk: in.Chunk, Workers: workers, Bar: bar,
		Key: func(first, last int) string { return fmt.Sprintf("%s %d-%d", in.Unit, first, last) },
	}, join.convert(in.Convert))
	if err != nil {
		return ingest.Summary{}, err
	}
	join.Report(env.Log, resumed)
	sum, err := Commit(ctx, env, sink, resumed)
	if err == nil && sum.Rejects > 0 {
		env.Log.Warn(in.Unit+" rejected", "rows", sum.Rejects, "table", t.Rejects)
	}
	return sum, err
}
