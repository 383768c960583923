package evaluate

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"html"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/internal/plots"
	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/table"
	"github.com/astroformer/astroformer/votes"
)

// Vote evaluation: a catalog predicted by a vote head (metadata
// schemas.MetaVoteTree) is scored per question against the volunteers'
// votes of the same objects in the cutouts table.
const (
	// ConfidentFraction is the observed fraction above which a galaxy's
	// majority answer counts as settled, the Galaxy Zoo convention.
	ConfidentFraction = 0.8
	calibrationBins   = 10
)

// questionScore accumulates the scores of one question.
type questionScore struct {
	galaxies, votes       float64 // galaxies asked, and their votes
	absErr                float64 // Σ votes · mean over answers |predicted − observed|
	confident, majorityOK float64 // confidently voted galaxies, and those whose majority answer is predicted
	binPred, binObs, binN [calibrationBins]float64
}

// add scores one galaxy's question: predicted and observed fractions, and
// the votes the observed ones come from.
func (q *questionScore) add(pred []float32, counts []float32, n float64) {
	q.galaxies++
	q.votes += n
	p, k := make([]float64, len(pred)), make([]float64, len(pred))
	for a := range pred {
		p[a], k[a] = float64(pred[a]), float64(counts[a])
	}
	err, _ := votes.FractionError(p, k)
	q.absErr += n * err
	best, top := 0, 0
	for a := range pred {
		obs := k[a] / n
		if pred[a] > pred[best] {
			best = a
		}
		if counts[a] > counts[top] {
			top = a
		}
		bin := min(int(float64(pred[a])*calibrationBins), calibrationBins-1)
		q.binPred[bin] += n * float64(pred[a])
		q.binObs[bin] += n * obs
		q.binN[bin] += n
	}
	if k[top]/n > ConfidentFraction {
		q.confident++
		if best == top {
			q.majorityOK++
		}
	}
}

// mae is the vote-weighted mean absolute error of the fractions.
func (q *questionScore) mae() float64 { return q.absErr / q.votes }

// calibrationError is the vote-weighted mean gap between predicted and
// observed fractions over the bins of predicted fraction.
func (q *questionScore) calibrationError() float64 {
	var gap, n float64
	for b := range calibrationBins {
		gap += math.Abs(q.binPred[b] - q.binObs[b]) // both vote-weighted sums over the bin
		n += q.binN[b]
	}
	return gap / n
}

// voteTree returns the tree of a vote catalog, or nil for a classification
// catalog.
func voteTree(t *table.Table) (*votes.Tree, error) {
	name := t.Manifest().Metadata[schemas.MetaVoteTree]
	if name == "" {
		return nil, nil
	}
	tree := votes.DECaLS()
	if name != tree.Name {
		return nil, fmt.Errorf("evaluate: %s holds votes over tree %q; this build scores %q", t.Dir(), name, tree.Name)
	}
	return tree, nil
}

// runVotes scores a vote catalog and writes its metrics table and report.
func (s *stage) runVotes(ctx context.Context, env *pipeline.Env, cat *table.Table, tree *votes.Tree) error {
	if s.p.Cutouts == "" {
		return fmt.Errorf("evaluate: %s is a vote catalog; set cutouts to the table whose vote_counts it is scored against", s.p.Input)
	}
	pred, split, err := readFractions(ctx, cat, tree, s.p.Split)
	if err != nil {
		return err
	}
	scores, err := scoreVotes(ctx, env.Path(s.p.Cutouts), tree, pred)
	if err != nil {
		return err
	}
	if err := writeVoteMetrics(env, s.p.MetricsOutput, tree, scores, split); err != nil {
		return err
	}
	if err := writeVoteReport(env, s.p.Output, tree, scores, split, len(pred)); err != nil {
		return err
	}
	var galaxies float64
	var mae []string
	for q, sc := range scores {
		galaxies = max(galaxies, sc.galaxies)
		if sc.votes > 0 {
			mae = append(mae, fmt.Sprintf("%s %.3f", tree.Questions[q].Name, sc.mae()))
		}
	}
	env.Summarize("%s: %.0f galaxies of split %q with votes; fraction MAE per question: %s", s.name, galaxies, split, strings.Join(mae, ", "))
	env.Summarize("report: %s (report.html, report.md); metrics: %s", s.p.Output, s.p.MetricsOutput)
	return nil
}

// readFractions reads the predicted fractions of the rows of split: a split
// name, SplitAll, or SplitAuto (the test rows when there are any, else all).
func readFractions(ctx context.Context, cat *table.Table, tree *votes.Tree, split string) (map[string][]float32, string, error) {
	bySplit, err := readAllFractions(ctx, cat, tree)
	if err != nil {
		return nil, "", err
	}
	if split == SplitAuto {
		split = SplitAll
		if len(bySplit[schemas.SplitTest]) > 0 {
			split = schemas.SplitTest
		}
	}
	if split != SplitAll {
		return bySplit[split], split, nil
	}
	all := map[string][]float32{}
	for _, rows := range bySplit {
		for id, r := range rows {
			all[id] = r
		}
	}
	return all, split, nil
}

// readAllFractions reads the predicted fractions of every row, by split.
func readAllFractions(ctx context.Context, cat *table.Table, tree *votes.Tree) (map[string]map[string][]float32, error) {
	cols := append([]string{"object_id", "split"}, tree.FractionColumns()...)
	sc := cat.Scan(ctx, table.ScanOptions{Columns: cols})
	defer sc.Close()
	pred := map[string]map[string][]float32{}
	for sc.Next() {
		rec := sc.Record()
		ids, err := schemas.Column[*array.String]("catalog", rec, "object_id")
		if err != nil {
			return nil, err
		}
		splits, err := schemas.Column[*array.String]("catalog", rec, "split")
		if err != nil {
			return nil, err
		}
		fr := make([]*array.Float32, tree.Answers())
		for a, name := range tree.FractionColumns() {
			if fr[a], err = schemas.Column[*array.Float32]("catalog", rec, name); err != nil {
				return nil, err
			}
		}
		for i := range int(rec.NumRows()) {
			row := make([]float32, len(fr))
			for a, c := range fr {
				row[a] = c.Value(i)
			}
			if pred[splits.Value(i)] == nil {
				pred[splits.Value(i)] = map[string][]float32{}
			}
			pred[splits.Value(i)][ids.Value(i)] = row
		}
	}
	return pred, sc.Err()
}

// scoreVotes scores the predicted fractions against the vote counts of the
// same objects in the cutouts table at dir.
func scoreVotes(ctx context.Context, dir string, tree *votes.Tree, pred map[string][]float32) ([]questionScore, error) {
	t, err := table.OpenAs(dir, schemas.Cutouts())
	if err != nil {
		return nil, err
	}
	scores := make([]questionScore, len(tree.Questions))
	cols := []string{"object_id", schemas.VoteCountsColumn}
	sc := t.Scan(ctx, table.ScanOptions{Columns: cols})
	defer sc.Close()
	off := tree.Offsets()
	for sc.Next() {
		cr, err := schemas.NewCutoutsReader(sc.Record(), cols...)
		if err != nil {
			return nil, err
		}
		for i := range int(sc.Record().NumRows()) {
			p, ok := pred[cr.ObjectID.Value(i)]
			counts := cr.Row(i).VoteCounts
			if !ok || len(counts) != len(p) {
				continue
			}
			for q, o := range off {
				end := o + len(tree.Questions[q].Answers)
				var n float64
				for _, c := range counts[o:end] {
					n += float64(c)
				}
				if n > 0 {
					scores[q].add(p[o:end], counts[o:end], n)
				}
			}
		}
	}
	return scores, sc.Err()
}

// writeVoteMetrics writes the per-question scores in the long format of
// schemas.Metrics, class = the question.
func writeVoteMetrics(env *pipeline.Env, name string, tree *votes.Tree, scores []questionScore, split string) error {
	var rows []schemas.MetricsRow
	for q, sc := range scores {
		if sc.votes == 0 {
			continue
		}
		acc := math.NaN()
		if sc.confident > 0 {
			acc = sc.majorityOK / sc.confident
		}
		for _, m := range []struct {
			name  string
			value float64
		}{{"fraction_mae", sc.mae()}, {"calibration_error", sc.calibrationError()}, {"majority_accuracy", acc},
			{"confident", sc.confident}, {"galaxies", sc.galaxies}, {"votes", sc.votes}} {
			if !math.IsNaN(m.value) {
				rows = append(rows, schemas.MetricsRow{Scope: Scope, Name: m.name, Class: schemas.Some(tree.Questions[q].Name), Value: m.value})
			}
		}
	}
	return writeMetricsTable(env, name, rows, map[string]string{
		MetaSelection: fmt.Sprintf("split %q", split), schemas.MetaVoteTree: tree.Name,
	})
}

// writeVoteReport writes report.md and report.html: a table of the scores
// per question and the calibration of the fractions.
func writeVoteReport(env *pipeline.Env, name string, tree *votes.Tree, scores []questionScore, split string, rows int) error {
	panels := calibrationPanels(tree, scores)
	if len(panels) == 0 {
		return fmt.Errorf("evaluate: no galaxy of split %q has both a prediction and votes", split)
	}
	var png bytes.Buffer
	if err := plots.Curves(&png, panels); err != nil {
		return err
	}
	var md, page strings.Builder
	fmt.Fprintf(&md, "# Vote fractions\n\n%d catalog rows of split %q, scored against the volunteers' votes (tree %s).\n\n", rows, split, tree.Name)
	md.WriteString("| question | galaxies | votes | fraction MAE | calibration error | majority accuracy (fraction > 0.8) |\n|---|---:|---:|---:|---:|---:|\n")
	page.WriteString("<!doctype html><meta charset=\"utf-8\"><title>Vote fractions</title><h1>Vote fractions</h1>")
	fmt.Fprintf(&page, "<p>%d catalog rows of split %q, scored against the volunteers' votes (tree %s).</p><table><tr><th>question<th>galaxies<th>votes<th>fraction MAE<th>calibration error<th>majority accuracy (fraction &gt; 0.8)", rows, html.EscapeString(split), html.EscapeString(tree.Name))
	for q, sc := range scores {
		if sc.votes == 0 {
			continue
		}
		acc := "–"
		if sc.confident > 0 {
			acc = fmt.Sprintf("%.1f%% of %.0f", 100*sc.majorityOK/sc.confident, sc.confident)
		}
		cells := []string{tree.Questions[q].Name, strconv.FormatFloat(sc.galaxies, 'f', 0, 64), strconv.FormatFloat(sc.votes, 'f', 0, 64),
			fmt.Sprintf("%.3f", sc.mae()), fmt.Sprintf("%.3f", sc.calibrationError()), acc}
		md.WriteString("| " + strings.Join(cells, " | ") + " |\n")
		for i, c := range cells {
			cells[i] = html.EscapeString(c)
		}
		page.WriteString("<tr><td>" + strings.Join(cells, "<td>"))
	}
	md.WriteString("\n![Calibration of the vote fractions](calibration.png)\n")
	report := page.String() + "</table><h2>Calibration</h2><img alt=\"calibration\" src=\"data:image/png;base64," +
		base64.StdEncoding.EncodeToString(png.Bytes()) + "\">"
	return commitVoteReport(env, name, map[string][]byte{ReportMarkdown: []byte(md.String()), ReportHTML: []byte(report), "calibration.png": png.Bytes()}, split)
}

// calibrationPanels draws, per question, the mean observed fraction against
// the mean predicted one in bins of the prediction.
func calibrationPanels(tree *votes.Tree, scores []questionScore) []plots.Panel {
	var panels []plots.Panel
	for q, sc := range scores {
		if sc.votes == 0 {
			continue
		}
		line := plots.Line{Label: "observed"}
		for b := range calibrationBins {
			if sc.binN[b] > 0 {
				line.X = append(line.X, sc.binPred[b]/sc.binN[b])
				line.Y = append(line.Y, sc.binObs[b]/sc.binN[b])
			}
		}
		diag := plots.Line{Label: "ideal", X: []float64{0, 1}, Y: []float64{0, 1}}
		panels = append(panels, plots.Panel{Title: tree.Questions[q].Name, XLabel: "predicted fraction", YLabel: "observed fraction",
			Lines: []plots.Line{diag, line}})
	}
	return panels
}

// commitVoteReport writes files into the report folder and commits it.
func commitVoteReport(env *pipeline.Env, name string, files map[string][]byte, split string) error {
	dir := env.Path(name)
	staging, err := artifact.Stage(dir)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for f := range files {
		names = append(names, f)
	}
	slices.Sort(names)
	for _, f := range names {
		if err := os.WriteFile(filepath.Join(staging, f), files[f], 0o644); err != nil {
			artifact.Discard(staging)
			return fmt.Errorf("evaluate: %w", err)
		}
	}
	m := env.Manifest(name)
	m.Format = ReportFormat
	m.Metadata = map[string]string{MetaSelection: fmt.Sprintf("split %q", split)}
	return commitStaged(staging, dir, &m)
}
