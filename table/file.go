package table

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// FileOptions configure CreateFile. Zero values take the defaults.
type FileOptions struct {
	RowGroupRows int64             // rows per row group (DefaultRowGroupRows)
	Metadata     map[string]string // key-value metadata of the file
}

// FileWriter writes one Parquet file outside a table folder, encoded as the
// parts of a table are: for layouts other tools define, such as HATS. It is
// not safe for concurrent use.
type FileWriter struct {
	path      string
	schema    *arrow.Schema
	f         *os.File
	pw        *parquet.Writer
	enc       encoder
	groupRows int64
	maxRows   int64
	rows      int64
	err       error // sticky
}

// CreateFile creates the Parquet file path for rows of schema.
func CreateFile(path string, schema *arrow.Schema, opt FileOptions) (*FileWriter, error) {
	pqSchema, cols, encoded, err := fileSchema(schema)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if opt.RowGroupRows <= 0 {
		opt.RowGroupRows = DefaultRowGroupRows
	}
	w := &FileWriter{path: path, schema: schema, f: f, enc: newEncoder(cols), maxRows: opt.RowGroupRows}
	w.pw = parquet.NewWriter(f, writerOptions(schema, pqSchema, cols, encoded, opt.Metadata)...)
	w.enc.startFile()
	return w, nil
}

// Rows returns the number of rows written so far.
func (w *FileWriter) Rows() int64 { return w.rows }

// Write appends the rows of rec, whose columns must match the schema by
// position and type.
func (w *FileWriter) Write(rec arrow.Record) error {
	if w.err != nil {
		return w.err
	}
	if err := sameLayout(w.path, rec.Schema(), w.schema); err != nil {
		return err
	}
	n := rec.NumRows()
	for lo := int64(0); lo < n; {
		hi := min(n, lo+w.maxRows-w.groupRows)
		if err := w.enc.convert(rec, lo, hi, w.rows); err != nil {
			return fmt.Errorf("%s: %w", w.path, err)
		}
		if err := w.enc.write(w.pw); err != nil {
			w.err = fmt.Errorf("%s: %w", w.path, err)
			return w.err
		}
		w.rows += hi - lo
		w.groupRows += hi - lo
		if w.groupRows >= w.maxRows {
			if err := w.pw.Flush(); err != nil {
				w.err = fmt.Errorf("%s: %w", w.path, err)
				return w.err
			}
			w.groupRows = 0
		}
		lo = hi
	}
	return nil
}

// Close writes the footer and closes the file, flushed to disk. After a
// failed Write it only closes the file.
func (w *FileWriter) Close() error {
	if w.f == nil {
		return w.err
	}
	f := w.f
	w.f = nil
	if w.err != nil {
		f.Close()
		return w.err
	}
	w.enc.setLengths(w.pw)
	err := w.pw.Close()
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		w.err = fmt.Errorf("%s: %w", w.path, err)
	}
	return w.err
}

// SummaryPart is a Parquet file whose row groups a summary file lists.
type SummaryPart struct {
	Path string // the file on disk
	Rel  string // its path relative to the summary file, with forward slashes
}

// WriteSummary writes path, a Parquet file without data whose footer lists
// the row groups of every part, each column chunk pointing to its part by
// Rel (file_path), as pyarrow's write_metadata writes a dataset's _metadata
// file. The schema and key-value metadata are those of the first part;
// every part must have the same schema. Row groups keep their statistics
// but not the offsets of their page indexes, which lie in the parts.
func WriteSummary(path string, parts []SummaryPart) error {
	if len(parts) == 0 {
		return fmt.Errorf("write %s: no parts", path)
	}
	var md format.FileMetaData
	for i, p := range parts {
		pm, err := readFooter(p.Path)
		if err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		if i == 0 {
			md = *pm
			md.RowGroups, md.NumRows = nil, 0
		} else if len(pm.Schema) != len(md.Schema) {
			return fmt.Errorf("write %s: %s: schema differs from %s's", path, p.Path, parts[0].Path)
		}
		for _, rg := range pm.RowGroups {
			for c := range rg.Columns {
				cc := &rg.Columns[c]
				cc.FilePath = p.Rel
				// The page indexes stay in the part; a reader of the summary
				// alone must not look for them in it.
				cc.ColumnIndexOffset, cc.ColumnIndexLength, cc.OffsetIndexOffset, cc.OffsetIndexLength = 0, 0, 0, 0
			}
			rg.Ordinal = int16(len(md.RowGroups)) // its position here, as readers check
			md.RowGroups = append(md.RowGroups, rg)
			md.NumRows += rg.NumRows
		}
	}
	footer, err := thrift.Marshal(new(thrift.CompactProtocol), &md)
	if err != nil {
		return fmt.Errorf("write %s: encode footer: %w", path, err)
	}
	var b bytes.Buffer
	b.WriteString("PAR1")
	b.Write(footer)
	b.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(footer))))
	b.WriteString("PAR1")
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// readFooter returns the file metadata of a Parquet file.
func readFooter(path string) (*format.FileMetaData, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	pf, err := parquet.OpenFile(f, info.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pf.Metadata(), nil
}
