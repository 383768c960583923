package table_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/table"
)

// A table is written into a staging folder and appears at its path, with
// its manifest, only when committed; a scan reads the columns it names,
// record by record.
func Example() {
	work, err := os.MkdirTemp("", "table-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(work)
	dir := filepath.Join(work, "galaxies")

	schema := arrow.NewSchema([]arrow.Field{
		{Name: "object_id", Type: arrow.BinaryTypes.String},
		{Name: "ra", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "redshift", Type: arrow.PrimitiveTypes.Float32},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"NGC 4414", "M 101", "UGC 1"}, nil)
	b.Field(1).(*array.Float64Builder).AppendValues([]float64{186.6, 210.8, 0}, []bool{true, true, false})
	b.Field(2).(*array.Float32Builder).AppendValues([]float32{0.0024, 0.0008, 0.03}, nil)
	rec := b.NewRecord()
	defer rec.Release()

	w, err := table.Create(dir, schema, table.Options{
		Manifest: artifact.Manifest{Name: "galaxies", Stage: "example", Kind: "example", Fingerprint: "f00d", Producer: "example"},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		w.Abort()
		log.Fatal(err)
	}
	m, err := w.Commit()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("rows committed:", m.Rows)

	t, err := table.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	sc := t.Scan(context.Background(), table.ScanOptions{Columns: []string{"object_id", "ra"}})
	defer sc.Close()
	for sc.Next() {
		r := sc.Record()
		ids, ra := r.Column(0).(*array.String), r.Column(1).(*array.Float64)
		for i := range int(r.NumRows()) {
			if ra.IsNull(i) {
				fmt.Printf("%s: no position\n", ids.Value(i))
				continue
			}
			fmt.Printf("%s: ra %.1f\n", ids.Value(i), ra.Value(i))
		}
	}
	if err := sc.Err(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// rows committed: 3
	// NGC 4414: ra 186.6
	// M 101: ra 210.8
	// UGC 1: no position
}

// A scan is an Arrow record reader, for code that takes one (for example
// cdata.ExportRecordReader, which hands a table to DuckDB or pyarrow
// through the C stream interface); releasing the reader closes the scan.
func ExampleScanner_recordReader() {
	work, err := os.MkdirTemp("", "table-reader-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(work)
	schema := arrow.NewSchema([]arrow.Field{{Name: "n", Type: arrow.PrimitiveTypes.Int64}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := range 1000 {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
	}
	rec := b.NewRecord()
	defer rec.Release()
	w, err := table.Create(filepath.Join(work, "t"), schema, table.Options{RowGroupRows: 300,
		Manifest: artifact.Manifest{Name: "t", Stage: "example", Kind: "example", Fingerprint: "beef", Producer: "example"}})
	if err != nil {
		log.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		log.Fatal(err)
	}
	if _, err := w.Commit(); err != nil {
		log.Fatal(err)
	}
	t, err := table.Open(filepath.Join(work, "t"))
	if err != nil {
		log.Fatal(err)
	}
	var rr array.RecordReader = t.Scan(context.Background(), table.ScanOptions{})
	defer rr.Release()
	var rows, records int64
	for rr.Next() {
		rows += rr.RecordBatch().NumRows()
		records++
	}
	fmt.Println(rr.Schema().Field(0).Name, rows, "rows in", records, "records; error:", rr.Err())
	// Output:
	// n 1000 rows in 4 records; error: <nil>
}
