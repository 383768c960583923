// Package manifest reads the file lists that source stages accept instead of
// a folder walk: a CSV file with a header row, or a Parquet file, naming one
// image file per row with optional identity, position and label columns.
// It also reads vote-count catalogs, the volunteer vote counts per object that a
// source joins to its cutouts on object_id (see Counts).
//
// Recognised columns (any others are ignored; names are matched exactly
// after trimming spaces, and only path is required):
//
//	path        file of the row; a relative path is relative to the manifest's folder
//	object_id   object identifier
//	ra, dec     position in degrees (ICRS); both or neither on each row
//	label       class index, 0..32767
//	label_name  class name
//	band        photometric band of the file, for sources with one file per band
//
// An empty CSV cell or a Parquet null is a missing value. When there is a
// label_name column but no label column, labels are the indices of the names
// in sorted (byte-wise) order, as for class-per-folder layouts. When both
// columns are present they must agree: one name per label and one label per
// name.
package manifest

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Entry is one row of a manifest.
type Entry struct {
	Path      string   // as written, or joined to the manifest's folder by Read
	ObjectID  string   // "" when absent
	RA, Dec   *float64 // degrees; nil when absent
	Label     *int16
	LabelName *string
	Band      string // "" when absent
	Position  string // where the row is in the manifest: "line 3" (CSV) or "row 2" (Parquet)
}

// Column names.
const (
	ColPath      = "path"
	ColObjectID  = "object_id"
	ColRA        = "ra"
	ColDec       = "dec"
	ColLabel     = "label"
	ColLabelName = "label_name"
	ColBand      = "band"
)

// Error is a problem with a manifest's content, located by file, position
// and column.
type Error struct {
	File     string
	Position string // "line 3", "row 2" or "header"
	Column   string // "" when the error is not about one column
	Err      error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Position != "" {
		b.WriteString(": ")
		b.WriteString(e.Position)
	}
	if e.Column != "" {
		b.WriteString(", column ")
		b.WriteString(e.Column)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Read reads the manifest at path, a CSV file (".csv") or a Parquet file
// (".parquet" or ".pq"), and joins every relative entry path to the
// manifest's folder.
func Read(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var entries []Entry
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		entries, err = ReadCSV(f, path)
	case ".parquet", ".pq":
		var st os.FileInfo
		if st, err = f.Stat(); err == nil {
			entries, err = ReadParquet(f, st.Size(), path)
		}
	default:
		return nil, fmt.Errorf("%s: unknown manifest format %q (want .csv or .parquet)", path, filepath.Ext(path))
	}
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	for i := range entries {
		if !filepath.IsAbs(entries[i].Path) {
			entries[i].Path = filepath.Join(dir, entries[i].Path)
		}
	}
	return entries, nil
}

// IsManifest reports whether path names a file Read understands, by its
// extension.
func IsManifest(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv", ".parquet", ".pq":
		return true
	}
	return false
}

// check validates the values of one entry; the readers call it for every row.
func check(e *Entry) (column string, err error) {
	switch {
	case e.Path == "":
		return ColPath, errors.New("empty path")
	case (e.RA == nil) != (e.Dec == nil):
		return ColRA, errors.New("ra and dec must both be set or both be empty")
	}
	if e.RA != nil {
		if ra := *e.RA; !(ra >= 0 && ra <= 360) {
			return ColRA, fmt.Errorf("%v is outside [0, 360]", ra)
		}
		if dec := *e.Dec; !(dec >= -90 && dec <= 90) {
			return ColDec, fmt.Errorf("%v is outside [-90, 90]", dec)
		}
	}
	return "", nil
}

// label checks that v is a valid class index.
func label(v int64) (int16, error) {
	if v < 0 || v > math.MaxInt16 {
		return 0, fmt.Errorf("%d is outside [0, %d]", v, math.MaxInt16)
	}
	return int16(v), nil
}

// fillLabels derives or cross-checks labels and label names, as the package
// documentation describes.
func fillLabels(file string, entries []Entry, hasLabel, hasName bool) error {
	if !hasName {
		return nil
	}
	if !hasLabel {
		var names []string
		for _, e := range entries {
			if e.LabelName != nil {
				names = append(names, *e.LabelName)
			}
		}
		slices.Sort(names)
		names = slices.Compact(names)
		if len(names) > math.MaxInt16+1 {
			return &Error{File: file, Column: ColLabelName, Err: fmt.Errorf("%d distinct names, at most %d classes", len(names), math.MaxInt16+1)}
		}
		for i := range entries {
			if n := entries[i].LabelName; n != nil {
				l, _ := slices.BinarySearch(names, *n)
				v := int16(l)
				entries[i].Label = &v
			}
		}
		return nil
	}
	nameOf := map[int16]string{}
	labelOf := map[string]int16{}
	for _, e := range entries {
		if e.Label == nil || e.LabelName == nil {
			continue
		}
		l, n := *e.Label, *e.LabelName
		if prev, ok := nameOf[l]; ok && prev != n {
			return &Error{File: file, Position: e.Position, Column: ColLabelName,
				Err: fmt.Errorf("label %d is named %q here and %q before", l, n, prev)}
		}
		if prev, ok := labelOf[n]; ok && prev != l {
			return &Error{File: file, Position: e.Position, Column: ColLabel,
				Err: fmt.Errorf("name %q has label %d here and %d before", n, l, prev)}
		}
		nameOf[l], labelOf[n] = n, l
	}
	return nil
}

// ClassNames returns the label names in label order when every label from
// 0 to the largest in entries has a name, and nil otherwise.
func ClassNames(entries []Entry) []string {
	byLabel := map[int16]string{}
	maxLabel := int16(-1)
	for _, e := range entries {
		if e.Label == nil {
			continue
		}
		maxLabel = max(maxLabel, *e.Label)
		if e.LabelName != nil {
			byLabel[*e.Label] = *e.LabelName
		}
	}
	var names []string
	for l := int16(0); l <= maxLabel; l++ {
		name, ok := byLabel[l]
		if !ok {
			return nil
		}
		names = append(names, name)
	}
	return names
}

// RelPath returns path relative to dir, slash-separated, when path is
// inside dir, and path itself (slash-separated) otherwise: the default
// object_id and source of a manifest row.
func RelPath(dir, path string) string {
	if r, err := filepath.Rel(dir, path); err == nil {
		if r = filepath.ToSlash(r); r != ".." && !strings.HasPrefix(r, "../") {
			return r
		}
	}
	return filepath.ToSlash(path)
}
