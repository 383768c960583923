package schemas

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// VoteCatalog returns the schema of a catalog predicted by a vote head: the
// object columns of Catalog, then for each answer of the decision tree its
// expected vote fraction (the fraction column name, "f_<question>_<answer>")
// and the central 90% interval of that fraction ("<name>_lo", "<name>_hi").
// The fractions of one question's answers sum to 1.
func VoteCatalog(fractionColumns []string) *arrow.Schema {
	fields := catalogObjectFields()
	for _, name := range fractionColumns {
		fields = append(fields,
			withUCD(field(name, arrow.PrimitiveTypes.Float32, false, "", "expected fraction of the volunteers' votes for this answer (the mean of the predicted Dirichlet); the answers of a question sum to 1"), "stat.probability"),
			withUCD(field(name+"_lo", arrow.PrimitiveTypes.Float32, false, "", "lower end of the central 90% interval of the vote fraction"), "stat.probability"),
			withUCD(field(name+"_hi", arrow.PrimitiveTypes.Float32, false, "", "upper end of the central 90% interval of the vote fraction"), "stat.probability"),
		)
	}
	return arrow.NewSchema(fields, nil)
}

func slicesHead(fields []arrow.Field, n int) []arrow.Field {
	return append([]arrow.Field(nil), fields[:n]...)
}

// VoteRow is one row of a vote catalog: the object, and per answer the
// expected fraction and its interval, in tree order.
type VoteRow struct {
	ObjectFields
	Fraction, Lo, Hi []float32
}

// VoteCatalogWriter appends rows to a record builder of a vote catalog, its
// field builders bound by name.
type VoteCatalogWriter struct {
	objectBuilders
	fraction, lo, hi []*array.Float32Builder
}

// NewVoteCatalogWriter binds the field builders of b, a builder of
// VoteCatalog(fractionColumns) or of any schema with those columns. It
// returns a *ColumnError for a column b lacks or builds with another type.
func NewVoteCatalogWriter(b *array.RecordBuilder, fractionColumns []string) (*VoteCatalogWriter, error) {
	n := len(fractionColumns)
	w := &VoteCatalogWriter{fraction: make([]*array.Float32Builder, n), lo: make([]*array.Float32Builder, n), hi: make([]*array.Float32Builder, n)}
	bs := w.objectBuilders.bindings()
	for i, name := range fractionColumns {
		bs = append(bs, bindTo(name, &w.fraction[i]), bindTo(name+"_lo", &w.lo[i]), bindTo(name+"_hi", &w.hi[i]))
	}
	expected := func() *arrow.Schema { return VoteCatalog(fractionColumns) }
	if err := builderColumns("vote catalog", b, expected).bind(bs, nil); err != nil {
		return nil, err
	}
	return w, nil
}

// Append appends r.
func (w *VoteCatalogWriter) Append(r *VoteRow) {
	w.objectBuilders.append(&r.ObjectFields)
	for i := range w.fraction {
		w.fraction[i].Append(r.Fraction[i])
		w.lo[i].Append(r.Lo[i])
		w.hi[i].Append(r.Hi[i])
	}
}
