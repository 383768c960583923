package source

import (
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/astroformer/astroformer/stages/internal/decl/decltest"
)

func TestAttrsRanges(t *testing.T) {
	body := decltest.Body(t, "output = \"cutouts\"\nrejects = \"cutouts\"\nworkers = -1\n")
	var diags hcl.Diagnostics
	at := NewAttrs(body, &diags)
	at.CheckPath("", "path names the input.")
	at.CheckTables("cutouts", "cutouts")
	at.CheckMaxRejects(0)
	at.CheckWorkers(-1)
	decltest.CheckList(t, diags, []decltest.Want{
		{Summary: "Empty path", Line: body.MissingItemRange().Start.Line},
		{Summary: "Invalid rejects table", Detail: `rejects must name a table other than the output "cutouts".`, Line: 2},
		{Summary: "Invalid workers", Line: 3},
	})
}

func TestAttrsChecks(t *testing.T) {
	ps, zero := 0.262, 0.0
	for _, tc := range []struct {
		name  string
		check func(*Attrs)
		want  string // the detail; "" for no diagnostic
	}{
		{"empty output", func(a *Attrs) { a.CheckTables("", "") }, "output names the cutouts table the stage writes."},
		{"tables", func(a *Attrs) { a.CheckTables("c", "c_rejects") }, ""},
		{"max_rejects", func(a *Attrs) { a.CheckMaxRejects(-2) }, "max_rejects is -2; expected 0 (no limit) or more."},
		{"limit", func(a *Attrs) { a.CheckLimit(-1, "every row") }, "limit is -1; expected 0 (every row) or more."},
		{"resize 0", func(a *Attrs) { a.CheckResize(0, "keep 32", 2048) }, ""},
		{"resize 8", func(a *Attrs) { a.CheckResize(8, "keep 32", 2048) }, ""},
		{"resize 7", func(a *Attrs) { a.CheckResize(7, "keep 32", 2048) }, "size is 7 pixels; expected 0 (keep 32) or 8 to 2048."},
		{"resize max", func(a *Attrs) { a.CheckResize(4097, "keep the image size", 4096) }, "size is 4097 pixels; expected 0 (keep the image size) or 8 to 4096."},
		{"split", func(a *Attrs) { a.CheckSplit("val") }, ""},
		{"bad split", func(a *Attrs) { a.CheckSplit("dev") }, `split is "dev"; expected "", "train", "val" or "test".`},
		{"train_split", func(a *Attrs) { a.CheckTrainSplit("train") }, ""},
		{"bad train_split", func(a *Attrs) { a.CheckTrainSplit("test") }, `train_split is "test"; expected "" (a split stage assigns train and val) or "train".`},
		{"pixel_scale unset", func(a *Attrs) { a.CheckPixelScale(nil) }, ""},
		{"pixel_scale", func(a *Attrs) { a.CheckPixelScale(&ps) }, ""},
		{"pixel_scale 0", func(a *Attrs) { a.CheckPixelScale(&zero) }, "pixel_scale is 0; expected a positive number of arcsec per pixel."},
		{"workers", func(a *Attrs) { a.CheckWorkers(0) }, ""},
	} {
		var diags hcl.Diagnostics
		tc.check(NewAttrs(decltest.Body(t, ""), &diags))
		switch {
		case tc.want == "" && len(diags) != 0:
			t.Errorf("%s: unexpected %v", tc.name, diags)
		case tc.want != "" && (len(diags) != 1 || diags[0].Detail != tc.want):
			t.Errorf("%s: got %v, want one diagnostic %q", tc.name, diags, tc.want)
		}
	}
}
