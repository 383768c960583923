package table

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/astroformer/astroformer/schemas"
)

// TestIndependentReader reads parts written by the bridge with arrow-go's
// own Parquet reader, which restores types from the stored ARROW:schema.
func TestIndependentReader(t *testing.T) {
	var fields []arrow.Field
	for _, f := range allTypes().Fields() {
		if ts, ok := f.Type.(*arrow.TimestampType); ok && ts.Unit == arrow.Second {
			continue // stored as milliseconds; only readers of ARROW:schema scale it back
		}
		fields = append(fields, f)
	}
	fields = append(fields, schemas.Cutouts().Fields()...)
	for i := range fields {
		if fields[i].Name == "raw" {
			fields[i].Name = "raw_fluxes" // pixels, raw... are unique but keep names distinct from allTypes
		}
	}
	schema := arrow.NewSchema(fields, nil)
	dir := filepath.Join(t.TempDir(), "pq")
	rec := randomRecord(t, schema, 900, 11)
	defer rec.Release()
	m := writeTable(t, dir, schema, Options{RowsPerPart: 600, RowGroupRows: 200, Manifest: testManifest("fp")}, rec)

	offset := int64(0)
	for _, p := range m.Parts {
		f, err := os.Open(filepath.Join(dir, p.File))
		if err != nil {
			t.Fatal(err)
		}
		tbl, err := pqarrow.ReadTable(context.Background(), f, nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
		f.Close()
		if err != nil {
			t.Fatalf("%s: pqarrow: %v", p.File, err)
		}
		if tbl.NumRows() != p.Rows {
			t.Fatalf("%s: pqarrow read %d rows, manifest says %d", p.File, tbl.NumRows(), p.Rows)
		}
		for i, want := range schema.Fields() {
			got := tbl.Schema().Field(i)
			if got.Name != want.Name || !arrow.TypeEqual(got.Type, want.Type) || got.Nullable != want.Nullable {
				t.Errorf("%s: pqarrow field %d is %s, want %s", p.File, i, got, want)
				continue
			}
			if u, _ := got.Metadata.GetValue(schemas.MetaUnit); want.Metadata.Len() > 0 && u != mustGet(want.Metadata, schemas.MetaUnit) {
				t.Errorf("%s: field %q: unit metadata %q lost", p.File, want.Name, u)
			}
			col, err := array.Concatenate(tbl.Column(i).Data().Chunks(), memory.DefaultAllocator)
			if err != nil {
				t.Fatal(err)
			}
			expect := array.NewSlice(rec.Column(i), offset, offset+p.Rows)
			if !array.Equal(col, expect) {
				t.Errorf("%s: column %q differs from what was written", p.File, want.Name)
			}
			col.Release()
			expect.Release()
		}
		tbl.Release()
		offset += p.Rows
	}
}

func mustGet(md arrow.Metadata, key string) string {
	v, _ := md.GetValue(key)
	return v
}
