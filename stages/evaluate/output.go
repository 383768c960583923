package evaluate

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/astroformer/astroformer/catalog"
	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/table"
)

// Scope is the scope column of every row of the metrics table.
const Scope = "eval"

// Keys of the metadata of the metrics table and the report manifest.
const (
	MetaSelection = "evaluate.selection" // the rows scored, e.g. `split "test"`
	MetaSeed      = "evaluate.seed"      // seed of the bootstrap
)

// metric is one row of the metrics table. An empty class and NaN bounds are
// stored as nulls.
type metric struct {
	name, class  string
	value        float64
	lower, upper float64
}

// metricRows lays the results out in the long format of schemas.Metrics:
//
//	top1 (lower, upper: the bootstrap interval), top<k> for k > 1, ece,
//	macro_f1, weighted_f1, n (rows scored);
//	precision, recall, f1, support with class = the class name;
//	confusion with class = "<true class>|<predicted class>", the count.
func metricRows(r *results) []metric {
	nan := math.NaN()
	rows := []metric{{name: "top1", value: r.top1, lower: r.ci.Lower, upper: r.ci.Upper}}
	if !r.hasCI() {
		rows[0].lower, rows[0].upper = nan, nan
	}
	if r.k > 1 {
		rows = append(rows, metric{name: "top" + strconv.Itoa(r.k), value: r.topK, lower: nan, upper: nan})
	}
	for _, m := range []struct {
		name  string
		value float64
	}{{"ece", r.ece}, {"macro_f1", r.macroF1}, {"weighted_f1", r.weightedF1}, {"n", float64(r.n)}} {
		rows = append(rows, metric{name: m.name, value: m.value, lower: nan, upper: nan})
	}
	for i, s := range r.scores {
		c := r.classes[i]
		rows = append(rows,
			metric{name: "precision", class: c, value: s.Precision, lower: nan, upper: nan},
			metric{name: "recall", class: c, value: s.Recall, lower: nan, upper: nan},
			metric{name: "f1", class: c, value: s.F1, lower: nan, upper: nan},
			metric{name: "support", class: c, value: float64(s.Support), lower: nan, upper: nan},
		)
	}
	for t, row := range r.confusion {
		for p, n := range row {
			rows = append(rows, metric{name: "confusion", class: r.classes[t] + "|" + r.classes[p], value: float64(n), lower: nan, upper: nan})
		}
	}
	return rows
}

// writeMetrics writes the metrics table named name.
func writeMetrics(env *pipeline.Env, name string, r *results, seed int64) error {
	optional := func(v float64) schemas.Null[float64] {
		if math.IsNaN(v) {
			return schemas.Null[float64]{}
		}
		return schemas.Some(v)
	}
	var rows []schemas.MetricsRow
	for _, m := range metricRows(r) {
		row := schemas.MetricsRow{Scope: Scope, Name: m.name, Value: m.value, Lower: optional(m.lower), Upper: optional(m.upper)}
		if m.class != "" {
			row.Class = schemas.Some(m.class)
		}
		rows = append(rows, row)
	}
	classes, err := json.Marshal(r.classes)
	if err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	return writeMetricsTable(env, name, rows, map[string]string{
		catalog.MetaClassNames: string(classes),
		MetaSelection:          r.selection,
		MetaSeed:               strconv.FormatInt(seed, 10),
	})
}

// writeMetricsTable commits rows as the metrics table named name, with
// metadata md.
func writeMetricsTable(env *pipeline.Env, name string, rows []schemas.MetricsRow, md map[string]string) error {
	schema := schemas.Metrics()
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	mw, err := schemas.NewMetricsWriter(b)
	if err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	for _, row := range rows {
		mw.Append(row)
	}
	rec := b.NewRecord()
	defer rec.Release()
	w, err := table.Create(env.Path(name), schema, table.Options{Metadata: md, Manifest: env.Manifest(name)})
	if err != nil {
		return err
	}
	if err := w.Write(rec); err != nil {
		w.Abort()
		return err
	}
	_, err = w.Commit()
	return err
}
