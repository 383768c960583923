package evaluate

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	"github.com/astroformer/astroformer/catalog"
	"github.com/astroformer/astroformer/internal/skymap"
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
// the confusion matrix, the calibration bins and the top-k hits, and the
// gallery's candidates.
type accumulator struct {
	topK        int
	confusion   *Confusion
	calibration *Calibration
	inTopK      int64
	gallery     *galleryCollector // nil without a gallery
}

func newAccumulator(classes int, opt scanOptions) *accumulator {
	a := &accumulator{topK: opt.topK, confusion: NewConfusion(classes), calibration: NewCalibration(opt.bins)}
	if opt.gallery > 0 {
		a.gallery = newGalleryCollector(classes, opt.gallery)
	}
	return a
}

func (a *accumulator) add(truth, pred int, confidence float64, probs []float32) {
	a.confusion.Add(truth, pred)
	a.calibration.Add(confidence, truth == pred)
	if InTopK(probs, truth, a.topK) {
		a.inTopK++
	}
}

// addRow adds a row of the selection: to the gallery, and to the scores
// when it is labelled.
func (a *accumulator) addRow(c candidate, probs []float32) {
	if a.gallery != nil {
		a.gallery.add(c)
	}
	if c.truth >= 0 {
		a.add(c.truth, c.pred, c.confidence, probs)
	}
}

// scanOptions are what scanCatalog computes besides the rows it reads.
type scanOptions struct {
	split      string // a split name, SplitAll or SplitAuto
	topK, bins int
	gallery    int   // candidates per gallery cell; 0 for none
	seed       int64 // of the sky map's sample
}

// scanned is the outcome of reading a catalog.
type scanned struct {
	acc       *accumulator
	selection string // which rows were scored, for people: `split "test"`
	rows      int64  // rows in the catalog
	labelled  int64  // rows with a label
	topK      int    // k of the top-k accuracy, at most the number of classes
	sky       *skymap.Map
	from      string // which rows the gallery drew from, for people
}

// selection routes the rows of a catalog to the accumulators of a split
// selection: one for the rows of split want, all for every row. Under
// SplitAuto both are kept until the end tells whether the catalog has
// labelled test rows; each costs only its counters and gallery.
type selection struct {
	want     string
	one, all *accumulator
}

func newSelection(classes int, opt scanOptions) selection {
	sel := selection{want: opt.split}
	switch opt.split {
	case SplitAll:
		sel.all = newAccumulator(classes, opt)
	case SplitAuto:
		sel.want = schemas.SplitTest
		sel.one, sel.all = newAccumulator(classes, opt), newAccumulator(classes, opt)
	default:
		sel.one = newAccumulator(classes, opt)
	}
	return sel
}

// scanCatalog streams the catalog, accumulating the rows that opt.split
// selects and every position for the sky map. progress is called with the
// number of rows of every batch read.
func scanCatalog(ctx context.Context, cat *catalogTable, opt scanOptions, progress func(int)) (*scanned, error) {
	opt.topK = min(opt.topK, len(cat.classes))
	sel := newSelection(len(cat.classes), opt)
	columns := append([]string{"object_id", "ra", "dec", "label", "split", "predicted_class", "confidence"}, cat.probs...)
	sc := cat.table.Scan(ctx, table.ScanOptions{Columns: columns})
	defer sc.Close()
	out := &scanned{topK: opt.topK, sky: skymap.New(opt.seed)}
	for sc.Next() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rec := sc.Record()
		cr, err := schemas.NewCatalogReader(rec, cat.classes, columns...)
		if err != nil {
			return nil, fmt.Errorf("evaluate: %s: %w", cat.table.Dir(), err)
		}
		if err := out.sky.AddColumns(cr.RA, cr.Dec, cr.PredictedClass); err != nil {
			return nil, fmt.Errorf("evaluate: %s: %w", cat.table.Dir(), err)
		}
		if err := out.batch(cat, sel, cr, int(rec.NumRows())); err != nil {
			return nil, err
		}
		out.rows += rec.NumRows()
		progress(int(rec.NumRows()))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("evaluate: reading %s: %w", cat.table.Dir(), err)
	}
	return out, out.choose(cat, sel, opt.split)
}

// batch adds the selected rows of the n rows of a record of the columns
// scanCatalog reads.
func (out *scanned) batch(cat *catalogTable, sel selection, cr *schemas.CatalogReader, n int) error {
	ids, labels, splits, preds, confs := cr.ObjectID, cr.Label, cr.Split, cr.PredictedClass, cr.Confidence
	probCols := cr.Probs
	probs := make([]float32, len(cat.classes))
	for i := range n {
		row := out.rows + int64(i)
		if labels.IsValid(i) {
			out.labelled++
		}
		inOne := sel.one != nil && splits.Value(i) == sel.want
		if !inOne && sel.all == nil {
			continue
		}
		c := candidate{row: row, objectID: ids.Value(i), truth: -1, pred: int(preds.Value(i)), confidence: float64(confs.Value(i))}
		if labels.IsValid(i) {
			c.truth = int(labels.Value(i))
		}
		if err := checkRow(cat, c, labels.IsValid(i)); err != nil {
			return err
		}
		c.confidence = math.Min(c.confidence, 1)
		for j, col := range probCols {
			probs[j] = col.Value(i)
		}
		if inOne {
			sel.one.addRow(c, probs)
		}
		if sel.all != nil {
			sel.all.addRow(c, probs)
		}
	}
	return nil
}

// checkRow checks a row's class indexes and confidence.
func checkRow(cat *catalogTable, c candidate, labelled bool) error {
	k := len(cat.classes)
	if labelled && (c.truth < 0 || c.truth >= k) {
		return fmt.Errorf("evaluate: %s: row %d: label %d is not a class index (the catalog has %d classes)", cat.table.Dir(), c.row, c.truth, k)
	}
	if c.pred < 0 || c.pred >= k {
		return fmt.Errorf("evaluate: %s: row %d: predicted_class %d is not a class index (the catalog has %d classes)", cat.table.Dir(), c.row, c.pred, k)
	}
	if !(c.confidence >= 0 && c.confidence <= 1+confidenceSlack) {
		return fmt.Errorf("evaluate: %s: row %d: confidence %g is not a probability", cat.table.Dir(), c.row, c.confidence)
	}
	return nil
}

// choose picks the accumulator of the selection once every row is read.
func (out *scanned) choose(cat *catalogTable, sel selection, split string) error {
	switch {
	case split == SplitAll:
		out.acc, out.selection, out.from = sel.all, "all labelled rows", "the whole catalog"
	case split == SplitAuto && sel.one.confusion.Total() == 0:
		out.acc, out.selection = sel.all, "all labelled rows (the catalog has no labelled test rows)"
		out.from = "the whole catalog (it has no labelled test rows)"
	default:
		out.acc, out.selection = sel.one, fmt.Sprintf("split %q", sel.want)
		out.from = out.selection
	}
	if out.acc.confusion.Total() == 0 {
		return fmt.Errorf("evaluate: %s: no labelled rows to score in %s (%d rows, %d labelled)", cat.table.Dir(), out.selection, out.rows, out.labelled)
	}
	return nil
}
