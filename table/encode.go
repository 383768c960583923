package table

// What every Parquet file the project writes has in common: its writer
// options (zstd, DataPage V1, the Arrow schema, the VOParquet and astropy
// descriptions, the caller's key-value metadata) and the conversion of Arrow
// records into column values.

import (
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/astroformer/astroformer/internal/vo"
	"github.com/astroformer/astroformer/schemas"
)

// DataPageVersion is the version of the data pages written: V1, which every
// Parquet reader supports (parquet-go writes V2 by default).
const DataPageVersion = 1

// fileSchema returns the Parquet schema and columns of an Arrow schema and
// its serialised form for the ARROW:schema key.
func fileSchema(schema *arrow.Schema) (*parquet.Schema, []column, string, error) {
	pqSchema, cols, err := parquetSchema(schema)
	if err != nil {
		return nil, nil, "", err
	}
	encoded, err := encodeArrowSchema(schema)
	if err != nil {
		return nil, nil, "", fmt.Errorf("serialise Arrow schema: %w", err)
	}
	return pqSchema, cols, encoded, nil
}

// writerOptions returns the parquet-go options of a file of schema: the
// Parquet schema, zstd, V1 data pages, no statistics for binary columns, and
// the key-value metadata: ARROW:schema, the VOParquet keys, astropy's
// table_meta_yaml (with md as its table meta) and md itself.
func writerOptions(schema *arrow.Schema, pqSchema *parquet.Schema, cols []column, encodedSchema string, md map[string]string) []parquet.WriterOption {
	name, ok := schema.Metadata().GetValue(schemas.MetaTable)
	if !ok {
		name = "table"
	}
	keys := sortedKeys(md)
	wopts := []parquet.WriterOption{
		pqSchema,
		parquet.Compression(&zstd.Codec{Level: zstd.DefaultLevel}),
		parquet.DataPageVersion(DataPageVersion),
		parquet.KeyValueMetadata(arrowSchemaKey, encodedSchema),
		parquet.KeyValueMetadata(vo.VOParquetVersionKey, vo.VOParquetVersion),
		parquet.KeyValueMetadata(vo.VOParquetContentKey, vo.VOParquetContent(schema, name)),
		parquet.KeyValueMetadata(vo.AstropyMetaKey, vo.AstropyYAML(schema, md, keys)),
	}
	for _, k := range keys {
		wopts = append(wopts, parquet.KeyValueMetadata(k, md[k]))
	}
	for _, c := range cols {
		if c.isBlob() {
			wopts = append(wopts, parquet.SkipPageBounds(c.path...), parquet.SkipPageStatistics(c.path...))
		}
	}
	return wopts
}

// encoder converts Arrow records into the values of a Parquet writer's
// columns and tracks, per file, the longest value of every string and binary
// column for astropy's table::len::<column> keys.
type encoder struct {
	columns []column
	values  [][]parquet.Value // per column, reused
	lens    []int             // per column, in characters (strings) or bytes; -1: not tracked
}

func newEncoder(cols []column) encoder {
	return encoder{columns: cols, values: make([][]parquet.Value, len(cols)), lens: make([]int, len(cols))}
}

// startFile forgets the lengths of the previous file.
func (e *encoder) startFile() {
	for i, c := range e.columns {
		e.lens[i] = -1
		if !c.list && (c.leaf.ID() == arrow.STRING || c.leaf.ID() == arrow.BINARY) {
			e.lens[i] = 0
		}
	}
}

// convert converts rows [lo, hi) of rec for the next write; row lo is row
// firstRow of the table or file, for error messages.
func (e *encoder) convert(rec arrow.Record, lo, hi, firstRow int64) error {
	for i := range e.columns {
		arr := rec.Column(i)
		sliced := lo != 0 || hi != int64(arr.Len())
		if sliced {
			arr = array.NewSlice(arr, lo, hi) // shares rec's buffers, which stay alive
		}
		var err error
		e.values[i], err = e.columns[i].appendValues(e.values[i][:0], arr, i, firstRow)
		if sliced {
			arr.Release()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// write writes the values converted last to pw's current row group.
func (e *encoder) write(pw *parquet.Writer) error {
	cws := pw.ColumnWriters()
	for i, values := range e.values {
		e.measure(i, values)
		_, err := cws[i].WriteRowValues(values)
		clear(values) // drop references to Arrow buffers
		if err != nil {
			return fmt.Errorf("column %q: %w", e.columns[i].field.Name, err)
		}
	}
	return nil
}

// measure updates the longest value of column i.
func (e *encoder) measure(i int, values []parquet.Value) {
	if e.lens[i] < 0 {
		return
	}
	str := e.columns[i].leaf.ID() == arrow.STRING
	for _, v := range values {
		if v.IsNull() {
			continue
		}
		n := len(v.ByteArray())
		if str {
			n = utf8.RuneCount(v.ByteArray())
		}
		e.lens[i] = max(e.lens[i], n)
	}
}

// setLengths records the longest value of every string and binary column of
// the file being finished as astropy's table::len::<column> key (at least
// 1: astropy makes a numpy string type of that length).
func (e *encoder) setLengths(pw *parquet.Writer) {
	for i, c := range e.columns {
		if e.lens[i] >= 0 {
			pw.SetKeyValueMetadata(vo.AstropyLenPrefix+c.field.Name, strconv.Itoa(max(e.lens[i], 1)))
		}
	}
}
