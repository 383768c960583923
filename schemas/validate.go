package schemas

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// SchemaError describes the first difference between the schema of a file and
// the schema its reader expects. Expected and Found describe a column's type
// and nullability, "missing" or "absent".
type SchemaError struct {
	File     string // file or folder the found schema was read from
	Column   string
	Expected string
	Found    string
}

func (e *SchemaError) Error() string {
	msg := fmt.Sprintf("column %q: expected %s, found %s", e.Column, e.Expected, e.Found)
	if e.File == "" {
		return msg
	}
	return e.File + ": " + msg
}

// Validate checks that found has exactly the columns of expected, by name and
// in any order, with equal types. A column that expected declares non-null
// must not be nullable in found; a nullable one may be stored as non-null.
// A column that expected marks with MetaAdded may be missing from found
// (see Missing). Field and schema metadata are not otherwise compared. The
// first difference, in the column order of expected, is returned as a
// *SchemaError naming file.
func Validate(file string, found, expected *arrow.Schema) error {
	for _, want := range expected.Fields() {
		idx := found.FieldIndices(want.Name)
		if len(idx) == 0 && isAdded(want) {
			continue
		}
		if len(idx) == 0 {
			return &SchemaError{File: file, Column: want.Name, Expected: DescribeField(want), Found: "missing"}
		}
		if len(idx) > 1 {
			return &SchemaError{File: file, Column: want.Name, Expected: DescribeField(want),
				Found: fmt.Sprintf("%d columns with that name", len(idx))}
		}
		got := found.Field(idx[0])
		if !arrow.TypeEqual(got.Type, want.Type) || (got.Nullable && !want.Nullable) {
			return &SchemaError{File: file, Column: want.Name, Expected: DescribeField(want), Found: DescribeField(got)}
		}
	}
	for _, got := range found.Fields() {
		if !expected.HasField(got.Name) {
			return &SchemaError{File: file, Column: got.Name, Expected: "absent", Found: DescribeField(got)}
		}
	}
	return nil
}

// Missing returns the columns of expected, marked with MetaAdded, that found
// lacks: those of a table written before they were added, which readers
// take as all null.
func Missing(found, expected *arrow.Schema) []arrow.Field {
	var out []arrow.Field
	for _, want := range expected.Fields() {
		if isAdded(want) && !found.HasField(want.Name) {
			out = append(out, want)
		}
	}
	return out
}

func isAdded(f arrow.Field) bool {
	return f.Nullable && f.Metadata.FindKey(MetaAdded) >= 0
}

// DescribeField returns the type of f as SchemaError reports it, e.g.
// "int16 (nullable)" or "string".
func DescribeField(f arrow.Field) string {
	name := f.Type.String()
	if f.Type.ID() == arrow.STRING {
		name = "string"
	}
	if f.Nullable {
		return name + " (nullable)"
	}
	return name
}

// Fingerprint returns the hex SHA-256 of the column names, types and
// nullability of s, in order. Metadata does not contribute, so two schemas
// with the same fingerprint hold the same data layout.
func Fingerprint(s *arrow.Schema) string {
	var b strings.Builder
	for _, f := range s.Fields() {
		fmt.Fprintf(&b, "%s\t%s\t%t\n", f.Name, f.Type, f.Nullable)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}
