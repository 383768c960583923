package table

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/schemas"
)

// allTypes is a schema with every type the bridge supports, nullable and
// not, with field metadata.
func allTypes() *arrow.Schema {
	types := []arrow.DataType{
		arrow.BinaryTypes.String, arrow.BinaryTypes.Binary, arrow.FixedWidthTypes.Boolean,
		arrow.PrimitiveTypes.Int8, arrow.PrimitiveTypes.Int16, arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int64,
		arrow.PrimitiveTypes.Uint8, arrow.PrimitiveTypes.Uint16, arrow.PrimitiveTypes.Uint32, arrow.PrimitiveTypes.Uint64,
		arrow.PrimitiveTypes.Float32, arrow.PrimitiveTypes.Float64,
		&arrow.TimestampType{Unit: arrow.Second},
		&arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"},
		&arrow.TimestampType{Unit: arrow.Microsecond},
		&arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"},
		arrow.ListOf(arrow.PrimitiveTypes.Int32),
		arrow.ListOfNonNullable(arrow.PrimitiveTypes.Float32),
		arrow.ListOf(arrow.BinaryTypes.String),
		arrow.FixedSizeListOfNonNullable(4, arrow.PrimitiveTypes.Float32),
	}
	var fields []arrow.Field
	for i, typ := range types {
		for _, nullable := range []bool{false, true} {
			name := fmt.Sprintf("c%02d_%s", i, strings.NewReplacer("[", "_", "]", "", ",", "", " ", "", "=", "", "<", "_", ">", "", ":", "").Replace(typ.String()))
			if nullable {
				name += "_null"
			}
			md := arrow.NewMetadata([]string{schemas.MetaUnit, schemas.MetaDescription}, []string{"u" + name, "about " + name})
			fields = append(fields, arrow.Field{Name: name, Type: typ, Nullable: nullable, Metadata: md})
		}
	}
	md := arrow.NewMetadata([]string{"schema-key"}, []string{"schema-value"})
	return arrow.NewSchema(fields, &md)
}

// randomRecord returns n rows of random values for schema, with about one
// null in five in nullable fields, empty strings and lists included.
func randomRecord(t testing.TB, schema *arrow.Schema, n int, seed uint64) arrow.Record {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i, f := range schema.Fields() {
		for range n {
			if f.Nullable && rng.IntN(5) == 0 {
				b.Field(i).AppendNull()
				continue
			}
			appendRandom(t, b.Field(i), rng)
		}
	}
	return b.NewRecord()
}

func appendRandom(t testing.TB, b array.Builder, rng *rand.Rand) {
	switch b := b.(type) {
	case *array.StringBuilder:
		b.Append(strings.Repeat("é", rng.IntN(4)) + fmt.Sprint(rng.Int64()))
	case *array.BinaryBuilder:
		v := make([]byte, rng.IntN(40))
		for i := range v {
			v[i] = byte(rng.Uint32())
		}
		b.Append(v)
	case *array.BooleanBuilder:
		b.Append(rng.IntN(2) == 1)
	case *array.Int8Builder:
		b.Append(int8(rng.Uint32()))
	case *array.Int16Builder:
		b.Append(int16(rng.Uint32()))
	case *array.Int32Builder:
		b.Append(int32(rng.Uint32()))
	case *array.Int64Builder:
		b.Append(int64(rng.Uint64()))
	case *array.Uint8Builder:
		b.Append(uint8(rng.Uint32()))
	case *array.Uint16Builder:
		b.Append(uint16(rng.Uint32()))
	case *array.Uint32Builder:
		b.Append(rng.Uint32())
	case *array.Uint64Builder:
		b.Append(rng.Uint64())
	case *array.Float32Builder:
		b.Append(rng.Float32()*2e6 - 1e6)
	case *array.Float64Builder:
		b.Append(rng.NormFloat64() * 1e100)
	case *array.TimestampBuilder:
		b.Append(arrow.Timestamp(rng.Int64N(4e9)))
	case *array.ListBuilder:
		b.Append(true)
		elemNullable := b.Type().(*arrow.ListType).ElemField().Nullable
		for range rng.IntN(4) {
			if elemNullable && rng.IntN(4) == 0 {
				b.ValueBuilder().AppendNull()
				continue
			}
			appendRandom(t, b.ValueBuilder(), rng)
		}
	case *array.FixedSizeListBuilder:
		b.Append(true)
		for range b.Type().(*arrow.FixedSizeListType).Len() {
			appendRandom(t, b.ValueBuilder(), rng)
		}
	default:
		t.Fatalf("no random values for %T", b)
	}
}

func testManifest(fingerprint string) artifact.Manifest {
	return artifact.Manifest{Name: "t", Stage: "test", Kind: "test", Fingerprint: fingerprint, Producer: "astroformer-test",
		Params: []byte(`{"n":1}`)}
}

// writeTable writes recs into dir and commits.
func writeTable(t testing.TB, dir string, schema *arrow.Schema, opt Options, recs ...arrow.Record) *Manifest {
	t.Helper()
	w, err := Create(dir, schema, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	m, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// openTable opens the table dir or stops the test.
func openTable(t testing.TB, dir string) *Table {
	t.Helper()
	tab, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// readAll scans a table into one record per column-concatenation.
func readAll(t testing.TB, tab *Table, opt ScanOptions) arrow.Record {
	t.Helper()
	s := tab.Scan(context.Background(), opt)
	defer s.Close()
	var recs []arrow.Record
	for s.Next() {
		rec := s.Record()
		if opt.BatchRows > 0 && rec.NumRows() > int64(opt.BatchRows) {
			t.Errorf("record of %d rows, batch size %d", rec.NumRows(), opt.BatchRows)
		}
		rec.Retain()
		recs = append(recs, rec)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return concat(t, s.Schema(), recs)
}

func concat(t testing.TB, schema *arrow.Schema, recs []arrow.Record) arrow.Record {
	t.Helper()
	cols := make([]arrow.Array, schema.NumFields())
	var n int64
	for _, r := range recs {
		n += r.NumRows()
	}
	for i := range cols {
		var parts []arrow.Array
		for _, r := range recs {
			parts = append(parts, r.Column(i))
		}
		if len(parts) == 0 {
			b := array.NewBuilder(memory.DefaultAllocator, schema.Field(i).Type)
			cols[i] = b.NewArray()
			b.Release()
			continue
		}
		c, err := array.Concatenate(parts, memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		cols[i] = c
	}
	for _, r := range recs {
		r.Release()
	}
	return array.NewRecord(schema, cols, n)
}

func assertSameColumns(t testing.TB, got, want arrow.Record) {
	t.Helper()
	if got.NumRows() != want.NumRows() {
		t.Fatalf("got %d rows, want %d", got.NumRows(), want.NumRows())
	}
	for i, f := range want.Schema().Fields() {
		idx := got.Schema().FieldIndices(f.Name)
		if len(idx) != 1 {
			t.Fatalf("column %q missing from the result", f.Name)
		}
		g, w := got.Column(idx[0]), want.Column(i)
		if !array.Equal(g, w) {
			for r := 0; r < w.Len(); r++ {
				if !array.SliceEqual(g, int64(r), int64(r+1), w, int64(r), int64(r+1)) {
					t.Fatalf("column %q row %d: got %s, want %s", f.Name, r, g.ValueStr(r), w.ValueStr(r))
				}
			}
			t.Fatalf("column %q differs", f.Name)
		}
	}
}

func TestRoundTripAllTypes(t *testing.T) {
	schema := allTypes()
	dir := filepath.Join(t.TempDir(), "all")
	rec1 := randomRecord(t, schema, 700, 1)
	defer rec1.Release()
	rec2 := randomRecord(t, schema, 650, 2)
	defer rec2.Release()
	m := writeTable(t, dir, schema, Options{RowsPerPart: 500, RowGroupRows: 128, Manifest: testManifest("fp"),
		Metadata: map[string]string{"origin": "test"}}, rec1, rec2)

	if m.Rows != 1350 || len(m.Parts) != 3 {
		t.Fatalf("manifest: %d rows in %d parts, want 1350 in 3", m.Rows, len(m.Parts))
	}
	if m.Metadata["origin"] != "test" || m.Format != artifact.TableFormat || m.SchemaFingerprint != schemas.Fingerprint(schema) {
		t.Errorf("manifest header: %+v", m)
	}
	tab, err := OpenAs(dir, schema)
	if err != nil {
		t.Fatal(err)
	}
	if !tab.Schema().Equal(schema) {
		t.Errorf("schema read back differs (field metadata included):\n got %s\nwant %s", tab.Schema(), schema)
	}
	if tab.Rows() != 1350 {
		t.Errorf("Rows() = %d", tab.Rows())
	}
	want := concat(t, schema, []arrow.Record{sliceRec(rec1), sliceRec(rec2)})
	defer want.Release()
	got := readAll(t, tab, ScanOptions{BatchRows: 100})
	defer got.Release()
	assertSameColumns(t, got, want)
	if err := Verify(dir); err != nil {
		t.Fatal(err)
	}
}

// sliceRec returns a new reference to rec.
func sliceRec(rec arrow.Record) arrow.Record { rec.Retain(); return rec }

func TestScanProjectionAndParts(t *testing.T) {
	schema := allTypes()
	dir := filepath.Join(t.TempDir(), "proj")
	rec := randomRecord(t, schema, 1000, 3)
	defer rec.Release()
	writeTable(t, dir, schema, Options{RowsPerPart: 300, RowGroupRows: 64, Manifest: testManifest("fp")}, rec)
	tab := openTable(t, dir)
	if tab.NumParts() != 4 {
		t.Fatalf("%d parts, want 4", tab.NumParts())
	}
	cols := []string{schema.Field(7).Name, schema.Field(0).Name, schema.Field(35).Name}
	got := readAll(t, tab, ScanOptions{Columns: cols, BatchRows: 50, Parts: []int{3, 1}})
	defer got.Release()
	if got.NumCols() != 3 || got.Schema().Field(0).Name != cols[0] || got.Schema().Field(2).Name != cols[2] {
		t.Fatalf("projected schema %s", got.Schema())
	}
	// Part 3 holds rows 900..999, part 1 rows 300..599.
	p3, p1 := rec.NewSlice(900, 1000), rec.NewSlice(300, 600)
	want := concat(t, schema, []arrow.Record{p3, p1})
	defer want.Release()
	for i, name := range cols {
		w := want.Column(want.Schema().FieldIndices(name)[0])
		if !array.Equal(got.Column(i), w) {
			t.Errorf("column %q differs", name)
		}
	}

	s := tab.Scan(context.Background(), ScanOptions{Columns: []string{"nope"}})
	if s.Next() || s.Err() == nil || !strings.Contains(s.Err().Error(), `no column "nope"`) {
		t.Errorf("unknown column: err = %v", s.Err())
	}
	s.Close()
	s = tab.Scan(context.Background(), ScanOptions{Parts: []int{4}})
	if s.Next() || s.Err() == nil || !strings.Contains(s.Err().Error(), "no part 4") {
		t.Errorf("unknown part: err = %v", s.Err())
	}
	s.Close()
}

func TestScanCancelled(t *testing.T) {
	schema := schemas.Rejects()
	dir := filepath.Join(t.TempDir(), "rejects")
	rec := randomRecord(t, schema, 100, 4)
	defer rec.Release()
	writeTable(t, dir, schema, Options{Manifest: testManifest("fp")}, rec)
	tab := openTable(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := tab.Scan(ctx, ScanOptions{})
	defer s.Close()
	if s.Next() || s.Err() != context.Canceled {
		t.Errorf("err = %v, want context.Canceled", s.Err())
	}
}

func TestEmptyTable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "empty")
	m := writeTable(t, dir, schemas.Rejects(), Options{Manifest: testManifest("fp")})
	if m.Rows != 0 || len(m.Parts) != 1 {
		t.Fatalf("empty table: %d rows, %d parts; want 0 rows in 1 part", m.Rows, len(m.Parts))
	}
	tab, err := OpenAs(dir, schemas.Rejects())
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, tab, ScanOptions{})
	defer got.Release()
	if got.NumRows() != 0 {
		t.Errorf("%d rows", got.NumRows())
	}
}

func TestParquetMetadata(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "meta")
	rec := randomRecord(t, schemas.Metrics(), 10, 5)
	defer rec.Release()
	writeTable(t, dir, schemas.Metrics(), Options{Manifest: testManifest("fp"), Metadata: map[string]string{"k": "v"}}, rec)
	pf, err := openPart(filepath.Join(dir, "part-00000.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.close()
	want := map[string]string{
		MetaSchemaVersion: schemas.Version,
		MetaProducer:      "astroformer-test",
		MetaStage:         "test",
		MetaParams:        `{"n":1}`,
		"k":               "v",
	}
	for k, v := range want {
		if got, _ := pf.file.Lookup(k); got != v {
			t.Errorf("key-value metadata %q = %q, want %q", k, got, v)
		}
	}
	if _, ok := pf.file.Lookup(arrowSchemaKey); !ok {
		t.Errorf("no %s key", arrowSchemaKey)
	}
}

func TestWriteSchemaMismatch(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "x")
	w, err := Create(dir, schemas.Rejects(), Options{Manifest: testManifest("fp")})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	rec := randomRecord(t, schemas.Metrics(), 3, 1)
	defer rec.Release()
	err = w.Write(rec)
	if err == nil || !strings.Contains(err.Error(), `column "stage"`) {
		t.Errorf("err = %v, want a schema error naming column stage", err)
	}

	// A null in a non-nullable column is an error naming the column.
	loose := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
	strict := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.BinaryTypes.String}}, nil)
	ydir := filepath.Join(t.TempDir(), "y")
	w2, err := Create(ydir, strict, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Abort()
	b := array.NewRecordBuilder(memory.DefaultAllocator, loose)
	b.Field(0).AppendNull()
	rec2 := b.NewRecord()
	b.Release()
	defer rec2.Release()
	if err := w2.Write(rec2); err == nil || !strings.Contains(err.Error(), `row 0: column "a": null`) {
		t.Errorf("err = %v, want a null error naming column a", err)
	}
	// The rejected record left nothing behind: valid rows still go in.
	b = array.NewRecordBuilder(memory.DefaultAllocator, strict)
	b.Field(0).(*array.StringBuilder).Append("ok")
	rec3 := b.NewRecord()
	b.Release()
	defer rec3.Release()
	if err := w2.Write(rec3); err != nil {
		t.Fatal(err)
	}
	m, err := w2.Commit()
	if err != nil || m.Rows != 1 {
		t.Fatalf("commit after a rejected record: %v, %v", m, err)
	}
	tab, err := Open(ydir)
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, tab, ScanOptions{})
	defer got.Release()
	if got.NumRows() != 1 || got.Column(0).ValueStr(0) != "ok" {
		t.Errorf("read back %v", got)
	}
}

func TestBoundedParts(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "blob", Type: arrow.BinaryTypes.Binary},
	}, nil)
	dir := filepath.Join(t.TempDir(), "big")
	w, err := Create(dir, schema, Options{RowsPerPart: 12000, RowGroupRows: 1000, RowGroupBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	const total, batch = 50000, 2500
	blob := make([]byte, 64)
	for lo := 0; lo < total; lo += batch {
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		for i := lo; i < lo+batch; i++ {
			b.Field(0).(*array.Int64Builder).Append(int64(i))
			blob[0] = byte(i)
			b.Field(1).(*array.BinaryBuilder).Append(blob)
		}
		rec := b.NewRecord()
		b.Release()
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	m, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Parts) != 5 || m.Rows != total {
		t.Fatalf("%d rows in %d parts, want %d in 5", m.Rows, len(m.Parts), total)
	}
	pf, err := openPart(filepath.Join(dir, m.Parts[0].File))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.close()
	for i, rg := range pf.file.RowGroups() {
		// 64 KiB of about 100 bytes per row: a row group closes near 650 rows.
		if n := rg.NumRows(); n > 1000 || n < 100 {
			t.Errorf("row group %d: %d rows, want between 100 and 1000 (byte bound)", i, n)
		}
	}
	tab := openTable(t, dir)
	s := tab.Scan(context.Background(), ScanOptions{Columns: []string{"id"}, BatchRows: 4096})
	defer s.Close()
	next := int64(0)
	for s.Next() {
		ids := s.Record().Column(0).(*array.Int64)
		for i := range ids.Len() {
			if ids.Value(i) != next {
				t.Fatalf("row %d: id %d", next, ids.Value(i))
			}
			next++
		}
	}
	if s.Err() != nil || next != total {
		t.Fatalf("read %d rows, err %v", next, s.Err())
	}
}

func TestOpenErrors(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "cutouts")
	rec := randomRecord(t, schemas.Rejects(), 50, 6)
	defer rec.Release()
	writeTable(t, dir, schemas.Rejects(), Options{Manifest: testManifest("fp")}, rec)
	part := filepath.Join(dir, "part-00000.parquet")

	t.Run("no manifest", func(t *testing.T) {
		_, err := Open(filepath.Join(root, "missing"))
		if err == nil || !strings.Contains(err.Error(), "not a committed artifact (no _manifest.json)") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("wrong schema", func(t *testing.T) {
		_, err := OpenAs(dir, schemas.Metrics())
		want := part + `: column "scope": expected string, found missing`
		if err == nil || err.Error() != want {
			t.Errorf("err = %v\nwant %s", err, want)
		}
		var se *schemas.SchemaError
		if !errors.As(err, &se) || se.Column != "scope" || se.File != part {
			t.Errorf("not a *SchemaError naming file and column: %#v", err)
		}
	})
	data, err := os.ReadFile(part)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("truncated", func(t *testing.T) {
		if err := os.WriteFile(part, data[:len(data)/2], 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Open(dir)
		if err == nil || !strings.Contains(err.Error(), part) || !strings.Contains(err.Error(), "truncated") {
			t.Errorf("err = %v", err)
		}
		if err := Verify(dir); err == nil || !strings.Contains(err.Error(), part) {
			t.Errorf("Verify: err = %v", err)
		}
		// Even without the manifest's size check, the part itself says so.
		_, err = openPart(part)
		if err == nil || !strings.Contains(err.Error(), "truncated Parquet file") {
			t.Errorf("openPart: err = %v", err)
		}
	})
	t.Run("foreign", func(t *testing.T) {
		text := []byte(strings.Repeat("this is a text file, not parquet\n", len(data)/33+1))[:len(data)]
		if err := os.WriteFile(part, text, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Open(dir)
		want := part + ": not a Parquet file (no PAR1 magic at the start)"
		if err == nil || err.Error() != want {
			t.Errorf("err = %v\nwant %s", err, want)
		}
		if err := Verify(dir); err == nil || !strings.Contains(err.Error(), "SHA-256") {
			t.Errorf("Verify: err = %v", err)
		}
	})
	t.Run("modified", func(t *testing.T) {
		mod := append([]byte(nil), data...)
		mod[len(mod)/3] ^= 0xff
		if err := os.WriteFile(part, mod, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := Verify(dir); err == nil || !strings.Contains(err.Error(), part+": SHA-256") {
			t.Errorf("Verify: err = %v", err)
		}
	})
}

// TestOpenAsAddedColumns checks that a table written before a column was
// added to its schema reads through OpenAs with that column all null, in
// full and projected scans, and that the records can be written to a table
// of the new schema.
func TestOpenAsAddedColumns(t *testing.T) {
	expected := schemas.Cutouts()
	fields := expected.Fields()
	md := expected.Metadata()
	older := arrow.NewSchema(fields[:len(fields)-2], &md) // before nonfinite_values and vote_counts
	dir := filepath.Join(t.TempDir(), "cutouts")
	rec := randomRecord(t, older, 70, 5)
	defer rec.Release()
	writeTable(t, dir, older, Options{RowsPerPart: 50, RowGroupRows: 16, Manifest: testManifest("old")}, rec)

	tab, err := OpenAs(dir, expected)
	if err != nil {
		t.Fatal(err)
	}
	if schemas.Fingerprint(tab.Schema()) != schemas.Fingerprint(expected) {
		t.Fatalf("schema after OpenAs:\n%s\nwant\n%s", tab.Schema(), expected)
	}
	all := readAll(t, tab, ScanOptions{BatchRows: 7})
	defer all.Release()
	added, votes := all.Column(len(fields)-2), all.Column(len(fields)-1)
	if all.NumRows() != 70 || added.NullN() != 70 || added.DataType().ID() != arrow.INT32 ||
		votes.NullN() != 70 || votes.DataType().ID() != arrow.LIST {
		t.Errorf("%d rows, added columns %s with %d nulls, %s with %d", all.NumRows(), added.DataType(), added.NullN(), votes.DataType(), votes.NullN())
	}
	for i := range len(fields) - 2 {
		if !array.Equal(all.Column(i), rec.Column(i)) {
			t.Errorf("column %q differs", fields[i].Name)
		}
	}
	proj := readAll(t, tab, ScanOptions{Columns: []string{"nonfinite_values", "object_id"}})
	defer proj.Release()
	if proj.Column(0).NullN() != 70 || !array.Equal(proj.Column(1), rec.Column(0)) {
		t.Errorf("projected scan: %d nulls", proj.Column(0).NullN())
	}
	// The records are those of the new schema: a table of it accepts them.
	writeTable(t, filepath.Join(t.TempDir(), "copy"), expected, Options{Manifest: testManifest("new")}, all)

	if _, err := Open(dir); err != nil { // Open alone shows the table as stored
		t.Fatal(err)
	} else if tab, _ := Open(dir); tab.Schema().HasField("nonfinite_values") {
		t.Error("Open added a column")
	}
}

// TestScanGroups checks Groups and reading chosen row groups in any order.
func TestScanGroups(t *testing.T) {
	schema := allTypes()
	dir := filepath.Join(t.TempDir(), "groups")
	rec := randomRecord(t, schema, 1000, 4)
	defer rec.Release()
	writeTable(t, dir, schema, Options{RowsPerPart: 300, RowGroupRows: 64, Manifest: testManifest("fp")}, rec)
	tab := openTable(t, dir)
	groups, err := tab.Groups()
	if err != nil {
		t.Fatal(err)
	}
	// Parts of 300, 300, 300 and 100 rows, in row groups of at most 64.
	if len(groups) != 5+5+5+2 {
		t.Fatalf("%d row groups, want 17: %v", len(groups), groups)
	}
	start := map[GroupRef]int64{} // first row of each group in the table
	var total int64
	for i, g := range groups {
		if i > 0 && g.Part == groups[i-1].Part && g.FirstRow != groups[i-1].FirstRow+groups[i-1].Rows {
			t.Errorf("group %v starts at %d after %v", g.GroupRef, g.FirstRow, groups[i-1])
		}
		start[g.GroupRef] = total
		total += g.Rows
	}
	if total != 1000 || groups[5] != (GroupInfo{GroupRef{1, 0}, 0, 64}) || groups[16] != (GroupInfo{GroupRef{3, 1}, 64, 36}) {
		t.Errorf("total %d, groups[5] %v, groups[16] %v", total, groups[5], groups[16])
	}

	pick := []GroupRef{{3, 1}, {0, 2}, {0, 0}, {2, 4}, {0, 1}}
	got := readAll(t, tab, ScanOptions{Groups: pick, BatchRows: 20})
	defer got.Release()
	var parts []arrow.Record
	for _, g := range pick {
		for _, info := range groups {
			if info.GroupRef == g {
				parts = append(parts, rec.NewSlice(start[g], start[g]+info.Rows))
			}
		}
	}
	want := concat(t, schema, parts)
	defer want.Release()
	assertSameColumns(t, got, want)

	for _, opt := range []ScanOptions{
		{Groups: []GroupRef{{0, 5}}},
		{Groups: []GroupRef{{4, 0}}},
		{Groups: pick, Parts: []int{0}},
	} {
		s := tab.Scan(context.Background(), opt)
		if s.Next() || s.Err() == nil {
			t.Errorf("%+v: no error", opt)
		}
		s.Close()
	}
}
