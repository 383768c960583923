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
)

// writeSmallCatalog commits a two-row catalog table.
func writeSmallCatalog(t *testing.T, dir string) {
	t.Helper()
	schema := schemas.Catalog([]string{"Smooth", "Spiral"}, false)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"a", "b"}, nil)
	b.Field(1).(*array.Float64Builder).AppendValues([]float64{10, 20}, []bool{true, false})
	b.Field(2).(*array.Float64Builder).AppendValues([]float64{-5, 5}, nil)
	b.Field(3).(*array.Int16Builder).AppendValues([]int16{0, 0}, []bool{true, false})
	b.Field(4).(*array.StringBuilder).AppendValues([]string{"Smooth", ""}, []bool{true, false})
	b.Field(5).(*array.StringBuilder).AppendValues([]string{"test", "test"}, nil)
	b.Field(6).(*array.Int16Builder).AppendValues([]int16{0, 1}, nil)
	b.Field(7).(*array.StringBuilder).AppendValues([]string{"Smooth", "Spiral"}, nil)
	for c := 8; c < 12; c++ {
		b.Field(c).(*array.Float32Builder).AppendValues([]float32{0.75, 0.5}, nil)
	}
	rec := b.NewRecord()
	defer rec.Release()
	w, err := table.Create(dir, schema, table.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

func TestExportCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "catalog")
	writeSmallCatalog(t, dir)
	var stdout, stderr bytes.Buffer
	for _, f := range []string{"fits", "votable", "csv"} {
		if status := run([]string{"export", dir, "--format", f}, &stdout, &stderr); status != exitOK {
			t.Fatalf("export --format %s: status %d: %s", f, status, stderr.String())
		}
	}
	for _, ext := range []string{".fits", ".vot", ".csv"} {
		if _, err := os.Stat(dir + ext); err != nil {
			t.Error(err)
		}
	}
	stdout.Reset()
	if status := run([]string{"export", "--format", "csv", "--output", "-", "--columns", "object_id,ra", dir}, &stdout, &stderr); status != exitOK {
		t.Fatalf("export to stdout: status %d: %s", status, stderr.String())
	}
	if got := stdout.String(); got != "object_id,ra\na,10\nb,\n" {
		t.Errorf("CSV on stdout: %q", got)
	}
	stderr.Reset()
	if status := run([]string{"export", dir, "--format", "hdf5"}, &stdout, &stderr); status != exitUsage || !strings.Contains(stderr.String(), `unknown export format "hdf5"`) {
		t.Errorf("bad format: status %d: %s", status, stderr.String())
	}
	stderr.Reset()
	if status := run([]string{"export", filepath.Join(dir, "missing")}, &stdout, &stderr); status != exitFailure || !strings.Contains(stderr.String(), "missing") {
		t.Errorf("missing table: status %d: %s", status, stderr.String())
	}
}
