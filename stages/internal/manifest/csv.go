package manifest

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ReadCSV reads a CSV manifest (comma-separated, RFC 4180 quoting, a header
// row first) from r. name is used in errors only; paths are returned as
// written. Every row must have as many fields as the header.
func ReadCSV(r io.Reader, name string) ([]Entry, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, &Error{File: name, Position: "header", Err: errors.New("empty file, expected a header row")}
	}
	if err != nil {
		return nil, &Error{File: name, Err: err}
	}
	cols, err := csvColumns(header, name)
	if err != nil {
		return nil, err
	}
	if _, ok := cols[ColPath]; !ok {
		return nil, &Error{File: name, Position: "header", Err: fmt.Errorf("no %q column in %q", ColPath, header)}
	}
	_, hasLabel := cols[ColLabel]
	_, hasName := cols[ColLabelName]

	var entries []Entry
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, &Error{File: name, Err: err}
		}
		line, _ := cr.FieldPos(0)
		e, err := csvEntry(rec, cols, "line "+strconv.Itoa(line), name)
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	if err := fillLabels(name, entries, hasLabel, hasName); err != nil {
		return nil, err
	}
	return entries, nil
}

// csvColumns maps the header's column names (trimmed, without a byte order
// mark) to their indexes; a name given twice is an error.
func csvColumns(header []string, name string) (map[string]int, error) {
	cols := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff")
		}
		if _, dup := cols[h]; dup && h != "" {
			return nil, &Error{File: name, Position: "header", Column: h, Err: errors.New("duplicate column")}
		}
		cols[h] = i
	}
	return cols, nil
}

// csvEntry reads one record of a manifest, at position in file name.
func csvEntry(rec []string, cols map[string]int, position, name string) (Entry, error) {
	e := Entry{Position: position}
	fail := func(col string, err error) error {
		return &Error{File: name, Position: e.Position, Column: col, Err: err}
	}
	cell := func(col string) string {
		if i, ok := cols[col]; ok {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	e.Path = cell(ColPath)
	e.ObjectID = cell(ColObjectID)
	e.Band = cell(ColBand)
	for _, c := range []struct {
		col string
		dst **float64
	}{{ColRA, &e.RA}, {ColDec, &e.Dec}} {
		if s := cell(c.col); s != "" {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return e, fail(c.col, fmt.Errorf("%q is not a number", s))
			}
			*c.dst = &v
		}
	}
	if s := cell(ColLabel); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return e, fail(ColLabel, fmt.Errorf("%q is not an integer", s))
		}
		l, err := label(v)
		if err != nil {
			return e, fail(ColLabel, err)
		}
		e.Label = &l
	}
	if n := cell(ColLabelName); n != "" {
		e.LabelName = &n
	}
	if col, err := check(&e); err != nil {
		return e, fail(col, err)
	}
	return e, nil
}
