package evaluate

import (
	"encoding/base64"
	"fmt"
	htmltemplate "html/template"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/catalog"
	"github.com/astroformer/astroformer/pipeline"
)

// ReportFormat is the manifest format of the report folder.
const ReportFormat = "astroformer.report/1"

// Files of the report folder besides the figures.
const (
	ReportMarkdown = "report.md"
	ReportHTML     = "report.html"
)

// maxMetaValue is the longest catalog metadata value the report shows in
// full; longer ones (JSON blobs) are cut.
const maxMetaValue = 160

// report is what the Markdown and HTML templates render. Numbers are
// formatted once, here, so that both show the same.
type report struct {
	Title      string
	Summary    string
	Worst      string // class with the lowest F1, when there are several classes
	Stats      []keyValue
	Classes    []classRow
	Gallery    *gallerySection // nil without a gallery
	Figures    []reportFigure
	SkyNote    string // why there is no sky map, when there is none
	Provenance []keyValue
}

type keyValue struct{ Key, Value string }

type classRow struct {
	Name                  string
	Support               int64
	Precision, Recall, F1 string
	Worst                 bool
}

type reportFigure struct {
	File, Title, Caption string
	DataURI              htmltemplate.URL // the PNG as a data: URI, for the HTML report
}

func pct(v float64) string    { return fmt.Sprintf("%.1f%%", 100*v) }
func fixed3(v float64) string { return fmt.Sprintf("%.3f", v) }

// newReport gathers the report's content.
func newReport(env *pipeline.Env, s *stage, seed int64, created time.Time, cat *catalogTable, r *results, figs []figure) *report {
	rep := &report{
		Title:   fmt.Sprintf("Evaluation of %s", s.p.Input),
		Summary: r.summaryLine(),
	}
	top1 := pct(r.top1)
	if r.hasCI() {
		top1 += fmt.Sprintf(" (%g%% CI %s to %s, percentile bootstrap, %d resamples)",
			100*r.ci.Level, pct(r.ci.Lower), pct(r.ci.Upper), r.bootstrap)
	}
	rep.Stats = []keyValue{
		{"rows scored", fmt.Sprintf("%d: %s (catalog: %d rows, %d labelled)", r.n, r.selection, r.rows, r.labelled)},
		{"top-1 accuracy", top1},
	}
	if r.k > 1 {
		rep.Stats = append(rep.Stats, keyValue{fmt.Sprintf("top-%d accuracy", r.k), pct(r.topK)})
	}
	rep.Stats = append(rep.Stats,
		keyValue{"macro F1", fixed3(r.macroF1)},
		keyValue{"weighted F1", fixed3(r.weightedF1)},
		keyValue{"expected calibration error", fmt.Sprintf("%s (%d equal-width confidence bins)", fixed3(r.ece), len(r.bins))},
	)
	worst := r.worst()
	for i, sc := range r.scores {
		rep.Classes = append(rep.Classes, classRow{
			Name: r.classes[i], Support: sc.Support,
			Precision: fixed3(sc.Precision), Recall: fixed3(sc.Recall), F1: fixed3(sc.F1),
			Worst: i == worst && len(r.classes) > 1,
		})
		if i == worst && len(r.classes) > 1 {
			rep.Worst = r.classes[i]
		}
	}
	for _, f := range figs {
		rep.Figures = append(rep.Figures, reportFigure{
			File: f.file, Title: f.title, Caption: f.caption,
			DataURI: htmltemplate.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(f.png)),
		})
	}

	md := cat.table.Manifest().Metadata
	prov := []keyValue{
		{"job", env.Job},
		{"stage", fmt.Sprintf("%s (%s)", s.name, Kind)},
		{"catalog", fmt.Sprintf("%s (fingerprint %s)", s.p.Input, cat.table.Manifest().Fingerprint)},
		{"model variant", orUnknown(md[catalog.MetaModelVariant])},
		{"checkpoint sha256", orUnknown(md[catalog.MetaCheckpointSHA256])},
	}
	if s.p.Metrics != "" {
		prov = append(prov, keyValue{"training metrics", s.p.Metrics})
	}
	prov = append(prov,
		keyValue{"bootstrap seed", strconv.FormatInt(seed, 10)},
		keyValue{"producer", env.Producer},
		keyValue{"created", created.UTC().Format(time.RFC3339)},
	)
	for _, k := range slices.Sorted(maps.Keys(md)) {
		switch k {
		case catalog.MetaModelVariant, catalog.MetaCheckpointSHA256:
			continue
		case catalog.MetaClassNames:
			prov = append(prov, keyValue{"catalog " + k, fmt.Sprintf("%d classes (listed above)", len(cat.classes))})
			continue
		}
		v := md[k]
		if len(v) > maxMetaValue {
			v = v[:maxMetaValue] + "…"
		}
		prov = append(prov, keyValue{"catalog " + k, v})
	}
	rep.Provenance = prov
	return rep
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown (not in the catalog metadata)"
	}
	return s
}

// writeReport writes the figures, report.md, report.html and the manifest
// into a staging folder and commits it as dir.
func writeReport(dir string, m artifact.Manifest, rep *report, figs []figure, r *results) error {
	staging, err := artifact.Stage(dir)
	if err != nil {
		return err
	}
	if err := fillReport(staging, rep, figs); err != nil {
		artifact.Discard(staging)
		return err
	}
	m.Format = ReportFormat
	m.Metadata = map[string]string{
		MetaSelection:   r.selection,
		"evaluate.n":    strconv.FormatInt(r.n, 10),
		"evaluate.top1": strconv.FormatFloat(r.top1, 'g', 6, 64),
		"evaluate.ece":  strconv.FormatFloat(r.ece, 'g', 6, 64),
	}
	return commitStaged(staging, dir, &m)
}

// commitStaged writes the manifest m into staging and commits staging as
// dir; on failure it discards staging.
func commitStaged(staging, dir string, m *artifact.Manifest) error {
	err := artifact.WriteManifest(staging, m)
	if err == nil {
		err = artifact.Commit(staging, dir)
	}
	if err != nil {
		artifact.Discard(staging)
	}
	return err
}

func fillReport(staging string, rep *report, figs []figure) error {
	files := make(map[string][]byte, len(figs))
	for _, f := range figs {
		files[f.file] = f.png
	}
	if rep.Gallery != nil && len(rep.Gallery.files) > 0 {
		if err := os.Mkdir(filepath.Join(staging, GalleryDir), 0o755); err != nil {
			return fmt.Errorf("evaluate: %w", err)
		}
		for _, f := range rep.Gallery.files {
			files[f.name] = f.png
		}
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(staging, filepath.FromSlash(name)), data, 0o644); err != nil {
			return fmt.Errorf("evaluate: %w", err)
		}
	}
	for _, out := range []struct {
		file  string
		write func(io.Writer, *report) error
	}{{ReportMarkdown, writeMarkdown}, {ReportHTML, writeHTML}} {
		f, err := os.Create(filepath.Join(staging, out.file))
		if err != nil {
			return fmt.Errorf("evaluate: %w", err)
		}
		err = out.write(f, rep)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("evaluate: writing %s: %w", out.file, err)
		}
	}
	return nil
}

// mdCell escapes text for a cell of a Markdown table.
func mdCell(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "|", `\|`, "\n", " ", "*", `\*`, "<", "&lt;")
	return r.Replace(s)
}

var markdownTemplate = template.Must(template.New("report.md").Funcs(template.FuncMap{"cell": mdCell}).Parse(
	`# {{cell .Title}}

{{.Summary}}

## Summary

| metric | value |
|---|---|
{{range .Stats}}| {{cell .Key}} | {{cell .Value}} |
{{end}}
## Per-class scores

| class | support | precision | recall | F1 |
|---|---:|---:|---:|---:|
{{range .Classes}}| {{cell .Name}}{{if .Worst}} (worst){{end}} | {{.Support}} | {{.Precision}} | {{.Recall}} | {{.F1}} |
{{end}}
Precision, recall and F1 are one-vs-rest; a ratio with a zero denominator is reported as 0.
{{with .Gallery}}
## Gallery

{{.Caption}} A ✗ marks a wrong prediction.
{{with .Note}}
{{.}}
{{end}}
| class |{{range .Headers}} {{.}} |{{end}}
|---|{{range .Headers}}---|{{end}}
{{range .Rows}}| {{cell .Class}} |{{range .Cells}} {{range .}}{{if .File}}![cutout]({{.File}})<br>{{end}}{{if .Wrong}}✗ {{end}}{{cell .ObjectID}}<br>pred {{cell .Pred}} {{.Confidence}}{{with .Truth}}<br>true {{cell .}}{{end}}<br>{{else}}none{{end}} |{{end}}
{{end}}{{end}}{{range .Figures}}
## {{.Title}}

![{{.Title}}]({{.File}})

{{.Caption}}
{{end}}{{with .SkyNote}}
## Sky map

{{.}}
{{end}}
## Provenance

| item | value |
|---|---|
{{range .Provenance}}| {{cell .Key}} | {{cell .Value}} |
{{end}}`))

func writeMarkdown(w io.Writer, rep *report) error { return markdownTemplate.Execute(w, rep) }

var htmlTemplate = htmltemplate.Must(htmltemplate.New("report.html").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 64rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.worst td { background: #fbe9e7; }
.summary { font-size: 1.1rem; padding: 0.6rem 0.8rem; background: #eef4fb; border-left: 4px solid #0072b2; }
figure { margin: 1.5rem 0; }
figure img { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 0.9rem; }
table.gallery th, table.gallery td { vertical-align: top; }
table.gallery tr > th:first-child { width: 9rem; }
.thumbs { display: grid; grid-template-columns: repeat(2, 100px); gap: 6px; }
figure.thumb { margin: 0; width: 100px; }
figure.thumb img, figure.thumb .nopix { display: block; width: 96px; height: 96px; border: 2px solid #ddd; image-rendering: auto; }
figure.thumb.wrong img, figure.thumb.wrong .nopix { border-color: #d55e00; }
figure.thumb .nopix { background: #eee; color: #888; font-size: 0.75rem; text-align: center; line-height: 96px; }
figure.thumb figcaption { font-size: 0.7rem; line-height: 1.25; overflow-wrap: anywhere; color: #333; }
figure.thumb.wrong figcaption .pred { color: #b34700; font-weight: 600; }
.note { color: #8a4b00; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="summary">{{.Summary}}</p>

<h2>Summary</h2>
<table>
{{range .Stats}}<tr><th>{{.Key}}</th><td>{{.Value}}</td></tr>
{{end}}</table>

<h2>Per-class scores</h2>
<table>
<tr><th>class</th><th>support</th><th>precision</th><th>recall</th><th>F1</th></tr>
{{range .Classes}}<tr{{if .Worst}} class="worst"{{end}}><td>{{.Name}}</td><td class="num">{{.Support}}</td><td class="num">{{.Precision}}</td><td class="num">{{.Recall}}</td><td class="num">{{.F1}}</td></tr>
{{end}}</table>
<p>Precision, recall and F1 are one-vs-rest; a ratio with a zero denominator is reported as 0.{{with .Worst}} The highlighted row, {{.}}, is the class with the lowest F1.{{end}}</p>
{{with .Gallery}}
<h2>Gallery</h2>
<p>{{.Caption}} An orange frame and label mark a wrong prediction; hovering a cutout shows its details.</p>
{{with .Note}}<p class="note">{{.}}</p>
{{end}}<table class="gallery">
<tr><th>class</th>{{range .Headers}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr><th>{{.Class}}</th>{{range .Cells}}<td><div class="thumbs">{{range .}}<figure class="thumb{{if .Wrong}} wrong{{end}}" title="{{.Tooltip}}">{{if .DataURI}}<img src="{{.DataURI}}" alt="{{.ObjectID}}">{{else}}<div class="nopix">no cutout</div>{{end}}<figcaption><code>{{.ObjectID}}</code><br><span class="pred">pred {{.Pred}} {{.Confidence}}</span>{{with .Truth}}<br>true {{.}}{{end}}</figcaption></figure>{{else}}<span class="none">none</span>{{end}}</div></td>{{end}}</tr>
{{end}}</table>
{{end}}{{range .Figures}}
<h2>{{.Title}}</h2>
<figure>
<img src="{{.DataURI}}" alt="{{.Title}}">
<figcaption>{{.Caption}}</figcaption>
</figure>
{{end}}{{with .SkyNote}}
<h2>Sky map</h2>
<p>{{.}}</p>
{{end}}
<h2>Provenance</h2>
<table>
{{range .Provenance}}<tr><th>{{.Key}}</th><td>{{.Value}}</td></tr>
{{end}}</table>
</body>
</html>
`))

func writeHTML(w io.Writer, rep *report) error { return htmlTemplate.Execute(w, rep) }
