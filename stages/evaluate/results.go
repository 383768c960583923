package evaluate

import (
	"fmt"
	"math"
)

// results are the scores of one evaluation.
type results struct {
	classes   []string
	selection string // which rows were scored
	rows      int64  // rows in the catalog
	labelled  int64  // labelled rows in the catalog

	n, correct int64
	top1       float64
	ci         Interval // NaN bounds when bootstrap is 0
	bootstrap  int      // resamples behind ci
	k          int      // of the top-k accuracy
	topK       float64

	scores              []ClassScores
	macroF1, weightedF1 float64
	confusion           [][]int64

	ece  float64
	bins []CalibrationBin
}

// score turns what scanCatalog accumulated into results, drawing the
// bootstrap interval of top-1 with the given resamples and seed.
func score(classes []string, sc *scanned, bootstrap int, seed int64) *results {
	a := sc.acc
	r := &results{
		classes:   classes,
		selection: sc.selection,
		rows:      sc.rows,
		labelled:  sc.labelled,
		n:         a.confusion.Total(),
		correct:   a.confusion.Correct(),
		top1:      a.confusion.Accuracy(),
		bootstrap: bootstrap,
		k:         sc.topK,
		scores:    a.confusion.Scores(),
		confusion: a.confusion.Matrix(),
		ece:       a.calibration.ECE(),
		bins:      a.calibration.Bins(),
	}
	r.topK = float64(a.inTopK) / float64(r.n)
	r.ci = BootstrapAccuracy(r.correct, r.n, bootstrap, Level, seed)
	r.macroF1 = MacroF1(r.scores)
	r.weightedF1 = WeightedF1(r.scores)
	return r
}

// hasCI reports whether the top-1 interval was computed.
func (r *results) hasCI() bool { return r.bootstrap > 0 && !math.IsNaN(r.ci.Lower) }

// worst returns the index of the class with the lowest F1 among those in
// the truth, the first one on ties.
func (r *results) worst() int {
	w := -1
	for i, s := range r.scores {
		if s.Support > 0 && (w < 0 || s.F1 < r.scores[w].F1) {
			w = i
		}
	}
	return w
}

// summaryLine is the line the stage prints after the run, e.g.
//
//	top-1 91.3% [89.9, 92.6] (95% CI, n=1774) · worst class: Disturbed Galaxies (F1 0.62) · ECE 0.031
func (r *results) summaryLine() string {
	line := fmt.Sprintf("top-1 %.1f%%", 100*r.top1)
	if r.hasCI() {
		line += fmt.Sprintf(" [%.1f, %.1f] (%g%% CI, n=%d)", 100*r.ci.Lower, 100*r.ci.Upper, 100*r.ci.Level, r.n)
	} else {
		line += fmt.Sprintf(" (n=%d)", r.n)
	}
	if w := r.worst(); w >= 0 && len(r.classes) > 1 {
		line += fmt.Sprintf(" · worst class: %s (F1 %.2f)", r.classes[w], r.scores[w].F1)
	}
	return line + fmt.Sprintf(" · ECE %.3f", r.ece)
}
