package export

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"io"
	"maps"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/astroformer/astroformer/internal/vo"
	"github.com/astroformer/astroformer/schemas"
)

// writeVOTable writes a VOTable 1.4 document: one INFO per metadata key of
// the table, the FIELDs with units, UCDs and descriptions, and the rows in
// BINARY2 serialisation (a null flag per column, then the values, big
// endian), base64-encoded in lines of 76 characters. String columns are
// char, or unicodeChar (UCS-2) when a first scan finds characters outside
// ASCII in them.
func writeVOTable(ctx context.Context, s *source, w io.Writer) error {
	_, unicode, err := stringStats(ctx, s)
	if err != nil {
		return err
	}
	for i, f := range s.vo {
		if unicode[f.Name] {
			s.vo[i].Datatype = "unicodeChar" // char is ASCII only
		}
	}
	m := s.t.Manifest()
	infos := []vo.Info{{Name: schemas.MetaProducer, Value: m.Producer}}
	for _, k := range slices.Sorted(maps.Keys(m.Metadata)) {
		infos = append(infos, vo.Info{Name: k, Value: m.Metadata[k]})
	}
	if err := vo.WriteHead(w, s.tableName(), s.vo, infos); err != nil {
		return err
	}
	if _, err := io.WriteString(w, "<DATA>\n<BINARY2>\n<STREAM encoding=\"base64\">\n"); err != nil {
		return err
	}
	lw := &lineWriter{w: w}
	enc := base64.NewEncoder(base64.StdEncoding, lw)
	var row []byte
	err = s.scan(ctx, s.names(), func(rec arrow.Record, _ int64) error {
		for i := range int(rec.NumRows()) {
			row = s.binary2Row(row[:0], rec, i)
			if _, err := enc.Write(row); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = enc.Close()
	}
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, "\n</STREAM>\n</BINARY2>\n</DATA>\n"+vo.Tail)
	return err
}

// binary2Row appends the BINARY2 encoding of row i of rec to dst. A
// fixed-size list is its elements one after the other.
func (s *source) binary2Row(dst []byte, rec arrow.Record, i int) []byte {
	flags := len(dst)
	dst = append(dst, make([]byte, (len(s.fields)+7)/8)...)
	var cells []cell
	for c, f := range s.vo {
		arr := rec.Column(c)
		if arr.IsNull(i) {
			dst[flags+c/8] |= 0x80 >> (c % 8)
		}
		cells = appendCells(cells[:0], arr, i)
		for _, v := range cells {
			dst = appendBinary2(dst, f.Datatype, v)
		}
	}
	return dst
}

// appendBinary2 appends one value of a VOTable datatype to dst.
func appendBinary2(dst []byte, datatype string, v cell) []byte {
	switch datatype {
	case "char":
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(v.s)))
		return append(dst, v.s...)
	case "unicodeChar":
		return appendUCS2(dst, v.s)
	case "boolean":
		b := logical(v)
		if b == 0 {
			b = '?' // null
		}
		return append(dst, b)
	case "unsignedByte":
		return append(dst, byte(v.i))
	case "short":
		return binary.BigEndian.AppendUint16(dst, uint16(v.i))
	case "int":
		return binary.BigEndian.AppendUint32(dst, uint32(v.i))
	case "long":
		return binary.BigEndian.AppendUint64(dst, uint64(v.i))
	case "float":
		return binary.BigEndian.AppendUint32(dst, float32Bits(v))
	}
	return binary.BigEndian.AppendUint64(dst, float64Bits(v)) // double
}

// lineWriter inserts a newline after every 76 bytes written through it.
type lineWriter struct {
	w   io.Writer
	col int
}

func (l *lineWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := min(len(p), 76-l.col)
		if _, err := l.w.Write(p[:k]); err != nil {
			return n, err
		}
		n += k
		p = p[k:]
		if l.col += k; l.col == 76 {
			if _, err := l.w.Write([]byte{'\n'}); err != nil {
				return n, err
			}
			l.col = 0
		}
	}
	return n, nil
}

// appendUCS2 appends s as a BINARY2 unicodeChar array: the number of
// characters, then each as a UCS-2 code unit; characters outside the Basic
// Multilingual Plane, which UCS-2 cannot hold, become U+FFFD.
func appendUCS2(dst []byte, s string) []byte {
	n := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	count := 0
	for _, r := range s {
		if r > 0xFFFF {
			r = 0xFFFD
		}
		dst = binary.BigEndian.AppendUint16(dst, uint16(r))
		count++
	}
	binary.BigEndian.PutUint32(dst[n:], uint32(count))
	return dst
}
