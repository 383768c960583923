package evaluate

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/astroformer/astroformer/catalog"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/table"
)

// confidenceSlack is how far above 1 a float32 probability may round and
// still count as 1.
const confidenceSlack = 1e-4

// catalogTable is an opened catalog table with its class names.
type catalogTable struct {
	table   *table.Table
	classes []string
	probs   []string // probability column of every class
	tta     bool
}

// openCatalog opens the catalog table in dir, reads its class names from
// the manifest metadata and checks its schema against schemas.Catalog.
func openCatalog(dir string) (*catalogTable, error) {
	t, err := table.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	raw, ok := t.Manifest().Metadata[catalog.MetaClassNames]
	if !ok {
		return nil, fmt.Errorf("evaluate: %s: the manifest metadata has no %q (the JSON list of class names the predict stage writes); is it a catalog table?", dir, catalog.MetaClassNames)
	}
	var classes []string
	if err := json.Unmarshal([]byte(raw), &classes); err != nil {
		return nil, fmt.Errorf("evaluate: %s: metadata %q is not a JSON list of strings: %w", dir, catalog.MetaClassNames, err)
	}
	probs, err := schemas.ProbColumns(classes)
	if err != nil {
		return nil, fmt.Errorf("evaluate: %s: metadata %q: %w", dir, catalog.MetaClassNames, err)
	}
	tta := t.Schema().HasField("tta_views")
	if t, err = table.OpenAs(dir, schemas.Catalog(classes, tta)); err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	return &catalogTable{table: t, classes: classes, probs: probs, tta: tta}, nil
}

// accumulator gathers what the metrics need from the rows of one selection:
// the confusion matrix, the calibration bins and the top-k hits.
type accumulator struct {
	topK        int
	confusion   *Confusion
	calibration *Calibration
	inTopK      int64
}

func newAccumulator(classes, topK, bins int) *accumulator {
	return &accumulator{topK: topK, confusion: NewConfusion(classes), calibration: NewCalibration(bins)}
}

func (a *accumulator) add(truth, pred int, confidence float64, probs []float32) {
	a.confusion.Add(truth, pred)
	a.calibration.Add(confidence, truth == pred)
	if InTopK(probs, truth, a.topK) {
		a.inTopK++
	}
}

// scanned is the outcome of reading a catalog.
type scanned struct {
	acc       *accumulator
	selection string // which rows were scored, for people: `split "test"`
	rows      int64  // rows in the catalog
	labelled  int64  // rows with a label
	topK      int    // k of the top-k accuracy, at most the number of classes
}

// scanCatalog streams the catalog and accumulates the labelled rows that
// split selects (a split name, SplitAll or SplitAuto). progress is called
// with the number of rows of every batch read.
func scanCatalog(ctx context.Context, cat *catalogTable, split string, topK, bins int, progress func(int)) (*scanned, error) {
	k := len(cat.classes)
	topK = min(topK, k)
	// Under SplitAuto both candidates are kept until the end tells whether
	// the catalog has labelled test rows; each costs only its counters.
	var one, all *accumulator // rows of split `want`; every labelled row
	want := split
	switch split {
	case SplitAll:
		all = newAccumulator(k, topK, bins)
	case SplitAuto:
		want = schemas.SplitTest
		one, all = newAccumulator(k, topK, bins), newAccumulator(k, topK, bins)
	default:
		one = newAccumulator(k, topK, bins)
	}

	columns := append([]string{"label", "split", "predicted_class", "confidence"}, cat.probs...)
	sc := cat.table.Scan(ctx, table.ScanOptions{Columns: columns})
	defer sc.Close()
	out := &scanned{topK: topK}
	probs := make([]float32, k)
	for sc.Next() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rec := sc.Record()
		labels := rec.Column(0).(*array.Int16)
		splits := rec.Column(1).(*array.String)
		preds := rec.Column(2).(*array.Int16)
		confs := rec.Column(3).(*array.Float32)
		probCols := make([]*array.Float32, k)
		for c := range k {
			probCols[c] = rec.Column(4 + c).(*array.Float32)
		}
		for i := range int(rec.NumRows()) {
			row := out.rows + int64(i)
			if labels.IsNull(i) {
				continue
			}
			out.labelled++
			inSplit := one != nil && splits.Value(i) == want
			if !inSplit && all == nil {
				continue
			}
			truth, pred := int(labels.Value(i)), int(preds.Value(i))
			if truth < 0 || truth >= k {
				return nil, fmt.Errorf("evaluate: %s: row %d: label %d is not a class index (the catalog has %d classes)", cat.table.Dir(), row, truth, k)
			}
			if pred < 0 || pred >= k {
				return nil, fmt.Errorf("evaluate: %s: row %d: predicted_class %d is not a class index (the catalog has %d classes)", cat.table.Dir(), row, pred, k)
			}
			conf := float64(confs.Value(i))
			if !(conf >= 0 && conf <= 1+confidenceSlack) {
				return nil, fmt.Errorf("evaluate: %s: row %d: confidence %g is not a probability", cat.table.Dir(), row, conf)
			}
			conf = math.Min(conf, 1)
			for c, col := range probCols {
				probs[c] = col.Value(i)
			}
			if inSplit {
				one.add(truth, pred, conf, probs)
			}
			if all != nil {
				all.add(truth, pred, conf, probs)
			}
		}
		out.rows += rec.NumRows()
		progress(int(rec.NumRows()))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("evaluate: reading %s: %w", cat.table.Dir(), err)
	}

	switch {
	case split == SplitAll:
		out.acc, out.selection = all, "all labelled rows"
	case split == SplitAuto && one.confusion.Total() == 0:
		out.acc, out.selection = all, "all labelled rows (the catalog has no labelled test rows)"
	default:
		out.acc, out.selection = one, fmt.Sprintf("split %q", want)
	}
	if out.acc.confusion.Total() == 0 {
		return nil, fmt.Errorf("evaluate: %s: no labelled rows to score in %s (%d rows, %d labelled)", cat.table.Dir(), out.selection, out.rows, out.labelled)
	}
	return out, nil
}
