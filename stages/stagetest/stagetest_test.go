package stagetest_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/hashicorp/hcl/v2"

	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/stages/internal/decl"
	"github.com/astroformer/astroformer/stages/stagetest"
	"github.com/astroformer/astroformer/table"
)

// count is a toy stage kind: it writes a table of the numbers 0 to rows-1,
// one progress step a row. Broken, it commits even when cancelled.
type count struct {
	p      countParams
	broken bool
}

type countParams struct {
	Output string `hcl:"output" json:"output"`
	Rows   int    `hcl:"rows" json:"rows"`
}

// factory returns the factory of count stages.
func factory(broken bool) pipeline.Factory {
	return func(name string, body hcl.Body, ctx *hcl.EvalContext) (pipeline.Stage, hcl.Diagnostics) {
		s := &count{broken: broken}
		diags := decl.Decode(body, ctx, &s.p)
		if !diags.HasErrors() && s.p.Rows < 1 {
			decl.New(body, &diags).Bad("rows", "Invalid rows", "rows must be at least 1.")
		}
		if diags.HasErrors() {
			return nil, diags
		}
		return s, diags
	}
}

func (s *count) Name() string      { return "conformance" }
func (s *count) Kind() string      { return "count" }
func (s *count) Inputs() []string  { return nil }
func (s *count) Outputs() []string { return []string{s.p.Output} }
func (s *count) Params() any       { return s.p }

func (s *count) Run(ctx context.Context, env *pipeline.Env) error {
	schema := arrow.NewSchema([]arrow.Field{{Name: "n", Type: arrow.PrimitiveTypes.Int64}}, nil)
	w, err := table.Create(env.Path(s.p.Output), schema, table.Options{Manifest: env.Manifest(s.p.Output)})
	if err != nil {
		return err
	}
	b := array.NewInt64Builder(memory.DefaultAllocator)
	defer b.Release()
	bar := env.Progress.Bar(s.Name(), int64(s.p.Rows))
	for i := range s.p.Rows {
		b.Append(int64(i))
		bar.Increment()
	}
	if err := ctx.Err(); err != nil && !s.broken {
		w.Abort()
		return err
	}
	col := b.NewArray()
	defer col.Release()
	rec := array.NewRecord(schema, []arrow.Array{col}, int64(s.p.Rows))
	defer rec.Release()
	if err := w.Write(rec); err != nil {
		w.Abort()
		return err
	}
	_, err = w.Commit()
	return err
}

// kind describes count to Conformance.
func kind(broken bool) stagetest.Kind {
	return stagetest.Kind{
		Factory: factory(broken),
		Block:   "output = \"t\"\nrows = 5",
		Bad:     "output = \"t\"\nrows = 0", BadAttr: "rows",
		Interrupt: 2,
	}
}

func TestConformance(t *testing.T) {
	stagetest.Conformance(t, kind(false))
}

// TestConformanceFails runs Conformance over the broken count in a child
// process, which must fail naming the outputs it committed when cancelled.
func TestConformanceFails(t *testing.T) {
	if os.Getenv("STAGETEST_BROKEN") != "" {
		stagetest.Conformance(t, kind(true))
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestConformanceFails$", "-test.count=1")
	cmd.Env = append(os.Environ(), "STAGETEST_BROKEN=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "cancelled run committed t") {
		t.Errorf("conformance of a stage that commits when cancelled: %v\n%s", err, out)
	}
}
