// Package sourcetest helps the tests of source stages: it decodes a stage
// block, builds a pipeline.Env for it, and reads the cutouts and rejects
// tables back row by row.
package sourcetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"

	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/ingest"
	"github.com/astroformer/astroformer/stages/internal/decl/decltest"
	"github.com/astroformer/astroformer/table"
)

// Decode parses src as the body of a stage block named "src" and decodes it
// with factory. A syntax error fails the test.
func Decode(t testing.TB, factory pipeline.Factory, src string) (pipeline.Stage, hcl.Diagnostics) {
	t.Helper()
	return decltest.Decode(t, factory, "src", src)
}

// MustDecode is Decode that fails the test on error diagnostics.
func MustDecode(t testing.TB, factory pipeline.Factory, src string) pipeline.Stage {
	t.Helper()
	return decltest.MustDecode(t, factory, "src", src)
}

// CheckErrors decodes blocks of a source kind with factory and checks that
// each gives an error whose first diagnostic has the summary it expects: a
// block without a path "Missing required argument", and a block with a
// path, an output and one of the attributes of cases the summary that the
// attribute maps to.
func CheckErrors(t testing.TB, factory pipeline.Factory, cases map[string]string) {
	t.Helper()
	check := func(src, summary string) {
		t.Helper()
		_, diags := Decode(t, factory, src)
		if !diags.HasErrors() || diags[0].Summary != summary {
			t.Errorf("%q: diagnostics %v, want %q", src, diags, summary)
		}
	}
	check(`output = "c"`, "Missing required argument")
	for attr, summary := range cases {
		check("path = \"p\"\noutput = \"c\"\n"+attr, summary)
	}
}

// Env returns an Env for running s with outputs under dir and a null
// logger (or log, when not nil).
func Env(t testing.TB, dir string, s pipeline.Stage, log hclog.Logger) *pipeline.Env {
	t.Helper()
	p, err := pipeline.CanonicalJSON(s.Params())
	if err != nil {
		t.Fatal(err)
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &pipeline.Env{
		Log: log, Workdir: dir, Job: "test", Seed: 1,
		Fingerprint: pipeline.Fingerprint(s.Kind(), s.Name(), p, 1, nil, "test"),
		Stage:       s.Name(), Kind: s.Kind(), Params: p, Producer: "test",
	}
}

// Run decodes src with factory, runs the stage in a temporary workdir and
// returns what it wrote to the tables cutouts and cutouts_rejects: the
// cutouts, the cutouts table's metadata and the rejects, with the stage's
// summary lines.
func Run(t testing.TB, factory pipeline.Factory, src string) ([]ingest.Cutout, map[string]string, []Reject, []string) {
	t.Helper()
	s := MustDecode(t, factory, src)
	env := Env(t, t.TempDir(), s, nil)
	if err := s.Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	rows, md := Cutouts(t, env.Path("cutouts"))
	return rows, md, Rejects(t, env.Path("cutouts_rejects")), env.Summary()
}

// Cutouts reads every row of the cutouts table in dir (validated against
// schemas.Cutouts) in table order, together with the table's metadata.
// Position is not stored and stays empty.
func Cutouts(t testing.TB, dir string) ([]ingest.Cutout, map[string]string) {
	t.Helper()
	return readTable(t, dir, schemas.Cutouts(), func(rec arrow.Record) (func(int) ingest.Cutout, error) {
		cr, err := schemas.NewCutoutsReader(rec)
		if err != nil {
			return nil, err
		}
		return func(i int) ingest.Cutout {
			r := cr.Row(i)
			c := ingest.Cutout{
				ObjectID: r.ObjectID, RA: r.RA.Ptr(), Dec: r.Dec.Ptr(), Label: r.Label.Ptr(), LabelName: r.LabelName.Ptr(),
				Split:  r.Split,
				Height: r.Height, Width: r.Width, Channels: r.Channels,
				Pixels:     bytes.Clone(r.Pixels),
				PixelScale: r.PixelScale.Ptr(),
				Bands:      r.Bands,
				Source:     r.Source,
				Survey:     r.Survey.Ptr(),
				Release:    r.Release.Ptr(),
				Redshift:   r.Redshift.Ptr(),
				NonFinite:  r.NonFinite.Ptr(),
			}
			if r.Raw != nil {
				c.Raw = bytes.Clone(r.Raw)
			}
			if r.VoteCounts != nil {
				c.VoteCounts = slices.Clone(r.VoteCounts)
			}
			return c
		}, nil
	})
}

// Reject is one row of a rejects table.
type Reject struct {
	Stage, Source, Position, ObjectID, Reason string
}

// Rejects reads every row of the rejects table in dir.
func Rejects(t testing.TB, dir string) []Reject {
	t.Helper()
	rows, _ := readTable(t, dir, schemas.Rejects(), func(rec arrow.Record) (func(int) Reject, error) {
		rr, err := schemas.NewRejectsReader(rec)
		if err != nil {
			return nil, err
		}
		return func(i int) Reject {
			r := rr.Row(i)
			return Reject{Stage: r.Stage, Source: r.Source, Position: r.Position, ObjectID: r.ObjectID.V, Reason: r.Reason}
		}, nil
	})
	return rows
}

// readTable reads every row of the table in dir (validated against schema)
// in table order, together with the table's metadata: reader binds the
// columns of a record and returns the function that reads its row i.
func readTable[R any](t testing.TB, dir string, schema *arrow.Schema, reader func(arrow.Record) (func(i int) R, error)) ([]R, map[string]string) {
	t.Helper()
	tab, err := table.OpenAs(dir, schema)
	if err != nil {
		t.Fatal(err)
	}
	sc := tab.Scan(context.Background(), table.ScanOptions{})
	defer sc.Close()
	var rows []R
	for sc.Next() {
		rec := sc.Record()
		row, err := reader(rec)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		for i := range int(rec.NumRows()) {
			rows = append(rows, row(i))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows, tab.Manifest().Metadata
}

// SHA256 returns the hex SHA-256 of b, for pixel checksums.
func SHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// WriteFile writes data to path, making its folder: a file of a source's
// input tree.
func WriteFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// PNG returns img encoded as PNG.
func PNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
