package table

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/internal/vo"
	"github.com/astroformer/astroformer/schemas"
)

// openFooter opens a Parquet file with parquet-go.
func openFooter(t *testing.T, path string) *parquet.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	info, _ := f.Stat()
	pf, err := parquet.OpenFile(f, info.Size())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return pf
}

// TestDescriptiveFooter checks the keys every part carries for other tools:
// VOParquet, astropy's table_meta_yaml and table::len::<column> (the longest
// value of the part), and that data pages are V1.
func TestDescriptiveFooter(t *testing.T) {
	schema := schemas.Catalog([]string{"Smooth", "Spiral"}, false)
	dir := filepath.Join(t.TempDir(), "cat")
	rec := randomRecord(t, schema, 300, 3)
	defer rec.Release()
	m := writeTable(t, dir, schema, Options{RowsPerPart: 200, RowGroupRows: 64, Manifest: testManifest("fp"),
		Metadata: map[string]string{"astroformer.class_names": `["Smooth","Spiral"]`}}, rec)
	part := filepath.Join(dir, m.Parts[0].File)
	pf := openFooter(t, part)
	if v, _ := pf.Lookup(vo.VOParquetVersionKey); v != "1.0" {
		t.Errorf("%s = %q, want 1.0", vo.VOParquetVersionKey, v)
	}
	content, _ := pf.Lookup(vo.VOParquetContentKey)
	for _, want := range []string{`<FIELD name="ra" datatype="double" unit="deg" ucd="pos.eq.ra;meta.main">`,
		`<FIELD name="object_id" datatype="char" arraysize="*" ucd="meta.id;meta.main">`, `</VOTABLE>`} {
		if !strings.Contains(content, want) {
			t.Errorf("VOParquet content lacks %s:\n%s", want, content)
		}
	}
	if strings.Contains(content, "<DATA") {
		t.Errorf("VOParquet content has data")
	}
	yaml, _ := pf.Lookup(vo.AstropyMetaKey)
	if !strings.Contains(yaml, `- {name: "ra", datatype: float64, unit: "deg"`) || !strings.Contains(yaml, `"astroformer.class_names"`) {
		t.Errorf("table_meta_yaml:\n%s", yaml)
	}
	ids := rec.Column(0).(*array.String)
	longest := 0
	for i := range 200 {
		longest = max(longest, utf8.RuneCountInString(ids.Value(i)))
	}
	if v, _ := pf.Lookup(vo.AstropyLenPrefix + "object_id"); v != strconv.Itoa(longest) {
		t.Errorf("table::len::object_id = %q, want %d", v, longest)
	}
	for _, rg := range pf.Metadata().RowGroups {
		for _, c := range rg.Columns {
			for _, st := range c.MetaData.EncodingStats {
				if st.PageType == format.DataPageV2 {
					t.Fatalf("column %v has V2 data pages", c.MetaData.PathInSchema)
				}
			}
		}
	}
	checkWithAstropy(t, content, yaml)
}

// checkWithAstropy parses the VOParquet VOTable with astropy's VOTable
// parser (verify="exception") and the YAML with astropy's ECSV header
// reader, where Debian's python3-astropy is installed.
func checkWithAstropy(t *testing.T, content, yaml string) {
	if exec.Command("/usr/bin/python3", "-c", "import astropy").Run() != nil {
		t.Log("skipping the astropy checks: /usr/bin/python3 with astropy is not installed (Debian python3-astropy)")
		return
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "c.vot"), []byte(content), 0o644)
	os.WriteFile(filepath.Join(dir, "m.yaml"), []byte(yaml), 0o644)
	script := `
import sys
from astropy.io.votable import parse
from astropy.table import meta
v = parse(sys.argv[1], verify="exception").get_first_table()
f = {x.name: x for x in v.fields}
assert f["ra"].unit.to_string() == "deg" and f["ra"].ucd == "pos.eq.ra;meta.main", f["ra"]
h = meta.get_header_from_yaml(open(sys.argv[2]).read().split("\n"))
cols = {c["name"]: c for c in h["datatype"]}
assert cols["ra"]["unit"] == "deg" and cols["ra"]["meta"]["ucd"] == "pos.eq.ra;meta.main", cols["ra"]
assert h["meta"]["astroformer.class_names"] == '["Smooth","Spiral"]', h["meta"]
# What astropy's read_table_parquet does with the header once it has the data.
from astropy.table import Table
t = Table(names=list(cols), dtype=["U1" if c["datatype"] == "string" else c["datatype"] for c in cols.values()], meta=h["meta"])
for col in t.columns.values():
    for attr in ("description", "format", "unit", "meta"):
        if attr in cols[col.name]:
            setattr(col, attr, cols[col.name][attr])
assert str(t["ra"].unit) == "deg" and t["ra"].meta["ucd"] == "pos.eq.ra;meta.main", t["ra"].info
`
	out, err := exec.Command("/usr/bin/python3", "-c", script, filepath.Join(dir, "c.vot"), filepath.Join(dir, "m.yaml")).CombinedOutput()
	if err != nil {
		t.Fatalf("astropy: %v\n%s", err, out)
	}
}

// TestFileWriterSummary writes two files with FileWriter and a summary
// listing their row groups, and reads them back.
func TestFileWriterSummary(t *testing.T) {
	schema := schemas.Catalog([]string{"a", "b"}, true)
	dir := t.TempDir()
	rec := randomRecord(t, schema, 250, 5)
	defer rec.Release()
	var parts []SummaryPart
	for i, n := range []int64{100, 150} {
		name := "f" + strconv.Itoa(i) + ".parquet"
		w, err := CreateFile(filepath.Join(dir, name), schema, FileOptions{RowGroupRows: 40, Metadata: map[string]string{"k": "v"}})
		if err != nil {
			t.Fatal(err)
		}
		lo := int64(0)
		if i == 1 {
			lo = 100
		}
		sub := rec.NewSlice(lo, lo+n)
		if err := w.Write(sub); err != nil {
			t.Fatal(err)
		}
		sub.Release()
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, SummaryPart{Path: filepath.Join(dir, name), Rel: "sub/" + name})
	}
	if err := WriteSummary(filepath.Join(dir, "_metadata"), parts); err != nil {
		t.Fatal(err)
	}
	md := openFooter(t, filepath.Join(dir, "_metadata")).Metadata()
	if md.NumRows != 250 || len(md.RowGroups) != 3+4 {
		t.Fatalf("summary: %d rows in %d row groups, want 250 in 7", md.NumRows, len(md.RowGroups))
	}
	if p := md.RowGroups[6].Columns[0].FilePath; p != "sub/f1.parquet" {
		t.Errorf("last row group's file_path %q", p)
	}
	if got := readFileRows(t, filepath.Join(dir, "f1.parquet"), schema, 150); got != 150 {
		t.Errorf("f1.parquet: read %d rows, want 150", got)
	}
}

// readFileRows counts the rows of a Parquet file written by FileWriter,
// reading every column through a one-part table.
func readFileRows(t *testing.T, path string, schema *arrow.Schema, rows int64) int64 {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	tbl := &Table{dir: filepath.Dir(path), schema: schema, manifest: &Manifest{
		SchemaFingerprint: schemas.Fingerprint(schema), Rows: rows,
		Parts: []artifact.Part{{File: filepath.Base(path), Rows: rows, Bytes: info.Size()}},
	}}
	sc := tbl.Scan(context.Background(), ScanOptions{})
	defer sc.Close()
	var n int64
	for sc.Next() {
		n += sc.Record().NumRows()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}
