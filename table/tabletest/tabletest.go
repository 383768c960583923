// Package tabletest provides helpers for tests that write a table as a
// fixture or read one back to check it.
package tabletest

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/astroformer/astroformer/table"
)

// Write creates the table dir with schema and options opt, writes recs to
// it and commits it. It stops the test on any error.
func Write(t testing.TB, dir string, schema *arrow.Schema, opt table.Options, recs ...arrow.Record) {
	t.Helper()
	w, err := table.Create(dir, schema, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

// Open opens the table dir. It stops the test on an error.
func Open(t testing.TB, dir string) *table.Table {
	t.Helper()
	tb, err := table.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// ReadTable reads every row of the table dir: a chunk a record scanned.
func ReadTable(t testing.TB, dir string) arrow.Table {
	t.Helper()
	schema, recs := scan(t, dir)
	tbl := array.NewTableFromRecords(schema, recs)
	for _, r := range recs {
		r.Release()
	}
	return tbl
}

// ReadAll reads every row of the table dir as one record.
func ReadAll(t testing.TB, dir string) arrow.Record {
	t.Helper()
	schema, recs := scan(t, dir)
	return Concat(t, schema, recs)
}

// Strings returns the values of the string column name of the table dir,
// in table order; nulls read as "".
func Strings(t testing.TB, dir, name string) []string {
	t.Helper()
	sc := Open(t, dir).Scan(context.Background(), table.ScanOptions{Columns: []string{name}})
	defer sc.Close()
	var out []string
	for sc.Next() {
		col, ok := sc.Record().Column(0).(*array.String)
		if !ok {
			t.Fatalf("%s: column %s is %s, not a string", dir, name, sc.Record().Column(0).DataType())
		}
		for i := range col.Len() {
			out = append(out, col.Value(i))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// scan returns the schema and the records, retained, of a scan of the
// table dir.
func scan(t testing.TB, dir string) (*arrow.Schema, []arrow.Record) {
	t.Helper()
	tb := Open(t, dir)
	sc := tb.Scan(context.Background(), table.ScanOptions{})
	defer sc.Close()
	return tb.Schema(), Records(t, sc)
}

// RecordReader is what Records reads: a table.Scanner, an ipc.Reader.
type RecordReader interface {
	Next() bool
	Record() arrow.Record
	Err() error
}

// Records reads every record of r and returns them, retained: the caller
// releases them (Concat does).
func Records(t testing.TB, r RecordReader) []arrow.Record {
	t.Helper()
	var recs []arrow.Record
	for r.Next() {
		rec := r.Record()
		rec.Retain()
		recs = append(recs, rec)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}

// Concat returns recs, records of schema, as one record whose columns are
// the concatenation of theirs, and releases them. Without records, the
// columns are empty.
func Concat(t testing.TB, schema *arrow.Schema, recs []arrow.Record) arrow.Record {
	t.Helper()
	tbl := array.NewTableFromRecords(schema, recs)
	defer tbl.Release()
	for _, r := range recs {
		r.Release()
	}
	cols := make([]arrow.Array, tbl.NumCols())
	for c := range cols {
		chunks := tbl.Column(c).Data().Chunks()
		if len(chunks) == 0 {
			cols[c] = array.MakeArrayOfNull(memory.DefaultAllocator, schema.Field(c).Type, 0)
		} else {
			a, err := array.Concatenate(chunks, memory.DefaultAllocator)
			if err != nil {
				t.Fatal(err)
			}
			cols[c] = a
		}
		defer cols[c].Release()
	}
	return array.NewRecord(schema, cols, tbl.NumRows())
}
