package decl

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

func parse(t *testing.T, src string) hcl.Body {
	t.Helper()
	f, diags := hclsyntax.ParseConfig([]byte(src), "job.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return f.Body
}

func TestRanges(t *testing.T) {
	body := parse(t, "input  = \"a\"\noutput = \"a\"\n")
	var diags hcl.Diagnostics
	d := New(body, &diags)
	if r := d.At("output"); r.Start.Line != 2 || r.Start.Column != 1 {
		t.Errorf("At(output) = %v; want the whole attribute at 2:1", r)
	}
	if r := d.Value("output"); r.Start.Line != 2 || r.Start.Column != 10 {
		t.Errorf("Value(output) = %v; want the value at 2:10", r)
	}
	if r := d.Over("input", "output"); r.Start.Line != 1 || r.End.Line != 2 {
		t.Errorf("Over(input, output) = %v; want lines 1 to 2", r)
	}
	if r := d.Over("nothing"); *r != body.MissingItemRange() {
		t.Errorf("Over(nothing) = %v; want the missing item range", r)
	}
	if !d.Set("input") || d.Set("workers") {
		t.Error("Set: wrong attributes")
	}
}

func TestChecks(t *testing.T) {
	body := parse(t, "input  = \"a\"\noutput = \"a\"\nmetrics = \"\"\n")
	var diags hcl.Diagnostics
	d := NewValues(body, &diags)
	d.NoteUnset(func(attr string) string { return " (unset " + attr + ")" })
	d.CheckEmpty("input", "a", "a table")
	d.CheckEmpty("metrics", "", "a table")
	d.CheckOverwrite("a", "a", "; not allowed.")
	d.CheckOverwrite("", "", ".")
	d.Bad("workers", "Invalid workers", "workers is 0.")
	want := []struct {
		summary, detail string
		line, col       int
	}{
		{"Empty metrics", "metrics names a table.", 3, 11},
		{"Output overwrites input", `input and output are both "a"; not allowed.`, 2, 10},
		{"Invalid workers", "workers is 0. (unset workers)", body.MissingItemRange().Start.Line, body.MissingItemRange().Start.Column},
	}
	if len(diags) != len(want) {
		t.Fatalf("got %d diagnostics, want %d: %v", len(diags), len(want), diags)
	}
	for i, w := range want {
		g := diags[i]
		if g.Severity != hcl.DiagError || g.Summary != w.summary || g.Detail != w.detail || g.Subject.Start.Line != w.line || g.Subject.Start.Column != w.col {
			t.Errorf("diagnostic %d: %q %q at %v; want %q %q at %d:%d", i, g.Summary, g.Detail, g.Subject, w.summary, w.detail, w.line, w.col)
		}
	}
}
