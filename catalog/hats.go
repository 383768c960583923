package catalog

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/table"
)

// HATSFormat is the manifest format of a HATS-style partitioned catalog.
const HATSFormat = "astroformer.hats/1"

// Names inside a HATS folder.
const (
	HATSDataset      = "dataset"              // folder of the partitions
	HATSUnpositioned = "unpositioned.parquet" // rows without a valid position
	HATSPointMap     = "point_map.fits"       // HEALPix counts map
	HealpixColumn    = "_healpix_29"          // spatial index column
)

// Orders of point_map.fits: the map is at the partition order, or at
// MinPointMapOrder when the partitions are coarser. Above MaxPointMapOrder
// (12·4^10 pixels, 100 MB) no map is written.
const (
	MinPointMapOrder = 6
	MaxPointMapOrder = 10
)

// DefaultHATSRowsInMemory is the default of HATSOptions.MaxRowsInMemory.
const DefaultHATSRowsInMemory = 1 << 20

// hatsRowGroupRows bounds the row groups of partition files.
const hatsRowGroupRows = 64 << 10

// HATSOptions control WriteHATS.
type HATSOptions struct {
	// Order is the HEALPix order of every partition, 0..MaxOrder. Order k
	// has 12·4^k pixels of about 58.6°/2^k on a side; only pixels holding
	// rows get a file.
	Order int
	// Name is the catalog name (obs_collection); default the base name of
	// the folder written.
	Name string
	// MaxRowsInMemory bounds the rows collected in memory at once (default
	// DefaultHATSRowsInMemory; they are held twice while being sorted):
	// pixels are written in groups of at most this many rows, one scan of
	// the source per group. A single pixel with more rows is still held
	// whole.
	MaxRowsInMemory int64
	// Manifest is the header of the manifest committed with the layout;
	// Format, Rows and Metadata are filled in.
	Manifest artifact.Manifest
}

// HATSResult describes a written HATS folder.
type HATSResult struct {
	Rows         int64 // rows in the partitions
	Unpositioned int64 // rows in unpositioned.parquet
	Partitions   int
	MaxRows      int64 // rows of the largest partition
	MapOrder     int   // HEALPix order of point_map.fits; -1: none (partition order above MaxPointMapOrder)
}

// WriteHATS writes the rows of src, a table with float64 columns ra and dec
// in degrees, as a HATS catalog at a fixed HEALPix order into dir,
// atomically (staging folder, then rename):
//
//	dir/
//	  properties, hats.properties      catalog properties (key=value)
//	  partition_info.csv               Norder,Npix of every partition
//	  point_map.fits                   rows per HEALPix pixel (nested) at order max(k, MinPointMapOrder), for k <= MaxPointMapOrder
//	  dataset/_common_metadata         the schema, no rows
//	  dataset/_metadata                the schema and the row groups of every partition
//	  dataset/Norder=k/Dir=d/Npix=n.parquet
//	  unpositioned.parquet             rows with null or invalid ra/dec
//	  _manifest.json
//
// with d = 10000·⌊n/10000⌋. Partition files start with the column
// _healpix_29, the nested pixel of the row at order 29, followed by the
// columns of src; rows are sorted by it (ties keep the table's order), and
// Npix = _healpix_29 >> 2(29-k). Rows whose ra or dec is null, NaN or
// infinite, or whose |dec| exceeds 90°, are not lost: they go, with the
// columns of src only, to unpositioned.parquet, outside the dataset that
// HATS readers see. Every file is written by package table, so it carries
// the Arrow schema (field units, UCDs and descriptions), the VOParquet and
// astropy descriptions and the key-value metadata of src's manifest.
func WriteHATS(ctx context.Context, src *table.Table, dir string, opt HATSOptions) (*HATSResult, error) {
	if opt.Order < 0 || opt.Order > MaxOrder {
		return nil, fmt.Errorf("write HATS %s: HEALPix order %d out of range 0..%d", dir, opt.Order, MaxOrder)
	}
	if opt.MaxRowsInMemory <= 0 {
		opt.MaxRowsInMemory = DefaultHATSRowsInMemory
	}
	if opt.Name == "" {
		opt.Name = filepath.Base(filepath.Clean(dir))
	}
	for _, col := range []string{"ra", "dec"} {
		idx := src.Schema().FieldIndices(col)
		if len(idx) != 1 || src.Schema().Field(idx[0]).Type.ID() != arrow.FLOAT64 {
			return nil, fmt.Errorf("write HATS %s: %s has no float64 column %q", dir, src.Dir(), col)
		}
	}
	staging, err := artifact.Stage(dir)
	if err != nil {
		return nil, err
	}
	w := &hatsWriter{src: src, staging: staging, opt: opt, shift: 2 * (MaxOrder - opt.Order)}
	w.mapOrder = max(opt.Order, MinPointMapOrder)
	res, err := w.write(ctx)
	if err == nil {
		err = w.finish(res)
	}
	if err == nil {
		err = artifact.Commit(staging, dir)
	}
	if err != nil {
		artifact.Discard(staging)
		return nil, fmt.Errorf("write HATS %s: %w", dir, err)
	}
	return res, nil
}

type hatsWriter struct {
	src     *table.Table
	staging string
	opt     HATSOptions
	shift   int           // _healpix_29 >> shift is the partition pixel
	schema  *arrow.Schema // of the partition files
	written []int64       // partition pixels written, in increasing order
	// mapOrder is the order of the point map and mapCounts its nonzero
	// pixels.
	mapOrder  int
	mapCounts map[int64]int64
}

// positions returns the ra and dec columns of a catalog record.
func positions(rec arrow.Record) (ra, dec *array.Float64, err error) {
	if ra, err = schemas.Column[*array.Float64]("catalog", rec, "ra"); err != nil {
		return nil, nil, err
	}
	dec, err = schemas.Column[*array.Float64]("catalog", rec, "dec")
	return ra, dec, err
}

// position returns the _healpix_29 pixel of row i of a record's ra and dec
// columns, or false when the row has no valid position.
func position(ra, dec *array.Float64, i int) (int64, bool) {
	if ra.IsNull(i) || dec.IsNull(i) {
		return 0, false
	}
	r, d := ra.Value(i), dec.Value(i)
	if math.IsNaN(r) || math.IsInf(r, 0) || !(d >= -90 && d <= 90) {
		return 0, false
	}
	return RaDec2Pix(MaxOrder, r, d), true
}

// group is a run of consecutive partition pixels written together.
type group struct {
	first, last int64 // pixel range, inclusive
	rows        int64
}

func (w *hatsWriter) write(ctx context.Context) (*HATSResult, error) {
	counts, unpositioned, err := w.count(ctx)
	if err != nil {
		return nil, err
	}
	pixels := slices.Sorted(maps.Keys(counts))
	res := &HATSResult{Unpositioned: unpositioned, Partitions: len(pixels), MapOrder: w.mapOrder}
	if w.mapOrder > MaxPointMapOrder {
		res.MapOrder = -1
	}
	var groups []group
	for _, p := range pixels {
		n := counts[p]
		res.Rows += n
		res.MaxRows = max(res.MaxRows, n)
		if k := len(groups) - 1; k >= 0 && groups[k].rows+n <= w.opt.MaxRowsInMemory {
			groups[k].last, groups[k].rows = p, groups[k].rows+n
			continue
		}
		groups = append(groups, group{first: p, last: p, rows: n})
	}
	w.schema = partitionSchema(w.src.Schema())
	var unpos *table.FileWriter
	if unpositioned > 0 {
		if unpos, err = w.create(filepath.Join(w.staging, HATSUnpositioned), w.src.Schema()); err != nil {
			return nil, err
		}
		defer unpos.Close() // on error; Close is idempotent
		if len(groups) == 0 {
			groups = append(groups, group{first: -1, last: -1}) // one scan for the unpositioned rows
		}
	}
	for i, g := range groups {
		out := unpos
		if i > 0 {
			out = nil // the first scan wrote them
		}
		if err := w.writeGroup(ctx, g, out); err != nil {
			return nil, err
		}
	}
	if unpos != nil {
		if err := unpos.Close(); err != nil {
			return nil, fmt.Errorf("%s: %w", HATSUnpositioned, err)
		}
	}
	return res, nil
}

// count scans ra and dec and counts the rows of every partition pixel, of
// every pixel of the point map and the rows without a position.
func (w *hatsWriter) count(ctx context.Context) (map[int64]int64, int64, error) {
	counts := map[int64]int64{}
	w.mapCounts = map[int64]int64{}
	mapShift := 2 * (MaxOrder - w.mapOrder)
	var unpositioned int64
	sc := w.src.Scan(ctx, table.ScanOptions{Columns: []string{"ra", "dec"}})
	defer sc.Close()
	for sc.Next() {
		ra, dec, err := positions(sc.Record())
		if err != nil {
			return nil, 0, fmt.Errorf("reading %s: %w", w.src.Dir(), err)
		}
		for i := range ra.Len() {
			if h, ok := position(ra, dec, i); ok {
				counts[h>>w.shift]++
				w.mapCounts[h>>mapShift]++
			} else {
				unpositioned++
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, 0, fmt.Errorf("reading %s: %w", w.src.Dir(), err)
	}
	return counts, unpositioned, nil
}

// writeGroup scans the table for the rows of the pixels of g, sorts them by
// _healpix_29 and writes one file per pixel. Rows without a position are
// written to unpos when it is not nil.
func (w *hatsWriter) writeGroup(ctx context.Context, g group, unpos *table.FileWriter) error {
	b := array.NewRecordBuilder(memory.DefaultAllocator, w.schema)
	defer b.Release()
	hb, err := schemas.Builder[*array.Int64Builder]("HATS partition", b, HealpixColumn)
	if err != nil {
		return err
	}
	var keys []int64 // _healpix_29 of the collected rows
	sc := w.src.Scan(ctx, table.ScanOptions{})
	defer sc.Close()
	var in, out []int
	for sc.Next() {
		rec := sc.Record()
		ra, dec, err := positions(rec)
		if err != nil {
			return fmt.Errorf("reading %s: %w", w.src.Dir(), err)
		}
		in, out = in[:0], out[:0]
		for i := range int(rec.NumRows()) {
			h, ok := position(ra, dec, i)
			switch {
			case !ok:
				out = append(out, i)
			case h>>w.shift >= g.first && h>>w.shift <= g.last:
				in = append(in, i)
				keys = append(keys, h)
				hb.Append(h)
			}
		}
		for c := range int(rec.NumCols()) {
			if err := appendRows(b.Field(c+1), rec.Column(c), in); err != nil {
				return fmt.Errorf("column %q: %w", rec.ColumnName(c), err)
			}
		}
		if unpos != nil && len(out) > 0 {
			if err := writeRows(unpos, rec, out); err != nil {
				return fmt.Errorf("%s: %w", HATSUnpositioned, err)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", w.src.Dir(), err)
	}
	rec := b.NewRecord()
	defer rec.Release()
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return cmp.Compare(keys[i], keys[j]) })
	sorted, err := takeRecord(rec, order)
	if err != nil {
		return err
	}
	defer sorted.Release()
	for lo := 0; lo < len(order); {
		pix := keys[order[lo]] >> w.shift
		hi := lo + 1
		for hi < len(order) && keys[order[hi]]>>w.shift == pix {
			hi++
		}
		part := sorted.NewSlice(int64(lo), int64(hi))
		err := w.writePartition(pix, part)
		part.Release()
		if err != nil {
			return err
		}
		lo = hi
	}
	return nil
}

// PartitionPath returns the path of a partition file relative to a HATS
// folder: dataset/Norder=k/Dir=d/Npix=n.parquet.
func PartitionPath(order int, pix int64) string {
	return filepath.Join(HATSDataset, fmt.Sprintf("Norder=%d", order),
		fmt.Sprintf("Dir=%d", pix/10000*10000), fmt.Sprintf("Npix=%d.parquet", pix))
}

func (w *hatsWriter) writePartition(pix int64, rec arrow.Record) error {
	path := filepath.Join(w.staging, PartitionPath(w.opt.Order, pix))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	fw, err := w.create(path, w.schema)
	if err != nil {
		return err
	}
	if err := fw.Write(rec); err != nil {
		fw.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := fw.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	w.written = append(w.written, pix)
	return nil
}

// create opens a Parquet file written by package table, with the source's
// metadata.
func (w *hatsWriter) create(path string, schema *arrow.Schema) (*table.FileWriter, error) {
	return table.CreateFile(path, schema, table.FileOptions{
		RowGroupRows: hatsRowGroupRows,
		Metadata:     w.src.Manifest().Metadata,
	})
}

// finish writes the schema and summary files, partition list, point map,
// properties and manifest.
func (w *hatsWriter) finish(res *HATSResult) error {
	if err := w.writeMetadataFiles(); err != nil {
		return err
	}
	if w.mapOrder <= MaxPointMapOrder {
		if err := writePointMap(filepath.Join(w.staging, HATSPointMap), w.mapOrder, w.mapCounts); err != nil {
			return fmt.Errorf("%s: %w", HATSPointMap, err)
		}
	}
	var csv bytes.Buffer
	csv.WriteString("Norder,Npix\n")
	for _, pix := range w.written {
		fmt.Fprintf(&csv, "%d,%d\n", w.opt.Order, pix)
	}
	if err := os.WriteFile(filepath.Join(w.staging, "partition_info.csv"), csv.Bytes(), 0o644); err != nil {
		return err
	}
	size, err := treeSize(w.staging)
	if err != nil {
		return err
	}
	props := w.properties(res, size)
	for _, name := range []string{"properties", "hats.properties"} {
		if err := os.WriteFile(filepath.Join(w.staging, name), props, 0o644); err != nil {
			return err
		}
	}
	m := w.opt.Manifest
	m.Format = HATSFormat
	m.Rows = res.Rows
	m.Parts = nil
	if m.Created.IsZero() {
		m.Created = time.Now().UTC()
	}
	m.Metadata = maps.Clone(w.src.Manifest().Metadata)
	if m.Metadata == nil {
		m.Metadata = map[string]string{}
	}
	m.Metadata[MetaHEALPixOrder] = strconv.Itoa(w.opt.Order)
	m.Metadata[schemas.MetaHATSPartitions] = strconv.Itoa(res.Partitions)
	m.Metadata[schemas.MetaHATSUnpositioned] = strconv.FormatInt(res.Unpositioned, 10)
	return artifact.WriteManifest(w.staging, &m)
}

// writeMetadataFiles writes dataset/_common_metadata (the schema, no row
// groups) and dataset/_metadata (the schema and the row groups of every
// partition, each pointing to its file), as pyarrow's write_metadata makes
// them.
func (w *hatsWriter) writeMetadataFiles() error {
	dataset := filepath.Join(w.staging, HATSDataset)
	if err := os.MkdirAll(dataset, 0o755); err != nil {
		return err
	}
	if err := w.schemaFile(filepath.Join(dataset, "_common_metadata")); err != nil {
		return err
	}
	if len(w.written) == 0 {
		return w.schemaFile(filepath.Join(dataset, "_metadata"))
	}
	parts := make([]table.SummaryPart, len(w.written))
	for i, pix := range w.written {
		rel := PartitionPath(w.opt.Order, pix)
		parts[i] = table.SummaryPart{
			Path: filepath.Join(w.staging, rel),
			Rel:  filepath.ToSlash(strings.TrimPrefix(rel, HATSDataset+string(filepath.Separator))),
		}
	}
	return table.WriteSummary(filepath.Join(dataset, "_metadata"), parts)
}

// schemaFile writes a Parquet file of the partitions' schema without rows.
func (w *hatsWriter) schemaFile(path string) error {
	fw, err := w.create(path, w.schema)
	if err != nil {
		return err
	}
	return fw.Close()
}

// properties returns the hats.properties content: the keys of the HATS
// format (IVOA HATS note) that apply to an object catalog at one order.
func (w *hatsWriter) properties(res *HATSResult, bytes int64) []byte {
	kv := [][2]string{
		{"obs_collection", w.opt.Name},
		{"dataproduct_type", "object"},
		{"hats_nrows", strconv.FormatInt(res.Rows, 10)},
		{"hats_col_ra", "ra"},
		{"hats_col_dec", "dec"},
		{"hats_col_healpix", HealpixColumn},
		{"hats_col_healpix_order", strconv.Itoa(MaxOrder)},
		{"hats_order", strconv.Itoa(w.opt.Order)},
		{"hats_max_rows", strconv.FormatInt(res.MaxRows, 10)},
		{"hats_npix_suffix", ".parquet"},
		{"hats_estsize", strconv.FormatInt((bytes+1023)/1024, 10)},
		{"hats_builder", "astroformer " + w.opt.Manifest.Producer},
		{"hats_creation_date", time.Now().UTC().Format("2006-01-02T15:04UTC")},
		{"hats_version", "v1.0"},
		{"astroformer_unpositioned_nrows", strconv.FormatInt(res.Unpositioned, 10)},
	}
	var b strings.Builder
	b.WriteString("#HATS catalog written by astroformer\n")
	for _, p := range kv {
		b.WriteString(p[0] + "=" + escapeProperty(p[1]) + "\n")
	}
	return []byte(b.String())
}

// escapeProperty escapes a value of a Java properties file.
func escapeProperty(v string) string {
	var b strings.Builder
	for i, r := range v {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == ' ' && i == 0:
			b.WriteString(`\ `)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func treeSize(root string) (int64, error) {
	var n int64
	err := filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			n += info.Size()
		}
		return err
	})
	return n, err
}

// partitionSchema is src with the _healpix_29 column in front.
func partitionSchema(src *arrow.Schema) *arrow.Schema {
	h := arrow.Field{
		Name: HealpixColumn, Type: arrow.PrimitiveTypes.Int64,
		Metadata: arrow.NewMetadata([]string{schemas.MetaUnit, schemas.MetaDescription},
			[]string{"", "HEALPix nested pixel index of (ra, dec) at order 29: the HATS spatial index"}),
	}
	md := src.Metadata()
	return arrow.NewSchema(append([]arrow.Field{h}, src.Fields()...), &md)
}

// writeRows appends rows of rec to fw.
func writeRows(fw *table.FileWriter, rec arrow.Record, rows []int) error {
	sub, err := takeRecord(rec, rows)
	if err != nil {
		return err
	}
	defer sub.Release()
	return fw.Write(sub)
}

// takeRecord returns a new record with the given rows of rec, in order.
func takeRecord(rec arrow.Record, rows []int) (arrow.Record, error) {
	b := array.NewRecordBuilder(memory.DefaultAllocator, rec.Schema())
	defer b.Release()
	for c := range int(rec.NumCols()) {
		if err := appendRows(b.Field(c), rec.Column(c), rows); err != nil {
			return nil, fmt.Errorf("column %q: %w", rec.ColumnName(c), err)
		}
	}
	return b.NewRecord(), nil
}

// appendRows appends the given rows of arr to b, a builder of the same type.
// It knows the types of the catalog tables.
func appendRows(b array.Builder, arr arrow.Array, rows []int) error {
	b.Reserve(len(rows))
	switch a := arr.(type) {
	case *array.String:
		appendValues(b.(*array.StringBuilder), a, rows)
	case *array.Binary:
		appendValues(b.(*array.BinaryBuilder), a, rows)
	case *array.Float64:
		appendValues(b.(*array.Float64Builder), a, rows)
	case *array.Float32:
		appendValues(b.(*array.Float32Builder), a, rows)
	case *array.Int64:
		appendValues(b.(*array.Int64Builder), a, rows)
	case *array.Int32:
		appendValues(b.(*array.Int32Builder), a, rows)
	case *array.Int16:
		appendValues(b.(*array.Int16Builder), a, rows)
	case *array.Boolean:
		appendValues(b.(*array.BooleanBuilder), a, rows)
	case *array.FixedSizeList:
		return appendListRows(b.(*array.FixedSizeListBuilder), a, rows)
	default:
		return fmt.Errorf("type %s is not supported in a HATS catalog", arr.DataType())
	}
	return nil
}

// appendListRows appends the given rows of a fixed-size list array, such as
// the catalog's embedding column, to b.
func appendListRows(b *array.FixedSizeListBuilder, a *array.FixedSizeList, rows []int) error {
	n := int(a.DataType().(*arrow.FixedSizeListType).Len())
	elems := make([]int, n)
	for _, i := range rows {
		if a.IsNull(i) {
			b.AppendNull() // with n null elements
			continue
		}
		b.Append(true)
		start, _ := a.ValueOffsets(i)
		for j := range elems {
			elems[j] = int(start) + j
		}
		if err := appendRows(b.ValueBuilder(), a.ListValues(), elems); err != nil {
			return err
		}
	}
	return nil
}

// valueArray is an array of values of type T, such as *array.String.
type valueArray[T any] interface {
	IsNull(int) bool
	Value(int) T
}

// valueBuilder is a builder of values of type T, such as
// *array.StringBuilder.
type valueBuilder[T any] interface {
	Append(T)
	AppendNull()
}

// appendValues appends the given rows of a to b, nulls included.
func appendValues[T any](b valueBuilder[T], a valueArray[T], rows []int) {
	for _, i := range rows {
		if a.IsNull(i) {
			b.AppendNull()
		} else {
			b.Append(a.Value(i))
		}
	}
}
