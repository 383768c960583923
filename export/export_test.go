package export

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/csv"
	"encoding/xml"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/catalog"
	"github.com/astroformer/astroformer/internal/fitshdr"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/table"
	"github.com/astroformer/astroformer/table/tabletest"
)

// testField is a field with unit, UCD and description.
func testField(name string, typ arrow.DataType, unit, ucd string) arrow.Field {
	return arrow.Field{Name: name, Type: typ, Nullable: true, Metadata: arrow.NewMetadata(
		[]string{schemas.MetaUnit, schemas.MetaUCD, schemas.MetaDescription},
		[]string{unit, ucd, "the " + name + " column"})}
}

// allTypesSchema has a nullable column of every exportable type.
func allTypesSchema() *arrow.Schema {
	md := arrow.NewMetadata([]string{schemas.MetaTable}, []string{"catalog"})
	return arrow.NewSchema([]arrow.Field{
		testField("object_id", arrow.BinaryTypes.String, "", "meta.id;meta.main"),
		testField("ra", arrow.PrimitiveTypes.Float64, "deg", "pos.eq.ra;meta.main"),
		testField("dec", arrow.PrimitiveTypes.Float64, "deg", "pos.eq.dec;meta.main"),
		testField("flag", arrow.FixedWidthTypes.Boolean, "", ""),
		testField("i8", arrow.PrimitiveTypes.Int8, "", ""),
		testField("label", arrow.PrimitiveTypes.Int16, "", "meta.code.class"),
		testField("i32", arrow.PrimitiveTypes.Int32, "pixel", ""),
		testField("i64", arrow.PrimitiveTypes.Int64, "", ""),
		testField("u8", arrow.PrimitiveTypes.Uint8, "", ""),
		testField("p", arrow.PrimitiveTypes.Float32, "", "stat.probability"),
		testField("label_name", arrow.BinaryTypes.String, "", "src.class"),
		testField("emb", arrow.FixedSizeListOfNonNullable(3, arrow.PrimitiveTypes.Float32), "", "src.morph"),
	}, &md)
}

// testRecord returns n rows; row i has nulls in every column when i%4 == 1.
// Strings contain commas, quotes, ampersands and angle brackets.
func testRecord(schema *arrow.Schema, n int) arrow.Record {
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := range n {
		if i%4 == 1 {
			for c := range schema.NumFields() {
				b.Field(c).AppendNull()
			}
			continue
		}
		b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("G-%d, \"q\" <&> '%d'", i, i*7))
		b.Field(1).(*array.Float64Builder).Append(float64(i) * 1.1)
		b.Field(2).(*array.Float64Builder).Append(-89.9 + float64(i)*0.3)
		b.Field(3).(*array.BooleanBuilder).Append(i%3 == 0)
		b.Field(4).(*array.Int8Builder).Append(int8(i - 60))
		b.Field(5).(*array.Int16Builder).Append(int16(i * 100))
		b.Field(6).(*array.Int32Builder).Append(int32(i) * -70000)
		b.Field(7).(*array.Int64Builder).Append(int64(i) << 40)
		b.Field(8).(*array.Uint8Builder).Append(uint8(i))
		p := float32(i) / 7
		if i == 2 {
			p = float32(math.NaN()) // a NaN value, not a null
		}
		b.Field(9).(*array.Float32Builder).Append(p)
		b.Field(10).(*array.StringBuilder).Append(strings.Repeat("x", i%5) + map[bool]string{true: " Sérsic"}[i == 6])
		eb := b.Field(11).(*array.FixedSizeListBuilder)
		eb.Append(true)
		eb.ValueBuilder().(*array.Float32Builder).AppendValues([]float32{float32(i), float32(i) + 0.25, -float32(i) / 3}, nil)
	}
	return b.NewRecord()
}

// longCheckpoint is longer than a FITS card holds, with a quote: it is
// continued on CONTINUE cards.
var longCheckpoint = "/data/runs/" + strings.Repeat("galaxy10-'decals'-astroformer_0/", 4) + "best.safetensors"

// writeTestTable commits a table of n rows in parts of 7 rows.
func writeTestTable(t *testing.T, schema *arrow.Schema, n int) *table.Table {
	t.Helper()
	rec := testRecord(schema, n)
	defer rec.Release()
	return commitTable(t, filepath.Join(t.TempDir(), "catalog"), schema, table.Options{RowsPerPart: 7, RowGroupRows: 3,
		Manifest: artifact.Manifest{Name: "catalog", Producer: "v-test", Params: []byte(`{}`)},
		Metadata: map[string]string{
			catalog.MetaClassNames:       `["Smooth", "Barred Spiral"]`,
			catalog.MetaModelVariant:     "astroformer_nano",
			catalog.MetaCheckpointSHA256: strings.Repeat("ab", 32),
			catalog.MetaCheckpoint:       longCheckpoint,
			catalog.MetaJob:              "demo",
			catalog.MetaCreated:          "2026-12-06T12:00:00Z",
		}}, rec)
}

// commitTable writes the records into a table at dir, commits and opens it.
func commitTable(t *testing.T, dir string, schema *arrow.Schema, opt table.Options, recs ...arrow.Record) *table.Table {
	t.Helper()
	tabletest.Write(t, dir, schema, opt, recs...)
	return tabletest.Open(t, dir)
}

// expected returns the cells of the table as the canonical strings the
// readers below return. lossyNulls: null strings read back as "" and
// (CSV) every null as "".
func expected(t *testing.T, tbl *table.Table, f Format) [][]string {
	t.Helper()
	var rows [][]string
	sc := tbl.Scan(context.Background(), table.ScanOptions{})
	defer sc.Close()
	for sc.Next() {
		rec := sc.Record()
		for i := range int(rec.NumRows()) {
			var row []string
			for c, fd := range tbl.Schema().Fields() {
				v := cell{null: rec.Column(c).IsNull(i)}
				if fd.Type.ID() != arrow.FIXED_SIZE_LIST {
					v = getCell(rec.Column(c), i)
				}
				switch {
				case v.null && (f == CSV || fd.Type.ID() == arrow.STRING && f == FITS):
					row = append(row, "")
				case v.null, f == FITS && isFloat(fd.Type) && math.IsNaN(v.f):
					row = append(row, "<null>") // FITS has NaN for null floats
				case f == FITS && fd.Type.ID() == arrow.STRING:
					row = append(row, fitshdr.ASCII(v.s))
				default:
					row = append(row, csvValue(fd.Type, rec.Column(c), i))
				}
			}
			rows = append(rows, row)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestRoundTrip(t *testing.T) {
	schema := allTypesSchema()
	tbl := writeTestTable(t, schema, 30)
	readers := map[Format]func(*testing.T, []byte, *arrow.Schema) [][]string{
		FITS: readFITS, VOTable: readVOTable, CSV: readCSV,
	}
	for _, f := range Formats() {
		t.Run(string(f), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "catalog"+f.Ext())
			if err := WriteFile(context.Background(), tbl, f, path, Options{BatchRows: 4}); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, want := readers[f](t, data, schema), expected(t, tbl, f)
			if len(got) != len(want) {
				t.Fatalf("%d rows read back, want %d", len(got), len(want))
			}
			for i := range want {
				if strings.Join(got[i], "|") != strings.Join(want[i], "|") {
					t.Errorf("row %d:\n got %q\nwant %q", i, got[i], want[i])
				}
			}
			checkWithTools(t, f, path)
		})
	}
}

// readCSV parses a CSV export.
func readCSV(t *testing.T, data []byte, schema *arrow.Schema) [][]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != strings.Join(fieldNames(schema), ",") {
		t.Fatalf("CSV header %q", recs[0])
	}
	return recs[1:]
}

func fieldNames(schema *arrow.Schema) []string {
	var out []string
	for _, f := range schema.Fields() {
		out = append(out, f.Name)
	}
	return out
}

// fitsCards returns the keyword values of the FITS header starting at off,
// and the offset of the data after it.
func fitsCards(t *testing.T, data []byte, off int) (map[string]string, int) {
	t.Helper()
	cards := map[string]string{}
	for ; off+80 <= len(data); off += 80 {
		c := string(data[off : off+80])
		key := strings.TrimSpace(c[:8])
		if key == "END" {
			off += 80
			return cards, off + (2880-off%2880)%2880
		}
		if c[8:10] == "= " {
			v := strings.TrimSpace(c[10:])
			if strings.HasPrefix(v, "'") {
				v = strings.TrimRight(v[1:strings.LastIndex(v, "'")], " ")
			} else if i := strings.Index(v, " /"); i >= 0 {
				v = strings.TrimSpace(v[:i])
			}
			cards[key] = v
		}
	}
	t.Fatal("FITS header without END")
	return nil, 0
}

// readFITS parses the binary table of a FITS export.
func readFITS(t *testing.T, data []byte, schema *arrow.Schema) [][]string {
	t.Helper()
	if len(data)%2880 != 0 {
		t.Fatalf("FITS size %d is not a multiple of 2880", len(data))
	}
	_, off := fitsCards(t, data, 0)
	h, off := fitsCards(t, data, off)
	width, _ := strconv.Atoi(h["NAXIS1"])
	rows, _ := strconv.Atoi(h["NAXIS2"])
	var out [][]string
	for r := range rows {
		row := data[off+r*width : off+(r+1)*width]
		var cells []string
		for c, f := range schema.Fields() {
			n := strconv.Itoa(c + 1)
			if h["TTYPE"+n] != f.Name {
				t.Fatalf("TTYPE%s = %q, want %q", n, h["TTYPE"+n], f.Name)
			}
			var v string
			v, row = fitsValue(h["TFORM"+n], h["TNULL"+n], f.Type, row)
			cells = append(cells, v)
		}
		out = append(out, cells)
	}
	return out
}

// fitsValue decodes the first value of row, a list for a repeat count
// above 1 ("<null>" when every element is null), and returns the rest.
func fitsValue(form, tnull string, typ arrow.DataType, row []byte) (string, []byte) {
	l, ok := typ.(*arrow.FixedSizeListType)
	if !ok {
		return fitsCell(form, tnull, typ, row)
	}
	code := form[len(form)-1:]
	var elems []string
	nulls := 0
	for range l.Len() {
		var v string
		v, row = fitsCell(code, tnull, l.Elem(), row)
		if v == "<null>" {
			nulls++
		}
		elems = append(elems, v)
	}
	if nulls == len(elems) {
		return "<null>", row
	}
	return "[" + strings.Join(elems, ",") + "]", row
}

// fitsCell decodes the first value of row and returns the rest.
func fitsCell(form, tnull string, typ arrow.DataType, row []byte) (string, []byte) {
	code := form[len(form)-1]
	size := map[byte]int{'L': 1, 'B': 1, 'I': 2, 'J': 4, 'K': 8, 'E': 4, 'D': 8}[code]
	if code == 'A' {
		size, _ = strconv.Atoi(form[:len(form)-1])
	}
	b := row[:size]
	var i int64
	switch code {
	case 'A':
		return string(bytes.TrimRight(b, "\x00")), row[size:]
	case 'L':
		if b[0] == 0 {
			return "<null>", row[size:]
		}
		return strconv.FormatBool(b[0] == 'T'), row[size:]
	case 'E':
		return floatCell(typ, float64(math.Float32frombits(binary.BigEndian.Uint32(b))), tnull), row[size:]
	case 'D':
		return floatCell(typ, math.Float64frombits(binary.BigEndian.Uint64(b)), tnull), row[size:]
	case 'B':
		i = int64(b[0])
	case 'I':
		i = int64(int16(binary.BigEndian.Uint16(b)))
	case 'J':
		i = int64(int32(binary.BigEndian.Uint32(b)))
	case 'K':
		i = int64(binary.BigEndian.Uint64(b))
	}
	if tnull != "" && strconv.FormatInt(i, 10) == tnull {
		return "<null>", row[size:]
	}
	return strconv.FormatInt(i, 10), row[size:]
}

// floatCell formats a float read back; NaN reads as null, as FITS has no
// other null for floats, except in the row whose value is a NaN.
func floatCell(typ arrow.DataType, f float64, _ string) string {
	if math.IsNaN(f) {
		return "<null>"
	}
	return csvField(typ, cell{f: f})
}

// voTable is the part of a VOTable the test reads.
type voTable struct {
	Fields []struct {
		Name      string `xml:"name,attr"`
		Datatype  string `xml:"datatype,attr"`
		Arraysize string `xml:"arraysize,attr"`
		Unit      string `xml:"unit,attr"`
		UCD       string `xml:"ucd,attr"`
	} `xml:"RESOURCE>TABLE>FIELD"`
	Stream string `xml:"RESOURCE>TABLE>DATA>BINARY2>STREAM"`
}

// readVOTable parses a VOTable export.
func readVOTable(t *testing.T, data []byte, schema *arrow.Schema) [][]string {
	t.Helper()
	var v voTable
	if err := xml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(v.Stream), ""))
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Fields) != schema.NumFields() || v.Fields[1].Unit != "deg" || v.Fields[1].UCD != "pos.eq.ra;meta.main" {
		t.Fatalf("FIELDs %+v", v.Fields)
	}
	var out [][]string
	for len(raw) > 0 {
		flags := raw[:(len(v.Fields)+7)/8]
		raw = raw[len(flags):]
		var cells []string
		for c, f := range v.Fields {
			var s string
			s, raw = binary2Value(f.Datatype, f.Arraysize, schema.Field(c).Type, raw)
			if flags[c/8]&(0x80>>(c%8)) != 0 {
				s = "<null>"
			}
			cells = append(cells, s)
		}
		out = append(out, cells)
	}
	return out
}

// binary2Value decodes the first BINARY2 value of raw, a list for a fixed
// arraysize, and returns the rest.
func binary2Value(datatype, arraysize string, typ arrow.DataType, raw []byte) (string, []byte) {
	n, err := strconv.Atoi(arraysize)
	if err != nil {
		return binary2Cell(datatype, typ, raw)
	}
	elems := make([]string, n)
	for k := range elems {
		elems[k], raw = binary2Cell(datatype, elemType(typ), raw)
	}
	return "[" + strings.Join(elems, ",") + "]", raw
}

// binary2Cell decodes the first BINARY2 value of raw and returns the rest.
func binary2Cell(datatype string, typ arrow.DataType, raw []byte) (string, []byte) {
	switch datatype {
	case "char":
		n := int(binary.BigEndian.Uint32(raw))
		return string(raw[4 : 4+n]), raw[4+n:]
	case "unicodeChar":
		n := int(binary.BigEndian.Uint32(raw))
		units := make([]uint16, n)
		for i := range units {
			units[i] = binary.BigEndian.Uint16(raw[4+2*i:])
		}
		return string(utf16.Decode(units)), raw[4+2*n:]
	case "boolean":
		return strconv.FormatBool(raw[0] == 'T'), raw[1:]
	case "unsignedByte":
		return strconv.Itoa(int(raw[0])), raw[1:]
	case "short":
		return strconv.Itoa(int(int16(binary.BigEndian.Uint16(raw)))), raw[2:]
	case "int":
		return strconv.Itoa(int(int32(binary.BigEndian.Uint32(raw)))), raw[4:]
	case "long":
		return strconv.FormatInt(int64(binary.BigEndian.Uint64(raw)), 10), raw[8:]
	case "float":
		return csvField(typ, cell{f: float64(math.Float32frombits(binary.BigEndian.Uint32(raw)))}), raw[4:]
	}
	return csvField(typ, cell{f: math.Float64frombits(binary.BigEndian.Uint64(raw))}), raw[8:]
}

// TestErrors checks that bad input names the table, row and column.
func TestErrors(t *testing.T) {
	md := arrow.NewMetadata([]string{schemas.MetaTable}, []string{"catalog"})
	schema := arrow.NewSchema([]arrow.Field{testField("label", arrow.PrimitiveTypes.Int16, "", "")}, &md)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	b.Field(0).(*array.Int16Builder).AppendValues([]int16{1, 2, math.MinInt16}, nil)
	rec := b.NewRecord()
	b.Release()
	defer rec.Release()
	tbl := commitTable(t, filepath.Join(t.TempDir(), "t"), schema, table.Options{}, rec)
	out := filepath.Join(t.TempDir(), "t.fits")
	err := WriteFile(context.Background(), tbl, FITS, out, Options{})
	if err == nil || !strings.Contains(err.Error(), `row 2: column "label": value -32768 is the FITS null value`) {
		t.Errorf("TNULL collision: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 0 {
		t.Errorf("a failed export left %d files", len(entries))
	}
	if err := Write(context.Background(), tbl, CSV, &bytes.Buffer{}, Options{Columns: []string{"nope"}}); err == nil || !strings.Contains(err.Error(), `no column "nope"`) {
		t.Errorf("unknown column: %v", err)
	}
	ct := commitTable(t, filepath.Join(t.TempDir(), "cutouts"), schemas.Cutouts(), table.Options{})
	if err := Write(context.Background(), ct, VOTable, &bytes.Buffer{}, Options{}); err == nil || !strings.Contains(err.Error(), `column "pixels": type binary cannot be exported`) {
		t.Errorf("binary column: %v", err)
	}
	if err := Write(context.Background(), ct, CSV, &bytes.Buffer{}, Options{Columns: []string{"object_id", "ra"}}); err != nil {
		t.Errorf("chosen columns of an empty table: %v", err)
	}
}
