package export

import (
	"context"
	"encoding/csv"
	"io"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// writeCSV writes a header line with the column names, then one line per
// row (RFC 4180 quoting). Nulls are empty fields; floats are written in the
// shortest form that reads back to the same value, NaN as "NaN"; booleans
// as true and false.
func writeCSV(ctx context.Context, s *source, w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(s.names()); err != nil {
		return err
	}
	record := make([]string, len(s.fields))
	err := s.scan(ctx, s.names(), func(rec arrow.Record, _ int64) error {
		for i := range int(rec.NumRows()) {
			for c, f := range s.fields {
				record[c] = csvValue(f.Type, rec.Column(c), i)
			}
			if err := cw.Write(record); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// csvValue formats row i of arr, a column of type t: a fixed-size list as
// its elements in brackets, separated by commas ("" when null).
func csvValue(t arrow.DataType, arr arrow.Array, i int) string {
	if t.ID() != arrow.FIXED_SIZE_LIST {
		return csvField(t, getCell(arr, i))
	}
	if arr.IsNull(i) {
		return ""
	}
	var b strings.Builder
	b.WriteByte('[')
	for k, v := range appendCells(nil, arr, i) {
		if k > 0 {
			b.WriteByte(',')
		}
		b.WriteString(csvField(elemType(t), v))
	}
	b.WriteByte(']')
	return b.String()
}

// csvField formats a cell of a column of type t.
func csvField(t arrow.DataType, v cell) string {
	switch {
	case v.null:
		return ""
	case t.ID() == arrow.STRING:
		return v.s
	case t.ID() == arrow.BOOL:
		return strconv.FormatBool(v.i != 0)
	case t.ID() == arrow.FLOAT32:
		return strconv.FormatFloat(v.f, 'g', -1, 32)
	case t.ID() == arrow.FLOAT64:
		return strconv.FormatFloat(v.f, 'g', -1, 64)
	}
	return strconv.FormatInt(v.i, 10)
}
