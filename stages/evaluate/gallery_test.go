package evaluate

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/internal/decl/decltest"
	"github.com/astroformer/astroformer/table"
	"github.com/astroformer/astroformer/table/tabletest"
)

func TestGalleryCollector(t *testing.T) {
	g := newGalleryCollector(3, 2)
	for i, c := range []candidate{
		{truth: 0, pred: 0, confidence: 0.9},
		{truth: 0, pred: 0, confidence: 0.5},
		{truth: 1, pred: 0, confidence: 0.95}, // wrong, of class 1
		{truth: 0, pred: 0, confidence: 0.9},  // ties with row 0, comes after it
		{truth: -1, pred: 0, confidence: 0.4}, // unlabelled
		{truth: 1, pred: 2, confidence: 0.6},  // wrong, of class 1
		{truth: 1, pred: 0, confidence: 0.7},  // wrong, of class 1, third
	} {
		c.row, c.objectID = int64(i), objectID(i)
		g.add(c)
	}
	rows := func(r *ranking) []int64 {
		var out []int64
		for _, c := range r.items {
			out = append(out, c.row)
		}
		return out
	}
	for _, tc := range []struct {
		class, column int
		want          []int64
	}{
		{0, galleryConfident, []int64{2, 0}},
		{0, galleryUnsure, []int64{4, 1}},
		{1, galleryWrong, []int64{2, 6}},
		{2, galleryConfident, []int64{5}},
		{0, galleryWrong, nil},
	} {
		if got := rows(g.cells[tc.class][tc.column]); !slices.Equal(got, tc.want) {
			t.Errorf("class %d column %d: rows %v, want %v", tc.class, tc.column, got, tc.want)
		}
	}
	if g.rows != 7 || g.labelled != 6 {
		t.Errorf("%d rows, %d labelled; want 7 and 6", g.rows, g.labelled)
	}
	if ids := g.objectIDs(); len(ids) != 6 || !slices.IsSorted(ids) {
		t.Errorf("object ids %q, want 6 distinct, sorted", ids)
	}
}

func TestGallerySectionUnlabelled(t *testing.T) {
	g := newGalleryCollector(2, 3)
	for i := range 5 {
		g.add(candidate{row: int64(i), objectID: objectID(i), truth: -1, pred: i % 2, confidence: 0.5 + 0.1*float64(i)})
	}
	sec := newGallerySection(g, []string{"Round Smooth Galaxies", "Edge-on"}, nil, "the whole catalog", "")
	if !slices.Equal(sec.Headers, []string{"most confident", "least confident"}) {
		t.Errorf("headers %q: an unlabelled catalog has no misclassification column", sec.Headers)
	}
	if len(sec.Rows) != 2 || len(sec.Rows[0].Cells) != 2 || len(sec.Rows[0].Cells[0]) != 3 {
		t.Fatalf("rows %+v", sec.Rows)
	}
	th := sec.Rows[0].Cells[0][0]
	if th.ObjectID != objectID(4) || th.Pred != "Round Smooth" || th.Truth != "" || th.Confidence != "90%" || th.File != "" {
		t.Errorf("first thumbnail %+v", th)
	}
	if !strings.Contains(sec.Note, `cutouts = "`) || strings.Contains(sec.Caption, "another class") {
		t.Errorf("note %q, caption %q", sec.Note, sec.Caption)
	}
}

// writeCutouts writes a cutouts table with an h×w RGB cutout of every
// object id.
func writeCutouts(t *testing.T, dir string, ids []string, h, w int) {
	t.Helper()
	schema := schemas.Cutouts()
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i, id := range ids {
		pix := bytes.Repeat([]byte{byte(40 * i), 128, 200}, h*w)
		for f, field := range schema.Fields() {
			fb := b.Field(f)
			switch field.Name {
			case "object_id":
				fb.(*array.StringBuilder).Append(id)
			case "split", "bands", "source":
				fb.(*array.StringBuilder).Append("x")
			case "height":
				fb.(*array.Int32Builder).Append(int32(h))
			case "width":
				fb.(*array.Int32Builder).Append(int32(w))
			case "channels":
				fb.(*array.Int32Builder).Append(3)
			case "pixels":
				fb.(*array.BinaryBuilder).Append(pix)
			default:
				fb.AppendNull()
			}
		}
	}
	rec := b.NewRecord()
	defer rec.Release()
	tabletest.Write(t, dir, rec.Schema(), table.Options{RowsPerPart: 7, Manifest: artifact.Manifest{Name: filepath.Base(dir), Fingerprint: "cutouts-fp"}}, rec)
}

// galleryWork writes a catalog whose first rows have positions and a
// cutouts table of all its objects but the first, and returns the workdir.
func galleryWork(t *testing.T, h, w int) string {
	t.Helper()
	work := t.TempDir()
	rows := testRows()
	var ids []string
	for i := range rows {
		rows[i].pos = i < 20
		if i > 0 {
			ids = append(ids, objectID(i))
		}
	}
	writeCatalog(t, filepath.Join(work, "catalog"), testClasses, true, rows, nil)
	writeCutouts(t, filepath.Join(work, "cutouts"), ids, h, w)
	return work
}

func TestRunGalleryAndSky(t *testing.T) {
	work := galleryWork(t, 128, 160) // scaled down to 96×77
	runStage(t, work, `input = "catalog"
output = "report"
cutouts = "cutouts"
gallery = 2`)
	report := filepath.Join(work, "report")
	html := string(mustRead(t, filepath.Join(report, ReportHTML)))
	thumbs := strings.Count(html, `<figure class="thumb`) - strings.Count(html, `no cutout</div>`)
	checkSelfContained(t, html, 3+thumbs) // confusion, reliability, sky map, thumbnails
	for _, want := range []string{"<h2>Gallery</h2>", "worst misclassifications", "<h2>Sky map</h2>",
		"20 positions; 8 rows without ra/dec left off", `pred Merging`, `class="thumb wrong"`,
		"objects shown are not in the cutouts table cutouts."} {
		if !strings.Contains(html, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if !regexp.MustCompile(`<p class="note">1 of the \d+ objects`).MatchString(html) {
		t.Error("report.html does not note the one object missing from the cutouts table")
	}
	if thumbs < 10 {
		t.Errorf("%d thumbnails with pixels", thumbs)
	}
	md := string(mustRead(t, filepath.Join(report, ReportMarkdown)))
	for _, want := range []string{"## Gallery", "| class | most confident | least confident | worst misclassifications |",
		"![cutout](gallery/002.png)", "![Sky map](sky.png)", "rows without ra/dec left off"} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	img, err := png.Decode(bytes.NewReader(mustRead(t, filepath.Join(report, GalleryDir, "002.png"))))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 96 || b.Dy() != 76 && b.Dy() != 77 {
		t.Errorf("thumbnail is %dx%d, want 96 wide", b.Dx(), b.Dy())
	}
	if _, err := os.Stat(filepath.Join(report, GalleryDir, "001.png")); err == nil {
		t.Error("a thumbnail was written for the object missing from the cutouts table")
	}
	if _, err := artifact.Check(report); err != nil {
		t.Errorf("report folder: %v", err)
	}
}

func TestRunCutoutsErrors(t *testing.T) {
	work := galleryWork(t, 8, 8)
	for src, want := range map[string]string{
		"cutouts = \"missing\"":  "not a committed artifact",
		"cutouts = \"catalog2\"": "has no column height, width, channels, pixels",
	} {
		if src == "cutouts = \"catalog2\"" {
			writeCatalog(t, filepath.Join(work, "catalog2"), testClasses, false, testRows(), nil)
		}
		s, diags := decode(t, "input = \"catalog\"\noutput = \"report\"\n"+src)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		if err := s.Run(context.Background(), newEnv(work)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", src, err, want)
		}
	}
	// catalog2 has no positions.
	runStage(t, work, "input = \"catalog2\"\noutput = \"report\"\ngallery = 0")
	html := string(mustRead(t, filepath.Join(work, "report", ReportHTML)))
	if strings.Contains(html, "Gallery") {
		t.Error("gallery = 0 drew a gallery")
	}
	if !strings.Contains(html, "No row of the catalog has a position (28 rows without ra/dec), so there is no sky map.") {
		t.Error("report.html does not say why it has no sky map")
	}
}

func TestDecodeGallery(t *testing.T) {
	s, diags := decode(t, "input = \"catalog\"\noutput = \"report\"\ncutouts = \"cutouts_split\"\ngallery = 3")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if p := s.Params().(params); p.Cutouts != "cutouts_split" || p.gallery() != 3 {
		t.Errorf("decoded %+v", p)
	}
	if in := s.Inputs(); !slices.Equal(in, []string{"catalog", "cutouts_split"}) {
		t.Errorf("Inputs %q, want the catalog and the cutouts", in)
	}
	decltest.CheckDiagnostics(t, Decode, "evaluate", []decltest.Case{
		{Src: "input = \"c\"\noutput = \"r\"\ncutouts = \"\"", Summary: "Empty cutouts", Line: 3},
		{Src: "input = \"c\"\noutput = \"r\"\ncutouts = \"c\"", Summary: "Artifact named twice", Line: 3},
		{Src: "input = \"c\"\noutput = \"r\"\ngallery = 21", Summary: "Invalid gallery", Line: 3},
		{Src: "input = \"c\"\noutput = \"r\"\ngallery = -1", Summary: "Invalid gallery", Line: 3},
	})
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
