package predict

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/model"
	"github.com/astroformer/astroformer/model/modeltest"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/table/tabletest"
	"github.com/astroformer/astroformer/votes"
)

// TestVoteCatalog predicts with a vote head: the catalog has an expected
// fraction and a 90% interval for every answer of the tree, the fractions
// of each question sum to 1, and every interval holds its fraction.
func TestVoteCatalog(t *testing.T) {
	dir := t.TempDir()
	writeCutouts(t, filepath.Join(dir, "cutouts"), 9, 32, 0)
	tree := votes.DECaLS()
	cfg := modeltest.GoldenTiny()
	net, err := model.New(model.Spec{Variant: cfg.Name, Config: cfg, ImageH: 32, ImageW: 32, InChans: 3, Classes: tree.Answers()}, 4)
	if err != nil {
		t.Fatal(err)
	}
	staging, err := artifact.Stage(filepath.Join(dir, "model"))
	if err != nil {
		t.Fatal(err)
	}
	meta := model.Meta{ClassNames: tree.CountColumns(), Provenance: map[string]string{"task": "votes", "vote_tree": tree.Name}}
	if err := model.Save(filepath.Join(staging, FinalCheckpoint), net, meta); err != nil {
		t.Fatal(err)
	}
	m := artifact.Manifest{Format: artifact.ModelFormat, Name: "model", Stage: "train", Kind: "train", Fingerprint: "votes", Producer: "test"}
	if err := artifact.WriteManifest(staging, &m); err != nil {
		t.Fatal(err)
	}
	if err := artifact.Commit(staging, filepath.Join(dir, "model")); err != nil {
		t.Fatal(err)
	}
	s := decodeStage(t, catalogBlock+"tta = 2")
	runStage(t, dir, s)
	out := tabletest.ReadAll(t, filepath.Join(dir, "catalog"))
	defer out.Release()
	cols := tree.FractionColumns()
	column := func(name string) *array.Float32 {
		c, err := schemas.Column[*array.Float32]("catalog", out, name)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if out.NumRows() != 9 || out.Schema().HasField("predicted_class") {
		t.Fatalf("%d rows, schema %s", out.NumRows(), out.Schema())
	}
	for r := range int(out.NumRows()) {
		for q, o := range tree.Offsets() {
			var sum float64
			for j := o; j < o+len(tree.Questions[q].Answers); j++ {
				f, lo, hi := column(cols[j]).Value(r), column(cols[j]+"_lo").Value(r), column(cols[j]+"_hi").Value(r)
				if !(lo <= f && f <= hi && lo >= 0 && hi <= 1) {
					t.Errorf("row %d %s: %g outside [%g, %g]", r, cols[j], f, lo, hi)
				}
				sum += float64(f)
			}
			if math.Abs(sum-1) > 1e-5 {
				t.Errorf("row %d: the fractions of %s sum to %g", r, tree.Questions[q].Name, sum)
			}
		}
	}
}
