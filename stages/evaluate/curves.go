package evaluate

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/astroformer/astroformer/internal/plots"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/table"
)

// maxCurvePoints bounds the points of training curves read into memory; a
// metrics table with more (per-step values of a very long run) is
// truncated, with a warning.
const maxCurvePoints = 1 << 20

// curvePoint is one value of a training metric.
type curvePoint struct {
	epoch, step       int64
	hasEpoch, hasStep bool
	value             float64
}

// curveSeries is one metric (name) of one scope, e.g. the val loss.
type curveSeries struct {
	name, scope string
	points      []curvePoint
}

// readCurves reads the training metrics table in dir (schemas.Metrics) as
// one series per name and scope, in the table's row order. Rows with
// neither epoch nor step, or with a class, are not curves and are skipped.
func readCurves(ctx context.Context, dir string) (series []curveSeries, truncated bool, err error) {
	t, err := table.OpenAs(dir, schemas.Metrics())
	if err != nil {
		return nil, false, fmt.Errorf("evaluate: training metrics: %w", err)
	}
	columns := []string{"scope", "epoch", "step", "name", "class", "value"}
	sc := t.Scan(ctx, table.ScanOptions{Columns: columns})
	defer sc.Close()
	index := map[[2]string]int{}
	points := 0
	for sc.Next() && !truncated {
		rec := sc.Record()
		mr, err := schemas.NewMetricsReader(rec, columns...)
		if err != nil {
			return nil, false, fmt.Errorf("evaluate: training metrics %s: %w", dir, err)
		}
		for i := range int(rec.NumRows()) {
			m := mr.Row(i)
			if m.Class.Valid || (!m.Epoch.Valid && !m.Step.Valid) {
				continue
			}
			if points == maxCurvePoints {
				truncated = true
				break
			}
			key := [2]string{m.Name, m.Scope}
			j, ok := index[key]
			if !ok {
				j = len(series)
				index[key] = j
				series = append(series, curveSeries{name: key[0], scope: key[1]})
			}
			series[j].points = append(series[j].points, curvePoint{
				epoch: int64(m.Epoch.V), hasEpoch: m.Epoch.Valid,
				step: m.Step.V, hasStep: m.Step.Valid,
				value: m.Value,
			})
			points++
		}
	}
	if err := sc.Err(); err != nil {
		return nil, false, fmt.Errorf("evaluate: reading training metrics %s: %w", dir, err)
	}
	return series, truncated, nil
}

// curvePanels groups series into one panel per metric name: loss, top-1,
// other top-k, learning rate first, then the rest by name; within a panel
// one line per scope, train before val. A panel is drawn against the epoch
// when each of its scopes has at most one value per epoch, else against the
// step (per-step values).
func curvePanels(series []curveSeries) []plots.Panel {
	byName := map[string][]curveSeries{}
	var names []string
	for _, s := range series {
		if _, ok := byName[s.name]; !ok {
			names = append(names, s.name)
		}
		byName[s.name] = append(byName[s.name], s)
	}
	slices.SortFunc(names, func(a, b string) int {
		return cmp.Or(cmp.Compare(metricRank(a), metricRank(b)), strings.Compare(a, b))
	})
	// Every scope keeps its colour across panels.
	var scopes []string
	for _, s := range series {
		if !slices.Contains(scopes, s.scope) {
			scopes = append(scopes, s.scope)
		}
	}
	slices.SortFunc(scopes, compareScopes)
	panels := make([]plots.Panel, 0, len(names))
	for _, name := range names {
		group := byName[name]
		slices.SortStableFunc(group, func(a, b curveSeries) int { return compareScopes(a.scope, b.scope) })
		byEpoch := true
		for _, s := range group {
			seen := map[int64]bool{}
			for _, p := range s.points {
				if !p.hasEpoch || seen[p.epoch] {
					byEpoch = false
				}
				seen[p.epoch] = true
			}
		}
		panel := plots.Panel{Title: metricTitle(name), XLabel: "step"}
		if byEpoch {
			panel.XLabel = "epoch"
		}
		for _, s := range group {
			line := plots.Line{Label: s.scope, Color: plots.Color(slices.Index(scopes, s.scope))}
			for _, p := range s.points {
				switch {
				case byEpoch:
					line.X = append(line.X, float64(p.epoch))
				case p.hasStep:
					line.X = append(line.X, float64(p.step))
				default:
					continue
				}
				line.Y = append(line.Y, p.value)
			}
			sortLine(&line)
			panel.Lines = append(panel.Lines, line)
		}
		panels = append(panels, panel)
	}
	return panels
}

// sortLine orders the points of a line by X.
func sortLine(l *plots.Line) {
	idx := make([]int, len(l.X))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(l.X[a], l.X[b]) })
	x, y := make([]float64, len(idx)), make([]float64, len(idx))
	for i, j := range idx {
		x[i], y[i] = l.X[j], l.Y[j]
	}
	l.X, l.Y = x, y
}

func metricRank(name string) int {
	_, topK := topKOf(name)
	switch {
	case name == "loss":
		return 0
	case name == "top1":
		return 1
	case topK:
		return 2
	case name == "lr":
		return 3
	}
	return 4
}

// topKOf returns k of a top-k accuracy name such as "top5".
func topKOf(name string) (k string, ok bool) {
	k, ok = strings.CutPrefix(name, "top")
	return k, ok && k != "" && strings.Trim(k, "0123456789") == ""
}

// compareScopes orders train before val before the other scopes by name.
func compareScopes(a, b string) int {
	rank := func(scope string) int {
		switch scope {
		case "train":
			return 0
		case "val":
			return 1
		}
		return 2
	}
	return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a, b))
}

// metricTitle names a metric for a panel title: "top1" is "top-1 accuracy",
// "lr" "learning rate"; other names are shown as they are.
func metricTitle(name string) string {
	if name == "lr" {
		return "learning rate"
	}
	if k, ok := topKOf(name); ok {
		return "top-" + k + " accuracy"
	}
	return strings.ReplaceAll(name, "_", " ")
}
