package evaluate

import (
	"encoding/base64"
	"fmt"
	htmltemplate "html/template"
	"strings"
)

// GalleryDir is the folder of the report holding the gallery's thumbnails,
// which report.md references (report.html embeds them).
const GalleryDir = "gallery"

// gallerySection is the gallery as the report templates render it.
type gallerySection struct {
	Caption string
	Headers []string // of the cells of a row
	Rows    []galleryRow
	Note    string // why thumbnails are missing, if some are
	files   []galleryFile
}

// galleryRow is one class: its cells in the order of Headers.
type galleryRow struct {
	Class string
	Cells [][]galleryThumb
}

// galleryThumb is one cutout of the gallery.
type galleryThumb struct {
	ObjectID   string
	Pred       string // predicted class
	Truth      string // true class; "" when unlabelled
	Confidence string // of the prediction, e.g. "97%"
	Wrong      bool   // labelled and predicted as another class
	Tooltip    string
	File       string           // next to report.md; "" without pixels
	DataURI    htmltemplate.URL // the PNG as a data: URI, for the HTML report
}

// galleryFile is a thumbnail to write into the report folder.
type galleryFile struct {
	name string
	png  []byte
}

// shortClass drops a trailing " Galaxies" from a class name for the
// gallery's labels.
func shortClass(name string) string { return strings.TrimSuffix(name, " Galaxies") }

// newGallerySection lays out the candidates of g with their thumbnails
// (object_id → PNG). from says which rows g saw; cutouts names the cutouts
// table ("" when the stage has none).
func newGallerySection(g *galleryCollector, classes []string, thumbs map[string][]byte, from, cutouts string) *gallerySection {
	k := 0
	for _, cell := range g.cells {
		k = max(k, cell[galleryConfident].k)
	}
	sec := &gallerySection{Headers: []string{"most confident", "least confident"}}
	columns := 2
	sec.Caption = fmt.Sprintf("Cutouts of %s (%d rows, %d labelled), by predicted class: the %d most confident and the %d least confident predictions",
		from, g.rows, g.labelled, k, k)
	if g.labelled > 0 {
		columns = 3
		sec.Headers = append(sec.Headers, "worst misclassifications")
		sec.Caption += fmt.Sprintf(", and, by true class, the %d most confident predictions of another class", k)
	}
	sec.Caption += "."

	ids := g.objectIDs()
	files := make(map[string]string, len(ids))
	for i, id := range ids {
		if png := thumbs[id]; png != nil {
			files[id] = fmt.Sprintf("%s/%03d.png", GalleryDir, i+1)
			sec.files = append(sec.files, galleryFile{name: files[id], png: png})
		}
	}
	for c, cell := range g.cells {
		row := galleryRow{Class: classes[c]}
		for col := range columns {
			var out []galleryThumb
			for _, cand := range cell[col].items {
				out = append(out, newThumb(cand, classes, files[cand.objectID], thumbs[cand.objectID]))
			}
			row.Cells = append(row.Cells, out)
		}
		sec.Rows = append(sec.Rows, row)
	}
	switch missing := len(ids) - len(sec.files); {
	case cutouts == "":
		sec.Note = `The stage has no cutouts table, so the gallery shows no pixels: add cutouts = "<the cutouts table the catalog was predicted from>" to the evaluate stage.`
	case missing > 0:
		sec.Note = fmt.Sprintf("%d of the %d objects shown are not in the cutouts table %s.", missing, len(ids), cutouts)
	}
	return sec
}

// newThumb labels a candidate.
func newThumb(c candidate, classes []string, file string, png []byte) galleryThumb {
	t := galleryThumb{
		ObjectID: c.objectID, Pred: shortClass(classes[c.pred]),
		Confidence: fmt.Sprintf("%.0f%%", 100*c.confidence), File: file,
	}
	t.Tooltip = fmt.Sprintf("%s: predicted %s (confidence %.3f)", c.objectID, classes[c.pred], c.confidence)
	if c.truth >= 0 {
		t.Truth, t.Wrong = shortClass(classes[c.truth]), c.truth != c.pred
		t.Tooltip += ", true class " + classes[c.truth]
	}
	if png != nil {
		t.DataURI = htmltemplate.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
	}
	return t
}
