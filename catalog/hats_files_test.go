package catalog

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/table"
	"github.com/astroformer/astroformer/table/tabletest"
)

// TestHATSMetadataFile reads dataset/_metadata with arrow-go's Parquet
// reader: it lists the row groups of every partition, with their paths.
func TestHATSMetadataFile(t *testing.T) {
	out, res, _ := writeTestHATS(t)
	md := tabletest.ParquetFile(t, filepath.Join(out, HATSDataset, "_metadata")).MetaData()
	if md.NumRows != res.Rows {
		t.Errorf("_metadata: %d rows, want %d", md.NumRows, res.Rows)
	}
	seen := map[string]int64{}
	for i := range md.NumRowGroups() {
		rg := md.RowGroup(i)
		cc, err := rg.ColumnChunk(0)
		if err != nil {
			t.Fatal(err)
		}
		seen[cc.FilePath()] += rg.NumRows()
		ra, err := rg.ColumnChunk(2) // _healpix_29, object_id, ra
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := ra.StatsSet(); !ok || err != nil {
			t.Errorf("row group %d: no statistics for ra (%v): hats reads column statistics from _metadata", i, err)
		}
	}
	if len(seen) != res.Partitions {
		t.Errorf("_metadata names %d files, want %d partitions", len(seen), res.Partitions)
	}
	for path, n := range seen {
		data, _ := readParquet(t, filepath.Join(out, HATSDataset, filepath.FromSlash(path)))
		if data.NumRows() != n {
			t.Errorf("%s: %d rows, _metadata says %d", path, data.NumRows(), n)
		}
		if !strings.HasPrefix(path, "Norder=2/Dir=0/Npix=") {
			t.Errorf("file_path %q is not relative to dataset/", path)
		}
	}
}

// TestHATSPointMap checks point_map.fits: its pixel counts sum to
// hats_nrows, fitsverify finds no error, and healpy reads it (where the
// Debian tools are installed).
func TestHATSPointMap(t *testing.T) {
	out, res, _ := writeTestHATS(t)
	path := filepath.Join(out, HATSPointMap)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if res.MapOrder != MinPointMapOrder || len(data)%2880 != 0 {
		t.Fatalf("map order %d, %d bytes", res.MapOrder, len(data))
	}
	npix := NPix(res.MapOrder)
	start := 2 * 2880 // primary header and BINTABLE header, one block each
	// cdshealpix (hats' reader) wants the mandatory keywords first, in order.
	var keys []string
	for c := range 8 {
		keys = append(keys, strings.TrimSpace(string(data[2880+80*c:2880+80*c+8])))
	}
	if got := strings.Join(keys, " "); got != "XTENSION BITPIX NAXIS NAXIS1 NAXIS2 PCOUNT GCOUNT TFIELDS" {
		t.Errorf("point map extension starts with %s", got)
	}
	var sum int64
	for p := range npix {
		sum += int64(binary.BigEndian.Uint64(data[start+8*int(p):]))
	}
	props := readProperties(t, filepath.Join(out, "properties"))
	if strconv.FormatInt(sum, 10) != props["hats_nrows"] {
		t.Errorf("point map sums to %d, hats_nrows is %s", sum, props["hats_nrows"])
	}
	if _, err := exec.LookPath("fitsverify"); err != nil {
		t.Log("skipping fitsverify: not installed (Debian fitsverify)")
	} else if out, _ := exec.Command("fitsverify", path).CombinedOutput(); !strings.Contains(string(out), "0 warning(s) and 0 error(s)") {
		t.Errorf("fitsverify:\n%s", out)
	}
	if exec.Command("/usr/bin/python3", "-c", "import healpy").Run() != nil {
		t.Log("skipping the healpy check: /usr/bin/python3 with healpy is not installed (Debian python3-healpy)")
		return
	}
	script := fmt.Sprintf(`
import sys, healpy as hp, numpy as np
m, h = hp.read_map(sys.argv[1], nest=True, h=True, dtype=None)
h = dict(h)
assert h["ORDERING"] == "NESTED" and h["NSIDE"] == %d, h
assert m.sum() == %d, m.sum()
assert hp.npix2order(len(m)) == %d
`, NSide(res.MapOrder), res.Rows, res.MapOrder)
	if out, err := exec.Command("/usr/bin/python3", "-c", script, path).CombinedOutput(); err != nil {
		t.Errorf("healpy: %v\n%s", err, out)
	}
}

// TestHATSNoPointMapAtFineOrders checks that a partition order above
// MaxPointMapOrder writes no point map rather than a huge one.
func TestHATSNoPointMapAtFineOrders(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "catalog")
	writePositions(t, src, 20, func(int) bool { return false })
	out := filepath.Join(dir, "hats")
	res, err := WriteHATS(context.Background(), tabletest.Open(t, src), out, HATSOptions{Order: MaxPointMapOrder + 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, HATSPointMap)); !os.IsNotExist(err) || res.MapOrder != -1 {
		t.Errorf("point map at order %d: %v, result %+v", MaxPointMapOrder+1, err, res)
	}
}

// TestHATSEmbeddings partitions a catalog with a fixed-size list column (the
// embedding) and reads every row's list back.
func TestHATSEmbeddings(t *testing.T) {
	dir := t.TempDir()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "object_id", Type: arrow.BinaryTypes.String},
		{Name: "ra", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "dec", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		schemas.EmbeddingField(4),
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := range 50 {
		b.Field(0).(*array.StringBuilder).Append(strconv.Itoa(i))
		b.Field(1).(*array.Float64Builder).Append(float64(i) * 7.1)
		b.Field(2).(*array.Float64Builder).Append(float64(i%30)*6 - 89)
		eb := b.Field(3).(*array.FixedSizeListBuilder)
		eb.Append(true)
		eb.ValueBuilder().(*array.Float32Builder).AppendValues([]float32{float32(i), float32(i) + 1, float32(i) + 2, float32(i) + 3}, nil)
	}
	rec := b.NewRecord()
	defer rec.Release()
	tabletest.Write(t, filepath.Join(dir, "catalog"), schema, table.Options{RowsPerPart: 20}, rec)
	tb := tabletest.Open(t, filepath.Join(dir, "catalog"))
	out := filepath.Join(dir, "hats")
	if _, err := WriteHATS(context.Background(), tb, out, HATSOptions{Order: 1}); err != nil {
		t.Fatal(err)
	}
	seen := 0
	files, _ := filepath.Glob(filepath.Join(out, HATSDataset, "Norder=1", "Dir=0", "*.parquet"))
	for _, path := range files {
		data, _ := readParquet(t, path)
		ids, embs := column[*array.String](t, data, "object_id"), column[*array.FixedSizeList](t, data, "embedding")
		for k := range ids {
			vals := embs[k].ListValues().(*array.Float32)
			for i := range ids[k].Len() {
				id, _ := strconv.Atoi(ids[k].Value(i))
				start, _ := embs[k].ValueOffsets(i)
				if got := vals.Value(int(start) + 2); got != float32(id)+2 {
					t.Errorf("%s: object %d: embedding[2] = %g", path, id, got)
				}
				seen++
			}
		}
	}
	if seen != 50 {
		t.Errorf("read %d rows back, want 50", seen)
	}
}
