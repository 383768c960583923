package export

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/astroformer/astroformer/catalog"
	"github.com/astroformer/astroformer/internal/fitshdr"
	"github.com/astroformer/astroformer/schemas"
)

// maxFITSColumns is the most columns a FITS binary table has (TFIELDS).
const maxFITSColumns = 999

// fitsColumn is the layout of one column in a FITS binary table row.
type fitsColumn struct {
	form   string // TFORM
	code   byte   // its data type: A, L, B, I, J, K, E or D
	size   int    // bytes of one element (strings: the whole width)
	width  int    // bytes in a row
	tnull  int64  // null value of nullable integers
	hasNul bool
}

// fitsLayout returns the row layout of the exported columns; widths holds
// the longest value, in bytes, of every string column. A fixed-size list of
// n elements is a column of repeat count n.
func fitsLayout(s *source, widths map[string]int) []fitsColumn {
	cols := make([]fitsColumn, len(s.fields))
	for i, f := range s.fields {
		c := &cols[i]
		switch elemType(f.Type).ID() {
		case arrow.STRING:
			c.code, c.size = 'A', max(widths[f.Name], 1)
		case arrow.BOOL:
			c.code, c.size = 'L', 1
		case arrow.UINT8:
			c.code, c.size, c.tnull = 'B', 1, math.MaxUint8
		case arrow.INT8, arrow.INT16:
			c.code, c.size, c.tnull = 'I', 2, math.MinInt16
		case arrow.INT32:
			c.code, c.size, c.tnull = 'J', 4, math.MinInt32
		case arrow.INT64:
			c.code, c.size, c.tnull = 'K', 8, math.MinInt64
		case arrow.FLOAT32:
			c.code, c.size = 'E', 4
		case arrow.FLOAT64:
			c.code, c.size = 'D', 8
		}
		n := repeat(f.Type)
		if c.code == 'A' {
			n = c.size // the repeat count of a string is its width
		}
		c.form = strconv.Itoa(n) + string(c.code)
		c.width = c.size * repeat(f.Type)
		c.hasNul = nullable(f) && c.tnull != 0
	}
	return cols
}

// nullable reports whether a column or, for lists, an element may be null.
func nullable(f arrow.Field) bool {
	if l, ok := f.Type.(*arrow.FixedSizeListType); ok && l.ElemField().Nullable {
		return true
	}
	return f.Nullable
}

// stringStats scans the string columns and returns the longest value of
// each, in bytes, and which of them hold characters outside ASCII.
func stringStats(ctx context.Context, s *source) (widths map[string]int, unicode map[string]bool, err error) {
	var names []string
	for _, f := range s.fields {
		if f.Type.ID() == arrow.STRING {
			names = append(names, f.Name)
		}
	}
	widths, unicode = map[string]int{}, map[string]bool{}
	if len(names) == 0 {
		return widths, unicode, nil
	}
	err = s.scan(ctx, names, func(rec arrow.Record, _ int64) error {
		for _, name := range names {
			a, err := schemas.Column[*array.String](s.tableName(), rec, name)
			if err != nil {
				return err
			}
			for i := range a.Len() {
				v := a.Value(i) // "" for null
				widths[name] = max(widths[name], len(v))
				if !unicode[name] && !isASCII(v) {
					unicode[name] = true
				}
			}
		}
		return nil
	})
	return widths, unicode, err
}

// isASCII reports whether s has only ASCII characters.
func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// writeFITS writes an empty primary HDU and one BINTABLE extension. The row
// count comes from the manifest, so the header is written before the rows;
// string widths come from a first scan of the string columns.
func writeFITS(ctx context.Context, s *source, w io.Writer) error {
	if len(s.fields) > maxFITSColumns {
		return fmt.Errorf("%s: %d columns, but a FITS binary table holds at most %d; choose columns with --columns",
			s.t.Dir(), len(s.fields), maxFITSColumns)
	}
	widths, _, err := stringStats(ctx, s)
	if err != nil {
		return err
	}
	cols := fitsLayout(s, widths)
	rowBytes := 0
	for _, c := range cols {
		rowBytes += c.width
	}
	if _, err := w.Write(fitshdr.Primary().Bytes()); err != nil {
		return err
	}
	if _, err := w.Write(fitsHeader(s, cols, rowBytes).Bytes()); err != nil {
		return err
	}
	row := make([]byte, rowBytes)
	err = s.scan(ctx, s.names(), func(rec arrow.Record, first int64) error {
		for i := range int(rec.NumRows()) {
			if err := s.fitsRow(row, cols, rec, i, first+int64(i)); err != nil {
				return err
			}
			if _, err := w.Write(row); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	_, err = w.Write(make([]byte, fitshdr.Padding(int64(rowBytes)*s.t.Rows())))
	return err
}

// fitsHeader returns the BINTABLE header: the structure keywords, the
// columns (TTYPE, TFORM, TUNIT, TNULL, and STILTS's TUCD and TCOMM for the
// UCD and description), EXTNAME and the provenance.
func fitsHeader(s *source, cols []fitsColumn, rowBytes int) *fitshdr.Header {
	h := &fitshdr.Header{}
	h.String("XTENSION", "BINTABLE", "binary table extension")
	h.Int("BITPIX", 8, "8-bit bytes")
	h.Int("NAXIS", 2, "2-dimensional binary table")
	h.Int("NAXIS1", int64(rowBytes), "width of a row in bytes")
	h.Int("NAXIS2", s.t.Rows(), "number of rows")
	h.Int("PCOUNT", 0, "no heap")
	h.Int("GCOUNT", 1, "one group")
	h.Int("TFIELDS", int64(len(cols)), "number of columns")
	for i, c := range cols {
		n := strconv.Itoa(i + 1)
		d := s.vo[i]
		h.String("TTYPE"+n, d.Name, "")
		h.String("TFORM"+n, c.form, "")
		if d.Unit != "" {
			h.String("TUNIT"+n, d.Unit, "")
		}
		if c.hasNul {
			h.Int("TNULL"+n, c.tnull, "null value")
		}
		if d.UCD != "" {
			h.String("TUCD"+n, d.UCD, "")
		}
		if d.Description != "" {
			h.String("TCOMM"+n, d.Description, "")
		}
	}
	h.String("EXTNAME", s.tableName(), "table name")
	provenance(h, s)
	return h
}

// provenanceKeys are the FITS keywords that carry table metadata.
var provenanceKeys = []struct{ fits, key, comment string }{
	{"JOB", catalog.MetaJob, "astroformer job"},
	{"MODEL", catalog.MetaModelVariant, "model variant"},
	{"CKPT", catalog.MetaCheckpoint, "checkpoint file"},
	{"CKSHA256", catalog.MetaCheckpointSHA256, "SHA-256 of the checkpoint"},
	{"IMGSIZE", catalog.MetaImageSize, "model input height x width"},
	{"TTAVIEWS", catalog.MetaTTAViews, "test-time augmentation views"},
	{"CROPPCT", catalog.MetaCropPct, "evaluation centre crop"},
	{"INPUT", catalog.MetaInput, "cutouts table predicted on"},
}

// provenance adds the producer, the creation date, the class names and the
// metadata of provenanceKeys that the table has.
func provenance(h *fitshdr.Header, s *source) {
	m := s.t.Manifest()
	h.String("ORIGIN", "astroformer", "")
	if m.Producer != "" {
		h.String("CREATOR", "astroformer "+m.Producer, "software that wrote the table")
	}
	created := m.Created
	if v, ok := m.Metadata[catalog.MetaCreated]; ok {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			created = t
		}
	}
	if !created.IsZero() {
		h.String("DATE", created.UTC().Format("2006-01-02T15:04:05"), "UTC time the table was made")
	}
	for _, p := range provenanceKeys {
		if v, ok := m.Metadata[p.key]; ok {
			h.String(p.fits, v, p.comment)
		}
	}
	var classes []string
	if json.Unmarshal([]byte(m.Metadata[catalog.MetaClassNames]), &classes) == nil && len(classes) > 0 && len(classes) <= 999 {
		h.Int("NCLASS", int64(len(classes)), "classes, in model output order")
		for i, name := range classes {
			h.String("CLASS"+strconv.Itoa(i), name, "")
		}
	}
}

// fitsRow encodes row i of rec, row number row of the table, into buf.
func (s *source) fitsRow(buf []byte, cols []fitsColumn, rec arrow.Record, i int, row int64) error {
	off := 0
	var cells []cell
	for c, col := range cols {
		cells = appendCells(cells[:0], rec.Column(c), i)
		for k, v := range cells {
			if col.hasNul && !v.null && v.i == col.tnull {
				return fmt.Errorf("%s: row %d: column %q: value %d is the FITS null value (TNULL) of the column",
					s.t.Dir(), row, s.fields[c].Name, v.i)
			}
			putFITS(buf[off+k*col.size:off+(k+1)*col.size], col, v)
		}
		off += col.width
	}
	return nil
}

// putFITS encodes one element of a column into b.
func putFITS(b []byte, col fitsColumn, v cell) {
	if v.null {
		v.i = col.tnull // floats are NaN, strings empty, logicals 0
	}
	switch col.code {
	case 'A':
		clear(b)
		copy(b, fitshdr.ASCII(v.s)) // FITS strings are printable ASCII
	case 'L':
		b[0] = logical(v)
	case 'B':
		b[0] = byte(v.i)
	case 'I':
		binary.BigEndian.PutUint16(b, uint16(v.i))
	case 'J':
		binary.BigEndian.PutUint32(b, uint32(v.i))
	case 'K':
		binary.BigEndian.PutUint64(b, uint64(v.i))
	case 'E':
		binary.BigEndian.PutUint32(b, float32Bits(v))
	case 'D':
		binary.BigEndian.PutUint64(b, float64Bits(v))
	}
}

// logical returns the FITS logical byte of a boolean cell: 'T', 'F', or 0
// for null.
func logical(v cell) byte {
	switch {
	case v.null:
		return 0
	case v.i != 0:
		return 'T'
	}
	return 'F'
}
