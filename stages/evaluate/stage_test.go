package evaluate

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/catalog"
	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/internal/decl/decltest"
	"github.com/astroformer/astroformer/table"
	"github.com/astroformer/astroformer/table/tabletest"
)

func decode(t *testing.T, src string) (pipeline.Stage, hcl.Diagnostics) {
	return decltest.Decode(t, Decode, "evaluate", src)
}

func TestDecode(t *testing.T) {
	s := decltest.MustDecode(t, Decode, "evaluate", `input = "catalog"
output = "report"`)
	want := params{Input: "catalog", Output: "report", MetricsOutput: "report_metrics", Split: SplitAuto,
		TopK: DefaultTopK, Bootstrap: DefaultBootstrap, Bins: DefaultBins}
	if p := s.Params().(params); p != want {
		t.Errorf("defaults %+v, want %+v", p, want)
	}
	if in, out := s.Inputs(), s.Outputs(); len(in) != 1 || in[0] != "catalog" || len(out) != 2 || out[0] != "report" || out[1] != "report_metrics" {
		t.Errorf("Inputs %q, Outputs %q", in, out)
	}

	s = decltest.MustDecode(t, Decode, "evaluate", `input = "catalog"
metrics = "train_metrics"
output = "report"
metrics_output = "eval"
split = "val"
top_k = 5
bootstrap = 0
bins = 10
seed = 3`)
	p := s.Params().(params)
	if p.Metrics != "train_metrics" || p.MetricsOutput != "eval" || p.Split != "val" || p.TopK != 5 ||
		p.Bootstrap != 0 || p.Bins != 10 || p.Seed == nil || *p.Seed != 3 {
		t.Errorf("decoded %+v", p)
	}
	if in := s.Inputs(); len(in) != 2 || in[1] != "train_metrics" {
		t.Errorf("Inputs %q, want the catalog and the training metrics", in)
	}

	decltest.CheckDiagnostics(t, Decode, "evaluate", []decltest.Case{
		{Src: "input = \"c\"\noutput = \"r\"\nsplit = \"holdout\"", Summary: "Invalid split", Line: 3},
		{Src: "input = \"c\"\noutput = \"r\"\ntop_k = 0", Summary: "Invalid top_k", Line: 3},
		{Src: "input = \"c\"\noutput = \"r\"\nbootstrap = -1", Summary: "Invalid bootstrap", Line: 3},
		{Src: "input = \"c\"\noutput = \"r\"\nbins = 0", Summary: "Invalid bins", Line: 3},
		{Src: "input = \"c\"\noutput = \"r\"\nmetrics = \"\"", Summary: "Empty metrics", Line: 3},
		{Src: "input = \"c\"\noutput = \"c\"", Summary: "Artifact named twice", Line: 2},
		{Src: "input = \"c\"\noutput = \"r\"\nmetrics_output = \"c\"", Summary: "Artifact named twice", Line: 3},
		{Src: "input = \"c\"\noutput = \"\"", Summary: "Empty output", Line: 2},
		{Src: "input = \"c\"", Summary: "Missing required argument", Line: 1},
	})
}

var testClasses = []string{"Disturbed Galaxies", "Merging Galaxies", "Round Smooth Galaxies"}

// row is a catalog row; label < 0 means unlabelled. Rows without pos have
// a null dec.
type row struct {
	label int
	split string
	probs []float32
	pos   bool
}

// objectID is the object_id of catalog row i.
func objectID(i int) string { return "obj-" + string(rune('a'+i%26)) + string(rune('a'+i/26)) }

// writeCatalog writes a catalog table whose predictions follow probs, in
// parts of 16 rows.
func writeCatalog(t *testing.T, dir string, classes []string, tta bool, rows []row, md map[string]string) {
	t.Helper()
	writeCatalogParts(t, dir, classes, tta, rows, md, 16)
}

func writeCatalogParts(t *testing.T, dir string, classes []string, tta bool, rows []row, md map[string]string, rowsPerPart int64) {
	t.Helper()
	schema := schemas.Catalog(classes, tta)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	cw, err := schemas.NewCatalogWriter(b, classes)
	if err != nil {
		t.Fatal(err)
	}
	k := len(classes)
	for i, r := range rows {
		pred := 0
		for c, p := range r.probs {
			if p > r.probs[pred] {
				pred = c
			}
		}
		c := schemas.CatalogRow{PredictedClass: int16(pred), PredictedLabel: classes[pred], Confidence: r.probs[pred], Probs: r.probs}
		c.ObjectID, c.RA, c.Split = objectID(i), schemas.Some(float64(i)), r.split
		if r.pos {
			c.RA, c.Dec = schemas.Some(150+0.4*float64(i%20)), schemas.Some(1+0.5*float64(i%7))
		}
		if r.label >= 0 {
			c.Label, c.LabelName = schemas.Some(int16(r.label)), schemas.Some(classes[min(r.label, k-1)])
		}
		var entropy float64
		for _, p := range r.probs {
			if p > 0 {
				entropy -= float64(p) * math.Log(float64(p))
			}
		}
		c.Entropy = float32(entropy)
		if tta {
			c.ProbStds, c.TTAViews = slices.Repeat([]float32{0.01}, k), 8
		}
		cw.Append(&c)
	}
	rec := b.NewRecord()
	defer rec.Release()
	meta := map[string]string{}
	if classes != nil {
		names, _ := json.Marshal(classes)
		meta[catalog.MetaClassNames] = string(names)
	}
	for k, v := range md {
		meta[k] = v
	}
	tabletest.Write(t, dir, schema, table.Options{
		RowsPerPart: rowsPerPart,
		Metadata:    meta,
		Manifest:    artifact.Manifest{Name: filepath.Base(dir), Stage: "predict", Kind: "predict", Fingerprint: "catalog-fp"},
	}, rec)
}

// testRows returns 20 labelled test rows whose confusion matrix is
//
//	{5, 2, 1}
//	{1, 6, 0}
//	{0, 3, 2}
//
// Correct rows have confidence 0.7. Wrong ones have confidence 0.6 and the
// truth second (0.3, in the top 2) for even occurrences of a cell and last
// (0.1) for odd ones: 2 of the 7 wrong rows miss the top 2. Then come 5
// wrong labelled val rows and 3 unlabelled rows, which the default
// selection leaves out.
func testRows() []row {
	counts := [][]int{{5, 2, 1}, {1, 6, 0}, {0, 3, 2}}
	var rows []row
	for truth, r := range counts {
		for pred, n := range r {
			for j := range n {
				probs := make([]float32, 3)
				if truth == pred {
					probs[pred] = 0.7
					probs[(pred+1)%3], probs[(pred+2)%3] = 0.2, 0.1
				} else {
					other := 3 - truth - pred
					probs[pred] = 0.6
					probs[truth], probs[other] = 0.3, 0.1
					if j%2 == 1 {
						probs[truth], probs[other] = 0.1, 0.3
					}
				}
				rows = append(rows, row{label: truth, split: schemas.SplitTest, probs: probs})
			}
		}
	}
	for i := range 5 {
		rows = append(rows, row{label: i % 3, split: schemas.SplitVal, probs: rotate([]float32{0.1, 0.1, 0.8}, i%3)})
	}
	for range 3 {
		rows = append(rows, row{label: -1, probs: []float32{0.5, 0.3, 0.2}})
	}
	return rows
}

// rotate shifts p right by n so that the maximum moves off class n.
func rotate(p []float32, n int) []float32 {
	out := make([]float32, len(p))
	for i := range p {
		out[(i+n)%len(p)] = p[i]
	}
	return out
}

// writeTrainMetrics writes a small training metrics table.
func writeTrainMetrics(t *testing.T, dir string) {
	t.Helper()
	b := array.NewRecordBuilder(memory.DefaultAllocator, schemas.Metrics())
	defer b.Release()
	mw, err := schemas.NewMetricsWriter(b)
	if err != nil {
		t.Fatal(err)
	}
	add := func(scope string, epoch int32, name string, value float64) {
		mw.Append(schemas.MetricsRow{Scope: scope, Epoch: schemas.Some(epoch), Step: schemas.Some(int64(epoch) * 100), Name: name, Value: value})
	}
	for e := int32(1); e <= 4; e++ {
		add("train", e, "loss", 2/float64(e))
		add("val", e, "loss", 2.2/float64(e))
		add("val", e, "top1", 1-0.5/float64(e))
		add("train", e, "lr", 1e-3/float64(e))
	}
	rec := b.NewRecord()
	defer rec.Release()
	tabletest.Write(t, dir, schemas.Metrics(), table.Options{Manifest: artifact.Manifest{Name: "train_metrics", Fingerprint: "train-fp"}}, rec)
}

func newEnv(dir string) *pipeline.Env {
	return &pipeline.Env{Log: hclog.NewNullLogger(), Workdir: dir, Job: "test-job", Seed: 11,
		Fingerprint: "eval-fp", Stage: "evaluate", Kind: Kind, Producer: "astroformer test"}
}

// runStage decodes the stage block src and runs it in work; it returns
// the stage's Env.
func runStage(t *testing.T, work, src string) *pipeline.Env {
	t.Helper()
	s := decltest.MustDecode(t, Decode, "evaluate", src)
	env := newEnv(work)
	if err := s.Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	return env
}

// readMetrics reads an evaluation metrics table into name|class → row.
func readMetrics(t *testing.T, dir string) map[string][3]float64 {
	t.Helper()
	tb, err := table.OpenAs(dir, schemas.Metrics())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][3]float64{}
	sc := tb.Scan(context.Background(), table.ScanOptions{})
	defer sc.Close()
	for sc.Next() {
		rec := sc.Record()
		mr, err := schemas.NewMetricsReader(rec)
		if err != nil {
			t.Fatal(err)
		}
		for i := range int(rec.NumRows()) {
			m := mr.Row(i)
			if m.Scope != Scope {
				t.Errorf("scope %q, want %q", m.Scope, Scope)
			}
			if m.Epoch.Valid || m.Step.Valid {
				t.Errorf("row %d has an epoch or step", i)
			}
			key := m.Name
			if m.Class.Valid {
				key += "|" + m.Class.V
			}
			v := [3]float64{m.Value, math.NaN(), math.NaN()}
			if m.Lower.Valid {
				v[1] = m.Lower.V
			}
			if m.Upper.Valid {
				v[2] = m.Upper.V
			}
			if _, dup := out[key]; dup {
				t.Errorf("metric %q twice", key)
			}
			out[key] = v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRun(t *testing.T) {
	work := t.TempDir()
	writeCatalog(t, filepath.Join(work, "catalog"), testClasses, true, testRows(), map[string]string{
		catalog.MetaModelVariant: "astroformer_nano", catalog.MetaCheckpointSHA256: "0123abcd",
	})
	writeTrainMetrics(t, filepath.Join(work, "train_metrics"))
	env := runStage(t, work, `input = "catalog"
metrics = "train_metrics"
output = "report"
top_k = 2`)

	m := readMetrics(t, filepath.Join(work, "report_metrics"))
	check := func(key string, want float64) {
		t.Helper()
		got, ok := m[key]
		if !ok {
			t.Errorf("no metric %q", key)
		} else if math.Abs(got[0]-want) > 1e-6 {
			t.Errorf("%s = %g, want %g", key, got[0], want)
		}
	}
	check("n", 20) // the test rows only
	check("top1", 0.65)
	check("top2", 18.0/20)
	check("f1|Disturbed Galaxies", 10.0/14)
	check("precision|Merging Galaxies", 6.0/11)
	check("recall|Round Smooth Galaxies", 2.0/5)
	check("support|Merging Galaxies", 7)
	check("macro_f1", 79.0/126)
	check("weighted_f1", 541.0/840)
	check("confusion|Round Smooth Galaxies|Merging Galaxies", 3)
	check("confusion|Merging Galaxies|Round Smooth Galaxies", 0)
	// 13 correct at confidence 0.7 and 7 wrong at 0.6, in two bins.
	check("ece", 13.0/20*0.3+7.0/20*0.6)
	if top1 := m["top1"]; !(top1[1] < 0.65 && 0.65 < top1[2]) {
		t.Errorf("top-1 interval [%g, %g] does not contain 0.65", top1[1], top1[2])
	}
	if len(m) != 2+4+4*3+9 {
		t.Errorf("%d metrics, want %d", len(m), 2+4+4*3+9)
	}

	summary := env.Summary()
	pattern := `^top-1 65\.0% \[\d+\.\d, \d+\.\d\] \(95% CI, n=20\) · worst class: Round Smooth Galaxies \(F1 0\.50\) · ECE 0\.405$`
	if len(summary) == 0 || !regexp.MustCompile(pattern).MatchString(summary[0]) {
		t.Errorf("summary %q, want a first line matching %s", summary, pattern)
	}

	report := filepath.Join(work, "report")
	man, err := artifact.ReadManifest(report)
	if err != nil {
		t.Fatal(err)
	}
	if man.Format != ReportFormat || man.Fingerprint != "eval-fp" || man.Name != "report" {
		t.Errorf("report manifest %+v", man)
	}
	for _, f := range []string{"confusion.png", "reliability.png", "curves.png"} {
		data, err := os.ReadFile(filepath.Join(report, f))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if b := img.Bounds(); b.Dx() < 300 || b.Dy() < 300 || b.Dx() > 3000 || b.Dy() > 3000 {
			t.Errorf("%s is %dx%d", f, b.Dx(), b.Dy())
		}
	}
	md, err := os.ReadFile(filepath.Join(report, ReportMarkdown))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range append([]string{"![Confusion matrix](confusion.png)", "![Reliability diagram](reliability.png)",
		"![Training curves](curves.png)", "astroformer_nano", "0123abcd", "test-job", "split \"test\"", "65.0%", "top-2 accuracy"}, testClasses...) {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	html, err := os.ReadFile(filepath.Join(report, ReportHTML))
	if err != nil {
		t.Fatal(err)
	}
	checkSelfContained(t, string(html), 3)
	for _, want := range append([]string{"astroformer_nano", "0123abcd", "Round Smooth Galaxies</td>"}, testClasses...) {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
}

// checkSelfContained checks that an HTML page references nothing outside
// itself and embeds the given number of PNG images.
func checkSelfContained(t *testing.T, html string, images int) {
	t.Helper()
	for _, banned := range []string{"http://", "https://", "<link", "<script", "@import", "url(", "//cdn"} {
		if strings.Contains(html, banned) {
			t.Errorf("report.html contains %q", banned)
		}
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(html, -1)
	if len(refs) != images {
		t.Errorf("%d src/href attributes, want %d images", len(refs), images)
	}
	for _, ref := range refs {
		uri, ok := strings.CutPrefix(ref[1], "data:image/png;base64,")
		if !ok {
			t.Errorf("reference %.60q is not an embedded PNG", ref[1])
			continue
		}
		if _, err := png.DecodeConfig(base64Reader(uri)); err != nil {
			t.Errorf("embedded image: %v", err)
		}
	}
}

func base64Reader(s string) io.Reader {
	return base64.NewDecoder(base64.StdEncoding, strings.NewReader(s))
}

func TestRunSplits(t *testing.T) {
	work := t.TempDir()
	rows := testRows()
	writeCatalog(t, filepath.Join(work, "catalog"), testClasses, false, rows, nil)
	noTest := make([]row, 0, len(rows))
	for _, r := range rows {
		if r.split == schemas.SplitTest {
			r.split = schemas.SplitTrain
		}
		noTest = append(noTest, r)
	}
	writeCatalog(t, filepath.Join(work, "no_test"), testClasses, false, noTest, nil)

	for _, tc := range []struct {
		input, split string
		n            float64
		selection    string
	}{
		{"catalog", "val", 5, `split "val"`},
		{"catalog", "all", 25, "all labelled rows"},
		{"no_test", "auto", 25, "all labelled rows (the catalog has no labelled test rows)"},
	} {
		env := runStage(t, work, `input = "`+tc.input+`"
output = "r_`+tc.split+`"
split = "`+tc.split+`"
bootstrap = 0`)
		m := readMetrics(t, filepath.Join(work, "r_"+tc.split+"_metrics"))
		if m["n"][0] != tc.n {
			t.Errorf("%s/%s: n = %g, want %g", tc.input, tc.split, m["n"][0], tc.n)
		}
		if top1 := m["top1"]; !math.IsNaN(top1[1]) || !math.IsNaN(top1[2]) {
			t.Errorf("%s/%s: bootstrap 0 gave an interval [%g, %g]", tc.input, tc.split, top1[1], top1[2])
		}
		if _, ok := m["top3"]; !ok {
			t.Errorf("%s/%s: no top3 (default k 3 with 3 classes)", tc.input, tc.split)
		}
		man, err := artifact.ReadManifest(filepath.Join(work, "r_"+tc.split))
		if err != nil {
			t.Fatal(err)
		}
		if man.Metadata[MetaSelection] != tc.selection {
			t.Errorf("%s/%s: selection %q, want %q", tc.input, tc.split, man.Metadata[MetaSelection], tc.selection)
		}
		if !strings.Contains(env.Summary()[0], "(n=") {
			t.Errorf("summary without interval: %q", env.Summary()[0])
		}
	}
}

func TestRunErrors(t *testing.T) {
	work := t.TempDir()
	rows := testRows()
	writeCatalog(t, filepath.Join(work, "unnamed"), testClasses, false, rows, map[string]string{catalog.MetaClassNames: ""})
	bad := append([]row(nil), rows...)
	bad[4].label = 7
	writeCatalog(t, filepath.Join(work, "bad_label"), testClasses, false, bad, nil)
	var unlabelled []row
	for _, r := range rows {
		r.label = -1
		unlabelled = append(unlabelled, r)
	}
	writeCatalog(t, filepath.Join(work, "unlabelled"), testClasses, false, unlabelled, nil)

	for input, want := range map[string]string{
		"unnamed":    `metadata "astroformer.class_names" is not a JSON list`,
		"bad_label":  "row 4: label 7 is not a class index (the catalog has 3 classes)",
		"unlabelled": "no labelled rows to score",
		"missing":    "not a committed artifact",
	} {
		s := decltest.MustDecode(t, Decode, "evaluate", `input = "`+input+`"
output = "report"`)
		err := s.Run(context.Background(), newEnv(work))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", input, err, want)
		}
		if _, err := os.Stat(filepath.Join(work, "report")); err == nil {
			t.Errorf("%s: a report was committed", input)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s, _ := decode(t, `input = "bad_label"
output = "report"`)
	if err := s.Run(ctx, newEnv(work)); err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("cancelled run: error %v", err)
	}
}

func TestSummaryLine(t *testing.T) {
	r := &results{
		classes: []string{"Disturbed Galaxies", "Merging Galaxies"},
		n:       1774, top1: 0.913, bootstrap: 1000,
		ci:     Interval{Lower: 0.8991, Upper: 0.9262, Level: 0.95},
		scores: []ClassScores{{Support: 10, F1: 0.62}, {Support: 20, F1: 0.95}},
		ece:    0.0314,
	}
	want := "top-1 91.3% [89.9, 92.6] (95% CI, n=1774) · worst class: Disturbed Galaxies (F1 0.62) · ECE 0.031"
	if got := r.summaryLine(); got != want {
		t.Errorf("summary\n got %q\nwant %q", got, want)
	}
}

func TestCurvePanels(t *testing.T) {
	series := []curveSeries{
		{name: "lr", scope: "train", points: []curvePoint{{epoch: 1, hasEpoch: true, value: 1}}},
		{name: "top1", scope: "val", points: []curvePoint{{epoch: 2, hasEpoch: true, value: .6}, {epoch: 1, hasEpoch: true, value: .5}}},
		{name: "loss", scope: "val", points: []curvePoint{{epoch: 1, hasEpoch: true, value: 2}}},
		{name: "loss", scope: "train", points: []curvePoint{ // per step: two values in epoch 1
			{epoch: 1, hasEpoch: true, step: 10, hasStep: true, value: 3},
			{epoch: 1, hasEpoch: true, step: 20, hasStep: true, value: 2.5},
		}},
		{name: "images_per_sec", scope: "train", points: []curvePoint{{step: 5, hasStep: true, value: 40}}},
	}
	panels := curvePanels(series)
	var titles []string
	for _, p := range panels {
		titles = append(titles, p.Title+"/"+p.XLabel)
	}
	want := "loss/step top-1 accuracy/epoch learning rate/epoch images per sec/step"
	if got := strings.Join(titles, " "); got != want {
		t.Fatalf("panels %q, want %q", got, want)
	}
	if l := panels[0].Lines; len(l) != 2 || l[0].Label != "train" || l[1].Label != "val" || len(l[1].X) != 0 {
		t.Errorf("loss lines %+v: want train then val, val without steps", l)
	}
	if l := panels[1].Lines[0]; l.X[0] != 1 || l.Y[0] != .5 || l.X[1] != 2 {
		t.Errorf("top-1 line %+v not sorted by epoch", l)
	}
	if a, b := panels[0].Lines[1].Color, panels[1].Lines[0].Color; a != b || a == panels[0].Lines[0].Color {
		t.Errorf("val is %v in the loss panel and %v in the top-1 panel; train %v", a, b, panels[0].Lines[0].Color)
	}
}
