// Package evaluate is the stage that scores a catalog against the truth: it
// reads the labelled rows of a catalog table written by the predict stage
// and writes a metrics table and a report folder.
//
// The metrics are top-1 and top-k accuracy with a bootstrap confidence
// interval for top-1, per-class precision, recall, F1 and support, macro and
// support-weighted F1, the confusion matrix and the expected calibration
// error (see metrics.go for the exact definitions). The report holds a
// confusion matrix heat map, a reliability diagram, training curves when the
// train stage's metrics table is given, and report.md and report.html; the
// HTML embeds its images and stands alone.
//
// The catalog is streamed: memory holds the confusion matrix, the
// calibration bins and one batch of rows, whatever the catalog's size.
package evaluate

import (
	"context"
	"fmt"
	"github.com/astroformer/astroformer/table"

	"github.com/hashicorp/hcl/v2"

	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/internal/decl"
)

// Kind is the stage kind.
const Kind = "evaluate"

// Defaults of the stage block's optional attributes.
const (
	DefaultTopK      = 3
	DefaultBootstrap = 1000
	DefaultBins      = 15
)

// maxGallery is the most cutouts per gallery cell.
const maxGallery = 20

// Level is the confidence level of the top-1 interval.
const Level = 0.95

// Split selections besides the split names.
const (
	SplitAuto = "auto" // the test split if the catalog has labelled test rows, else every labelled row
	SplitAll  = "all"  // every labelled row
)

// params determine the outputs; they enter the stage fingerprint. Decode
// decodes the stage block's attributes over the defaults.
type params struct {
	Input         string `hcl:"input" json:"input"`
	Metrics       string `hcl:"metrics,optional" json:"metrics,omitempty"`
	Output        string `hcl:"output" json:"output"`
	MetricsOutput string `hcl:"metrics_output,optional" json:"metrics_output"`
	Split         string `hcl:"split,optional" json:"split"`
	TopK          int    `hcl:"top_k,optional" json:"top_k"`
	Bootstrap     int    `hcl:"bootstrap,optional" json:"bootstrap"`
	Bins          int    `hcl:"bins,optional" json:"bins"`
	Seed          *int64 `hcl:"seed,optional" json:"seed,omitempty"` // nil: the job seed
	Cutouts       string `hcl:"cutouts,optional" json:"cutouts,omitempty"`
	Gallery       *int   `hcl:"gallery,optional" json:"gallery,omitempty"` // nil: DefaultGallery
}

// gallery returns the number of cutouts per gallery cell.
func (p params) gallery() int {
	if p.Gallery == nil {
		return DefaultGallery
	}
	return *p.Gallery
}

type stage struct {
	name string
	p    params
}

// Decode decodes an evaluate stage block:
//
//	stage "evaluate" "evaluate" {
//	  input          = "catalog"        # a catalog table from the predict stage
//	  metrics        = "train_metrics"  # optional: the train stage's metrics table, for training curves
//	  output         = "report"         # report folder: report.html, report.md, PNG plots
//	  metrics_output = "eval_metrics"   # optional; default "<output>_metrics"
//	  split          = "test"           # "train", "val", "test", "all" or "auto" (default: test if
//	                                    # the catalog has labelled test rows, else all labelled rows)
//	  top_k          = 3                # top-k accuracy, k capped at the number of classes
//	  bootstrap      = 1000             # resamples for the top-1 interval; 0 for none
//	  bins           = 15               # equal-width confidence bins of ECE and the reliability diagram
//	  seed           = 7                # optional; default the job seed
//	  cutouts        = "cutouts_split"  # optional: the cutouts table the catalog was predicted from,
//	                                    # for the gallery's pixels
//	  gallery        = 4                # cutouts per gallery cell, 0 to 20; 0 for no gallery
//	}
func Decode(name string, body hcl.Body, ctx *hcl.EvalContext) (pipeline.Stage, hcl.Diagnostics) {
	p := params{Split: SplitAuto, TopK: DefaultTopK, Bootstrap: DefaultBootstrap, Bins: DefaultBins}
	diags := decl.Decode(body, ctx, &p)
	if diags.HasErrors() {
		return nil, diags
	}
	d := decl.New(body, &diags)
	if !d.Given("metrics_output") {
		p.MetricsOutput = p.Output + "_metrics"
	}
	if p.Metrics == "" && d.Given("metrics") {
		d.Bad("metrics", "Empty metrics", "metrics names the train stage's metrics table; leave it out when there is none.")
	}
	switch p.Split {
	case schemas.SplitTrain, schemas.SplitVal, schemas.SplitTest, SplitAll, SplitAuto:
	default:
		d.Bad("split", "Invalid split", fmt.Sprintf("split is %q; use %q, %q, %q, %q (every labelled row) or %q (test if present, else all).",
			p.Split, schemas.SplitTrain, schemas.SplitVal, schemas.SplitTest, SplitAll, SplitAuto))
	}
	checkNumbers(&p, d.Bad)
	if p.Cutouts == "" && d.Given("cutouts") {
		d.Bad("cutouts", "Empty cutouts", "cutouts names the cutouts table the catalog was predicted from, for the gallery's pixels; leave it out when there is none.")
	}
	checkNames(p, d.Bad)
	if diags.HasErrors() {
		return nil, diags
	}
	return &stage{name: name, p: p}, diags
}

// checkNumbers reports the numeric attributes of p out of range with bad.
func checkNumbers(p *params, bad func(attr, summary, detail string)) {
	if p.TopK < 1 {
		bad("top_k", "Invalid top_k", fmt.Sprintf("top_k is %d; it counts classes and is at least 1 (default %d).", p.TopK, DefaultTopK))
	}
	if p.Bootstrap < 0 || p.Bootstrap > 1_000_000 {
		bad("bootstrap", "Invalid bootstrap", fmt.Sprintf("bootstrap is %d; give the number of resamples, 0 to 1000000 (0: no interval; default %d).", p.Bootstrap, DefaultBootstrap))
	}
	if p.Bins < 1 || p.Bins > 1000 {
		bad("bins", "Invalid bins", fmt.Sprintf("bins is %d; give 1 to 1000 confidence bins (default %d).", p.Bins, DefaultBins))
	}
	if n := p.gallery(); n < 0 || n > maxGallery {
		bad("gallery", "Invalid gallery", fmt.Sprintf("gallery is %d; give 0 to %d cutouts per gallery cell (0: no gallery; default %d).", n, maxGallery, DefaultGallery))
	}
}

// checkNames reports artifact names that are empty or named twice.
func checkNames(p params, bad func(attr, summary, detail string)) {
	names := map[string]string{}
	for _, a := range []struct{ attr, value, what string }{
		{"input", p.Input, "a catalog table"},
		{"output", p.Output, "the report folder"},
		{"metrics_output", p.MetricsOutput, "the metrics table to write"},
		{"metrics", p.Metrics, "the train stage's metrics table"},
		{"cutouts", p.Cutouts, "the cutouts table the catalog was predicted from"},
	} {
		switch {
		case a.value == "" && a.attr != "metrics" && a.attr != "cutouts":
			bad(a.attr, "Empty "+a.attr, a.attr+" names "+a.what+".")
		case a.value == "":
		case names[a.value] != "":
			bad(a.attr, "Artifact named twice", fmt.Sprintf("%s and %s are both %q; each names a different artifact.", names[a.value], a.attr, a.value))
		default:
			names[a.value] = a.attr
		}
	}
}

// Revision is the revision of the evaluate stage's results (see
// pipeline.Revisioned): 2 added the gallery and the sky map to the report.
const Revision = "2"

func (s *stage) Revision() string { return Revision }

func (s *stage) Name() string { return s.name }
func (s *stage) Kind() string { return Kind }
func (s *stage) Params() any  { return s.p }

func (s *stage) Inputs() []string {
	in := []string{s.p.Input}
	for _, name := range []string{s.p.Metrics, s.p.Cutouts} {
		if name != "" {
			in = append(in, name)
		}
	}
	return in
}

func (s *stage) Outputs() []string { return []string{s.p.Output, s.p.MetricsOutput} }

// Run scores the catalog, then commits the metrics table and the report.
func (s *stage) Run(ctx context.Context, env *pipeline.Env) error {
	seed := env.Seed
	if s.p.Seed != nil {
		seed = *s.p.Seed
	}
	if tab, err := table.Open(env.Path(s.p.Input)); err == nil {
		tree, err := voteTree(tab)
		if err != nil {
			return err
		}
		if tree != nil {
			return s.runVotes(ctx, env, tab, tree)
		}
	}
	cat, err := openCatalog(env.Path(s.p.Input))
	if err != nil {
		return err
	}
	bar := env.Progress.Bar(s.name, cat.table.Rows())
	opt := scanOptions{split: s.p.Split, topK: s.p.TopK, bins: s.p.Bins, gallery: s.p.gallery(), seed: seed}
	sc, err := scanCatalog(ctx, cat, opt, bar.IncrBy)
	bar.Done()
	if err != nil {
		return err
	}
	res := score(cat.classes, sc, s.p.Bootstrap, seed)

	var curves []curveSeries
	if s.p.Metrics != "" {
		var truncated bool
		curves, truncated, err = readCurves(ctx, env.Path(s.p.Metrics))
		if err != nil {
			return err
		}
		if truncated {
			env.Log.Warn("training curves truncated", "metrics", s.p.Metrics, "points", maxCurvePoints)
		}
	}
	figs, err := drawFigures(res, curves)
	if err != nil {
		return err
	}
	sky, skyNote, err := drawSky(sc.sky, cat.classes)
	if err != nil {
		return err
	}
	if sky != nil {
		figs = append(figs, *sky)
	}
	gallery, err := s.gallery(ctx, env, sc, cat.classes)
	if err != nil {
		return err
	}

	if err := writeMetrics(env, s.p.MetricsOutput, res, seed); err != nil {
		return err
	}
	m := env.Manifest(s.p.Output)
	rep := newReport(env, s, seed, m.Created, cat, res, figs)
	rep.Gallery, rep.SkyNote = gallery, skyNote
	if err := writeReport(env.Path(s.p.Output), m, rep, figs, res); err != nil {
		return err
	}
	env.Summarize("%s", res.summaryLine())
	env.Summarize("report: %s (report.html, report.md); metrics: %s", s.p.Output, s.p.MetricsOutput)
	return nil
}

// gallery fetches the pixels of the gallery's candidates from the cutouts
// table, when the stage has one, and lays the gallery out; it returns nil
// when the stage draws no gallery.
func (s *stage) gallery(ctx context.Context, env *pipeline.Env, sc *scanned, classes []string) (*gallerySection, error) {
	g := sc.acc.gallery
	if g == nil {
		return nil, nil
	}
	var thumbs map[string][]byte
	if s.p.Cutouts != "" {
		var err error
		if thumbs, err = fetchThumbnails(ctx, env.Path(s.p.Cutouts), g.objectIDs()); err != nil {
			return nil, err
		}
	}
	return newGallerySection(g, classes, thumbs, sc.from, s.p.Cutouts), nil
}
