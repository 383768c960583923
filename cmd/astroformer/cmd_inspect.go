package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/astroformer/astroformer/catalog"
	"github.com/astroformer/astroformer/internal/skymap"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/table"
)

const inspectDescription = `
Inspect prints a table's manifest, its schema with units and descriptions,
its parts, and, when it has a label_name column, the number of rows per class
and split. For a table of cutouts it also writes a PNG contact sheet with the
first --per-class cutouts of every class, by default next to the table as
<table>_sheet.png.

For a catalog table (the predict stage's output) it also prints the number of
rows predicted as each class and writes a sky map PNG, by default next to the
table as <table>_sky.png: the positions coloured by predicted class, zoomed
to the catalog's footprint or on the whole sky, over a HEALPix density map.
Rows without ra/dec are left off the map and counted.

A table that cannot be read, or that lacks the columns a contact sheet needs
when --sheet is given, or that is not a catalog when --sky is given, is a
runtime failure (exit status 1).
`

// unlabelled is the class shown for rows whose label_name is null.
const unlabelled = "(unlabelled)"

func (c *cli) inspect(ctx context.Context, args []string) int {
	fs := c.flagSet(commandNamed("inspect"), inspectDescription)
	sheetPath := fs.String("sheet", "", "write the contact sheet to `PNG` (default <table>_sheet.png next to the table)")
	perClass := fs.Int("per-class", 8, "cutouts per class on the contact sheet; 0 writes no sheet")
	skyPath := fs.String("sky", "", "for a catalog, write the sky map to `PNG` (default <table>_sky.png next to the table)")
	arg, status, ok := parseOne(fs, args, "table folder")
	if !ok {
		return status
	}
	if *perClass < 0 {
		return usageError(fs, "--per-class must be 0 or more, got %d", *perClass)
	}
	dir := filepath.Clean(arg)
	t, err := table.Open(dir)
	if err != nil {
		fmt.Fprintf(c.stderr, "astroformer inspect: %v\n", err)
		return exitFailure
	}

	var out strings.Builder
	describeTable(&out, t)
	var hist *histogram
	if hasColumn(t.Schema(), "label_name") {
		if hist, err = classHistogram(ctx, t); err != nil {
			io.WriteString(c.stdout, out.String())
			fmt.Fprintf(c.stderr, "astroformer inspect: %s: %v\n", dir, err)
			return exitFailure
		}
		hist.write(&out)
	}
	io.WriteString(c.stdout, out.String())
	if status := c.inspectSky(ctx, t, *skyPath); status != exitOK {
		return status
	}

	explicit := *sheetPath != ""
	if *perClass == 0 {
		return exitOK
	}
	if missing := missingColumns(t.Schema(), sheetColumns()); len(missing) > 0 {
		if explicit {
			fmt.Fprintf(c.stderr, "astroformer inspect: %s: cannot draw a contact sheet: no column %s\n", dir, strings.Join(missing, ", "))
			return exitFailure
		}
		return exitOK
	}
	if !explicit {
		*sheetPath = filepath.Join(filepath.Dir(dir), filepath.Base(dir)+"_sheet.png")
	}
	n, err := writeSheet(ctx, t, hist, *perClass, *sheetPath) // label_name is a sheet column: hist is set
	if err != nil {
		fmt.Fprintf(c.stderr, "astroformer inspect: %s: %v\n", dir, err)
		return exitFailure
	}
	fmt.Fprintf(c.stdout, "\ncontact sheet: %s (%d cutouts)\n", *sheetPath, n)
	return exitOK
}

// inspectSky prints the predicted class counts of a catalog table and writes
// its sky map to path (default <table>_sky.png); other tables are left
// alone unless path is given.
func (c *cli) inspectSky(ctx context.Context, t *table.Table, path string) int {
	classes := catalogClasses(t)
	if classes == nil {
		if path != "" {
			fmt.Fprintf(c.stderr, "astroformer inspect: %s: cannot draw a sky map: not a catalog table (no %s metadata, or no column %s)\n",
				t.Dir(), catalog.MetaClassNames, strings.Join(skymap.Columns, ", "))
			return exitFailure
		}
		return exitOK
	}
	if path == "" {
		path = filepath.Join(filepath.Dir(t.Dir()), filepath.Base(t.Dir())+"_sky.png")
	}
	if err := inspectCatalog(ctx, c.stdout, t, classes, path); err != nil {
		fmt.Fprintf(c.stderr, "astroformer inspect: %s: %v\n", t.Dir(), err)
		return exitFailure
	}
	return exitOK
}

func describeTable(w io.Writer, t *table.Table) {
	m := t.Manifest()
	fmt.Fprintf(w, "table %s\n", t.Dir())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  format\t%s\n", m.Format)
	fmt.Fprintf(tw, "  name\t%s\n", m.Name)
	fmt.Fprintf(tw, "  stage\t%s (%s)\n", m.Stage, m.Kind)
	fmt.Fprintf(tw, "  producer\t%s\n", m.Producer)
	fmt.Fprintf(tw, "  created\t%s\n", m.Created.Format("2006-01-02 15:04:05 MST"))
	fmt.Fprintf(tw, "  fingerprint\t%s\n", m.Fingerprint)
	var bytes int64
	for _, p := range m.Parts {
		bytes += p.Bytes
	}
	fmt.Fprintf(tw, "  rows\t%d in %d parts, %s\n", m.Rows, len(m.Parts), formatBytes(bytes))
	for _, k := range slices.Sorted(maps.Keys(m.Metadata)) {
		fmt.Fprintf(tw, "  %s\t%s\n", k, m.Metadata[k])
	}
	tw.Flush()

	const maxParts = 10
	fmt.Fprintf(w, "\nparts:\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for i, p := range m.Parts {
		if i == maxParts {
			fmt.Fprintf(tw, "  ... %d more\t\t\t\n", len(m.Parts)-maxParts)
			break
		}
		fmt.Fprintf(tw, "  %s\t%d rows\t%s\t\n", p.File, p.Rows, formatBytes(p.Bytes))
	}
	tw.Flush()

	s := t.Schema()
	fmt.Fprintf(w, "\nschema (%d columns):\n", s.NumFields())
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range s.Fields() {
		null := ""
		if f.Nullable {
			null = "null"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", f.Name, f.Type, null,
			fieldMeta(f, schemas.MetaUnit), fieldMeta(f, schemas.MetaDescription))
	}
	tw.Flush()
}

func fieldMeta(f arrow.Field, key string) string {
	if i := f.Metadata.FindKey(key); i >= 0 {
		return f.Metadata.Values()[i]
	}
	return ""
}

func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func hasColumn(s *arrow.Schema, name string) bool { return len(s.FieldIndices(name)) > 0 }

func missingColumns(s *arrow.Schema, names []string) []string {
	var missing []string
	for _, n := range names {
		if !hasColumn(s, n) {
			missing = append(missing, n)
		}
	}
	return missing
}

// histogram counts rows per class and split.
type histogram struct {
	classes []string // ordered by label index when there is one, then name
	splits  []string // ordered train, val, test, others
	counts  map[[2]string]int64
	total   map[string]int64 // per class
}

// classHistogram scans label_name, and label and split when present.
func classHistogram(ctx context.Context, t *table.Table) (*histogram, error) {
	cols := []string{"label_name"}
	withSplit, withLabel := hasColumn(t.Schema(), "split"), hasColumn(t.Schema(), "label")
	if withSplit {
		cols = append(cols, "split")
	}
	if withLabel {
		cols = append(cols, "label")
	}
	h := &histogram{counts: map[[2]string]int64{}, total: map[string]int64{}}
	order := map[string]int64{} // class -> smallest label index seen
	splits := map[string]bool{}
	sc := t.Scan(ctx, table.ScanOptions{Columns: cols})
	defer sc.Close()
	for sc.Next() {
		rec := sc.Record()
		names, err := columnAs[*array.String](rec, 0)
		if err != nil {
			return nil, err
		}
		var split *array.String
		if withSplit {
			if split, err = columnAs[*array.String](rec, 1); err != nil {
				return nil, err
			}
		}
		var label *array.Int16
		if withLabel {
			if label, err = columnAs[*array.Int16](rec, len(cols)-1); err != nil {
				return nil, err
			}
		}
		for i := range int(rec.NumRows()) {
			class := unlabelled
			if names.IsValid(i) {
				class = names.Value(i)
			}
			s := ""
			if split != nil && split.IsValid(i) {
				s = split.Value(i)
			}
			splits[s] = true
			h.counts[[2]string{class, s}]++
			h.total[class]++
			idx := int64(1 << 20)
			if label != nil && label.IsValid(i) {
				idx = int64(label.Value(i))
			}
			if o, ok := order[class]; !ok || idx < o {
				order[class] = idx
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	h.classes = slices.SortedFunc(maps.Keys(h.total), func(a, b string) int {
		return cmp.Or(cmp.Compare(order[a], order[b]), cmp.Compare(a, b))
	})
	rank := map[string]int{schemas.SplitTrain: 0, schemas.SplitVal: 1, schemas.SplitTest: 2}
	h.splits = slices.SortedFunc(maps.Keys(splits), func(a, b string) int {
		ra, oka := rank[a]
		rb, okb := rank[b]
		if !oka {
			ra = 3
		}
		if !okb {
			rb = 3
		}
		return cmp.Or(cmp.Compare(ra, rb), cmp.Compare(a, b))
	})
	return h, nil
}

func (h *histogram) write(w io.Writer) {
	fmt.Fprintf(w, "\nrows per class and split:\n")
	// Right-aligned numbers; class names are padded here to stay left-aligned
	// (the cell padding indents them by two).
	width := len("class")
	for _, class := range h.classes {
		width = max(width, len(class))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-*s\t", width, "class")
	for _, s := range h.splits {
		if s == "" {
			s = "(none)"
		}
		fmt.Fprintf(tw, "%s\t", s)
	}
	fmt.Fprintf(tw, "total\t\n")
	var grand int64
	for _, class := range h.classes {
		fmt.Fprintf(tw, "%-*s\t", width, class)
		for _, s := range h.splits {
			fmt.Fprintf(tw, "%d\t", h.counts[[2]string{class, s}])
		}
		fmt.Fprintf(tw, "%d\t\n", h.total[class])
		grand += h.total[class]
	}
	fmt.Fprintf(tw, "%-*s\t", width, "total")
	for _, s := range h.splits {
		var n int64
		for _, class := range h.classes {
			n += h.counts[[2]string{class, s}]
		}
		fmt.Fprintf(tw, "%d\t", n)
	}
	fmt.Fprintf(tw, "%d\t\n", grand)
	tw.Flush()
}

// columnAs returns column i of rec as an A, or an error naming the column
// and both types.
func columnAs[A arrow.Array](rec arrow.Record, i int) (A, error) {
	col, ok := rec.Column(i).(A)
	if !ok {
		var want A
		return want, fmt.Errorf("column %q has type %s, expected %T", rec.ColumnName(i), rec.Column(i).DataType(), want)
	}
	return col, nil
}
