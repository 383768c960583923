// Package decltest helps the tests of the stage kinds decode stage blocks.
package decltest

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/astroformer/astroformer/pipeline"
)

// Decode parses src as the body of a stage block (see Body) and decodes
// it with factory as the stage called name.
func Decode(t testing.TB, factory pipeline.Factory, name, src string) (pipeline.Stage, hcl.Diagnostics) {
	t.Helper()
	return factory(name, Body(t, src), &hcl.EvalContext{})
}

// Body parses src, in a file called job.hcl, as the body of a stage
// block. A syntax error fails the test.
func Body(t testing.TB, src string) hcl.Body {
	t.Helper()
	f, diags := hclsyntax.ParseConfig([]byte(src), "job.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("parse %q: %s", src, diags)
	}
	return f.Body
}
