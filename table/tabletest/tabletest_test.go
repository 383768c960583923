package tabletest_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/astroformer/astroformer/table"
	"github.com/astroformer/astroformer/table/tabletest"
)

// TestWriteRead writes 5 rows in parts of 2 and reads them back as a table
// of 3 chunks and as one record.
func TestWriteRead(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "n", Type: arrow.PrimitiveTypes.Int64}}, nil)
	b := array.NewInt64Builder(memory.DefaultAllocator)
	defer b.Release()
	b.AppendValues([]int64{1, 2, 3, 4, 5}, nil)
	col := b.NewArray()
	defer col.Release()
	rec := array.NewRecord(schema, []arrow.Array{col}, 5)
	defer rec.Release()
	dir := filepath.Join(t.TempDir(), "numbers")
	tabletest.Write(t, dir, schema, table.Options{RowsPerPart: 2, RowGroupRows: 2}, rec)
	if tb := tabletest.Open(t, dir); tb.Rows() != 5 || tb.NumParts() != 3 {
		t.Errorf("%d rows in %d parts, want 5 in 3", tb.Rows(), tb.NumParts())
	}
	tbl := tabletest.ReadTable(t, dir)
	defer tbl.Release()
	if tbl.NumRows() != 5 || len(tbl.Column(0).Data().Chunks()) != 3 {
		t.Errorf("table of %d rows in %d chunks, want 5 in 3", tbl.NumRows(), len(tbl.Column(0).Data().Chunks()))
	}
	all := tabletest.ReadAll(t, dir)
	defer all.Release()
	if !array.Equal(all.Column(0), col) {
		t.Errorf("read back %v, want %v", all.Column(0), col)
	}
}

func TestStrings(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "n", Type: arrow.PrimitiveTypes.Int64}, {Name: "s", Type: arrow.BinaryTypes.String}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2, 3}, nil)
	b.Field(1).(*array.StringBuilder).AppendValues([]string{"a", "b", "c"}, nil)
	rec := b.NewRecord()
	defer rec.Release()
	dir := filepath.Join(t.TempDir(), "strings")
	tabletest.Write(t, dir, schema, table.Options{RowsPerPart: 2}, rec)
	if got := tabletest.Strings(t, dir, "s"); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("Strings = %q, want a b c", got)
	}
}

// TestReadAllEmpty reads a table of no rows as a record of empty columns.
func TestReadAllEmpty(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "s", Type: arrow.BinaryTypes.String}}, nil)
	dir := filepath.Join(t.TempDir(), "empty")
	tabletest.Write(t, dir, schema, table.Options{})
	all := tabletest.ReadAll(t, dir)
	defer all.Release()
	if all.NumRows() != 0 || all.NumCols() != 1 || all.Column(0).Len() != 0 {
		t.Errorf("empty table read as %v", all)
	}
}
