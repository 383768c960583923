package main

import (
	"bufio"
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/astroformer/astroformer/export"
	"github.com/astroformer/astroformer/table"
)

const exportDescription = `
Export writes the table TABLE (a catalog, or any table of numbers, booleans,
strings and fixed-size lists of numbers such as embeddings) in a format that
astronomy tools read natively, streaming it batch by batch whatever its size:

  fits     a FITS binary table (BINTABLE) with TTYPE/TFORM/TUNIT per column,
           TNULL for null integers, NaN for null floats, UCDs (TUCDn) and
           descriptions (TCOMMn), and the provenance (MODEL, CKSHA256,
           CLASSn, JOB, CREATOR, DATE) in the header
  votable  a VOTable 1.4 (BINARY2) with units, UCDs and descriptions, and
           the table's metadata as INFO elements
  csv      a header line, then one line per row; nulls are empty

The file is written atomically (FILE appears complete or not at all). With
--output - it goes to standard output. Null strings become empty strings in
FITS and CSV; characters outside printable ASCII become '?' in FITS.
`

func (c *cli) export(ctx context.Context, args []string) int {
	fs := c.flagSet(commandNamed("export"), exportDescription)
	format := fs.String("format", "fits", "output `FORMAT`: fits, votable or csv")
	output := fs.String("output", "", "output `FILE` (default TABLE.fits, TABLE.vot or TABLE.csv beside the table folder; - for standard output)")
	columns := fs.String("columns", "", "comma-separated `COLUMNS` to export, in order (default all)")
	dir, status, ok := parseOne(fs, args, "table folder")
	if !ok {
		return status
	}
	f, err := export.ParseFormat(*format)
	if err != nil {
		return usageError(fs, "--format: %v", err)
	}
	opt := export.Options{}
	if *columns != "" {
		opt.Columns = strings.Split(*columns, ",")
	}
	out := *output
	if out == "" {
		out = filepath.Clean(dir) + f.Ext()
	}
	if err := c.exportTable(ctx, dir, f, out, opt); err != nil {
		return c.failed("astroformer export", err, "interrupted; nothing was written")
	}
	return exitOK
}

// exportTable writes the table dir to out ("-": standard output).
func (c *cli) exportTable(ctx context.Context, dir string, f export.Format, out string, opt export.Options) error {
	t, err := table.Open(dir)
	if err != nil {
		return err
	}
	if out == "-" {
		bw := bufio.NewWriterSize(c.stdout, 1<<20)
		if err := export.Write(ctx, t, f, bw, opt); err != nil {
			return err
		}
		return bw.Flush()
	}
	if err := export.WriteFile(ctx, t, f, out, opt); err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "exported %d rows of %s to %s (%s)\n", t.Rows(), dir, out, f)
	return nil
}
