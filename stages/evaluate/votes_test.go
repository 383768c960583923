package evaluate

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/stages/ingest"
	"github.com/astroformer/astroformer/table"
	"github.com/astroformer/astroformer/table/tabletest"
	"github.com/astroformer/astroformer/votes"
)

// TestQuestionScore checks the scores of one question on values worked out
// by hand.
func TestQuestionScore(t *testing.T) {
	var q questionScore
	q.add([]float32{0.7, 0.2, 0.1}, []float32{9, 1, 0}, 10) // observed 0.9, 0.1, 0: confident, majority right
	q.add([]float32{0.2, 0.7, 0.1}, []float32{1, 1, 2}, 4)  // observed .25, .25, .5: not confident
	// Errors: (0.2+0.1+0.1)/3 with 10 votes, (0.05+0.45+0.4)/3 with 4.
	want := (10*0.4/3 + 4*0.9/3) / 14
	if math.Abs(q.mae()-want) > 1e-6 || q.confident != 1 || q.majorityOK != 1 || q.galaxies != 2 {
		t.Errorf("mae %g (want %g), confident %g, right %g", q.mae(), want, q.confident, q.majorityOK)
	}
	var perfect questionScore
	perfect.add([]float32{0.5, 0.5}, []float32{5, 5}, 10)
	if perfect.mae() != 0 || perfect.calibrationError() != 0 {
		t.Errorf("a perfect prediction scores mae %g, calibration %g", perfect.mae(), perfect.calibrationError())
	}
}

// TestRunVotes scores a vote catalog against the cutouts' votes and writes
// the metrics and the report.
func TestRunVotes(t *testing.T) {
	dir := t.TempDir()
	tree := votes.DECaLS()
	sink, err := ingest.NewSink(ingest.SinkOptions{Cutouts: filepath.Join(dir, "cutouts"), Rejects: filepath.Join(dir, "rejects"),
		Manifest: artifact.Manifest{Name: "cutouts", Fingerprint: "c"}, VoteTree: tree.Name, VoteColumns: tree.CountColumns()})
	if err != nil {
		t.Fatal(err)
	}
	counts := make([]float32, tree.Answers())
	counts[0], counts[1] = 30, 10 // smooth 0.75, featured 0.25
	hr := tree.Offsets()[tree.Question("how-rounded")]
	counts[hr] = 30
	ids := []string{"a", "b", "c"}
	for _, id := range ids {
		if err := sink.Add(ingest.Cutout{ObjectID: id, Split: schemas.SplitTest, Height: 2, Width: 2, Channels: 3,
			Pixels: make([]byte, 12), Bands: "grz", Source: "t", VoteCounts: counts}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sink.Commit(); err != nil {
		t.Fatal(err)
	}
	writeVoteCatalog(t, filepath.Join(dir, "catalog"), tree, ids)
	env := runStage(t, dir, "input = \"catalog\"\noutput = \"report\"\ncutouts = \"cutouts\"")
	md, err := os.ReadFile(filepath.Join(dir, "report", ReportMarkdown))
	if err != nil || !strings.Contains(string(md), "| smooth-or-featured | 3 | 120 | ") || !strings.Contains(string(md), "calibration.png") {
		t.Errorf("report.md:\n%s (%v)", md, err)
	}
	page, _ := os.ReadFile(filepath.Join(dir, "report", ReportHTML))
	if !strings.Contains(string(page), "data:image/png;base64,") {
		t.Error("report.html has no embedded calibration figure")
	}
	if _, err := table.Open(filepath.Join(dir, "report_metrics")); err != nil {
		t.Error(err)
	}
	if sum := strings.Join(env.Summary(), "\n"); !strings.Contains(sum, `3 galaxies of split "test"`) {
		t.Errorf("summary:\n%s", sum)
	}
}

// writeVoteCatalog writes a vote catalog predicting uniform fractions for
// every answer of every question.
func writeVoteCatalog(t *testing.T, dir string, tree *votes.Tree, ids []string) {
	t.Helper()
	schema := schemas.VoteCatalog(tree.FractionColumns())
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	w, err := schemas.NewVoteCatalogWriter(b, tree.FractionColumns())
	if err != nil {
		t.Fatal(err)
	}
	row := schemas.VoteRow{Fraction: make([]float32, tree.Answers()), Lo: make([]float32, tree.Answers()), Hi: make([]float32, tree.Answers())}
	for q, o := range tree.Offsets() {
		n := len(tree.Questions[q].Answers)
		for j := o; j < o+n; j++ {
			row.Fraction[j], row.Lo[j], row.Hi[j] = 1/float32(n), 0, 1
		}
	}
	for _, id := range ids {
		row.ObjectFields = schemas.ObjectFields{ObjectID: id, Split: schemas.SplitTest}
		w.Append(&row)
	}
	rec := b.NewRecord()
	defer rec.Release()
	tabletest.Write(t, dir, schema, table.Options{Manifest: artifact.Manifest{Name: "catalog", Fingerprint: "v"},
		Metadata: map[string]string{schemas.MetaVoteTree: tree.Name}}, rec)
}
