package schemas

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// ColumnError reports a column that a record or record builder lacks, or
// holds with an Arrow type other than the one its table's schema declares.
type ColumnError struct {
	Table    string // "cutouts", "catalog", "metrics" or "rejects"
	Column   string
	Expected string // the Arrow type the schema declares, e.g. "int16"
	Found    string // the Arrow type found, or "" when the column is missing
}

func (e *ColumnError) Error() string {
	if e.Found == "" {
		return fmt.Sprintf("%s: no column %q (expected %s)", e.Table, e.Column, e.Expected)
	}
	return fmt.Sprintf("%s: column %q is %s, expected %s", e.Table, e.Column, e.Found, e.Expected)
}

// Null is a value of a nullable column: V is meaningful only when Valid.
type Null[T any] struct {
	V     T
	Valid bool
}

// Some returns a valid Null holding v.
func Some[T any](v T) Null[T] { return Null[T]{V: v, Valid: true} }

// NullFrom returns a valid Null holding *p, or null when p is nil.
func NullFrom[T any](p *T) Null[T] {
	if p == nil {
		return Null[T]{}
	}
	return Null[T]{V: *p, Valid: true}
}

// Ptr returns a pointer to a copy of n.V, or nil when n is null.
func (n Null[T]) Ptr() *T {
	if !n.Valid {
		return nil
	}
	v := n.V
	return &v
}

// binding binds one column, by name, to a typed field of a reader or writer.
type binding struct {
	name string
	set  func(v any) bool // stores v in the field; false when v has another type
}

// bindTo returns the binding of column name to *dst.
func bindTo[T any](name string, dst *T) binding {
	return binding{name: name, set: func(v any) bool {
		t, ok := v.(T)
		if ok {
			*dst = t
		}
		return ok
	}}
}

// columnSet is what bindings bind to: a record's columns or a record
// builder's field builders.
type columnSet struct {
	table    string
	schema   *arrow.Schema        // of the record or builder
	get      func(i int) any      // column or builder i
	expected func() *arrow.Schema // the table's schema, for error messages; may be nil
}

// recordColumns returns the columnSet of rec's columns.
func recordColumns(table string, rec arrow.Record, expected func() *arrow.Schema) columnSet {
	return columnSet{table: table, schema: rec.Schema(), get: func(i int) any { return rec.Column(i) }, expected: expected}
}

// builderColumns returns the columnSet of b's field builders.
func builderColumns(table string, b *array.RecordBuilder, expected func() *arrow.Schema) columnSet {
	return columnSet{table: table, schema: b.Schema(), get: func(i int) any { return b.Field(i) }, expected: expected}
}

// bind binds the columns of cs named in names, or every binding of bs when
// names is empty. It returns a *ColumnError for the first column that cs
// lacks or holds with another type, and an error for a name bs does not know.
func (cs columnSet) bind(bs []binding, names []string) error {
	if len(names) == 0 {
		for _, b := range bs {
			names = append(names, b.name)
		}
	}
	for _, name := range names {
		b, ok := findBinding(bs, name)
		if !ok {
			return fmt.Errorf("%s: the %s table has no column %q", cs.table, cs.table, name)
		}
		idx := cs.schema.FieldIndices(name)
		if len(idx) != 1 {
			return &ColumnError{Table: cs.table, Column: name, Expected: cs.expectedType(name)}
		}
		if !b.set(cs.get(idx[0])) {
			return &ColumnError{Table: cs.table, Column: name, Expected: cs.expectedType(name),
				Found: cs.schema.Field(idx[0]).Type.String()}
		}
	}
	return nil
}

// binder is a pointer to a reader or writer of a table, a struct whose
// fields bindings binds to the table's columns by name.
type binder[T any] interface {
	*T
	bindings() []binding
}

// newReader returns a new R with the columns of rec named in columns bound,
// or every column it binds when columns is empty, with the errors of bind.
// table and schema name the table and give its schema for error messages.
func newReader[R any, P binder[R]](table string, schema func() *arrow.Schema, rec arrow.Record, columns []string) (*R, error) {
	r := new(R)
	if err := recordColumns(table, rec, schema).bind(P(r).bindings(), columns); err != nil {
		return nil, err
	}
	return r, nil
}

// newWriter returns a new W with every field builder it binds bound to
// those of b, with the errors of bind, as newReader does for records.
func newWriter[W any, P binder[W]](table string, schema func() *arrow.Schema, b *array.RecordBuilder) (*W, error) {
	w := new(W)
	if err := builderColumns(table, b, schema).bind(P(w).bindings(), nil); err != nil {
		return nil, err
	}
	return w, nil
}

func findBinding(bs []binding, name string) (binding, bool) {
	for _, b := range bs {
		if b.name == name {
			return b, true
		}
	}
	return binding{}, false
}

// expectedType returns the type the table's schema declares for column name.
func (cs columnSet) expectedType(name string) string {
	if cs.expected == nil {
		return "unknown type"
	}
	if idx := cs.expected().FieldIndices(name); len(idx) == 1 {
		return cs.expected().Field(idx[0]).Type.String()
	}
	return "unknown type"
}

// Column returns the column of rec named name as an A, such as
// *array.Float64. It returns a *ColumnError naming table when rec has no
// such column or holds it with another type; the expected type is then
// described by A's Go type.
func Column[A arrow.Array](table string, rec arrow.Record, name string) (A, error) {
	return lookup[A](recordColumns(table, rec, nil), name)
}

// Builder returns the field builder of b named name as a B, such as
// *array.Int64Builder, with the errors of Column.
func Builder[B array.Builder](table string, b *array.RecordBuilder, name string) (B, error) {
	return lookup[B](builderColumns(table, b, nil), name)
}

// lookup returns the column or builder of cs named name as a T. Errors
// describe the expected type by T's Go type.
func lookup[T any](cs columnSet, name string) (T, error) {
	var t T
	err := cs.bind([]binding{bindTo(name, &t)}, []string{name})
	if ce, ok := err.(*ColumnError); ok {
		ce.Expected = fmt.Sprintf("%T", t)
	}
	return t, err
}

// column is a typed Arrow array such as *array.Int32, with values of type T.
type column[T, E any] interface {
	*E
	IsValid(i int) bool
	Value(i int) T
}

// nullAt returns row i of col, null when the row is null or col is nil
// (not bound).
func nullAt[T, E any, C column[T, E]](col C, i int) Null[T] {
	if col == nil || !col.IsValid(i) {
		return Null[T]{}
	}
	return Null[T]{V: col.Value(i), Valid: true}
}

// valueAt returns row i of col, the zero value when col is nil (not bound).
func valueAt[T, E any, C column[T, E]](col C, i int) T {
	if col == nil {
		var zero T
		return zero
	}
	return col.Value(i)
}

// appendNull appends v to b, or a null when v is not valid.
func appendNull[T any](b interface {
	Append(v T)
	AppendNull()
}, v Null[T]) {
	if v.Valid {
		b.Append(v.V)
	} else {
		b.AppendNull()
	}
}
