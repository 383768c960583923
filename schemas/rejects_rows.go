package schemas

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// RejectRow is one row of a rejects table (see Rejects).
type RejectRow struct {
	Stage, Source, Position string
	ObjectID                Null[string]
	Reason                  string
}

// RejectsReader reads the columns of a rejects record, bound by name. A
// column not bound is nil and left zero in the rows Row returns.
type RejectsReader struct {
	Stage, Source, Position, ObjectID, Reason *array.String
}

// NewRejectsReader binds the columns of rec named in columns, or every
// column of the rejects table when columns is empty, in whatever order rec
// holds them. It returns a *ColumnError for a column rec lacks or holds
// with another type.
func NewRejectsReader(rec arrow.Record, columns ...string) (*RejectsReader, error) {
	return newReader[RejectsReader]("rejects", Rejects, rec, columns)
}

func (r *RejectsReader) bindings() []binding {
	return []binding{
		bindTo("stage", &r.Stage), bindTo("source", &r.Source), bindTo("position", &r.Position),
		bindTo("object_id", &r.ObjectID), bindTo("reason", &r.Reason),
	}
}

// Row returns row i of the bound columns.
func (r *RejectsReader) Row(i int) RejectRow {
	return RejectRow{
		Stage:    valueAt[string](r.Stage, i),
		Source:   valueAt[string](r.Source, i),
		Position: valueAt[string](r.Position, i),
		ObjectID: nullAt[string](r.ObjectID, i),
		Reason:   valueAt[string](r.Reason, i),
	}
}

// RejectsWriter appends rows to a record builder of the rejects table, its
// field builders bound by name.
type RejectsWriter struct {
	stage, source, position, objectID, reason *array.StringBuilder
}

// NewRejectsWriter binds the field builders of b, a builder of the Rejects
// schema or of any schema with its columns in another order. It returns a
// *ColumnError for a column b lacks or builds with another type.
func NewRejectsWriter(b *array.RecordBuilder) (*RejectsWriter, error) {
	return newWriter[RejectsWriter]("rejects", Rejects, b)
}

func (w *RejectsWriter) bindings() []binding {
	return []binding{
		bindTo("stage", &w.stage), bindTo("source", &w.source), bindTo("position", &w.position),
		bindTo("object_id", &w.objectID), bindTo("reason", &w.reason),
	}
}

// Append appends r.
func (w *RejectsWriter) Append(r RejectRow) {
	w.stage.Append(r.Stage)
	w.source.Append(r.Source)
	w.position.Append(r.Position)
	appendNull(w.objectID, r.ObjectID)
	w.reason.Append(r.Reason)
}

// Len returns the number of rows appended and not yet built into a record.
func (w *RejectsWriter) Len() int { return w.stage.Len() }
