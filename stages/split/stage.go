// Package split is the stage that assigns every labelled cutout to the
// train, val or test split, stratified by class. By default a row that
// already has a split (such as an official test set marked by its source
// stage) keeps it, and only the other rows are divided.
//
// An object's split depends only on its object_id, its label, the seed and
// the set of objects of its class that are divided (see Planner), never on
// row order, so re-ingesting or re-ordering a table gives every object the
// same split.
// The stage reads its input twice: once for object_id and label only, to
// rank each class (8 bytes of memory per row), then row batch by row batch
// to write the output, one resumable chunk per input part.
package split

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/hashicorp/hcl/v2"

	"github.com/astroformer/astroformer/internal/progress"
	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/internal/decl"
	"github.com/astroformer/astroformer/table"
)

// Kind is the stage kind.
const Kind = "split"

// Keys of the table metadata the stage adds to its input's.
const (
	MetaSeed         = "split.seed"
	MetaFractions    = "split.fractions"     // "train=0.8 val=0.1 test=0.1"
	MetaKeepExisting = "split.keep_existing" // "true" or "false"
)

// params determine the output; they enter the stage fingerprint.
type params struct {
	Input  string  `hcl:"input" json:"input"`
	Output string  `hcl:"output" json:"output"`
	Train  float64 `hcl:"train,optional" json:"train"`
	Val    float64 `hcl:"val,optional" json:"val"`
	Test   float64 `hcl:"test,optional" json:"test"`
	Seed   *int64  `hcl:"seed,optional" json:"seed,omitempty"` // nil: the job seed

	KeepExisting bool `hcl:"keep_existing,optional" json:"keep_existing"`
}

type stage struct {
	name   string
	p      params
	onPart func(key string) // called after each completed part; tests interrupt runs with it
}

// Decode decodes a split stage block:
//
//	stage "split" "split" {
//	  input  = "cutouts"        # a cutouts table
//	  output = "cutouts_split"  # the same rows with the split column filled
//	  train  = 0.8              # fractions of each class; they sum to 1, and may be 0
//	  val    = 0.1
//	  test   = 0.1
//	  seed   = 7                # optional; default the job seed
//	  keep_existing = true      # optional; default true
//	}
//
// With keep_existing, a row whose input split is not "" keeps it and takes
// no part in the division: the fractions apply to the remaining labelled
// rows of each class. A CIFAR-100 or Tiny ImageNet table, whose official
// test rows come with split "test", is thus divided with train = 0.9,
// val = 0.1, test = 0. With keep_existing = false every labelled row is
// divided anew.
func Decode(name string, body hcl.Body, ctx *hcl.EvalContext) (pipeline.Stage, hcl.Diagnostics) {
	f := DefaultFractions()
	p := params{Train: f.Train, Val: f.Val, Test: f.Test, KeepExisting: true}
	diags := decl.Decode(body, ctx, &p)
	if diags.HasErrors() {
		return nil, diags
	}
	d := decl.NewValues(body, &diags)
	for _, v := range []struct {
		name string
		v    float64
	}{{"train", p.Train}, {"val", p.Val}, {"test", p.Test}} {
		if !(v.v >= 0 && v.v <= 1) {
			d.Bad(v.name, "Invalid split fraction", fmt.Sprintf("%s is %g; a fraction lies between 0 and 1.", v.name, v.v))
		}
	}
	if f := (&stage{p: p}).fractions(); !diags.HasErrors() && f.Check() != nil {
		d.Report(d.Over("train", "val", "test"), "Split fractions do not sum to 1",
			fmt.Sprintf("train %g + val %g + test %g = %g. Set all three so that they sum to 1 (defaults 0.8, 0.1, 0.1).",
				f.Train, f.Val, f.Test, f.Train+f.Val+f.Test))
	}
	d.CheckEmpty("input", p.Input, "a cutouts table")
	d.CheckEmpty("output", p.Output, "a cutouts table")
	d.CheckOverwrite(p.Input, p.Output, "; a stage cannot rewrite its own input.")
	if diags.HasErrors() {
		return nil, diags
	}
	return &stage{name: name, p: p}, diags
}

func (s *stage) Name() string      { return s.name }
func (s *stage) Kind() string      { return Kind }
func (s *stage) Inputs() []string  { return []string{s.p.Input} }
func (s *stage) Outputs() []string { return []string{s.p.Output} }
func (s *stage) Params() any       { return s.p }

func (s *stage) fractions() Fractions {
	return Fractions{Train: s.p.Train, Val: s.p.Val, Test: s.p.Test}
}

// Run plans the split from object_id, label and split, then copies the
// input to the output with the split column filled. Unlabelled rows get
// split "" (not assigned): they can be neither trained nor evaluated on.
// With keep_existing, rows that have a split keep it, labelled or not.
func (s *stage) Run(ctx context.Context, env *pipeline.Env) error {
	seed := env.Seed
	if s.p.Seed != nil {
		seed = *s.p.Seed
	}
	in, err := table.OpenAs(env.Path(s.p.Input), schemas.Cutouts())
	if err != nil {
		return err
	}
	bar := env.Progress.Bar(s.name, 2*in.Rows())
	defer bar.Done()

	plan, c, err := planSplit(ctx, in, s.fractions(), seed, s.p.KeepExisting, bar)
	if err != nil {
		return err
	}
	md := maps.Clone(in.Manifest().Metadata)
	if md == nil {
		md = map[string]string{}
	}
	md[MetaSeed] = strconv.FormatInt(seed, 10)
	md[MetaFractions] = fmt.Sprintf("train=%g val=%g test=%g", s.p.Train, s.p.Val, s.p.Test)
	md[MetaKeepExisting] = strconv.FormatBool(s.p.KeepExisting)
	out, err := table.CreateResumable(env.Path(s.p.Output), schemas.Cutouts(), table.Options{
		Metadata:     md,
		Manifest:     env.Manifest(s.p.Output),
		RowGroupRows: schemas.CutoutsRowGroupRows,
	})
	if err != nil {
		return err
	}
	for part := range in.NumParts() {
		key := fmt.Sprintf("part %d", part)
		if out.Done(key) {
			bar.IncrBy(int(in.Manifest().Parts[part].Rows))
			continue
		}
		if err := copyPart(ctx, in, out, part, plan, s.p.KeepExisting, bar); err != nil {
			if ctx.Err() == nil {
				out.Abort()
			} // else keep the completed parts for the next run to resume from
			return err
		}
		if err := out.EndPart(key); err != nil {
			out.Abort()
			return err
		}
		if s.onPart != nil {
			s.onPart(key)
		}
	}
	if _, err := out.Commit(); err != nil {
		return err
	}
	summarize(env, s, seed, plan, c)
	return nil
}

// census is what planning learns besides the Plan.
type census struct {
	names          map[int16]string   // the first label_name seen for each label
	kept           map[int16][3]int64 // labelled rows that kept their input split, per class: train, val, test
	keptUnlabelled [3]int64           // unlabelled rows that kept their input split
	unassigned     int64              // unlabelled rows left with split ""
}

// splitIndex returns the index of split in train, val, test order.
func splitIndex(split string) (int, bool) {
	switch split {
	case schemas.SplitTrain:
		return 0, true
	case schemas.SplitVal:
		return 1, true
	case schemas.SplitTest:
		return 2, true
	}
	return 0, false
}

// planSplit reads object_id, label, label_name and split of every row and
// plans the split of the labelled rows; with keep, rows that have a split
// are counted in the census instead.
func planSplit(ctx context.Context, in *table.Table, f Fractions, seed int64, keep bool, bar *progress.Bar) (*Plan, *census, error) {
	planner := NewPlanner(f, seed)
	c := &census{names: map[int16]string{}, kept: map[int16][3]int64{}}
	var row int64
	columns := []string{"object_id", "label", "label_name", "split"}
	sc := in.Scan(ctx, table.ScanOptions{Columns: columns})
	defer sc.Close()
	for sc.Next() {
		cr, err := schemas.NewCutoutsReader(sc.Record(), columns...)
		if err != nil {
			return nil, nil, fmt.Errorf("split: %s: %w", in.Dir(), err)
		}
		ids, labels, labelNames, splits := cr.ObjectID, cr.Label, cr.LabelName, cr.Split
		for i := range ids.Len() {
			labelled, l := labels.IsValid(i), labels.Value(i)
			if labelled {
				if _, ok := c.names[l]; !ok && labelNames.IsValid(i) {
					c.names[l] = labelNames.Value(i)
				}
			}
			if split := splits.Value(i); keep && split != "" {
				j, ok := splitIndex(split)
				if !ok {
					return nil, nil, fmt.Errorf("split: %s: row %d (object_id %q): split is %q; expected \"\", %q, %q or %q",
						in.Dir(), row+int64(i), ids.Value(i), split, schemas.SplitTrain, schemas.SplitVal, schemas.SplitTest)
				}
				if labelled {
					k := c.kept[l]
					k[j]++
					c.kept[l] = k
				} else {
					c.keptUnlabelled[j]++
				}
				continue
			}
			if !labelled {
				c.unassigned++
				continue
			}
			planner.Observe(l, ids.Value(i))
		}
		row += int64(ids.Len())
		bar.IncrBy(ids.Len())
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("split: reading %s: %w", in.Dir(), err)
	}
	return planner.Plan(), c, nil
}

// copyPart writes input part i to out with the split column filled by plan;
// with keep, rows that have a split keep it.
func copyPart(ctx context.Context, in *table.Table, out *table.Writer, i int, plan *Plan, keep bool, bar *progress.Bar) error {
	schema := out.Schema()
	columns := make([]string, schema.NumFields())
	for j, f := range schema.Fields() {
		columns[j] = f.Name
	}
	splitCol := schema.FieldIndices("split")[0]

	sc := in.Scan(ctx, table.ScanOptions{Columns: columns, Parts: []int{i}})
	defer sc.Close()
	b := array.NewStringBuilder(memory.DefaultAllocator)
	defer b.Release()
	for sc.Next() {
		rec := sc.Record()
		cr, err := schemas.NewCutoutsReader(rec, "object_id", "label", "split")
		if err != nil {
			return fmt.Errorf("split: %s: %w", in.Dir(), err)
		}
		ids, labels, splits := cr.ObjectID, cr.Label, cr.Split
		b.Reserve(ids.Len())
		for r := range ids.Len() {
			if split := splits.Value(r); keep && split != "" {
				b.Append(split)
				continue
			}
			b.Append(plan.Assign(labels.Value(r), labels.IsValid(r), ids.Value(r)))
		}
		split := b.NewArray()
		cols := slices.Clone(rec.Columns())
		cols[splitCol] = split
		withSplit := array.NewRecord(schema, cols, rec.NumRows())
		split.Release()
		err = out.Write(withSplit)
		withSplit.Release()
		if err != nil {
			return err
		}
		bar.IncrBy(ids.Len())
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("split: reading %s: %w", in.Dir(), err)
	}
	return nil
}

// summarize records the rows per class and split as a small table; rows
// that kept their input split are counted in it.
func summarize(env *pipeline.Env, s *stage, seed int64, plan *Plan, c *census) {
	name := func(l int16) string {
		if n, ok := c.names[l]; ok {
			return n
		}
		return "label " + strconv.Itoa(int(l))
	}
	counts := map[int16][3]int64{}
	for _, l := range plan.Labels() {
		tr, va, te := plan.Counts(l)
		counts[l] = [3]int64{tr, va, te}
	}
	var kept int64
	for l, k := range c.kept {
		n := counts[l]
		for j := range n {
			n[j] += k[j]
			kept += k[j]
		}
		counts[l] = n
	}
	labels := slices.Sorted(maps.Keys(counts))
	const unlabelled = "(unlabelled)"
	width := len("class")
	for _, l := range labels {
		width = max(width, len(name(l)))
	}
	if c.keptUnlabelled != [3]int64{} {
		width = max(width, len(unlabelled))
	}

	env.Summarize("%s: %s → %s, stratified by class (seed %d; train %g · val %g · test %g)",
		s.name, s.p.Input, s.p.Output, seed, s.p.Train, s.p.Val, s.p.Test)
	env.Summarize("  %-*s %7s %7s %7s", width, "class", "train", "val", "test")
	var total [3]int64
	line := func(label string, n [3]int64) {
		total[0], total[1], total[2] = total[0]+n[0], total[1]+n[1], total[2]+n[2]
		env.Summarize("  %-*s %7d %7d %7d", width, label, n[0], n[1], n[2])
	}
	for _, l := range labels {
		line(name(l), counts[l])
	}
	if c.keptUnlabelled != [3]int64{} {
		line(unlabelled, c.keptUnlabelled)
		kept += c.keptUnlabelled[0] + c.keptUnlabelled[1] + c.keptUnlabelled[2]
	}
	env.Summarize("  %-*s %7d %7d %7d", width, "total", total[0], total[1], total[2])
	if s.p.KeepExisting {
		env.Summarize("  %d rows kept their input split (keep_existing); the fractions divided the others", kept)
	}
	if c.unassigned > 0 {
		env.Summarize("  %d unlabelled rows left unassigned (split \"\")", c.unassigned)
	}
}
