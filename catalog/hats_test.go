package catalog

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/table"
	"github.com/astroformer/astroformer/table/tabletest"
)

func positionSchema() *arrow.Schema {
	unit := func(u string) arrow.Metadata {
		return arrow.NewMetadata([]string{schemas.MetaUnit, schemas.MetaDescription}, []string{u, "test column"})
	}
	return arrow.NewSchema([]arrow.Field{
		{Name: "object_id", Type: arrow.BinaryTypes.String, Metadata: unit("")},
		{Name: "ra", Type: arrow.PrimitiveTypes.Float64, Nullable: true, Metadata: unit("deg")},
		{Name: "dec", Type: arrow.PrimitiveTypes.Float64, Nullable: true, Metadata: unit("deg")},
		{Name: "label", Type: arrow.PrimitiveTypes.Int16, Nullable: true, Metadata: unit("")},
		{Name: "p", Type: arrow.PrimitiveTypes.Float32, Metadata: unit("")},
	}, nil)
}

type testRow struct {
	id      string
	ra, dec float64
	valid   bool // position usable
}

// writePositions writes a table of n rows at random positions; some rows
// have a null, NaN or out-of-range position.
func writePositions(t *testing.T, dir string, n int, bad func(i int) bool) []testRow {
	t.Helper()
	rng := rand.New(rand.NewPCG(11, 12))
	b := array.NewRecordBuilder(memory.DefaultAllocator, positionSchema())
	defer b.Release()
	var rows []testRow
	for i := range n {
		r := testRow{id: fmt.Sprintf("obj-%04d", i), ra: 360 * rng.Float64(), dec: math.Asin(2*rng.Float64()-1) * 180 / math.Pi, valid: true}
		b.Field(0).(*array.StringBuilder).Append(r.id)
		switch {
		case !bad(i):
			b.Field(1).(*array.Float64Builder).Append(r.ra)
			b.Field(2).(*array.Float64Builder).Append(r.dec)
		case i%3 == 0:
			r.valid = false
			b.Field(1).AppendNull()
			b.Field(2).(*array.Float64Builder).Append(r.dec)
		case i%3 == 1:
			r.valid = false
			b.Field(1).(*array.Float64Builder).Append(math.NaN())
			b.Field(2).(*array.Float64Builder).Append(r.dec)
		default:
			r.valid = false
			b.Field(1).(*array.Float64Builder).Append(r.ra)
			b.Field(2).(*array.Float64Builder).Append(95)
		}
		if i%4 == 0 {
			b.Field(3).AppendNull()
		} else {
			b.Field(3).(*array.Int16Builder).Append(int16(i % 10))
		}
		b.Field(4).(*array.Float32Builder).Append(float32(i) / 8)
		rows = append(rows, r)
	}
	rec := b.NewRecord()
	defer rec.Release()
	tabletest.Write(t, dir, positionSchema(), table.Options{
		RowsPerPart: 64, RowGroupRows: 16,
		Metadata: map[string]string{MetaClassNames: `["x"]`},
		Manifest: artifact.Manifest{Name: filepath.Base(dir), Stage: "t", Kind: "t", Fingerprint: "fp", Producer: "test"},
	}, rec)
	return rows
}

func readParquet(t *testing.T, path string) (arrow.Table, map[string]string) {
	t.Helper()
	pf := tabletest.ParquetFile(t, path)
	kv := map[string]string{}
	for _, e := range pf.MetaData().KeyValueMetadata() {
		kv[e.Key] = *e.Value
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return tbl, kv
}

func column[T arrow.Array](t *testing.T, tbl arrow.Table, name string) []T {
	t.Helper()
	idx := tbl.Schema().FieldIndices(name)
	if len(idx) != 1 {
		t.Fatalf("no column %q in %s", name, tbl.Schema())
	}
	var out []T
	for _, c := range tbl.Column(idx[0]).Data().Chunks() {
		out = append(out, c.(T))
	}
	return out
}

func readProperties(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	props := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: line %q is not key=value", path, line)
		}
		props[k] = v
	}
	return props
}

// writeTestHATS writes a HATS layout at order 2 of 300 rows, some without
// a usable position, and returns its folder, result and rows.
func writeTestHATS(t *testing.T) (string, *HATSResult, []testRow) {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "catalog")
	rows := writePositions(t, src, 300, func(i int) bool { return i%17 == 5 })
	out := filepath.Join(dir, "catalog_hats")
	res, err := WriteHATS(context.Background(), tabletest.Open(t, src), out, HATSOptions{Order: 2, MaxRowsInMemory: 40,
		Manifest: artifact.Manifest{Name: "catalog_hats", Producer: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	return out, res, rows
}

func TestWriteHATS(t *testing.T) {
	const order = 2 // writeTestHATS's
	out, res, rows := writeTestHATS(t)

	// Expected partitions, computed directly at the partition order.
	want := map[int64][]string{}
	var positioned, unpositioned []string
	for _, r := range rows {
		if !r.valid {
			unpositioned = append(unpositioned, r.id)
			continue
		}
		p := RaDec2Pix(order, r.ra, r.dec)
		want[p] = append(want[p], r.id)
		positioned = append(positioned, r.id)
	}
	if res.Rows != int64(len(positioned)) || res.Unpositioned != int64(len(unpositioned)) || res.Partitions != len(want) {
		t.Fatalf("result %+v, want %d rows, %d unpositioned, %d partitions", res, len(positioned), len(unpositioned), len(want))
	}

	m, err := artifact.ReadManifest(out)
	if err != nil {
		t.Fatal(err)
	}
	if m.Format != HATSFormat || m.Rows != res.Rows || m.Metadata[MetaHEALPixOrder] != "2" || m.Metadata[MetaClassNames] != `["x"]` {
		t.Errorf("manifest %+v", m)
	}

	props := readProperties(t, filepath.Join(out, "properties"))
	var maxRows int
	for _, ids := range want {
		maxRows = max(maxRows, len(ids))
	}
	for k, v := range map[string]string{
		"obs_collection": "catalog_hats", "dataproduct_type": "object", "hats_nrows": strconv.Itoa(len(positioned)),
		"hats_col_ra": "ra", "hats_col_dec": "dec", "hats_col_healpix": "_healpix_29", "hats_col_healpix_order": "29",
		"hats_order": "2", "hats_max_rows": strconv.Itoa(maxRows), "hats_version": "v1.0",
	} {
		if props[k] != v {
			t.Errorf("properties %s = %q, want %q", k, props[k], v)
		}
	}
	a, _ := os.ReadFile(filepath.Join(out, "properties"))
	b, _ := os.ReadFile(filepath.Join(out, "hats.properties"))
	if string(a) != string(b) {
		t.Error("properties and hats.properties differ")
	}

	csv, err := os.ReadFile(filepath.Join(out, "partition_info.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
	if lines[0] != "Norder,Npix" {
		t.Fatalf("partition_info.csv header %q", lines[0])
	}
	var listed []int64
	for _, l := range lines[1:] {
		o, p, _ := strings.Cut(l, ",")
		pix, err := strconv.ParseInt(p, 10, 64)
		if o != "2" || err != nil {
			t.Fatalf("partition_info.csv line %q", l)
		}
		listed = append(listed, pix)
	}
	if !slices.IsSorted(listed) || len(listed) != len(want) {
		t.Errorf("partition_info.csv lists %v, want the %d pixels in order", listed, len(want))
	}

	var seen []string
	for _, pix := range listed {
		path := filepath.Join(out, PartitionPath(order, pix))
		if !strings.HasSuffix(path, fmt.Sprintf("dataset/Norder=2/Dir=0/Npix=%d.parquet", pix)) {
			t.Fatalf("partition path %s", path)
		}
		tbl, kv := readParquet(t, path)
		if tbl.Schema().Field(0).Name != HealpixColumn || tbl.NumCols() != 6 {
			t.Fatalf("%s: schema %s", path, tbl.Schema())
		}
		if u, _ := tbl.Schema().Field(2).Metadata.GetValue(schemas.MetaUnit); u != "deg" {
			t.Errorf("%s: ra unit %q, want deg", path, u)
		}
		if kv[MetaClassNames] != `["x"]` {
			t.Errorf("%s: key-value metadata %v lacks the source's", path, kv)
		}
		var ids []string
		var prev int64 = -1
		for _, c := range column[*array.Int64](t, tbl, HealpixColumn) {
			for i := range c.Len() {
				h := c.Value(i)
				if h < prev || h>>(2*(MaxOrder-order)) != pix {
					t.Fatalf("%s: _healpix_29 %d out of order or outside the pixel", path, h)
				}
				prev = h
			}
		}
		ras, decs := column[*array.Float64](t, tbl, "ra"), column[*array.Float64](t, tbl, "dec")
		hs := column[*array.Int64](t, tbl, HealpixColumn)
		for ci, c := range column[*array.String](t, tbl, "object_id") {
			for i := range c.Len() {
				ids = append(ids, c.Value(i))
				if h := RaDec2Pix(MaxOrder, ras[ci].Value(i), decs[ci].Value(i)); h != hs[ci].Value(i) {
					t.Errorf("%s: _healpix_29 %d, ra/dec give %d", path, hs[ci].Value(i), h)
				}
			}
		}
		slices.Sort(ids)
		if !slices.Equal(ids, want[pix]) {
			t.Errorf("%s holds %v, want %v", path, ids, want[pix])
		}
		seen = append(seen, ids...)
		tbl.Release()
	}
	slices.Sort(seen)
	if !slices.Equal(seen, positioned) {
		t.Errorf("partitions hold %d rows, want %d", len(seen), len(positioned))
	}

	tbl, _ := readParquet(t, filepath.Join(out, HATSUnpositioned))
	var ids []string
	for _, c := range column[*array.String](t, tbl, "object_id") {
		for i := range c.Len() {
			ids = append(ids, c.Value(i))
		}
	}
	if !slices.Equal(ids, unpositioned) || tbl.NumCols() != 5 {
		t.Errorf("unpositioned.parquet holds %v (%d columns), want %v", ids, tbl.NumCols(), unpositioned)
	}
	tbl.Release()

	common, _ := readParquet(t, filepath.Join(out, HATSDataset, "_common_metadata"))
	if common.NumRows() != 0 || common.Schema().Field(0).Name != HealpixColumn || common.NumCols() != 6 {
		t.Errorf("_common_metadata: %d rows, schema %s", common.NumRows(), common.Schema())
	}
	common.Release()
}

func TestWriteHATSEdgeCases(t *testing.T) {
	dir := t.TempDir()
	// Every position valid: no unpositioned file.
	writePositions(t, filepath.Join(dir, "good"), 20, func(int) bool { return false })
	res, err := WriteHATS(context.Background(), tabletest.Open(t, filepath.Join(dir, "good")), filepath.Join(dir, "good_hats"), HATSOptions{Order: 0})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 20 || res.Partitions > 12 {
		t.Errorf("order 0: %+v", res)
	}
	if _, err := os.Stat(filepath.Join(dir, "good_hats", HATSUnpositioned)); !os.IsNotExist(err) {
		t.Errorf("unpositioned.parquet written without unpositioned rows: %v", err)
	}
	// No valid position: every row in unpositioned.parquet, no partition.
	writePositions(t, filepath.Join(dir, "bad"), 9, func(int) bool { return true })
	tb := tabletest.Open(t, filepath.Join(dir, "bad"))
	res, err = WriteHATS(context.Background(), tb, filepath.Join(dir, "bad_hats"), HATSOptions{Order: 5})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 0 || res.Unpositioned != 9 || res.Partitions != 0 {
		t.Errorf("no positions: %+v", res)
	}
	tbl, _ := readParquet(t, filepath.Join(dir, "bad_hats", HATSUnpositioned))
	if tbl.NumRows() != 9 {
		t.Errorf("unpositioned.parquet has %d rows, want 9", tbl.NumRows())
	}
	tbl.Release()
	if _, err := WriteHATS(context.Background(), tb, filepath.Join(dir, "x"), HATSOptions{Order: 30}); err == nil {
		t.Error("order 30 accepted")
	}
	if got := PartitionPath(7, 123456); got != filepath.Join("dataset", "Norder=7", "Dir=120000", "Npix=123456.parquet") {
		t.Errorf("PartitionPath(7, 123456) = %s", got)
	}
}
