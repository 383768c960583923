package schemas

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// CatalogRow is one row of a catalog table (see Catalog). Probs and ProbStds
// hold one value per class, in class order; ProbStds and TTAViews only when
// the catalog was written with test-time augmentation, and Embedding only
// when it has the column of EmbeddingField.
type CatalogRow struct {
	ObjectFields
	PredictedClass int16
	PredictedLabel string
	Confidence     float32
	Probs          []float32
	Entropy        float32
	ProbStds       []float32
	TTAViews       int16
	Embedding      []float32 // written by CatalogWriter, not read by CatalogReader
}

// CatalogReader reads the columns of a catalog record, bound by name. A
// column not bound is nil (an element of Probs or ProbStds included) and
// left zero in the rows Row returns.
type CatalogReader struct {
	ObjectColumns
	PredictedClass *array.Int16
	PredictedLabel *array.String
	Confidence     *array.Float32
	Probs          []*array.Float32 // ProbColumn of every class, in class order
	Entropy        *array.Float32
	ProbStds       []*array.Float32 // ProbStdColumn of every class, in class order
	TTAViews       *array.Int16
}

// NewCatalogReader binds the columns of rec named in columns, or every
// column of Catalog(classNames, false) when columns is empty, in whatever
// order rec holds them. The probability columns are named by ProbColumn
// and ProbStdColumn of classNames. It returns a *ColumnError for a column
// rec lacks or holds with another type.
func NewCatalogReader(rec arrow.Record, classNames []string, columns ...string) (*CatalogReader, error) {
	probs := make([]string, len(classNames))
	for i, name := range classNames {
		probs[i] = ProbColumn(name)
	}
	r := &CatalogReader{Probs: make([]*array.Float32, len(probs)), ProbStds: make([]*array.Float32, len(probs))}
	bs := append(r.ObjectColumns.bindings(),
		bindTo("predicted_class", &r.PredictedClass), bindTo("predicted_label", &r.PredictedLabel),
		bindTo("confidence", &r.Confidence))
	for i, p := range probs {
		bs = append(bs, bindTo(p, &r.Probs[i]))
	}
	bs = append(bs, bindTo("entropy", &r.Entropy))
	all := len(bs)
	for i, p := range probs {
		bs = append(bs, bindTo(p+"_std", &r.ProbStds[i]))
	}
	bs = append(bs, bindTo("tta_views", &r.TTAViews))
	if len(columns) == 0 {
		for _, b := range bs[:all] {
			columns = append(columns, b.name)
		}
	}
	expected := func() *arrow.Schema {
		if _, err := ProbColumns(classNames); err != nil {
			return Catalog([]string{"class"}, true) // for the types of the other columns
		}
		return Catalog(classNames, true)
	}
	if err := recordColumns("catalog", rec, expected).bind(bs, columns); err != nil {
		return nil, err
	}
	return r, nil
}

// Row returns row i of the bound columns.
func (r *CatalogReader) Row(i int) CatalogRow {
	return CatalogRow{
		ObjectFields:   r.ObjectColumns.row(i),
		PredictedClass: valueAt[int16](r.PredictedClass, i),
		PredictedLabel: valueAt[string](r.PredictedLabel, i),
		Confidence:     valueAt[float32](r.Confidence, i),
		Probs:          float32sAt(r.Probs, i),
		Entropy:        valueAt[float32](r.Entropy, i),
		ProbStds:       float32sAt(r.ProbStds, i),
		TTAViews:       valueAt[int16](r.TTAViews, i),
	}
}

// float32sAt returns row i of every column of cols, or nil when none is bound.
func float32sAt(cols []*array.Float32, i int) []float32 {
	var out []float32
	for j, col := range cols {
		if col != nil {
			if out == nil {
				out = make([]float32, len(cols))
			}
			out[j] = col.Value(i)
		}
	}
	return out
}

// CatalogWriter appends rows to a record builder of a catalog table, its
// field builders bound by name.
type CatalogWriter struct {
	objectBuilders
	predictedClass      *array.Int16Builder
	predictedLabel      *array.StringBuilder
	confidence, entropy *array.Float32Builder
	probs, probStds     []*array.Float32Builder
	ttaViews            *array.Int16Builder // nil without test-time augmentation
	embedding           *array.FixedSizeListBuilder
	embeddingValues     *array.Float32Builder // nil without embeddings
}

// NewCatalogWriter binds the field builders of b, a builder of
// Catalog(classNames, tta) or of any schema with its columns in another
// order, where tta is whether b has a tta_views column; it also binds the
// column EmbeddingField describes when b has one. It returns a *ColumnError
// for a column b lacks or builds with another type.
func NewCatalogWriter(b *array.RecordBuilder, classNames []string) (*CatalogWriter, error) {
	probs, err := ProbColumns(classNames)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	tta := b.Schema().HasField("tta_views")
	w := &CatalogWriter{probs: make([]*array.Float32Builder, len(probs))}
	bs := append(w.objectBuilders.bindings(),
		bindTo("predicted_class", &w.predictedClass), bindTo("predicted_label", &w.predictedLabel),
		bindTo("confidence", &w.confidence), bindTo("entropy", &w.entropy))
	for i, p := range probs {
		bs = append(bs, bindTo(p, &w.probs[i]))
	}
	if tta {
		w.probStds = make([]*array.Float32Builder, len(probs))
		for i, p := range probs {
			bs = append(bs, bindTo(p+"_std", &w.probStds[i]))
		}
		bs = append(bs, bindTo("tta_views", &w.ttaViews))
	}
	if b.Schema().HasField(EmbeddingColumn) {
		bs = append(bs, bindTo(EmbeddingColumn, &w.embedding))
	}
	expected := func() *arrow.Schema { return Catalog(classNames, tta) }
	if err := builderColumns("catalog", b, expected).bind(bs, nil); err != nil {
		return nil, err
	}
	if w.embedding != nil {
		vb, ok := w.embedding.ValueBuilder().(*array.Float32Builder)
		if !ok {
			return nil, &ColumnError{Table: "catalog", Column: EmbeddingColumn, Expected: "fixed_size_list<float32>",
				Found: w.embedding.Type().String()}
		}
		w.embeddingValues = vb
	}
	return w, nil
}

// Append appends c. Its ProbStds and TTAViews are written only when the
// catalog has those columns, and its Embedding only when it has an
// embedding column, of that width.
func (w *CatalogWriter) Append(c *CatalogRow) {
	w.objectBuilders.append(&c.ObjectFields)
	w.predictedClass.Append(c.PredictedClass)
	w.predictedLabel.Append(c.PredictedLabel)
	w.confidence.Append(c.Confidence)
	for i, b := range w.probs {
		b.Append(c.Probs[i])
	}
	w.entropy.Append(c.Entropy)
	if w.ttaViews != nil {
		for i, b := range w.probStds {
			b.Append(c.ProbStds[i])
		}
		w.ttaViews.Append(c.TTAViews)
	}
	if w.embedding != nil {
		w.embedding.Append(true)
		w.embeddingValues.AppendValues(c.Embedding, nil)
	}
}
