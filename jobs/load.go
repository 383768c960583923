// Package jobs decodes HCL job files into pipeline jobs.
//
// A job file holds one job block:
//
//	job "demo" {
//	  workdir = "runs/demo"   # optional, default "runs/<job name>"
//	  seed    = 42            # optional, default 0
//
//	  stage "synthetic" "survey" {   # stage "<kind>" "<name>"
//	    output = "cutouts"
//	    count  = 3000
//	  }
//	  stage "split" "split" {
//	    input  = "cutouts"
//	    output = "cutouts_split"
//	  }
//	}
//
// The workdir is relative to the current directory, not to the job file, so
// that the same job can be run from a checkout root or pointed elsewhere with
// Loader.Workdir (the CLI's --workdir). Each stage body is decoded by the
// Factory registered for its kind. Every mistake found before running —
// unknown kind, attribute or type errors, duplicate stage names, two stages
// writing one artifact, an input nobody produces and that is not on disk, a
// dependency cycle — comes back as a diagnostic with a source range, before
// any work starts; Loader.WriteDiagnostics prints them with file:line:column,
// the source line and a caret. A stage body that fails to decode hides the
// graph checks (missing inputs, cycles) until it is fixed.
package jobs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/astroformer/astroformer/pipeline"
)

// Loader decodes job files and keeps their sources, so that its
// diagnostics can be printed with the offending lines.
type Loader struct {
	Registry pipeline.Registry
	// Workdir, if set, replaces the workdir given in the job file.
	Workdir string

	files map[string]*hcl.File // parsed sources by file name, for WriteDiagnostics
}

// Load decodes the job file at path with the stage kinds in reg.
func Load(path string, reg pipeline.Registry) (*pipeline.Job, hcl.Diagnostics) {
	l := &Loader{Registry: reg}
	return l.Load(path)
}

// Load reads and decodes the job file at path. The job is nil if the
// diagnostics contain an error.
func (l *Loader) Load(path string) (*pipeline.Job, hcl.Diagnostics) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read job file",
			Detail:   err.Error(),
		}}
	}
	return l.Parse(src, path)
}

// Parse decodes job-file source; filename is used in diagnostics.
func (l *Loader) Parse(src []byte, filename string) (*pipeline.Job, hcl.Diagnostics) {
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if file != nil {
		if l.files == nil {
			l.files = map[string]*hcl.File{}
		}
		l.files[filename] = file
	}
	if diags.HasErrors() {
		return nil, diags
	}
	job, more := l.decode(file, filename)
	diags = append(diags, more...)
	if diags.HasErrors() {
		return nil, diags
	}
	return job, diags
}

// fileSchema is the top level of a job file.
func fileSchema() *hcl.BodySchema {
	return &hcl.BodySchema{
		Blocks: []hcl.BlockHeaderSchema{{Type: "job", LabelNames: []string{"name"}}},
	}
}

// jobSchema is the body of a job block; stage bodies belong to their kinds.
func jobSchema() *hcl.BodySchema {
	return &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "workdir"}, {Name: "seed"}},
		Blocks:     []hcl.BlockHeaderSchema{{Type: "stage", LabelNames: []string{"kind", "name"}}},
	}
}

// stageBlock is a decoded stage with the block it came from.
type stageBlock struct {
	block *hcl.Block
	stage pipeline.Stage // nil if decoding failed
}

func (l *Loader) decode(file *hcl.File, filename string) (*pipeline.Job, hcl.Diagnostics) {
	content, diags := file.Body.Content(fileSchema())
	if diags.HasErrors() {
		return nil, diags
	}
	if len(content.Blocks) == 0 {
		return nil, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No job block",
			Detail:   `A job file must contain one job block: job "<name>" { ... }.`,
			Subject:  rangePtr(file.Body.MissingItemRange()),
		})
	}
	for _, extra := range content.Blocks[1:] {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "More than one job block",
			Detail:   fmt.Sprintf("A job file holds one job; the first is %q at %s.", content.Blocks[0].Labels[0], content.Blocks[0].DefRange),
			Subject:  rangePtr(extra.DefRange),
		})
	}
	block := content.Blocks[0]
	job := &pipeline.Job{Name: block.Labels[0], File: filename, Workdir: filepath.Join("runs", block.Labels[0])}

	body, more := block.Body.Content(jobSchema())
	diags = append(diags, more...)
	if more.HasErrors() {
		return nil, diags
	}
	ctx := &hcl.EvalContext{}
	if attr, ok := body.Attributes["workdir"]; ok {
		diags = append(diags, gohcl.DecodeExpression(attr.Expr, ctx, &job.Workdir)...)
		if job.Workdir == "" {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Empty workdir",
				Detail:   "workdir names the folder the job's artifacts live in; leave it out to use runs/<job name>.",
				Subject:  attr.Expr.Range().Ptr(),
			})
		}
	}
	if l.Workdir != "" {
		job.Workdir = l.Workdir
	}
	job.Workdir = filepath.Clean(job.Workdir)
	if attr, ok := body.Attributes["seed"]; ok {
		diags = append(diags, gohcl.DecodeExpression(attr.Expr, ctx, &job.Seed)...)
	}

	stages := make([]stageBlock, 0, len(body.Blocks))
	for _, b := range body.Blocks {
		s, more := l.decodeStage(b, ctx)
		diags = append(diags, more...)
		stages = append(stages, stageBlock{b, s})
	}
	diags = append(diags, checkArtifactNames(stages)...)
	diags = append(diags, checkNames(stages)...)
	if diags.HasErrors() {
		// A stage that failed to decode has unknown outputs; checking the
		// graph now would only report consequences of the errors above.
		return nil, diags
	}
	if len(stages) == 0 {
		return nil, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Job has no stages",
			Detail:   `Add at least one block: stage "<kind>" "<name>" { ... }.`,
			Subject:  rangePtr(block.DefRange),
		})
	}
	for _, sb := range stages {
		job.Stages = append(job.Stages, sb.stage)
	}
	diags = append(diags, checkGraph(job, stages)...)
	return job, diags
}

func (l *Loader) decodeStage(b *hcl.Block, ctx *hcl.EvalContext) (pipeline.Stage, hcl.Diagnostics) {
	kind, name := b.Labels[0], b.Labels[1]
	factory, ok := l.Registry[kind]
	if !ok {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Unknown stage kind",
			Detail:   unknownKindDetail(kind, l.Registry),
			Subject:  rangePtr(b.LabelRanges[0]),
			Context:  rangePtr(b.DefRange),
		}}
	}
	if name == "" {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Empty stage name",
			Detail:   "Every stage needs a name that is unique within the job.",
			Subject:  rangePtr(b.LabelRanges[1]),
		}}
	}
	s, diags := factory(name, b.Body, ctx)
	if diags.HasErrors() {
		return nil, diags
	}
	if s == nil {
		return nil, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Stage kind returned no stage",
			Detail:   fmt.Sprintf("The factory for kind %q returned neither a stage nor an error; this is a bug in that stage kind.", kind),
			Subject:  rangePtr(b.DefRange),
		})
	}
	return s, diags
}

func unknownKindDetail(kind string, reg pipeline.Registry) string {
	known := make([]string, 0, len(reg))
	for k := range reg {
		known = append(known, k)
	}
	slices.Sort(known)
	var b strings.Builder
	fmt.Fprintf(&b, "There is no stage kind %q.", kind)
	if s := suggest(kind, known); s != "" {
		fmt.Fprintf(&b, " Did you mean %q?", s)
	}
	if len(known) == 0 {
		b.WriteString(" No stage kinds are registered.")
	} else {
		fmt.Fprintf(&b, " Known kinds: %s.", strings.Join(known, ", "))
	}
	return b.String()
}

// checkNames reports duplicate stage names and artifacts written by two stages.
func checkNames(stages []stageBlock) hcl.Diagnostics {
	var diags hcl.Diagnostics
	byName := map[string]*hcl.Block{}
	type writer struct {
		block *hcl.Block
		name  string
		raw   string // the output as written
	}
	byOutput := map[string]writer{}
	for _, sb := range stages {
		name := sb.block.Labels[1]
		if first, ok := byName[name]; ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate stage name",
				Detail:   fmt.Sprintf("A stage named %q is already declared at %s; stage names must be unique within a job.", name, first.DefRange),
				Subject:  rangePtr(sb.block.LabelRanges[1]),
				Context:  rangePtr(sb.block.DefRange),
			})
		} else {
			byName[name] = sb.block
		}
		if sb.stage == nil {
			continue
		}
		for _, out := range sb.stage.Outputs() {
			clean, err := pipeline.CleanName(out)
			if err != nil {
				continue // checkArtifactNames reports it
			}
			if first, ok := byOutput[clean]; ok {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Artifact written by two stages",
					Detail: fmt.Sprintf("Stage %q already writes %s (%s). Give one of the outputs another name.",
						first.name, spelled(first.raw, out), valueRange(first.block, first.raw, isOutputAttr)),
					Subject: rangePtr(valueRange(sb.block, out, isOutputAttr)),
				})
				continue
			}
			byOutput[clean] = writer{sb.block, name, out}
		}
	}
	return diags
}

// checkGraph reports inputs that nothing produces and that are not on disk,
// and dependency cycles.
func checkGraph(job *pipeline.Job, stages []stageBlock) hcl.Diagnostics {
	var diags hcl.Diagnostics
	producer, err := job.Producers()
	if err != nil { // checkNames has reported these already
		return diags
	}
	diags = append(diags, checkOverlaps(stages)...)
	diags = append(diags, checkSources(job, stages)...)
	if diags.HasErrors() {
		return diags
	}
	for _, sb := range stages {
		for _, in := range sb.stage.Inputs() {
			if clean, err := pipeline.CleanName(in); err == nil {
				in = clean
			}
			if _, ok := producer[in]; ok {
				continue
			}
			path := filepath.Join(job.Workdir, in)
			if _, err := os.Stat(path); err == nil {
				continue
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Input not produced by any stage",
				Detail: fmt.Sprintf("Stage %q reads %q, but no stage in job %q writes it and %s does not exist. "+
					"Check the spelling, or add a stage with output = %q.",
					sb.block.Labels[1], in, job.Name, path, in),
				Subject: rangePtr(valueRange(sb.block, in, isInputAttr)),
			})
		}
	}
	if diags.HasErrors() {
		return diags
	}
	_, err = job.Order()
	var cycle *pipeline.CycleError
	if errors.As(err, &cycle) {
		first := cycle.Stages[0]
		var at *hcl.Block
		for _, sb := range stages {
			if sb.block.Labels[1] == first {
				at = sb.block
			}
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Dependency cycle",
			Detail: fmt.Sprintf("These stages feed each other in a loop: %s -> %s. Each reads what the previous one writes; break the loop by renaming an input or output.",
				strings.Join(cycle.Stages, " -> "), first),
			Subject: rangePtr(at.DefRange),
		})
	} else if err != nil {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid job", Detail: err.Error()})
	}
	return diags
}

// spelled names the artifact first written as raw, noting when out is
// another spelling of it.
func spelled(raw, out string) string {
	if raw == out {
		return fmt.Sprintf("%q", raw)
	}
	return fmt.Sprintf("%q, the same artifact as %q", raw, out)
}

func isInputAttr(name string) bool  { return strings.Contains(name, "input") }
func isOutputAttr(name string) bool { return strings.Contains(name, "output") }

// valueRange finds where value is written in b's body: the range of a string
// literal equal to value, directly or as an element of a list, looking first
// in attributes accepted by prefer and then in all attributes. It falls back
// to the block header.
func valueRange(b *hcl.Block, value string, prefer func(attr string) bool) hcl.Range {
	body, ok := b.Body.(*hclsyntax.Body)
	if !ok {
		return b.DefRange
	}
	attrs := make([]*hclsyntax.Attribute, 0, len(body.Attributes))
	for _, a := range body.Attributes {
		attrs = append(attrs, a)
	}
	slices.SortFunc(attrs, func(x, y *hclsyntax.Attribute) int { return x.SrcRange.Start.Byte - y.SrcRange.Start.Byte })
	for _, preferred := range []bool{true, false} {
		for _, a := range attrs {
			if preferred && !prefer(a.Name) {
				continue
			}
			if r, ok := literalRange(a.Expr, value); ok {
				return r
			}
		}
	}
	return b.DefRange
}

func literalRange(e hclsyntax.Expression, value string) (hcl.Range, bool) {
	if tuple, ok := e.(*hclsyntax.TupleConsExpr); ok {
		for _, el := range tuple.Exprs {
			if r, ok := literalRange(el, value); ok {
				return r, true
			}
		}
		return hcl.Range{}, false
	}
	v, diags := e.Value(nil)
	if diags.HasErrors() || !v.IsKnown() || v.IsNull() || v.Type().FriendlyName() != "string" {
		return hcl.Range{}, false
	}
	return e.Range(), v.AsString() == value
}

func rangePtr(r hcl.Range) *hcl.Range { return &r }
