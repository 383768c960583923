// Package export writes a table in the formats astronomers' own tools read:
// a FITS binary table, a VOTable 1.4 (BINARY2) and CSV. Every writer streams:
// the table is scanned batch by batch and written row by row, so memory does
// not grow with the row count. Units, UCDs and descriptions come from the
// schema's field metadata, provenance from the table's metadata.
package export

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/internal/vo"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/table"
)

// Format is an export format.
type Format string

// The export formats.
const (
	FITS    Format = "fits"
	VOTable Format = "votable"
	CSV     Format = "csv"
)

// Formats lists the export formats.
func Formats() []Format { return []Format{FITS, VOTable, CSV} }

// ParseFormat returns the format named s.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats() {
		if strings.EqualFold(s, string(f)) {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown export format %q: want fits, votable or csv", s)
}

// Ext returns the file name extension of f.
func (f Format) Ext() string {
	switch f {
	case VOTable:
		return ".vot"
	case CSV:
		return ".csv"
	}
	return ".fits"
}

// Options control Write.
type Options struct {
	// Columns are exported, in this order; nil exports every column.
	Columns []string
	// BatchRows is the number of rows read at a time (default
	// table.DefaultBatchRows).
	BatchRows int
}

// source is what the format writers read: the table, the exported fields
// and their VO descriptions.
type source struct {
	t      *table.Table
	fields []arrow.Field
	vo     []vo.Field
	opt    Options
}

// newSource checks that every exported column has a type the formats hold.
func newSource(t *table.Table, opt Options) (*source, error) {
	s := &source{t: t, opt: opt}
	schema := t.Schema()
	if opt.Columns == nil {
		s.fields = schema.Fields()
	}
	for _, name := range opt.Columns {
		idx := schema.FieldIndices(name)
		if len(idx) != 1 {
			return nil, fmt.Errorf("%s: no column %q", t.Dir(), name)
		}
		s.fields = append(s.fields, schema.Field(idx[0]))
	}
	for _, f := range s.fields {
		if !supported(f.Type) {
			return nil, fmt.Errorf("%s: column %q: type %s cannot be exported (numbers, booleans, strings and fixed-size lists of numbers can); choose columns with --columns",
				t.Dir(), f.Name, f.Type)
		}
		s.vo = append(s.vo, vo.Describe(f))
	}
	if len(s.fields) == 0 {
		return nil, fmt.Errorf("%s: no columns to export", t.Dir())
	}
	return s, nil
}

// supported reports whether every format can hold a column of type t:
// numbers, booleans and strings, and fixed-size lists of numbers (such as
// embeddings).
func supported(t arrow.DataType) bool {
	if l, ok := t.(*arrow.FixedSizeListType); ok {
		return l.Elem().ID() != arrow.STRING && supported(l.Elem())
	}
	switch t.ID() {
	case arrow.STRING, arrow.BOOL, arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8,
		arrow.FLOAT32, arrow.FLOAT64:
		return true
	}
	return false
}

// names returns the exported column names.
func (s *source) names() []string {
	out := make([]string, len(s.fields))
	for i, f := range s.fields {
		out[i] = f.Name
	}
	return out
}

// scan calls fn with every record of the exported columns and checks that
// the table has as many rows as its manifest says.
func (s *source) scan(ctx context.Context, columns []string, fn func(arrow.Record, int64) error) error {
	sc := s.t.Scan(ctx, table.ScanOptions{Columns: columns, BatchRows: s.opt.BatchRows})
	defer sc.Close()
	var row int64
	for sc.Next() {
		rec := sc.Record()
		if err := fn(rec, row); err != nil {
			return err
		}
		row += rec.NumRows()
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if row != s.t.Rows() {
		return fmt.Errorf("%s: read %d rows, the manifest records %d", s.t.Dir(), row, s.t.Rows())
	}
	return nil
}

// tableName returns the name of the table: the schema's table name, else
// the folder's base name.
func (s *source) tableName() string {
	if name, ok := s.t.Schema().Metadata().GetValue(schemas.MetaTable); ok && name != "" {
		return name
	}
	return filepath.Base(s.t.Dir())
}

// Write writes the rows of t to w in format f.
func Write(ctx context.Context, t *table.Table, f Format, w io.Writer, opt Options) error {
	s, err := newSource(t, opt)
	if err != nil {
		return err
	}
	switch f {
	case FITS:
		err = writeFITS(ctx, s, w)
	case VOTable:
		err = writeVOTable(ctx, s, w)
	case CSV:
		err = writeCSV(ctx, s, w)
	default:
		_, err = ParseFormat(string(f))
	}
	return err
}

// WriteFile writes the rows of t to the file path in format f, atomically:
// into a temporary file in the same folder, flushed to disk and renamed.
func WriteFile(ctx context.Context, t *table.Table, f Format, path string, opt Options) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(tmp, 1<<20)
	err = Write(ctx, t, f, bw, opt)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("export %s to %s: %w", t.Dir(), path, err)
	}
	return nil
}

// FolderFormat is the manifest format of a folder written by WriteFolder.
const FolderFormat = "astroformer.export/1"

// WriteFolder writes the rows of t in every format into the folder dir,
// atomically (a staging folder, then rename), as files named base plus the
// format's extension, with a manifest whose header is m (Format, Rows and
// Metadata are filled in).
func WriteFolder(ctx context.Context, t *table.Table, dir, base string, formats []Format, m artifact.Manifest) error {
	staging, err := artifact.Stage(dir)
	if err != nil {
		return err
	}
	for _, f := range formats {
		if err = WriteFile(ctx, t, f, filepath.Join(staging, base+f.Ext()), Options{}); err != nil {
			break
		}
	}
	if err == nil {
		m.Format, m.Rows, m.Metadata = FolderFormat, t.Rows(), t.Manifest().Metadata
		err = artifact.WriteManifest(staging, &m)
	}
	if err == nil {
		err = artifact.Commit(staging, dir)
	}
	if err != nil {
		artifact.Discard(staging)
		return err
	}
	return nil
}
