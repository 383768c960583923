// Package sourcetest helps the tests of source stages: it decodes a stage
// block, builds a pipeline.Env for it, and reads the cutouts and rejects
// tables back row by row.
package sourcetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/astroformer/astroformer/pipeline"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/ingest"
	"github.com/astroformer/astroformer/table"
)

// Decode parses src as the body of a stage block named "src" and decodes it
// with factory. A syntax error fails the test.
func Decode(t testing.TB, factory pipeline.Factory, src string) (pipeline.Stage, hcl.Diagnostics) {
	t.Helper()
	f, diags := hclsyntax.ParseConfig([]byte(src), "job.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("parse %q: %s", src, diags)
	}
	return factory("src", f.Body, &hcl.EvalContext{})
}

// MustDecode is Decode that fails the test on error diagnostics.
func MustDecode(t testing.TB, factory pipeline.Factory, src string) pipeline.Stage {
	t.Helper()
	s, diags := Decode(t, factory, src)
	if diags.HasErrors() {
		t.Fatalf("decode %q: %s", src, diags)
	}
	return s
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

// Cutouts reads every row of the cutouts table in dir (validated against
// schemas.Cutouts) in table order, together with the table's metadata.
// Position is not stored and stays empty.
func Cutouts(t testing.TB, dir string) ([]ingest.Cutout, map[string]string) {
	t.Helper()
	tab, err := table.OpenAs(dir, schemas.Cutouts())
	if err != nil {
		t.Fatal(err)
	}
	sc := tab.Scan(context.Background(), table.ScanOptions{})
	defer sc.Close()
	var rows []ingest.Cutout
	for sc.Next() {
		rec := sc.Record()
		col := func(name string) int {
			idx := rec.Schema().FieldIndices(name)
			if len(idx) != 1 {
				t.Fatalf("%s: no column %q", dir, name)
			}
			return idx[0]
		}
		str := func(name string) *array.String { return rec.Column(col(name)).(*array.String) }
		f64 := func(name string) *array.Float64 { return rec.Column(col(name)).(*array.Float64) }
		i32 := func(name string) *array.Int32 { return rec.Column(col(name)).(*array.Int32) }
		bin := func(name string) *array.Binary { return rec.Column(col(name)).(*array.Binary) }
		labels := rec.Column(col("label")).(*array.Int16)
		for i := range int(rec.NumRows()) {
			c := ingest.Cutout{
				ObjectID:  str("object_id").Value(i),
				RA:        optFloat(f64("ra"), i),
				Dec:       optFloat(f64("dec"), i),
				LabelName: optString(str("label_name"), i),
				Split:     str("split").Value(i),
				Height:    i32("height").Value(i), Width: i32("width").Value(i), Channels: i32("channels").Value(i),
				Pixels:     bytes.Clone(bin("pixels").Value(i)),
				PixelScale: optFloat(f64("pixel_scale"), i),
				Bands:      str("bands").Value(i),
				Source:     str("source").Value(i),
				Survey:     optString(str("survey"), i),
				Release:    optString(str("release"), i),
				Redshift:   optFloat(f64("redshift"), i),
			}
			if labels.IsValid(i) {
				l := labels.Value(i)
				c.Label = &l
			}
			if raw := bin("raw"); raw.IsValid(i) {
				c.Raw = bytes.Clone(raw.Value(i))
			}
			if nf := i32("nonfinite_values"); nf.IsValid(i) {
				n := nf.Value(i)
				c.NonFinite = &n
			}
			rows = append(rows, c)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows, tab.Manifest().Metadata
}

// Reject is one row of a rejects table.
type Reject struct {
	Stage, Source, Position, ObjectID, Reason string
}

// Rejects reads every row of the rejects table in dir.
func Rejects(t testing.TB, dir string) []Reject {
	t.Helper()
	tab, err := table.OpenAs(dir, schemas.Rejects())
	if err != nil {
		t.Fatal(err)
	}
	sc := tab.Scan(context.Background(), table.ScanOptions{})
	defer sc.Close()
	var rows []Reject
	for sc.Next() {
		rec := sc.Record()
		s := func(j int) *array.String { return rec.Column(j).(*array.String) }
		for i := range int(rec.NumRows()) {
			rows = append(rows, Reject{
				Stage: s(0).Value(i), Source: s(1).Value(i), Position: s(2).Value(i),
				ObjectID: s(3).Value(i), Reason: s(4).Value(i),
			})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// SHA256 returns the hex SHA-256 of b, for pixel checksums.
func SHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func optFloat(a *array.Float64, i int) *float64 {
	if a.IsNull(i) {
		return nil
	}
	v := a.Value(i)
	return &v
}

func optString(a *array.String, i int) *string {
	if a.IsNull(i) {
		return nil
	}
	v := a.Value(i)
	return &v
}
