package manifest

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/parquet-go/parquet-go"
)

// ReadParquet reads a Parquet manifest of size bytes from r. The recognised
// columns must be top-level, not repeated, and typed: strings (BYTE_ARRAY)
// for path, object_id, label_name and band; FLOAT or DOUBLE for ra and dec;
// INT32 or INT64 for label. name is used in errors only.
func ReadParquet(r io.ReaderAt, size int64, name string) ([]Entry, error) {
	f, err := parquet.OpenFile(r, size)
	if err != nil {
		return nil, &Error{File: name, Err: err}
	}
	want := map[string][]parquet.Kind{
		ColPath:      {parquet.ByteArray},
		ColObjectID:  {parquet.ByteArray},
		ColLabelName: {parquet.ByteArray},
		ColBand:      {parquet.ByteArray},
		ColRA:        {parquet.Double, parquet.Float},
		ColDec:       {parquet.Double, parquet.Float},
		ColLabel:     {parquet.Int32, parquet.Int64},
	}
	// byIndex maps a leaf column index to the recognised column name.
	byIndex := map[int]string{}
	for col, kinds := range want {
		leaf, ok := f.Schema().Lookup(col)
		if !ok {
			continue
		}
		if leaf.MaxRepetitionLevel > 0 {
			return nil, &Error{File: name, Position: "schema", Column: col, Err: errors.New("repeated column, expected one value per row")}
		}
		kind := leaf.Node.Type().Kind()
		if !slices.Contains(kinds, kind) {
			return nil, &Error{File: name, Position: "schema", Column: col, Err: fmt.Errorf("type %v, expected %v", kind, kinds)}
		}
		byIndex[leaf.ColumnIndex] = col
	}
	has := map[string]bool{}
	for _, col := range byIndex {
		has[col] = true
	}
	if !has[ColPath] {
		return nil, &Error{File: name, Position: "schema", Err: fmt.Errorf("no %q column in %v", ColPath, f.Schema().Columns())}
	}

	entries := make([]Entry, 0, f.NumRows())
	err = eachRow(f, name, func(values parquet.Row, row int) error {
		e := Entry{Position: "row " + strconv.Itoa(row)}
		if col, err := fillEntry(&e, values, byIndex); err != nil {
			return &Error{File: name, Position: e.Position, Column: col, Err: err}
		}
		if col, err := check(&e); err != nil {
			return &Error{File: name, Position: e.Position, Column: col, Err: err}
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := fillLabels(name, entries, has[ColLabel], has[ColLabelName]); err != nil {
		return nil, err
	}
	return entries, nil
}

// eachRow calls fn with every row of f, in order, and its number (1 for
// the first), until fn returns an error; name is the file's, for errors.
func eachRow(f *parquet.File, name string, fn func(values parquet.Row, row int) error) error {
	buf := make([]parquet.Row, 256)
	row := 0
	for _, rg := range f.RowGroups() {
		rows := rg.Rows()
		for {
			n, err := rows.ReadRows(buf)
			for _, values := range buf[:n] {
				row++
				if err := fn(values, row); err != nil {
					rows.Close()
					return err
				}
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				rows.Close()
				return &Error{File: name, Position: "row " + strconv.Itoa(row+1), Err: err}
			}
		}
		if err := rows.Close(); err != nil {
			return &Error{File: name, Err: err}
		}
	}
	return nil
}

// fillEntry sets the fields of e from the values of one row.
func fillEntry(e *Entry, values parquet.Row, byIndex map[int]string) (column string, err error) {
	for _, v := range values {
		col, ok := byIndex[v.Column()]
		if !ok || v.IsNull() {
			continue
		}
		switch col {
		case ColPath:
			e.Path = string(v.ByteArray())
		case ColObjectID:
			e.ObjectID = string(v.ByteArray())
		case ColBand:
			e.Band = string(v.ByteArray())
		case ColLabelName:
			s := string(v.ByteArray())
			e.LabelName = &s
		case ColRA, ColDec:
			x := v.Double()
			if v.Kind() == parquet.Float {
				x = float64(v.Float())
			}
			if col == ColRA {
				e.RA = &x
			} else {
				e.Dec = &x
			}
		case ColLabel:
			x := v.Int64()
			if v.Kind() == parquet.Int32 {
				x = int64(v.Int32())
			}
			l, err := label(x)
			if err != nil {
				return col, err
			}
			e.Label = &l
		}
	}
	return "", nil
}
