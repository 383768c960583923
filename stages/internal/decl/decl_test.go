package decl

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/astroformer/astroformer/stages/internal/decl/decltest"
)

func TestRanges(t *testing.T) {
	body := decltest.Body(t, "input  = \"a\"\noutput = \"a\"\n")
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
	body := decltest.Body(t, "input  = \"a\"\noutput = \"a\"\nmetrics = \"\"\n")
	var diags hcl.Diagnostics
	d := NewValues(body, &diags)
	d.NoteUnset(func(attr string) string { return " (unset " + attr + ")" })
	d.CheckEmpty("input", "a", "a table")
	d.CheckEmpty("metrics", "", "a table")
	d.CheckOverwrite("a", "a", "; not allowed.")
	d.CheckOverwrite("", "", ".")
	d.Bad("workers", "Invalid workers", "workers is 0.")
	missing := body.MissingItemRange().Start
	decltest.CheckList(t, diags, []decltest.Want{
		{Summary: "Empty metrics", Detail: "metrics names a table.", Line: 3, Column: 11},
		{Summary: "Output overwrites input", Detail: `input and output are both "a"; not allowed.`, Line: 2, Column: 10},
		{Summary: "Invalid workers", Detail: "workers is 0. (unset workers)", Line: missing.Line, Column: missing.Column},
	})
}

type shared struct {
	Output string `hcl:"output"`
}

type testParams struct {
	shared
	Count  int     `hcl:"count,optional"`
	Seed   *int64  `hcl:"seed,optional"`
	Ignore float64 // no tag: not an attribute
}

func TestDecode(t *testing.T) {
	p := testParams{Count: 3, Ignore: 1}
	diags := Decode(decltest.Body(t, "output = \"o\"\nseed = 7\n"), nil, &p)
	if diags.HasErrors() || p.Output != "o" || p.Count != 3 || p.Seed == nil || *p.Seed != 7 || p.Ignore != 1 {
		t.Errorf("decoded %+v, %v", p, diags)
	}
	p = testParams{Count: 3}
	diags = Decode(decltest.Body(t, "output = \"o\"\ncount = null\n"), nil, &p)
	if diags.HasErrors() || p.Count != 3 {
		t.Errorf("count = null: %+v, %v; want the default kept", p, diags)
	}
	diags = Decode(decltest.Body(t, "cout = 4\n"), nil, &p)
	var summaries []string
	for _, d := range diags {
		summaries = append(summaries, d.Summary+": "+d.Detail)
	}
	want := []string{
		`Missing required argument: The argument "output" is required, but no definition was found.`,
		`Unsupported argument: An argument named "cout" is not expected here. Did you mean "count"?`,
	}
	if strings.Join(summaries, "\n") != strings.Join(want, "\n") {
		t.Errorf("diagnostics\n%s\nwant\n%s", strings.Join(summaries, "\n"), strings.Join(want, "\n"))
	}
	diags = Decode(decltest.Body(t, "output = null\n"), nil, &p)
	if !diags.HasErrors() {
		t.Error("a required attribute set to null decoded")
	}
}
