package table

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/parquet-go/parquet-go"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/schemas"
)

// DefaultBatchRows is the number of rows per record of a Scanner when
// ScanOptions.BatchRows is zero.
const DefaultBatchRows = 1024

// Table is a committed table opened for reading.
type Table struct {
	dir      string
	manifest *Manifest
	schema   *arrow.Schema
	absent   int // trailing fields of schema that the parts lack, read as null

	groupsOnce sync.Once // Groups reads the footers once
	groups     []GroupInfo
	groupsErr  error
}

// Open opens the table in dir: it reads the manifest, checks that every
// part file has the size the manifest records, and reads the schema from
// the first part.
func Open(dir string) (*Table, error) {
	m, err := artifact.ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	if m.Format != artifact.TableFormat {
		return nil, fmt.Errorf("%s: format %q is not a table (%s)", dir, m.Format, artifact.TableFormat)
	}
	if len(m.Parts) == 0 {
		return nil, fmt.Errorf("%s: manifest lists no parts", dir)
	}
	for _, p := range m.Parts {
		path := filepath.Join(dir, p.File)
		info, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("open table: %w", err)
		}
		if info.Size() != p.Bytes {
			return nil, fmt.Errorf("%s: %d bytes, but the manifest records %d: truncated or modified", path, info.Size(), p.Bytes)
		}
	}
	pf, err := openPart(filepath.Join(dir, m.Parts[0].File))
	if err != nil {
		return nil, err
	}
	pf.close()
	if fp := schemas.Fingerprint(pf.schema); fp != m.SchemaFingerprint {
		return nil, fmt.Errorf("%s: schema fingerprint %s differs from the manifest's %s", pf.path, fp, m.SchemaFingerprint)
	}
	return &Table{dir: dir, manifest: m, schema: pf.schema}, nil
}

// OpenAs is Open followed by schemas.Validate against expected. Columns that
// expected added after the table was written (schemas.Missing) are appended
// to the table's schema, and read as all null.
func OpenAs(dir string, expected *arrow.Schema) (*Table, error) {
	t, err := Open(dir)
	if err != nil {
		return nil, err
	}
	if err := schemas.Validate(filepath.Join(dir, t.manifest.Parts[0].File), t.schema, expected); err != nil {
		return nil, err
	}
	if missing := schemas.Missing(t.schema, expected); len(missing) > 0 {
		md := t.schema.Metadata()
		t.schema = arrow.NewSchema(append(t.schema.Fields(), missing...), &md)
		t.absent = len(missing)
	}
	return t, nil
}

// Dir returns the table's folder.
func (t *Table) Dir() string { return t.dir }

// Schema returns the table's Arrow schema, field metadata included.
func (t *Table) Schema() *arrow.Schema { return t.schema }

// Manifest returns the table's manifest. Callers must not modify it.
func (t *Table) Manifest() *Manifest { return t.manifest }

// Rows returns the number of rows in the table.
func (t *Table) Rows() int64 { return t.manifest.Rows }

// NumParts returns the number of part files; ScanOptions.Parts indexes them.
func (t *Table) NumParts() int { return len(t.manifest.Parts) }

// ScanOptions select what a Scanner reads.
type ScanOptions struct {
	Columns   []string         // columns to read, in this order; none means all
	BatchRows int              // rows per record (DefaultBatchRows); a record never spans row groups
	Parts     []int            // indexes of the parts to read, in this order; nil reads all
	Groups    []GroupRef       // row groups to read, in this order; when set, Parts must be nil
	Allocator memory.Allocator // nil means memory.DefaultAllocator
}

// GroupRef names row group Group (0-based) of part Part.
type GroupRef struct{ Part, Group int }

// GroupInfo describes one row group of a table.
type GroupInfo struct {
	GroupRef
	FirstRow int64 // of the group within its part
	Rows     int64
}

// Groups lists the row groups of every part, in table order, reading each
// part's footer on the first call. Row groups are the table's finest unit
// of random access: ScanOptions.Groups reads any of them, in any order. The
// caller may modify the slice.
func (t *Table) Groups() ([]GroupInfo, error) {
	t.groupsOnce.Do(func() { t.groups, t.groupsErr = t.readGroups() })
	return slices.Clone(t.groups), t.groupsErr
}

func (t *Table) readGroups() ([]GroupInfo, error) {
	var out []GroupInfo
	for p, part := range t.manifest.Parts {
		pf, err := openPart(filepath.Join(t.dir, part.File))
		if err != nil {
			return nil, err
		}
		first := int64(0)
		for g, rg := range pf.file.RowGroups() {
			out = append(out, GroupInfo{GroupRef: GroupRef{Part: p, Group: g}, FirstRow: first, Rows: rg.NumRows()})
			first += rg.NumRows()
		}
		pf.close()
		if first != part.Rows {
			return nil, fmt.Errorf("%s: %d rows, but the manifest records %d", pf.path, first, part.Rows)
		}
	}
	return out, nil
}

// Scanner streams a table as Arrow records, one row group at a time. Only
// the selected columns are read from disk. It is an array.RecordReader, so
// Arrow-speaking code (cdata.ExportRecordReader, for one) can consume a
// table directly; its last Release closes it.
type Scanner struct {
	refs    atomic.Int64 // references beyond the first; see Retain
	ctx     context.Context
	t       *Table
	opt     ScanOptions
	fields  []int // indexes of the scanned fields in the table schema
	schema  *arrow.Schema
	builder *array.RecordBuilder
	parts   []int

	next    int       // next index into parts, or into opt.Groups
	partIdx int       // index of the open part
	part    *partFile // open part
	group   int       // next row group of part
	cursors []*cursor // of the current row group
	left    int64     // rows left in the current row group

	rec    arrow.Record
	err    error
	closed bool
}

// Scan returns a Scanner over the table. Errors, including unknown columns
// or parts, are reported by Err once Next returns false.
func (t *Table) Scan(ctx context.Context, opt ScanOptions) *Scanner {
	s := &Scanner{ctx: ctx, t: t, opt: opt}
	if s.opt.BatchRows <= 0 {
		s.opt.BatchRows = DefaultBatchRows
	}
	if s.opt.Allocator == nil {
		s.opt.Allocator = memory.DefaultAllocator
	}
	s.err = s.init()
	return s
}

func (s *Scanner) init() error {
	if len(s.opt.Columns) == 0 {
		for i := range s.t.schema.NumFields() {
			s.fields = append(s.fields, i)
		}
	}
	for _, name := range s.opt.Columns {
		idx := s.t.schema.FieldIndices(name)
		if len(idx) != 1 {
			return fmt.Errorf("scan %s: no column %q", s.t.dir, name)
		}
		s.fields = append(s.fields, idx[0])
	}
	fields := make([]arrow.Field, len(s.fields))
	for i, f := range s.fields {
		fields[i] = s.t.schema.Field(f)
	}
	md := s.t.schema.Metadata()
	s.schema = arrow.NewSchema(fields, &md)
	if s.opt.Groups != nil {
		if s.opt.Parts != nil {
			return fmt.Errorf("scan %s: both Parts and Groups set", s.t.dir)
		}
		for _, g := range s.opt.Groups {
			if g.Part < 0 || g.Part >= len(s.t.manifest.Parts) || g.Group < 0 {
				return fmt.Errorf("scan %s: no row group %d of part %d (the table has %d parts)", s.t.dir, g.Group, g.Part, len(s.t.manifest.Parts))
			}
		}
		s.builder = array.NewRecordBuilder(s.opt.Allocator, s.schema)
		return nil
	}
	s.parts = s.opt.Parts
	if s.parts == nil {
		for i := range s.t.manifest.Parts {
			s.parts = append(s.parts, i)
		}
	}
	for _, p := range s.parts {
		if p < 0 || p >= len(s.t.manifest.Parts) {
			return fmt.Errorf("scan %s: no part %d (the table has %d)", s.t.dir, p, len(s.t.manifest.Parts))
		}
	}
	s.builder = array.NewRecordBuilder(s.opt.Allocator, s.schema)
	return nil
}

// Schema returns the schema of the records: the selected columns.
func (s *Scanner) Schema() *arrow.Schema { return s.schema }

// Next reads the next record. It returns false at the end of the table, on
// error and when the context is cancelled; see Err.
func (s *Scanner) Next() bool {
	if s.rec != nil {
		s.rec.Release()
		s.rec = nil
	}
	if s.err != nil || s.closed {
		return false
	}
	for s.left == 0 {
		if err := s.ctx.Err(); err != nil {
			s.err = err
			return false
		}
		ok, err := s.nextRowGroup()
		if err != nil {
			s.err = err
			return false
		}
		if !ok {
			return false
		}
	}
	n := min(int64(s.opt.BatchRows), s.left)
	s.builder.Reserve(int(n))
	for i, c := range s.cursors {
		if err := c.readRows(int(n)); err != nil {
			s.err = fmt.Errorf("%s: row group %d: column %q: %w", s.part.path, s.group-1, s.schema.Field(i).Name, err)
			return false
		}
	}
	s.left -= n
	s.rec = s.builder.NewRecord()
	return true
}

// nextRowGroup positions the scanner on the next non-empty row group,
// opening the next part when needed. It returns false at the end.
func (s *Scanner) nextRowGroup() (bool, error) {
	if s.opt.Groups != nil {
		return s.nextListedGroup()
	}
	for {
		if s.part == nil {
			if s.next == len(s.parts) {
				return false, nil
			}
			p := s.t.manifest.Parts[s.parts[s.next]]
			s.next++
			pf, err := s.openPart(p)
			if err != nil {
				return false, err
			}
			s.part, s.group = pf, 0
		}
		groups := s.part.file.RowGroups()
		if s.group == len(groups) {
			s.closeCursors()
			s.part.close()
			s.part = nil
			continue
		}
		rg := groups[s.group]
		s.group++
		if rg.NumRows() == 0 {
			continue
		}
		if err := s.startGroup(rg); err != nil {
			return false, err
		}
		return true, nil
	}
}

// nextListedGroup positions the scanner on the next of ScanOptions.Groups
// that has rows, opening its part unless it is the open one.
func (s *Scanner) nextListedGroup() (bool, error) {
	for s.next < len(s.opt.Groups) {
		ref := s.opt.Groups[s.next]
		s.next++
		if s.part == nil || s.partIdx != ref.Part {
			s.closeCursors()
			if s.part != nil {
				s.part.close()
				s.part = nil
			}
			pf, err := s.openPart(s.t.manifest.Parts[ref.Part])
			if err != nil {
				return false, err
			}
			s.part, s.partIdx = pf, ref.Part
		}
		groups := s.part.file.RowGroups()
		if ref.Group >= len(groups) {
			return false, fmt.Errorf("scan %s: no row group %d of part %d (it has %d)", s.t.dir, ref.Group, ref.Part, len(groups))
		}
		if groups[ref.Group].NumRows() == 0 {
			continue
		}
		s.group = ref.Group + 1
		if err := s.startGroup(groups[ref.Group]); err != nil {
			return false, err
		}
		return true, nil
	}
	return false, nil
}

// startGroup sets up the cursors of the selected columns over rg.
func (s *Scanner) startGroup(rg parquet.RowGroup) error {
	s.closeCursors()
	chunks := rg.ColumnChunks()
	for i, f := range s.fields {
		if f >= s.t.schema.NumFields()-s.t.absent {
			s.cursors = append(s.cursors, &cursor{nulls: s.builder.Field(i)})
			continue
		}
		col := &s.part.columns[f]
		a, err := newAppender(col, s.builder.Field(i))
		if err != nil {
			return err
		}
		s.cursors = append(s.cursors, &cursor{pages: chunks[s.part.leaves[f]].Pages(), app: a})
	}
	s.left = rg.NumRows()
	return nil
}

// openPart opens the part file p of the table and checks it against the
// manifest: its schema fingerprint and its number of rows.
func (s *Scanner) openPart(p artifact.Part) (*partFile, error) {
	pf, err := openPart(filepath.Join(s.t.dir, p.File))
	if err != nil {
		return nil, err
	}
	if fp := schemas.Fingerprint(pf.schema); fp != s.t.manifest.SchemaFingerprint {
		pf.close()
		return nil, fmt.Errorf("%s: schema fingerprint %s differs from the manifest's %s", pf.path, fp, s.t.manifest.SchemaFingerprint)
	}
	if n := pf.file.NumRows(); n != p.Rows {
		pf.close()
		return nil, fmt.Errorf("%s: %d rows, but the manifest records %d", pf.path, n, p.Rows)
	}
	return pf, nil
}

func (s *Scanner) closeCursors() {
	for _, c := range s.cursors {
		c.close()
	}
	s.cursors = s.cursors[:0]
}

// Record returns the current record. It is valid until the next call to Next
// or Close; call Retain to keep it longer.
func (s *Scanner) Record() arrow.Record { return s.rec }

// RecordBatch is Record, for array.RecordReader.
func (s *Scanner) RecordBatch() arrow.RecordBatch { return s.rec }

// Retain adds a reference to the scanner (array.RecordReader).
func (s *Scanner) Retain() { s.refs.Add(1) }

// Release drops a reference (array.RecordReader); dropping the last one, or
// the first with no Retain, closes the scanner.
func (s *Scanner) Release() {
	if s.refs.Add(-1) < 0 {
		s.Close()
	}
}

var _ array.RecordReader = (*Scanner)(nil)

// Err returns the error that stopped the scan, if any.
func (s *Scanner) Err() error { return s.err }

// Close releases the scanner's resources. Next returns false after Close.
func (s *Scanner) Close() {
	if s.rec != nil {
		s.rec.Release()
		s.rec = nil
	}
	s.closeCursors()
	if s.part != nil {
		s.part.close()
		s.part = nil
	}
	if s.builder != nil {
		s.builder.Release()
		s.builder = nil
	}
	s.closed = true
}

// cursor reads the values of one column chunk, page by page.
type cursor struct {
	pages  parquet.Pages
	page   parquet.Page
	values parquet.ValueReader
	buf    []parquet.Value
	pos    int // next unread value in buf
	app    *appender

	nulls array.Builder // set for a column the part lacks: appends nulls
}

// readRows appends the next n rows of the column to the appender.
func (c *cursor) readRows(n int) error {
	if c.nulls != nil {
		c.nulls.AppendNulls(n)
		return nil
	}
	c.app.rowsIn = 0
	for {
		for ; c.pos < len(c.buf); c.pos++ {
			v := c.buf[c.pos]
			if v.RepetitionLevel() == 0 && c.app.rowsIn == n {
				return nil
			}
			c.app.add(v)
		}
		if err := c.fill(); err == io.EOF {
			if c.app.rowsIn < n {
				return fmt.Errorf("column chunk ended after %d of %d rows", c.app.rowsIn, n)
			}
			return nil
		} else if err != nil {
			return err
		}
	}
}

// fill reads the next values into buf, moving to the next page when the
// current one is exhausted. It returns io.EOF at the end of the chunk.
func (c *cursor) fill() error {
	if c.buf == nil {
		c.buf = make([]parquet.Value, 0, 1024)
	}
	for {
		if c.values != nil {
			n, err := c.values.ReadValues(c.buf[:cap(c.buf)])
			c.buf, c.pos = c.buf[:n], 0
			if n > 0 {
				return nil
			}
			if err != nil && err != io.EOF {
				return err
			}
			parquet.Release(c.page)
			c.page, c.values = nil, nil
		}
		page, err := c.pages.ReadPage()
		if err != nil {
			return err
		}
		c.page, c.values = page, page.Values()
	}
}

func (c *cursor) close() {
	if c.page != nil {
		parquet.Release(c.page)
		c.page = nil
	}
	if c.pages != nil {
		c.pages.Close()
	}
}

// partFile is an open Parquet part and the mapping of its columns.
type partFile struct {
	path    string
	f       *os.File
	file    *parquet.File
	schema  *arrow.Schema
	columns []column // per Arrow field
	leaves  []int    // per Arrow field, the index of its Parquet leaf column
}

func (p *partFile) close() { p.f.Close() }

var parquetMagic = []byte("PAR1")

// openPart opens a part file and checks that its Parquet schema matches the
// Arrow schema it stores.
func openPart(path string) (*partFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open table part: %w", err)
	}
	pf, err := readPart(path, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return pf, nil
}

func readPart(path string, f *os.File) (*partFile, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("open table part: %w", err)
	}
	size := info.Size()
	head := make([]byte, 4)
	if _, err := f.ReadAt(head, 0); err != nil || !bytes.Equal(head, parquetMagic) {
		return nil, fmt.Errorf("%s: not a Parquet file (no PAR1 magic at the start)", path)
	}
	tail := make([]byte, 4)
	if size < 12 {
		return nil, fmt.Errorf("%s: truncated Parquet file (%d bytes)", path, size)
	}
	if _, err := f.ReadAt(tail, size-4); err != nil || !bytes.Equal(tail, parquetMagic) {
		return nil, fmt.Errorf("%s: truncated Parquet file (%d bytes, no PAR1 magic at the end)", path, size)
	}
	file, err := parquet.OpenFile(f, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fmt.Errorf("%s: corrupt Parquet footer: %w", path, err)
	}
	encoded, ok := file.Lookup(arrowSchemaKey)
	if !ok {
		return nil, fmt.Errorf("%s: no Arrow schema (%s key-value metadata): not a table part written by astroformer", path, arrowSchemaKey)
	}
	schema, err := decodeArrowSchema(encoded)
	if err != nil {
		return nil, fmt.Errorf("%s: corrupt Arrow schema in %s key-value metadata: %w", path, arrowSchemaKey, err)
	}
	pf := &partFile{path: path, f: f, file: file, schema: schema}
	if err := pf.mapColumns(); err != nil {
		return nil, err
	}
	return pf, nil
}

// mapColumns finds the Parquet leaf of every Arrow field and checks that it
// has the type and levels the bridge would write.
func (p *partFile) mapColumns() error {
	want, cols, err := parquetSchema(p.schema)
	if err != nil {
		return fmt.Errorf("%s: %w", p.path, err)
	}
	p.columns = cols
	p.leaves = make([]int, len(cols))
	for i := range cols {
		c := &cols[i]
		exp, _ := want.Lookup(c.path...)
		got, ok := p.file.Schema().Lookup(c.path...)
		if !ok {
			return &schemas.SchemaError{File: p.path, Column: c.field.Name,
				Expected: fmt.Sprintf("Parquet column %v", c.path), Found: "missing"}
		}
		if got.Node.Type().Kind() != exp.Node.Type().Kind() ||
			got.MaxDefinitionLevel != exp.MaxDefinitionLevel || got.MaxRepetitionLevel != exp.MaxRepetitionLevel {
			return &schemas.SchemaError{File: p.path, Column: c.field.Name,
				Expected: describeLeaf(exp), Found: describeLeaf(got)}
		}
		p.leaves[i] = got.ColumnIndex
	}
	return nil
}

func describeLeaf(l parquet.LeafColumn) string {
	return fmt.Sprintf("Parquet %s (definition level %d, repetition level %d)",
		l.Node.Type().Kind(), l.MaxDefinitionLevel, l.MaxRepetitionLevel)
}
