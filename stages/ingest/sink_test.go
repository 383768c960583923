package ingest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/astroformer/astroformer/artifact"
	"github.com/astroformer/astroformer/artifact/artifacttest"
	"github.com/astroformer/astroformer/schemas"
	"github.com/astroformer/astroformer/table"
	"github.com/astroformer/astroformer/table/tabletest"
)

func ptr[T any](v T) *T { return &v }

func cutout(i int) Cutout {
	label := int16(i % 3)
	pix := make([]byte, 4*4*3)
	for j := range pix {
		pix[j] = byte(i + j)
	}
	return Cutout{
		ObjectID: fmt.Sprintf("obj-%05d", i), RA: ptr(float64(i % 360)), Dec: ptr(-10.5),
		Label: &label, LabelName: ptr(fmt.Sprintf("class %d", label)), Split: schemas.SplitTrain,
		Height: 4, Width: 4, Channels: 3, Pixels: pix, PixelScale: ptr(0.262), Bands: "grz",
		Source: "gen", Position: fmt.Sprintf("row %d", i),
	}
}

func options(root string) SinkOptions {
	return SinkOptions{
		Cutouts:  filepath.Join(root, "cutouts"),
		Rejects:  filepath.Join(root, "rejects"),
		Manifest: artifact.Manifest{Name: "cutouts", Stage: "synth", Kind: "synthetic", Fingerprint: "fp", Producer: "test"},
		Metadata: map[string]string{"origin": "test"},
	}
}

// newSink creates a sink with opt or stops the test.
func newSink(t *testing.T, opt SinkOptions) *Sink {
	t.Helper()
	s, err := NewSink(opt)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rejectRows reads the rejects table as "position|object_id|reason" lines.
func rejectRows(t *testing.T, dir string) []string {
	t.Helper()
	tab, err := table.OpenAs(dir, schemas.Rejects())
	if err != nil {
		t.Fatal(err)
	}
	s := tab.Scan(context.Background(), table.ScanOptions{Columns: []string{"stage", "position", "object_id", "reason"}})
	defer s.Close()
	var rows []string
	for s.Next() {
		r := s.Record()
		for i := range int(r.NumRows()) {
			rows = append(rows, strings.Join([]string{r.Column(0).ValueStr(i), r.Column(1).ValueStr(i),
				r.Column(2).ValueStr(i), r.Column(3).ValueStr(i)}, "|"))
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

func objectIDs(t *testing.T, dir string) []string {
	t.Helper()
	if _, err := table.OpenAs(dir, schemas.Cutouts()); err != nil {
		t.Fatal(err)
	}
	return tabletest.Strings(t, dir, "object_id")
}

func TestSinkRejectsAndDuplicates(t *testing.T) {
	root := t.TempDir()
	s := newSink(t, options(root))
	for i := range 600 {
		if err := s.Add(cutout(i)); err != nil {
			t.Fatal(err)
		}
	}
	dup := cutout(3)
	dup.Position = "row 600"
	bad := cutout(601)
	bad.Pixels = bad.Pixels[:10]
	noID := cutout(602)
	noID.ObjectID = ""
	badSplit := cutout(603)
	badSplit.Split = "training"
	unlabelled := cutout(604)
	unlabelled.Label, unlabelled.LabelName = nil, nil
	withRaw := cutout(605)
	withRaw.Raw = make([]byte, 4*4*4*3)
	negative := int32(-1)
	badCount := cutout(606)
	badCount.NonFinite = &negative
	for _, c := range []Cutout{dup, bad, noID, badSplit, unlabelled, withRaw, badCount} {
		if err := s.Add(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Reject("file.h5", "row 9", "", "unreadable image"); err != nil {
		t.Fatal(err)
	}
	sum, err := s.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows != 602 || sum.Rejects != 6 || sum.Duplicates != 1 {
		t.Errorf("summary %+v, want 602 rows, 6 rejects, 1 duplicate", sum)
	}
	if sum.PerClass["class 0"] != 200 || sum.PerClass["class 2"] != 201 || sum.PerClass[Unlabelled] != 1 {
		t.Errorf("per class %v", sum.PerClass)
	}
	want := []string{
		"synth|row 600|obj-00003|duplicate object_id (first seen at row 3 of the cutouts table)",
		"synth|row 601|obj-00601|pixels: 10 bytes, expected 48 (height 4 × width 4 × channels 3)",
		"synth|row 602|(null)|empty object_id",
		`synth|row 603|obj-00603|split "training" is not train, val, test or empty`,
		"synth|row 606|obj-00606|nonfinite_values -1 is negative",
		"synth|row 9|(null)|unreadable image",
	}
	got := rejectRows(t, filepath.Join(root, "rejects"))
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rejects:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	ids := objectIDs(t, filepath.Join(root, "cutouts"))
	if len(ids) != 602 || ids[600] != "obj-00604" || ids[601] != "obj-00605" {
		t.Errorf("%d ids, last %v", len(ids), ids[len(ids)-2:])
	}
	m, err := artifact.ReadManifest(filepath.Join(root, "rejects"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "rejects" || m.Stage != "synth" || m.Metadata["origin"] != "test" {
		t.Errorf("rejects manifest %+v", m)
	}
}

func TestSinkEmptyRejectsWritten(t *testing.T) {
	root := t.TempDir()
	s := newSink(t, options(root))
	s.Add(cutout(1))
	if _, err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	if rows := rejectRows(t, filepath.Join(root, "rejects")); len(rows) != 0 {
		t.Errorf("rejects %v", rows)
	}
}

func TestSinkMaxRejects(t *testing.T) {
	root := t.TempDir()
	opt := options(root)
	opt.MaxRejects = 2
	s := newSink(t, opt)
	defer s.Abort()
	var err error
	for i := range 3 {
		c := cutout(i)
		c.Height = 0
		err = s.Add(c)
		if i < 2 && err != nil {
			t.Fatalf("reject %d: %v", i, err)
		}
	}
	if err == nil || !strings.Contains(err.Error(), "more than 2 rejected records") || !strings.Contains(err.Error(), "row 2") ||
		!strings.Contains(err.Error(), "the 3 rejected records are in "+filepath.Join(root, "rejects")) {
		t.Errorf("err = %v", err)
	}
	s.Abort()
	// The rejects are committed for the user to read; the cutouts are not.
	if entries, _ := os.ReadDir(root); len(entries) != 1 || entries[0].Name() != "rejects" {
		t.Errorf("after max_rejects the folder holds %v, want only the rejects table", entries)
	}
	if rows := rejectRows(t, filepath.Join(root, "rejects")); len(rows) != 3 {
		t.Errorf("rejects table has %d rows, want 3: %v", len(rows), rows)
	}
}

func TestSinkManyParts(t *testing.T) {
	root := t.TempDir()
	opt := options(root)
	opt.RowsPerPart = 10000
	s := newSink(t, opt)
	for i := range 50000 {
		c := cutout(i)
		c.Height, c.Width, c.Channels, c.Pixels = 1, 1, 1, c.Pixels[:1]
		if err := s.Add(c); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := s.Commit()
	if err != nil {
		t.Fatal(err)
	}
	tab, err := table.Open(opt.Cutouts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows != 50000 || tab.Rows() != 50000 || tab.NumParts() != 5 {
		t.Errorf("%d rows summarised, %d in %d parts", sum.Rows, tab.Rows(), tab.NumParts())
	}
}

// feed adds chunks of 100 cutouts, each with one duplicate of an id from the
// first chunk, skipping chunks already done; it stops (as if killed) in the
// middle of chunk stop.
func feed(t *testing.T, opt SinkOptions, stop int) (Summary, []int) {
	t.Helper()
	s := newSink(t, opt)
	var ran []int
	for chunk := range 5 {
		key := fmt.Sprintf("file-%d", chunk)
		if s.Done(key) {
			continue
		}
		ran = append(ran, chunk)
		for i := chunk * 100; i < chunk*100+100; i++ {
			if chunk == stop && i == chunk*100+50 {
				return Summary{}, ran
			}
			if err := s.Add(cutout(i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Add(cutout(chunk)); err != nil { // duplicate
			t.Fatal(err)
		}
		if err := s.EndPart(key); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := s.Commit()
	if err != nil {
		t.Fatal(err)
	}
	return sum, ran
}

func TestSinkResume(t *testing.T) {
	straightRoot, root := t.TempDir(), t.TempDir()
	straight := options(straightRoot)
	straight.Resumable, straight.RowsPerPart = true, 64
	want, _ := feed(t, straight, -1)

	opt := options(root)
	opt.Resumable, opt.RowsPerPart = true, 64
	feed(t, opt, 2)
	artifacttest.Abandon(t, filepath.Join(root, "cutouts"), filepath.Join(root, "rejects"))
	got, ran := feed(t, opt, -1)
	if fmt.Sprint(ran) != "[2 3 4]" {
		t.Errorf("resumed run processed chunks %v, want [2 3 4]", ran)
	}
	if got.Rows != want.Rows || got.Rejects != want.Rejects || got.Duplicates != want.Duplicates ||
		fmt.Sprint(got.PerClass) != fmt.Sprint(want.PerClass) {
		t.Errorf("resumed summary %+v, uninterrupted %+v", got, want)
	}
	if want.Rows != 500 || want.Duplicates != 5 {
		t.Errorf("uninterrupted summary %+v", want)
	}
	a, b := objectIDs(t, straight.Cutouts), objectIDs(t, opt.Cutouts)
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Errorf("resumed cutouts differ from an uninterrupted run")
	}
	ra, rb := rejectRows(t, straight.Rejects), rejectRows(t, opt.Rejects)
	if strings.Join(ra, "\n") != strings.Join(rb, "\n") {
		t.Errorf("resumed rejects:\n%s\nwant\n%s", strings.Join(rb, "\n"), strings.Join(ra, "\n"))
	}
}

// TestSinkResumeBetweenTables covers a kill between the cutouts' and the
// rejects' EndPart: the chunk must be redone without duplicating rows.
func TestSinkResumeBetweenTables(t *testing.T) {
	straightRoot, root := t.TempDir(), t.TempDir()
	straight := options(straightRoot)
	straight.Resumable = true
	want, _ := feed(t, straight, -1)

	opt := options(root)
	opt.Resumable = true
	s := newSink(t, opt)
	for i := range 100 {
		s.Add(cutout(i))
	}
	s.Add(cutout(0))
	if err := s.flushCutouts(); err != nil {
		t.Fatal(err)
	}
	if err := s.flushRejects(); err != nil {
		t.Fatal(err)
	}
	if err := s.cutouts.EndPart("file-0"); err != nil {
		t.Fatal(err)
	}
	artifacttest.Abandon(t, filepath.Join(root, "cutouts"), filepath.Join(root, "rejects")) // killed before s.rejects.EndPart("file-0")

	got, ran := feed(t, opt, -1)
	if fmt.Sprint(ran) != "[0 1 2 3 4]" {
		t.Errorf("resumed run processed chunks %v, want all", ran)
	}
	if got.Rows != want.Rows || got.Rejects != want.Rejects || got.Duplicates != want.Duplicates {
		t.Errorf("resumed summary %+v, uninterrupted %+v", got, want)
	}
	if a, b := objectIDs(t, straight.Cutouts), objectIDs(t, opt.Cutouts); strings.Join(a, ",") != strings.Join(b, ",") {
		t.Errorf("resumed cutouts differ from an uninterrupted run")
	}
}
