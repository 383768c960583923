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

// Case is a stage block's body and the first diagnostic decoding it must
// give: its summary and the line it points at.
type Case struct {
	Src, Summary string
	Line         int
}

// CheckDiagnostics decodes the body of every case with factory as the
// stage called name and checks its first diagnostic.
func CheckDiagnostics(t testing.TB, factory pipeline.Factory, name string, cases []Case) {
	t.Helper()
	for _, tc := range cases {
		_, diags := Decode(t, factory, name, tc.Src)
		if !diags.HasErrors() {
			t.Errorf("%q: no error", tc.Src)
			continue
		}
		if d := diags[0]; d.Summary != tc.Summary || d.Subject == nil || d.Subject.Start.Line != tc.Line {
			t.Errorf("%q: diagnostic %q at %v, want %q on line %d", tc.Src, d.Summary, d.Subject, tc.Summary, tc.Line)
		}
	}
}

// Want is an error diagnostic a test expects: its summary, the line its
// subject starts on and, where not empty or zero, its detail and the
// column its subject starts at.
type Want struct {
	Summary, Detail string
	Line, Column    int
}

// CheckList checks that diags are the errors of want, in order.
func CheckList(t testing.TB, diags hcl.Diagnostics, want []Want) {
	t.Helper()
	if len(diags) != len(want) {
		t.Fatalf("got %d diagnostics, want %d: %v", len(diags), len(want), diags)
	}
	for i, w := range want {
		d := diags[i]
		if d.Severity != hcl.DiagError || d.Summary != w.Summary || w.Detail != "" && d.Detail != w.Detail ||
			d.Subject == nil || d.Subject.Start.Line != w.Line || w.Column != 0 && d.Subject.Start.Column != w.Column {
			t.Errorf("diagnostic %d: %q %q at %v; want error %+v", i, d.Summary, d.Detail, d.Subject, w)
		}
	}
}
