package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/table"
	"github.com/astroformer/astroformer/table/tabletest"
)

// writeSmallCatalog commits a two-row catalog table.
func writeSmallCatalog(t *testing.T, dir string) {
	t.Helper()
	schema := schemas.Catalog([]string{"Smooth", "Spiral"}, false)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	cw, err := schemas.NewCatalogWriter(b, []string{"Smooth", "Spiral"})
	if err != nil {
		t.Fatal(err)
	}
	a := schemas.CatalogRow{PredictedClass: 0, PredictedLabel: "Smooth", Confidence: 0.75, Probs: []float32{0.75, 0.75}, Entropy: 0.75}
	a.ObjectID, a.RA, a.Dec, a.Split = "a", schemas.Some(10.0), schemas.Some(-5.0), "test"
	a.Label, a.LabelName = schemas.Some[int16](0), schemas.Some("Smooth")
	cw.Append(&a)
	bRow := schemas.CatalogRow{PredictedClass: 1, PredictedLabel: "Spiral", Confidence: 0.5, Probs: []float32{0.5, 0.5}, Entropy: 0.5}
	bRow.ObjectID, bRow.Dec, bRow.Split = "b", schemas.Some(5.0), "test"
	cw.Append(&bRow)
	rec := b.NewRecord()
	defer rec.Release()
	tabletest.Write(t, dir, schema, table.Options{}, rec)
}

func TestExportCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "catalog")
	writeSmallCatalog(t, dir)
	for _, f := range []string{"fits", "votable", "csv"} {
		runOK(t, "export", dir, "--format", f)
	}
	for _, ext := range []string{".fits", ".vot", ".csv"} {
		if _, err := os.Stat(dir + ext); err != nil {
			t.Error(err)
		}
	}
	if got := runOK(t, "export", "--format", "csv", "--output", "-", "--columns", "object_id,ra", dir); got != "object_id,ra\na,10\nb,\n" {
		t.Errorf("CSV on stdout: %q", got)
	}
	var stdout, stderr bytes.Buffer
	if status := run([]string{"export", dir, "--format", "hdf5"}, &stdout, &stderr); status != exitUsage || !strings.Contains(stderr.String(), `unknown export format "hdf5"`) {
		t.Errorf("bad format: status %d: %s", status, stderr.String())
	}
	stderr.Reset()
	if status := run([]string{"export", filepath.Join(dir, "missing")}, &stdout, &stderr); status != exitFailure || !strings.Contains(stderr.String(), "missing") {
		t.Errorf("missing table: status %d: %s", status, stderr.String())
	}
}
