package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/catalog"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/table"
	"github.com/astroformer/astroformer/table/tabletest"
)

// writeCatalog writes an unlabelled catalog of rows objects, 3 of every 4
// predicted as class 0 and the rest as class 1, in a 4°×2° patch; rows
// whose index is a multiple of 5 have no position.
func writeCatalog(t *testing.T, dir string, classes []string, rows int) {
	t.Helper()
	schema := schemas.Catalog(classes, false)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := range rows {
		pred := 0
		if i%4 == 3 {
			pred = 1
		}
		for f, field := range schema.Fields() {
			fb := b.Field(f)
			switch name := field.Name; {
			case name == "object_id":
				fb.(*array.StringBuilder).Append("o" + string(rune('a'+i%26)) + string(rune('a'+i/26)))
			case (name == "ra" || name == "dec") && i%5 == 0:
				fb.AppendNull()
			case name == "ra":
				fb.(*array.Float64Builder).Append(30 + 4*float64(i%13)/13)
			case name == "dec":
				fb.(*array.Float64Builder).Append(-10 + 2*float64(i%7)/7)
			case name == "split":
				fb.(*array.StringBuilder).Append("")
			case name == "predicted_class":
				fb.(*array.Int16Builder).Append(int16(pred))
			case name == "predicted_label":
				fb.(*array.StringBuilder).Append(classes[pred])
			case field.Nullable:
				fb.AppendNull()
			default:
				fb.(*array.Float32Builder).Append(0.5) // confidence, probabilities, entropy
			}
		}
	}
	rec := b.NewRecord()
	defer rec.Release()
	names, _ := json.Marshal(classes)
	tabletest.Write(t, dir, schema, table.Options{
		Metadata: map[string]string{catalog.MetaClassNames: string(names)},
		Manifest: artifact.Manifest{Name: filepath.Base(dir), Stage: "predict", Kind: "predict", Fingerprint: "f"},
	}, rec)
}

func TestInspectCatalog(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "catalog")
	writeCatalog(t, dir, []string{"Round Smooth Galaxies", "Edge-on"}, 40)
	out := runOK(t, "inspect", dir)
	checkOutput(t, out,
		"rows per predicted class:\n",
		"  Round Smooth Galaxies    30  75.0%\n",
		"  Edge-on                  10  25.0%\n",
		"  total                    40",
		"sky map: "+dir+"_sky.png (32 positions, 8 rows without ra/dec left off; zoomed to the footprint; HEALPix order",
	)
	if strings.Contains(out, "contact sheet") {
		t.Errorf("a contact sheet for a catalog:\n%s", out)
	}
	readPNG(t, dir+"_sky.png")

	sky := filepath.Join(t.TempDir(), "sky.png")
	var stdout, stderr bytes.Buffer
	if status := run([]string{"inspect", dir, "--sky", sky}, &stdout, &stderr); status != exitOK ||
		!strings.Contains(stdout.String(), "sky map: "+sky+" (") {
		t.Errorf("--sky: status %d, stdout:\n%s", status, stdout.String())
	}
}

func TestInspectSkyErrors(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cutouts")
	writeCutouts(t, dir)
	var stdout, stderr bytes.Buffer
	sky := filepath.Join(t.TempDir(), "sky.png")
	if status := run([]string{"inspect", dir, "--sky", sky}, &stdout, &stderr); status != exitFailure ||
		!strings.Contains(stderr.String(), "cannot draw a sky map: not a catalog table") {
		t.Errorf("--sky on cutouts: status %d, stderr:\n%s", status, stderr.String())
	}
	if strings.Contains(stdout.String(), "sky map:") {
		t.Errorf("a cutouts table got a sky map:\n%s", stdout.String())
	}

	// A catalog without positions says so and writes no map.
	cat := filepath.Join(t.TempDir(), "catalog")
	writeCatalog(t, cat, []string{"a", "b"}, 1) // row 0 has no position
	stdout.Reset()
	if status := run([]string{"inspect", cat}, &stdout, &stderr); status != exitOK ||
		!strings.Contains(stdout.String(), "no sky map: none of the 1 rows has ra/dec") {
		t.Errorf("catalog without positions: status %d, stdout:\n%s\nstderr:\n%s", status, stdout.String(), stderr.String())
	}
	if _, err := os.Stat(cat + "_sky.png"); err == nil {
		t.Error("a sky map without positions was written")
	}
}
