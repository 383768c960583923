package jobs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/astroformer/astroformer/pipeline"
)

// checkArtifactNames reports input and output names that are not artifact
// names (pipeline.CleanName): empty, absolute, the workdir itself, outside
// it, or with a part starting with '.'.
func checkArtifactNames(stages []stageBlock) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, sb := range stages {
		if sb.stage == nil {
			continue
		}
		for _, side := range []struct {
			names  []string
			prefer func(string) bool
		}{{sb.stage.Inputs(), isInputAttr}, {sb.stage.Outputs(), isOutputAttr}} {
			for _, name := range side.names {
				if _, err := pipeline.CleanName(name); err != nil {
					diags = append(diags, &hcl.Diagnostic{
						Severity: hcl.DiagError,
						Summary:  "Invalid artifact name",
						Detail:   fmt.Sprintf("Stage %q: %s. An artifact is a folder inside the workdir, named relative to it.", sb.block.Labels[1], err),
						Subject:  rangePtr(valueRange(sb.block, name, side.prefer)),
					})
				}
			}
		}
	}
	return diags
}

// checkOverlaps reports, with the clean names compared, a stage that reads
// what it writes, and outputs that hold or lie inside another artifact of
// the job (committing them would replace it).
func checkOverlaps(stages []stageBlock) hcl.Diagnostics {
	var diags hcl.Diagnostics
	type place struct {
		block *hcl.Block
		raw   string
		input bool
	}
	var all []place
	for _, sb := range stages {
		for _, in := range sb.stage.Inputs() {
			all = append(all, place{sb.block, in, true})
		}
		for _, out := range sb.stage.Outputs() {
			all = append(all, place{sb.block, out, false})
		}
	}
	for i, out := range all {
		if out.input {
			continue
		}
		o, _ := pipeline.CleanName(out.raw)
		for j, other := range all {
			x, _ := pipeline.CleanName(other.raw)
			var detail string
			switch {
			case i == j:
				continue
			case o == x && other.input && other.block == out.block:
				detail = fmt.Sprintf("Stage %q reads %q and writes %q, the same artifact: it would replace its own input. Write to another name.",
					out.block.Labels[1], other.raw, out.raw)
			case o == x:
				continue // a reader of this output, or a duplicate output (checkNames)
			case pipeline.Contains(o, x):
				detail = fmt.Sprintf("Output %q holds %q (stage %q): committing it would replace that artifact. Give each artifact a folder of its own.",
					out.raw, other.raw, other.block.Labels[1])
			case pipeline.Contains(x, o):
				detail = fmt.Sprintf("Output %q lies inside %q (stage %q): committing that one would replace it. Give each artifact a folder of its own.",
					out.raw, other.raw, other.block.Labels[1])
			default:
				continue
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Overlapping artifacts",
				Detail:   detail,
				Subject:  rangePtr(valueRange(out.block, out.raw, isOutputAttr)),
			})
			break
		}
	}
	return diags
}

// checkSources reports a source stage whose input files (pipeline.Sourced)
// lie inside an output of the job: committing the output would replace
// them.
func checkSources(job *pipeline.Job, stages []stageBlock) hcl.Diagnostics {
	var diags hcl.Diagnostics
	var outputs []string
	for _, sb := range stages {
		outputs = append(outputs, sb.stage.Outputs()...)
	}
	for _, sb := range stages {
		src, ok := sb.stage.(pipeline.Sourced)
		if !ok {
			continue
		}
		for _, path := range src.Sources() {
			for _, out := range outputs {
				dir := filepath.Join(job.Workdir, out)
				if !within(dir, path) {
					continue
				}
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Source inside an output",
					Detail: fmt.Sprintf("Stage %q reads %s, which lies inside the output folder %s: committing that output would replace it. "+
						"Keep source files outside the workdir's artifacts, or choose another output name.", sb.block.Labels[1], path, dir),
					Subject: rangePtr(valueRange(sb.block, path, func(string) bool { return true })),
				})
			}
		}
	}
	return diags
}

// within reports whether path is dir or lies inside it, comparing absolute
// paths with symbolic links resolved as far as they exist.
func within(dir, path string) bool {
	d, p := resolve(dir), resolve(path)
	rel, err := filepath.Rel(d, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// resolve returns path made absolute, with the symbolic links of its
// longest existing prefix resolved.
func resolve(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	rest := ""
	for p := abs; ; p = filepath.Dir(p) {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Join(real, rest)
		} else if !os.IsNotExist(err) || p == filepath.Dir(p) {
			return abs
		}
		rest = filepath.Join(filepath.Base(p), rest)
	}
}
