package main

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/astroformer/astroformer/catalog"
)

const catalogDescription = `
Catalog works on catalog tables. Its one subcommand:

  merge CATALOG   join the shards in CATALOG.shards/ (written by
                  "astroformer predict --shard I/N") into the table CATALOG

Run 'astroformer catalog merge -h' for its flags.
`

const catalogMergeDescription = `
Merge checks that CATALOG.shards/ holds every shard 0..N-1 of one run, each
committed once, all made from the same checkpoint, input, options and
astroformer version, with intact part files (SHA-256); then it links their
part files, in shard order, into the table CATALOG and commits its manifest
atomically. The rows come in the order of an unsharded run. Errors name the
shard folders at fault; nothing is written then.

When the shards were predicted with --healpix-order K (or with
--healpix-order here), the HATS layout CATALOG_hats is written after the
merge. The shards folder is removed unless --keep-shards is given.
`

func (c *cli) catalog(ctx context.Context, args []string) int {
	cmd := commandNamed("catalog")
	if len(args) == 0 || args[0] != "merge" {
		fs := c.flagSet(cmd, catalogDescription)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			fs.SetOutput(c.stdout)
			fs.Usage()
			return exitOK
		}
		if len(args) == 0 {
			return usageError(fs, "missing subcommand")
		}
		return usageError(fs, "unknown subcommand %q", args[0])
	}
	fs := c.flagSet(command{name: "catalog merge", args: "CATALOG [flags]"}, catalogMergeDescription)
	keep := fs.Bool("keep-shards", false, "keep the shards folder after merging")
	order := fs.Int("healpix-order", -1, "write CATALOG_hats partitioned at HEALPix `ORDER` 0-29; -1 for the order the shards were predicted with, if any")
	output, status, ok := parseOne(fs, args[1:], "catalog folder")
	if !ok {
		return status
	}
	if *order < -1 || *order > catalog.MaxOrder {
		return usageError(fs, "--healpix-order %d: want 0 to %d", *order, catalog.MaxOrder)
	}
	if err := c.merge(ctx, c.stdout, output, *keep, *order); err != nil {
		return c.failed("astroformer catalog merge", err, "interrupted; nothing was committed")
	}
	return exitOK
}

func (c *cli) merge(ctx context.Context, report io.Writer, output string, keep bool, order int) error {
	m, err := catalog.Merge(ctx, output, catalog.MergeOptions{KeepShards: keep})
	if err != nil {
		return err
	}
	fmt.Fprintf(report, "merged %s shards into %s: %d rows in %d parts\n", m.Metadata[catalog.MetaShards], output, m.Rows, len(m.Parts))
	if order < 0 {
		v, ok := m.Metadata[catalog.MetaHEALPixOrder]
		if !ok {
			return nil
		}
		if order, err = strconv.Atoi(v); err != nil {
			return fmt.Errorf("%s: metadata %s = %q: %w", output, catalog.MetaHEALPixOrder, v, err)
		}
	}
	return writeHATS(ctx, report, output, order, m.Producer)
}
