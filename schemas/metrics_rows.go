package schemas

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// MetricsRow is one row of a metrics table (see Metrics).
type MetricsRow struct {
	Scope        string
	Epoch        Null[int32]
	Step         Null[int64]
	Name         string
	Class        Null[string]
	Value        float64
	Lower, Upper Null[float64]
}

// MetricsReader reads the columns of a metrics record, bound by name.
// A column not bound is nil and left zero in the rows Row returns.
type MetricsReader struct {
	Scope        *array.String
	Epoch        *array.Int32
	Step         *array.Int64
	Name         *array.String
	Class        *array.String
	Value        *array.Float64
	Lower, Upper *array.Float64
}

func (r *MetricsReader) bindings() []binding {
	return []binding{
		bindTo("scope", &r.Scope), bindTo("epoch", &r.Epoch), bindTo("step", &r.Step),
		bindTo("name", &r.Name), bindTo("class", &r.Class), bindTo("value", &r.Value),
		bindTo("lower", &r.Lower), bindTo("upper", &r.Upper),
	}
}

// NewMetricsReader binds the columns of rec named in columns, or every
// column of the metrics table when columns is empty, in whatever order rec
// holds them. It returns a *ColumnError for a column rec lacks or holds
// with another type.
func NewMetricsReader(rec arrow.Record, columns ...string) (*MetricsReader, error) {
	return newReader[MetricsReader]("metrics", Metrics, rec, columns)
}

// Row returns row i of the bound columns.
func (r *MetricsReader) Row(i int) MetricsRow {
	return MetricsRow{
		Scope: valueAt[string](r.Scope, i),
		Epoch: nullAt[int32](r.Epoch, i),
		Step:  nullAt[int64](r.Step, i),
		Name:  valueAt[string](r.Name, i),
		Class: nullAt[string](r.Class, i),
		Value: valueAt[float64](r.Value, i),
		Lower: nullAt[float64](r.Lower, i),
		Upper: nullAt[float64](r.Upper, i),
	}
}

// MetricsWriter appends rows to a record builder of the metrics table, its
// field builders bound by name.
type MetricsWriter struct {
	scope        *array.StringBuilder
	epoch        *array.Int32Builder
	step         *array.Int64Builder
	name         *array.StringBuilder
	class        *array.StringBuilder
	value        *array.Float64Builder
	lower, upper *array.Float64Builder
}

// NewMetricsWriter binds the field builders of b, a builder of the Metrics
// schema or of any schema with its columns in another order. It returns a
// *ColumnError for a column b lacks or builds with another type.
func NewMetricsWriter(b *array.RecordBuilder) (*MetricsWriter, error) {
	return newWriter[MetricsWriter]("metrics", Metrics, b)
}

func (w *MetricsWriter) bindings() []binding {
	return []binding{
		bindTo("scope", &w.scope), bindTo("epoch", &w.epoch), bindTo("step", &w.step),
		bindTo("name", &w.name), bindTo("class", &w.class), bindTo("value", &w.value),
		bindTo("lower", &w.lower), bindTo("upper", &w.upper),
	}
}

// Append appends m.
func (w *MetricsWriter) Append(m MetricsRow) {
	w.scope.Append(m.Scope)
	appendNull(w.epoch, m.Epoch)
	appendNull(w.step, m.Step)
	w.name.Append(m.Name)
	appendNull(w.class, m.Class)
	w.value.Append(m.Value)
	appendNull(w.lower, m.Lower)
	appendNull(w.upper, m.Upper)
}
