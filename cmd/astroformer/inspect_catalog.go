package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/astroformer/astroformer/catalog"
	"github.com/astroformer/astroformer/internal/skymap"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/table"
)

// skySeed seeds the sample of positions the sky map draws, so that a
// catalog's map is the same on every run.
const skySeed = 1

// catalogClasses returns the class names of a catalog table (the JSON list
// in its manifest metadata), or nil when t is not a catalog: no such list,
// or no ra, dec and predicted_class columns.
func catalogClasses(t *table.Table) []string {
	raw, ok := t.Manifest().Metadata[catalog.MetaClassNames]
	if !ok || len(missingColumns(t.Schema(), skymap.Columns)) > 0 {
		return nil
	}
	var classes []string
	if json.Unmarshal([]byte(raw), &classes) != nil || len(classes) == 0 {
		return nil
	}
	return classes
}

// inspectCatalog prints the number of rows predicted as each class and
// writes the catalog's sky map to path, in one scan of the ra, dec and
// predicted_class columns.
func inspectCatalog(ctx context.Context, w io.Writer, t *table.Table, classes []string, path string) error {
	counts := make([]int64, len(classes))
	var other int64 // predicted_class outside the class list
	m := skymap.New(skySeed)
	sc := t.Scan(ctx, table.ScanOptions{Columns: skymap.Columns})
	defer sc.Close()
	for sc.Next() {
		cr, err := schemas.NewCatalogReader(sc.Record(), classes, skymap.Columns...)
		if err != nil {
			return err
		}
		if err := m.AddColumns(cr.RA, cr.Dec, cr.PredictedClass); err != nil {
			return err
		}
		preds := cr.PredictedClass
		for i := range preds.Len() {
			if c := int(preds.Value(i)); c >= 0 && c < len(classes) {
				counts[c]++
			} else {
				other++
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	writeClassCounts(w, classes, counts, other)
	if m.Positions() == 0 {
		fmt.Fprintf(w, "\nno sky map: none of the %d rows has ra/dec\n", m.Missing())
		return nil
	}
	var buf bytes.Buffer
	sum, err := m.Draw(&buf, "catalog positions by predicted class", classes)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return err
	}
	view := "zoomed to the footprint"
	if sum.AllSky {
		view = "whole sky, Mollweide"
	}
	fmt.Fprintf(w, "\nsky map: %s (%d positions, %d rows without ra/dec left off; %s; HEALPix order %d density)\n",
		path, sum.Positions, sum.Missing, view, sum.Order)
	return nil
}

// writeClassCounts prints rows per predicted class with their share.
func writeClassCounts(w io.Writer, classes []string, counts []int64, other int64) {
	var total int64
	for _, n := range counts {
		total += n
	}
	total += other
	fmt.Fprintf(w, "\nrows per predicted class:\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	share := func(n int64) string {
		if total == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(total))
	}
	width := len("predicted class")
	for _, c := range classes {
		width = max(width, len(c))
	}
	fmt.Fprintf(tw, "%-*s\trows\tshare\t\n", width, "predicted class")
	for i, c := range classes {
		fmt.Fprintf(tw, "%-*s\t%d\t%s\t\n", width, c, counts[i], share(counts[i]))
	}
	if other > 0 {
		fmt.Fprintf(tw, "%-*s\t%d\t%s\t\n", width, "(not a class index)", other, share(other))
	}
	fmt.Fprintf(tw, "%-*s\t%d\t\t\n", width, "total", total)
	tw.Flush()
}
